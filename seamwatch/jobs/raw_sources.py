"""Sources whose staged records reach Python as raw text: Entra ID and Windows / AD.

Their shapes vary too much for one ``json``-format table to read them as their normalizers do:
Entra comes as Azure Monitor envelopes, Graph objects or Log Analytics rows, with keys in any
case and nested objects held in strings; Windows as Winlogbeat ECS, Winlogbeat 6, NXLog, evtx
JSON or flat exports, event data at three different depths. So their staged lines carry the
record's text (``_raw``) and the one Python step normalizes it with
:func:`seamwatch.udfs.normalize.normalize_text`, as for any record a fields table cannot read.

What SQL still needs is the event time, for the watermark. The client reads it while staging
(the normalizer's own time function: NXLog's local ``EventTime`` corrected by its collector's
offset, AD FS's US dates, ...) and stages it as ``_time`` (``YYYY-MM-DD HH:MM:SS``, UTC: the
second is precision enough for a bound counted in minutes); a
record without a usable time gets none and never advances the watermark.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from seamwatch.udfs.entra import entra_event_time
from seamwatch.udfs.errors import NormalizeError
from seamwatch.udfs.windows_shapes import read_windows_record

__all__ = ["RAW_SOURCES", "TIME_KEY", "raw_time_sql", "staged_time"]

RAW_SOURCES: tuple[str, ...] = ("entra", "windows")
TIME_KEY = "_time"


def _windows_time(doc: Mapping[str, object]) -> int | None:
    try:
        return read_windows_record(doc).event_time
    except NormalizeError:
        return None


def record_time(source: str, doc: object) -> int | None:
    """The event time (epoch ms) the source's normalizer gives ``doc``, or None."""
    if not isinstance(doc, Mapping):
        return None
    if source == "entra":
        return entra_event_time(doc)
    if source == "windows":
        return _windows_time(doc)
    raise ValueError(f"{source!r} is not a raw-text source")


def staged_time(source: str, doc: object) -> str | None:
    """``record_time`` as the text the staged table's watermark column reads."""
    millis = record_time(source, doc)
    if millis is None:
        return None
    try:
        at = datetime.fromtimestamp(millis / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return at.strftime("%Y-%m-%d %H:%M:%S")


def raw_time_sql() -> str:
    """SQL for the watermark time of a raw-text staged row (the epoch when it has none)."""
    return f"COALESCE(TO_TIMESTAMP(`{TIME_KEY}`), TIMESTAMP '1970-01-01 00:00:00')"
