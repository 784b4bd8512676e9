"""YAML loading that remembers where every value came from.

Rule files and identity files are written by people; an error must name the file and the line.
:func:`load_yaml` returns the plain data plus a :class:`Locator` that maps a path into the data
(``("steps", 1, "where")``) back to its line, and :func:`validation_error` turns a pydantic
``ValidationError`` into a :class:`ConfigError` that carries ``path:line: reason``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from seamwatch.errors import SeamwatchError

PathKey = tuple[str | int, ...]


class ConfigError(SeamwatchError, ValueError):
    """A user-written file (rule, identity graph) is wrong: says file, line and reason."""

    path: str

    def __init__(self, path: Path | str, line: int | None, reason: str) -> None:
        super().__init__(reason, path=path, line=line)


@dataclass(frozen=True)
class Locator:
    """Line numbers (1-based) of every mapping key and sequence item in a YAML document."""

    path: Path
    lines: dict[PathKey, int]

    def line_of(self, key: Sequence[str | int]) -> int | None:
        """The line of ``key`` or of its nearest ancestor that has one.

        A part that is not in the document is passed over: pydantic puts a tagged union's tag
        into the path (``("respond", 0, "webhook", "url")``), which the user never wrote.
        """
        parts = tuple(key)
        candidates = [parts]
        candidates += [
            parts[:i] + parts[i + 1 :] for i, p in enumerate(parts) if isinstance(p, str)
        ]
        best: PathKey | None = None
        for candidate in candidates:
            while candidate and candidate not in self.lines:
                candidate = candidate[:-1]
            if candidate in self.lines and (best is None or len(candidate) > len(best)):
                best = candidate
        return self.lines[best] if best is not None else None

    def error(self, key: Sequence[str | int], reason: str) -> ConfigError:
        return ConfigError(self.path, self.line_of(key), reason)


def _build(node: yaml.Node, key: PathKey, lines: dict[PathKey, int]) -> Any:
    lines[key] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for knode, vnode in node.value:
            if knode.tag == "tag:yaml.org,2002:merge":  # "<<: *anchor" merge keys
                sources = vnode.value if isinstance(vnode, yaml.SequenceNode) else [vnode]
                for source in sources:
                    merged.update(_build(source, key, {}))
                continue
            name = str(knode.value)
            if name in out:
                raise ConfigError("", knode.start_mark.line + 1, f"duplicate key {name!r}")
            out[name] = _build(vnode, (*key, name), lines)
            lines[(*key, name)] = knode.start_mark.line + 1  # the key's line, not the value's
        return {**merged, **out}
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*key, i), lines) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def load_yaml(path: Path) -> tuple[Any, Locator]:
    """Parse ``path``; syntax errors become :class:`ConfigError` with the line."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            path,
            data.count(b"\n", 0, exc.start) + 1,
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start}",
        ) from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ConfigError(path, line, f"invalid YAML: {exc.problem}") from exc
    lines: dict[PathKey, int] = {}
    if node is None:
        raise ConfigError(path, 1, "the file is empty")
    try:
        data = _build(node, (), lines)
    except ConfigError as exc:
        raise ConfigError(path, exc.line, exc.reason) from exc
    return data, Locator(path, lines)


def validation_error(exc: ValidationError, locator: Locator) -> ConfigError:
    """The first pydantic error, located; the others are listed after it."""
    errors = exc.errors()
    first = errors[0]
    loc = tuple(first["loc"])
    reasons = []
    for err in errors:
        where = ".".join(str(p) for p in err["loc"]) or "(document)"
        reasons.append(f"{where}: {err['msg']}")
    return locator.error(loc, "; ".join(reasons))
