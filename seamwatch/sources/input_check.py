"""Client-side checks of the user's input files before the job starts, and their refs.

- :func:`input_root` and :func:`relative_ref`: an event's ``raw_ref`` names its file relative
  to the *input root* of the spec that named it, never as an absolute path of the machine that
  ran the job: a directory spec's root is that directory; a glob's root is the directory before
  its first wildcard (``s3-dump/**/*.json.gz`` -> ``s3-dump``); a file spec's root is the
  file's own directory (its ref is its name).
- :func:`check_source_files`: every file's first :data:`SAMPLE_RECORDS` records are looked at
  (:func:`seamwatch.udfs.shapes.record_source`); a file none of whose sampled records looks like
  the source it was given as, and at least one of which is JSON of another shape, stops the run
  with :class:`WrongSourceError` (one line: the file and what it looks like). Non-events
  (digest files, S3 notifications) and files of no JSON at all are left to staging (skipped and
  counted, or dead-lettered as damaged).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from pathlib import Path

from seamwatch.sources.damage import InputNotice
from seamwatch.sources.inputs import NOT_JSON, InputError, iter_records
from seamwatch.udfs.shapes import not_event_kind, record_source

SAMPLE_RECORDS = 20
_GLOB_CHARS = frozenset("*?[")
_NAMES = {"okta": "Okta System Log", "cloudtrail": "CloudTrail"}


class WrongSourceError(InputError):
    """A file given as one source holds records of another source, or of neither."""


def input_root(spec: str) -> Path:
    """The directory an input spec's refs are relative to (see the module docstring)."""
    path = Path(spec).expanduser()
    if path.is_dir():
        return path
    if not _GLOB_CHARS.intersection(spec):
        return path.parent
    parts: list[str] = []
    for part in path.parts:
        if _GLOB_CHARS.intersection(part):
            break
        parts.append(part)
    return Path(*parts) if parts else Path(".")


def file_label(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` (POSIX separators); its name when it is not below it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def relative_ref(ref: str, path: Path, label: str) -> str:
    """``ref`` (``<path>:<line>[#member]`` from :func:`iter_records`) with ``label`` for path."""
    prefix = str(path)
    return label + ref[len(prefix) :] if ref.startswith(prefix) else ref


def labelled_files(expanded: Iterable[tuple[str, list[Path]]]) -> dict[Path, str]:
    """Each file of ``(spec, its files)`` with its label (the first spec naming a file wins)."""
    labels: dict[Path, str] = {}
    for spec, paths in expanded:
        root = input_root(spec)
        for path in paths:
            labels.setdefault(path, file_label(path, root))
    return labels


def looks_like(source: str, path: Path) -> str | None:
    """What the file looks like when its sample holds nothing of ``source``, else None."""
    found: dict[str, int] = {}
    for _, _, parsed in itertools.islice(iter_records(source, [path]), SAMPLE_RECORDS):
        if parsed is NOT_JSON or isinstance(parsed, InputNotice):  # damage, empty container
            continue
        if not_event_kind(parsed) is not None:
            return None
        seen = record_source(parsed)
        if seen == source or (seen is None and source not in _NAMES):
            return None  # the sampler tells Okta and CloudTrail; other sources are "neither"
        found[seen or "neither"] = found.get(seen or "neither", 0) + 1
    if not found:
        return None
    kind = max(found, key=lambda k: found[k])
    if kind == "neither":
        return f"records of neither Okta nor CloudTrail ({sum(found.values())} sampled)"
    return f"{_NAMES[kind]} records ({found[kind]} of {sum(found.values())} sampled)"


def check_source_files(source: str, paths: Iterable[Path]) -> None:
    """Raise :class:`WrongSourceError` for the first file that belongs to another source."""
    for path in paths:
        seen = looks_like(source, path)
        if seen is not None:
            raise WrongSourceError(
                f"given as {source} input ({_NAMES.get(source, source)}), but it holds {seen}",
                path=path,
            )
