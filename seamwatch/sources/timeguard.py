"""Event times too far ahead to be trusted: they must not move any watermark.

A source's watermark follows the highest event time seen, less the source's bound. One record
dated in 9999 would push it to 9999, and every other event would then be late and dropped: one
log line would switch detection off. So a record whose time is implausibly far ahead is
dead-lettered before its time reaches a watermark:

* ahead of the **clock**: later than now plus :attr:`FutureBounds.clock_seconds` (default 5
  minutes; no log records an event that has not happened yet, beyond clock skew). Live input
  (Kafka) is checked against the clock of the machine reading it, in SQL (the watermark
  column, :func:`bounded_time_sql`) and again in the Python step (the dead letter);
* ahead of **the records after it** (file replays): later than the median time of the next
  :data:`LOOKAHEAD` timed records of the same source, in replay order, by more than
  :attr:`FutureBounds.next_seconds` (default 1 hour). Admitting it would make most of those
  records late. A legitimate jump in time (a quiet weekend between two files) is followed by
  records as late as itself, so it passes; the last records of a source have nothing after
  them to contradict them and pass too (nothing of that source comes after them to be made
  late, and a bounded source ends with the highest watermark anyway).

The time compared is the one the watermark reads: the first 19 characters of the time field
(to the second), or the full field as :func:`seamwatch.udfs.timeparse.parse_time` reads it,
whichever is later. Plain logic: the caller passes the clock in.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

from seamwatch.udfs.timeparse import parse_time

__all__ = [
    "DEFAULT_CLOCK_SECONDS",
    "DEFAULT_NEXT_SECONDS",
    "LOOKAHEAD",
    "FutureBounds",
    "FutureGuard",
    "ahead_of_clock",
    "bounded_time_sql",
    "watermark_time",
    "watermark_time_sql",
]

# How many timed records after a record its time is compared with.
LOOKAHEAD = 16
# Records without a time held back at most, beyond the timed ones, before a decision is forced.
_MAX_PENDING = 64 * LOOKAHEAD
_EPOCH = datetime(1970, 1, 1)

DEFAULT_CLOCK_SECONDS = 300
DEFAULT_NEXT_SECONDS = 3600


@dataclass(frozen=True)
class FutureBounds:
    """How far ahead an event may be and still move a watermark (``--max-ahead-*``)."""

    # None: no clock check (a synthetic timeline laid out in the future, as `rules test` does).
    clock_seconds: int | None = DEFAULT_CLOCK_SECONDS
    next_seconds: int = DEFAULT_NEXT_SECONDS

    def __post_init__(self) -> None:
        if (self.clock_seconds or 0) < 0 or self.next_seconds < 0:
            raise ValueError("a future-time bound cannot be negative")


def _prefix_time(text: str) -> int | None:
    """The time as the watermark's SQL reads it: the first 19 characters, naive = UTC."""
    try:
        parsed = datetime.fromisoformat(text[:19])
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.replace(tzinfo=None) - (parsed.utcoffset() or timedelta(0))
    since = parsed - _EPOCH
    return since.days * 86_400_000 + since.seconds * 1000 + since.microseconds // 1000


def watermark_time(value: object) -> int | None:
    """Epoch ms a record's time field ``value`` can push a watermark to (None: unreadable)."""
    if not isinstance(value, str):
        return None
    full = parse_time(value)
    if full is not None and value.endswith("Z"):
        return full  # the usual case: the 19-character reading is this time, to the second
    prefix = _prefix_time(value)
    if prefix is None or full is None:
        return full if prefix is None else prefix
    return max(prefix, full)


def iso_ms(ms: int) -> str:
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return f"{ms} ms"


def _span(ms: int) -> str:
    seconds = ms // 1000
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}".replace(".0", "")
    return f"{seconds}s"


def ahead_of_clock(time_ms: int, now_ms: int, clock_ms: int) -> str | None:
    """The dead-letter reason for an event time more than ``clock_ms`` after ``now_ms``."""
    if time_ms <= now_ms + clock_ms:
        return None
    return (
        f"event time {iso_ms(time_ms)} is {_span(time_ms - now_ms)} ahead of the clock "
        f"(bound {_span(clock_ms)}): not trusted to move the watermark"
    )


T = TypeVar("T")


class FutureGuard(Generic[T]):
    """Decides, in order, which records of one source are too far ahead (module docstring).

    :meth:`push` takes each record with its time (None: no time a watermark reads) and yields
    ``(record, reason)`` for the records decided so far, ``reason`` None for a record to keep;
    :meth:`finish` yields the rest. Records come out in the order they went in.
    """

    def __init__(self, now_ms: int, bounds: FutureBounds | None = None) -> None:
        self._bounds = bounds or FutureBounds()
        self._now = now_ms
        clock = self._bounds.clock_seconds
        self._latest = None if clock is None else now_ms + clock * 1000
        self._next_ms = self._bounds.next_seconds * 1000
        self._pending: deque[tuple[T, int | None]] = deque()
        self._timed = 0  # timed records in _pending

    def push(self, record: T, time_ms: int | None) -> Iterator[tuple[T, str | None]]:
        self._pending.append((record, time_ms))
        if time_ms is not None:
            self._timed += 1
        while self._pending and (
            self._timed > LOOKAHEAD or len(self._pending) > _MAX_PENDING + LOOKAHEAD
        ):
            yield self._decide_head()

    def finish(self) -> Iterator[tuple[T, str | None]]:
        while self._pending:
            yield self._decide_head()

    def _decide_head(self) -> tuple[T, str | None]:
        record, time_ms = self._pending.popleft()
        if time_ms is None:
            return record, None
        self._timed -= 1
        if self._latest is not None and time_ms > self._latest:
            return record, ahead_of_clock(time_ms, self._now, self._latest - self._now)
        after = [t for _, t in self._pending if t is not None][:LOOKAHEAD]
        if not after or time_ms <= min(after) + self._next_ms:
            return record, None
        after.sort()
        median = after[(len(after) - 1) // 2]
        if time_ms <= median + self._next_ms:
            return record, None
        return record, (
            f"event time {iso_ms(time_ms)} is {_span(time_ms - median)} ahead of the "
            f"{len(after)} records after it (their median {iso_ms(median)}; bound "
            f"{_span(self._next_ms)}): not trusted to move the watermark"
        )


def bounded_time_sql(time_sql: str, clock_seconds: int | None) -> str:
    """``time_sql`` (a ``TIMESTAMP(3)`` expression) as a watermark may follow it: the epoch,
    which never advances a watermark, when it is more than ``clock_seconds`` ahead of the clock
    of the machine reading the record (``LOCALTIMESTAMP``, UTC in the job's configuration);
    ``time_sql`` itself when ``clock_seconds`` is None."""
    if clock_seconds is None:
        return time_sql
    return (
        f"CASE WHEN {time_sql} > TIMESTAMPADD(SECOND, {int(clock_seconds)}, LOCALTIMESTAMP) "
        f"THEN TIMESTAMP '1970-01-01 00:00:00' ELSE {time_sql} END"
    )


#: The SQL name of the Java function ``io.seamwatch.udf.WatermarkTime`` (``seamwatch/java/``),
#: which a job registers before the tables that name it
#: (:func:`seamwatch.jobs.javaudf.register_watermark_time`).
WATERMARK_TIME_FUNCTION = "seamwatch_watermark_time"


def watermark_time_sql(text_sql: str, clock_seconds: int | None) -> str:
    """SQL for the watermark time (``TIMESTAMP(3)``) of the time text ``text_sql``: its first
    19 characters, ``T`` read as a blank, to the second; the epoch when unreadable or, unless
    ``clock_seconds`` is None, more than ``clock_seconds`` ahead of the clock.

    That is ``bounded_time_sql(COALESCE(TO_TIMESTAMP(SUBSTRING(REPLACE(text, 'T', ' ') FROM 1
    FOR 19)), <epoch>), clock_seconds)``, computed by the Java function ``WatermarkTime``,
    which reads the usual form digit by digit and hands any other text to the method
    ``TO_TIMESTAMP`` calls (a test holds the two equal). ``TO_TIMESTAMP`` itself, named twice
    by the clock bound and computed by each branch of a source's plan, was about a sixth of the
    JVM's sampled CPU on the bench corpus (docs/architecture.md, twelfth session).
    """
    if clock_seconds is None:
        return f"{WATERMARK_TIME_FUNCTION}({text_sql})"
    return f"{WATERMARK_TIME_FUNCTION}({text_sql}, {int(clock_seconds)})"
