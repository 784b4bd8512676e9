"""Analysts' verdicts on alerts, in an append-only JSON-lines file.

Each ``seamwatch verdict`` appends one line; nothing is ever rewritten, so the file is also the
history of who decided what and when. The last line for an ``alert_id`` is its verdict (an
analyst who changes their mind appends again). The store is
``$SEAMWATCH_VERDICTS`` if set, else ``seamwatch-out/verdicts.jsonl`` under the working
directory (docs/triage.md).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import orjson

from seamwatch.errors import SeamwatchError

VerdictKind = Literal["confirmed", "benign", "duplicate"]
VERDICTS: tuple[str, ...] = get_args(VerdictKind)
STORE_ENV = "SEAMWATCH_VERDICTS"
DEFAULT_STORE = Path("seamwatch-out/verdicts.jsonl")
# What an alert id may look like: the job's are 32 hex digits; other producers may differ,
# but an id is one printable token.
_ALERT_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
MAX_NOTE = 2000


class VerdictError(SeamwatchError, ValueError):
    """A verdict that cannot be recorded as given."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """One analyst decision on one alert."""

    alert_id: str
    verdict: str
    recorded_at: int  # epoch milliseconds, UTC
    note: str | None = None
    analyst: str | None = None
    rule_id: str | None = None  # when the alert was found at record time

    def to_json(self) -> bytes:
        return orjson.dumps({k: v for k, v in asdict(self).items() if v is not None})


def default_store(env: Mapping[str, str] | None = None) -> Path:
    """``$SEAMWATCH_VERDICTS`` or ``seamwatch-out/verdicts.jsonl``."""
    value = (os.environ if env is None else env).get(STORE_ENV)
    return Path(value) if value else DEFAULT_STORE


def make_verdict(
    alert_id: str,
    verdict: str,
    *,
    recorded_at: int,
    note: str | None = None,
    analyst: str | None = None,
    rule_id: str | None = None,
) -> Verdict:
    """A checked :class:`Verdict`; :class:`VerdictError` says what is wrong."""
    if not _ALERT_ID.fullmatch(alert_id):
        raise VerdictError(f"{alert_id!r} is not an alert id")
    if verdict not in VERDICTS:
        raise VerdictError(f"verdict {verdict!r}: choose one of {', '.join(VERDICTS)}")
    if note is not None and len(note) > MAX_NOTE:
        raise VerdictError(f"the note is {len(note)} characters; at most {MAX_NOTE}")
    return Verdict(
        alert_id=alert_id,
        verdict=verdict,
        recorded_at=recorded_at,
        note=note or None,
        analyst=analyst or None,
        rule_id=rule_id,
    )


def append_verdict(store: Path, verdict: Verdict) -> None:
    """Append one line to ``store`` (created with its directory when missing).

    One ``write`` on a file opened for appending: concurrent analysts on one machine do not
    interleave their lines.
    """
    store.parent.mkdir(parents=True, exist_ok=True)
    line = verdict.to_json() + b"\n"
    fd = os.open(store, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


@dataclass
class VerdictLog:
    """The latest verdict per alert and the lines that could not be read."""

    latest: dict[str, Verdict]
    lines: int
    skipped: list[str]


def load_verdicts(store: Path) -> VerdictLog:
    """The store read back, the last verdict of each alert winning; a missing store is empty."""
    latest: dict[str, Verdict] = {}
    skipped: list[str] = []
    lines = 0
    if not store.exists():
        return VerdictLog(latest, 0, skipped)
    with store.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            lines += 1
            try:
                latest_one = parse_verdict(orjson.loads(line))
            except (orjson.JSONDecodeError, VerdictError, KeyError, TypeError) as exc:
                skipped.append(f"{store}:{number}: {exc}")
                continue
            latest[latest_one.alert_id] = latest_one
    return VerdictLog(latest, lines, skipped)


def parse_verdict(record: Any) -> Verdict:
    """A store line (or topic value) parsed back into a checked :class:`Verdict`."""
    if not isinstance(record, dict):
        raise VerdictError("not a JSON object")
    recorded_at = record["recorded_at"]
    if not isinstance(recorded_at, int) or isinstance(recorded_at, bool):
        raise VerdictError("recorded_at is not epoch milliseconds")
    rule_id = record.get("rule_id")
    return make_verdict(
        str(record["alert_id"]),
        str(record["verdict"]),
        recorded_at=recorded_at,
        note=_text(record.get("note")),
        analyst=_text(record.get("analyst")),
        rule_id=rule_id if isinstance(rule_id, str) else None,
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
