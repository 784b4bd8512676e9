"""Alerts read back from the JSON-lines files the job writes (``seamwatch run --output``).

Suppression re-emits an open alert with the same ``alert_id`` and a higher ``match_count``, so
the last line of an id is the alert as it stands; :func:`read_alerts` keeps that one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from seamwatch.errors import SeamwatchError

DEAD_LETTER_SUFFIX = ".dead-letter.jsonl"
# Not alert files, though they may sit beside them: the local verdict store's default name.
NOT_ALERT_FILES = ("verdicts.jsonl",)


class AlertFileError(SeamwatchError, ValueError):
    """An alerts path that does not exist or holds no alert files."""


@dataclass
class AlertSet:
    """The alerts of one or more files, one per ``alert_id``, and what could not be read."""

    alerts: list[dict[str, Any]] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "path:line: reason"


def alert_files(paths: Iterable[Path]) -> list[Path]:
    """Each path as given, or for a directory its ``*.jsonl`` files but the dead letters and
    the verdict store."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p
                for p in sorted(path.glob("*.jsonl"))
                if p.is_file()
                and not p.name.endswith(DEAD_LETTER_SUFFIX)
                and p.name not in NOT_ALERT_FILES
            )
        elif path.is_file():
            found.append(path)
        else:
            raise AlertFileError(f"{path}: no such alerts file or directory")
    return found


def read_alerts(paths: Sequence[Path]) -> AlertSet:
    """Every alert of ``paths`` (files or directories), the last record of each id kept.

    A line that is not a JSON object with an ``alert_id``, a ``rule_id`` and ``events`` is
    skipped and
    reported, never fatal: one damaged line should not hide the rest from the analyst.
    """
    result = AlertSet(files=alert_files(paths))
    by_id: dict[str, dict[str, Any]] = {}
    for path in result.files:
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    result.skipped.append(f"{path}:{number}: not JSON ({exc.msg})")
                    continue
                if not (
                    isinstance(record, dict)
                    and isinstance(record.get("alert_id"), str)
                    and isinstance(record.get("rule_id"), str)
                    and isinstance(record.get("events"), list)
                ):
                    result.skipped.append(f"{path}:{number}: not an alert record")
                    continue
                by_id.pop(record["alert_id"], None)
                by_id[record["alert_id"]] = record
    result.alerts = list(by_id.values())
    return result


def as_ms(value: Any) -> int | None:
    """An alert time as epoch milliseconds: integers as written, ISO-8601 text parsed.

    The job writes epoch milliseconds; a later alert format may carry ISO text instead, so
    both are read. Anything else is ``None``.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return int(parsed.timestamp() * 1000)
    return None
