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

Read as text from a Kafka topic or a watched directory there is no client to stage ``_time``:
:func:`raw_payload_time_sql` finds the time in the text itself, in SQL, by the keys the
normalizers read (to the second; the exact time is still the normalizer's, in Python).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from seamwatch.sqltext import sql_literal
from seamwatch.udfs.entra import entra_event_time
from seamwatch.udfs.errors import NormalizeError
from seamwatch.udfs.windows_shapes import read_windows_record

__all__ = [
    "RAW_PAYLOAD_TIME_KEYS",
    "RAW_SOURCES",
    "TIME_KEY",
    "raw_payload_time_sql",
    "staged_time",
]

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


# The keys whose value the watermark of a raw-text table reads, first found first; each is
# looked for as written here, with a capital first letter (Log Analytics) and lower-cased
# (Panther). Entra: the sign-in's / audit's own time before the envelope's ``time`` (and AD FS's
# US dates, which SQL cannot read, fall through to ``TimeGenerated``). Windows: the evtx
# ``SystemTime`` attribute (``@SystemTime`` from xmltodict), Winlogbeat's ``@timestamp``, flat
# exports' ``TimeCreated``, Log Analytics' ``TimeGenerated``, and last NXLog's ``EventTime``,
# which is the collector's local time read as UTC here (with Logstash's ``@timestamp`` in the
# record, that one is read first).
RAW_PAYLOAD_TIME_KEYS: dict[str, tuple[str, ...]] = {
    "entra": ("createdDateTime", "activityDateTime", "TimeGenerated", "time"),
    "windows": (
        "SystemTime",
        "@SystemTime",
        "@timestamp",
        "TimeCreated",
        "TimeGenerated",
        "EventTime",
    ),
}


def _spellings(key: str) -> list[str]:
    found: list[str] = []
    for spelling in (key, key[:1].upper() + key[1:], key.lower()):
        if spelling not in found:
            found.append(spelling)
    return found


def raw_payload_time_sql(source: str, payload: str) -> str:
    """SQL for the time of a raw Entra / Windows record held in the text column ``payload``
    (``TIMESTAMP(3)``, the epoch when none is readable): the watermark of Kafka topics and
    watched directories, where no client staged ``_time``.

    Like :func:`seamwatch.sources.staging.payload_time_sql` it searches the text for
    ``"key":"`` (or ``"key": "``) and reads the 19 characters after it, without parsing the
    record; unlike it, a value SQL cannot read as a time (``12/12/2025 3:03:58 PM``) moves
    on to the next key instead of giving the epoch.
    """
    if source not in RAW_PAYLOAD_TIME_KEYS:
        raise ValueError(f"{source!r} is not a raw-text source")
    candidates = []
    for key in RAW_PAYLOAD_TIME_KEYS[source]:
        for spelling in _spellings(key):
            for pattern in (f'"{spelling}":"', f'"{spelling}": "'):
                at = f"POSITION({sql_literal(pattern)} IN {payload})"
                value = f"SUBSTRING({payload} FROM {at} + {len(pattern)} FOR 19)"
                candidates.append(
                    f"CASE WHEN {at} > 0 THEN TO_TIMESTAMP(REPLACE({value}, 'T', ' ')) END"
                )
    return f"COALESCE({', '.join(candidates)}, TIMESTAMP '1970-01-01 00:00:00')"
