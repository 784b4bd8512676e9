"""Per-source tables that read the vendor records' fields in the JVM.

Each log source is one SQL table in Flink's ``json`` format whose columns are exactly the
fields its normalizer reads (:data:`seamwatch.udfs.sqlfields.SOURCE_FIELDS`, as nested
``ROW`` columns), so the JSON is parsed once, in the JVM, and only those fields ever reach
Python. Its watermark is declared on the record's own time (``eventTime``, ``published``),
never on arrival time, each source with its own bound; the union of the sources then runs at
the slower source's pace. The SQL expression only drives the watermark (second precision is
plenty for a bound measured in minutes); the exact event time of each record is parsed in
Python by the normalizer.

File input is first *staged*: the client expands the user's files (directories, globs, gzip,
CloudTrail S3 files, Okta API arrays, event-hook deliveries) into one JSON Lines file per
source. A record the table can read as its normalizer does
(:func:`~seamwatch.udfs.sqlfields.sql_readable`) is staged as itself with one more key,
``_ref``: where it came from (``path:line[#member]``). Any other record (invalid JSON, another
shape) is staged as ``{"_ref": ..., "_raw": text}``, and the Python step normalizes or
dead-letters its raw text. A row whose time the SQL cannot read gets the epoch, which never
advances the watermark.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from seamwatch.errors import SeamwatchError
from seamwatch.sources.damage import InputNotice, has_invalid_utf8
from seamwatch.sources.input_check import check_source_files, labelled_files, relative_ref
from seamwatch.sources.inputs import NOT_JSON, expand_paths, iter_records, replay_order
from seamwatch.sources.raw import (
    RAW_SOURCES,
    TIME_KEY,
    raw_payload_time_sql,
    record_time,
    staged_time,
)
from seamwatch.sources.record_ids import RecordIds, content_digest, distinct_id
from seamwatch.sources.timeguard import (
    DEFAULT_CLOCK_SECONDS,
    FutureBounds,
    FutureGuard,
    bounded_time_sql,
    watermark_time,
    watermark_time_sql,
)
from seamwatch.sqltext import sql_interval, sql_literal
from seamwatch.udfs.deadletter import RAW_LIMIT_BYTES, dead_letter
from seamwatch.udfs.shapes import not_event_kind
from seamwatch.udfs.sqlfields import RECORD_KEYS, SOURCE_FIELDS, FieldPath, sql_readable

# The column each source's watermark is computed from.
SOURCE_TIME_FIELDS: dict[str, str] = {"okta": "published", "cloudtrail": "eventTime"}
REF_KEY = "_ref"
RAW_KEY = "_raw"


class UnknownSourceError(SeamwatchError, ValueError):
    pass


@dataclass(frozen=True)
class StagedSource:
    """One source's staged directory and what staging found.

    ``records`` counts the records staged for the job; ``rejected`` holds the dead letters
    staging decided itself (damaged files, records too far ahead in time, oversize or non-UTF-8
    text that is not JSON), which are records read too; ``empty_containers`` counts
    containers (``[]``, ``{"Records": []}``) that held no record.
    """

    source: str
    path: Path
    records: int  # records staged (what the job reads)
    files: int
    duplicates: int = 0  # records skipped: the same source, id and content as one staged
    distinct_ids: int = 0  # records staged under an id made distinct by their content
    # Non-events skipped (digest files, S3 notifications), by kind.
    not_events: dict[str, int] = dataclasses.field(default_factory=dict)
    rejected: tuple[dict[str, Any], ...] = ()
    empty_containers: int = 0

    @property
    def records_read(self) -> int:
        """Records read from the files: staged for the job plus dead-lettered by staging."""
        return self.records + len(self.rejected)


def check_source(source: str) -> str:
    if source not in SOURCE_TIME_FIELDS and source not in RAW_SOURCES:
        known = ", ".join([*SOURCE_TIME_FIELDS, *RAW_SOURCES])
        raise UnknownSourceError(f"unknown log source {source!r}; known sources: {known}")
    return source


def table_readable(source: str, parsed: object) -> bool:
    """Whether the record goes to its source table as itself (its fields read by the table)
    rather than as raw text for the Python step to normalize."""
    return (
        source not in RAW_SOURCES
        and parsed is not NOT_JSON
        and sql_readable(source, parsed)
        # A record that has a key of ours itself goes the raw way (Flink would read ours).
        and REF_KEY not in parsed  # type: ignore[operator]
        and RAW_KEY not in parsed  # type: ignore[operator]
    )


def staged_line(
    ref: str, text: str, parsed: object, source: str, readable: bool | None = None
) -> bytes:
    """One staged JSON line for the record ``text`` (``parsed``: its parsed value;
    ``readable``: :func:`table_readable`, computed here when not given)."""
    if source in RAW_SOURCES:  # raw text and its time (seamwatch.sources.raw)
        when = None if parsed is NOT_JSON else staged_time(source, parsed)
        return orjson.dumps({REF_KEY: ref, RAW_KEY: text, TIME_KEY: when}) + b"\n"
    ref_json = orjson.dumps(ref)
    if readable is None:
        readable = table_readable(source, parsed)
    if readable:
        body = text.strip()
        if body.startswith("{") and "\n" not in body and "\r" not in body:
            return (
                b'{"'
                + REF_KEY.encode()
                + b'":'
                + ref_json
                + b","
                + body[1:].lstrip().encode()
                + b"\n"
            )
        return orjson.dumps({REF_KEY: ref, **parsed}) + b"\n"  # type: ignore[dict-item]
    return orjson.dumps({REF_KEY: ref, RAW_KEY: text}) + b"\n"


# The key holding a record's own id, per source (the vendor's spelling).
SOURCE_ID_KEYS: dict[str, str] = {"okta": "uuid", "cloudtrail": "eventID"}

# Characters that are wildcards of SQL's LIKE (or escape one): a prefix holding one is not a
# plain prefix test in the job's filter.
_LIKE_SPECIAL = frozenset("_%\\")


@dataclass(frozen=True)
class NeededActions:
    """The actions of a source that some rule or the baseline may need: exact names and name
    prefixes (:meth:`seamwatch.rules.relevance.Relevance.actions`).

    The job's source table drops a record of any other action before the Python step, reading
    nothing of it but its action, time and ref, and counts it
    (:func:`seamwatch.jobs.pipeline.normalize_sql`). Staging writes such a record, when the
    table reads its fields, as a *brief line*: those keys and its id only, so the job does not
    parse the rest of it (1-4 KB of JSON for a few dozen bytes).
    """

    exact: frozenset[str]
    prefixes: tuple[str, ...]

    @classmethod
    def of(cls, actions: tuple[frozenset[str], tuple[str, ...]] | None) -> NeededActions | None:
        """From :meth:`~seamwatch.rules.relevance.Relevance.actions` (None: every action may be
        needed). None too when a prefix holds a character LIKE reads as a wildcard: the job's
        filter would then keep more than a prefix test, so every record stays whole."""
        if actions is None:
            return None
        exact, prefixes = actions
        if any(_LIKE_SPECIAL.intersection(prefix) for prefix in prefixes):
            return None
        return cls(exact, prefixes)

    def wants(self, action: str) -> bool:
        """Whether the job's filter keeps a record of ``action`` (as the table reads it)."""
        return action in self.exact or action.startswith(self.prefixes)


def brief_line(ref: str, parsed: dict[str, Any], source: str) -> bytes:
    """The staged line of a record the job only counts (see :class:`NeededActions`): its ref,
    action, time and id, as the record has them."""
    keys = RECORD_KEYS[source]
    return orjson.dumps({REF_KEY: ref, **{key: parsed.get(key) for key in keys}}) + b"\n"


@dataclass
class _Tally:
    duplicates: int = 0
    distinct_ids: int = 0
    not_events: dict[str, int] = dataclasses.field(default_factory=dict)


def _staged_records(
    source: str, paths: list[Path], labels: dict[Path, str], ids: RecordIds, tally: _Tally
) -> Iterator[tuple[str, str, object]]:
    """The records of ``paths`` to stage, refs relative to their input root; non-events and
    repeats of a staged record are counted in ``tally`` and left out
    (:mod:`seamwatch.sources.record_ids`)."""
    # Sources without a vendor id key (Entra, Windows) drop only repeats of the same text.
    id_key = SOURCE_ID_KEYS.get(source)
    for path in paths:
        for ref, text, parsed in iter_records(source, [path]):
            if isinstance(parsed, InputNotice):  # damage or an empty container: not a record
                yield relative_ref(ref, path, labels[path]), text, parsed
                continue
            kind = not_event_kind(parsed)
            if kind is not None:
                tally.not_events[kind] = tally.not_events.get(kind, 0) + 1
                continue
            event_id = parsed.get(id_key) if id_key and type(parsed) is dict else None
            verdict = ids.check(source, event_id if type(event_id) is str else None, text)
            if verdict == "duplicate":
                tally.duplicates += 1
                continue
            if verdict == "distinct":
                tally.distinct_ids += 1
                new_id = distinct_id(str(event_id), content_digest(text))
                parsed = {**parsed, id_key: new_id}  # type: ignore[dict-item]
                text = orjson.dumps(parsed).decode()
            yield relative_ref(ref, path, labels[path]), text, parsed


@dataclass(frozen=True)
class StagingPlan:
    """What staging will write, known before anything is: per source, its files in replay
    order with their labels, and its staged directory. Making the plan checks the sources
    and that every file belongs to its source (:func:`plan_staging`)."""

    sources: tuple[tuple[str, tuple[Path, ...], dict[Path, str], Path], ...]

    def placeholders(self) -> list[StagedSource]:
        """Each source's staged directory, nothing counted yet: enough to declare its table
        (:func:`staged_table_ddl` reads only the source and the path)."""
        return [
            StagedSource(source, target, records=0, files=len(paths))
            for source, paths, _, target in self.sources
        ]


def plan_staging(inputs: dict[str, list[str]], staging_dir: Path) -> StagingPlan:
    """The plan of :func:`stage_inputs`: raises ``UnknownSourceError``, ``WrongSourceError`` or
    an input error before anything is written."""
    planned = []
    for source, specs in inputs.items():
        check_source(source)
        labels = labelled_files((spec, expand_paths(spec)) for spec in specs)
        paths = replay_order(labels)
        check_source_files(source, paths)
        planned.append((source, tuple(paths), labels, staging_dir / f"{source}.staged"))
    return StagingPlan(tuple(planned))


def stage_inputs(
    inputs: dict[str, list[str]],
    staging_dir: Path,
    parts: int = 1,
    bounds: FutureBounds | None = None,
    now_ms: int | None = None,
    on_staged: Callable[[StagedSource], None] | None = None,
    needed: Mapping[str, NeededActions] | None = None,
) -> list[StagedSource]:
    """Write one staged directory per source; returns what was staged, per source
    (``on_staged`` is told each source as soon as it is staged).

    Each directory holds ``parts`` files, the records dealt to them in turn, so every file
    spans the whole input in time order. Run the job at parallelism ``parts``: each source
    reader then reads one file, and the readers advance through event time together (a reader
    that read the files one after the other would find the second one behind the watermark
    the first one set).

    Before anything is written, every file is checked for belonging to its source
    (:func:`seamwatch.sources.input_check.check_source_files`, raises ``WrongSourceError``).
    Refs name files relative to their spec's input root
    (:func:`seamwatch.sources.input_check.input_root`).

    Records whose time is too far ahead (``bounds``, against the clock ``now_ms``, default
    now, and against the records after them: :class:`~seamwatch.sources.timeguard.FutureGuard`)
    are dead-lettered here, before their time can reach a watermark, as are damaged files and
    text that cannot be staged (:func:`staging_dead_letter`).

    ``needed``: per source, the actions the job's rules may need; records of other actions go
    as brief lines (:class:`NeededActions`). Without it every record is staged whole, for any
    rules (what a later replay on a cluster reads).
    """
    if parts < 1:
        raise ValueError("parts must be at least 1")
    plan = plan_staging(inputs, staging_dir)
    now = int(time.time() * 1000) if now_ms is None else now_ms
    staged: list[StagedSource] = []
    for source, paths, labels, target in plan.sources:
        wanted = (needed or {}).get(source)
        staged.append(stage_source(source, paths, labels, target, parts, bounds, now, wanted))
        if on_staged is not None:
            on_staged(staged[-1])
    return staged


def stage_source(
    source: str,
    paths: Sequence[Path],
    labels: dict[Path, str],
    target: Path,
    parts: int,
    bounds: FutureBounds | None,
    now_ms: int,
    needed: NeededActions | None = None,
) -> StagedSource:
    """Stage one source of a :class:`StagingPlan` (see :func:`stage_inputs`). A plain
    function of picklable arguments, so that a process of its own can run it
    (:class:`BackgroundStaging`); duplicates are told apart within the source."""
    target.mkdir(parents=True, exist_ok=True)
    guard: FutureGuard[Staged] = FutureGuard(now_ms, bounds)
    writer = _Writer(source, target, parts, needed)
    return _stage_source(source, list(paths), labels, RecordIds(), writer, guard)


class BackgroundStaging:
    """Stages a plan's sources in processes of their own (one per source, at most one per CPU)
    while the caller does something else, such as starting Flink and planning the job.

    Use it as a context manager: leaving it (an error, Ctrl-C) cancels what has not started
    and waits for the rest. A worker's error is raised by :meth:`result`.
    """

    def __init__(
        self,
        plan: StagingPlan,
        parts: int = 1,
        bounds: FutureBounds | None = None,
        now_ms: int | None = None,
        needed: Mapping[str, NeededActions] | None = None,
    ) -> None:
        if parts < 1:
            raise ValueError("parts must be at least 1")
        now = int(time.time() * 1000) if now_ms is None else now_ms
        needed = needed or {}
        workers = max(1, min(len(plan.sources), os.cpu_count() or 1))
        # fork: the worker starts at once with the staging code loaded, and, unlike spawn, does
        # not import the caller's main module again (a script without a __main__ guard would
        # run twice). The worker only reads and writes files; it never touches the JVM
        # gateway or the threads the parent may have.
        self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
        self._futures = [
            self._pool.submit(
                stage_source, source, paths, labels, target, parts, bounds, now, needed.get(source)
            )
            for source, paths, labels, target in plan.sources
        ]

    def __enter__(self) -> BackgroundStaging:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def result(self, on_staged: Callable[[StagedSource], None] | None = None) -> list[StagedSource]:
        """What was staged, per source in the plan's order (waits for it); ``on_staged`` is
        told each source."""
        staged = []
        for future in self._futures:
            staged.append(future.result())
            if on_staged is not None:
                on_staged(staged[-1])
        return staged


def skipped_summary(staged: list[StagedSource]) -> str:
    """What staging left out or kept apart, for the run summary ("" when nothing)."""
    parts = []
    for item in staged:
        if item.duplicates:
            parts.append(f"{item.duplicates} duplicate {item.source} records skipped")
        for kind, n in sorted(item.not_events.items()):
            parts.append(f"{n} {kind.replace('_', ' ')}(s) skipped")
        if item.distinct_ids:
            parts.append(f"{item.distinct_ids} {item.source} records sharing an id kept apart")
    return "; ".join(parts)


Record = tuple[str, str, object]  # (raw_ref, text, parsed), as iter_records yields them
# A record on its way to the part files, with whether its table reads it (table_readable).
Staged = tuple[str, str, object, bool]


# Bytes buffered per part file before a write to the file system: staged lines are 1-4 KB, and
# the default buffer (8 KB) made a system call every few records.
_WRITE_BUFFER = 1 << 20


class _Writer:
    """Deals the records to the part files, or to the dead letters with their reason."""

    def __init__(
        self, source: str, target: Path, parts: int, needed: NeededActions | None = None
    ) -> None:
        self.source = source
        self.target = target
        self.needed = needed
        self.outs = [
            (target / f"part-{i}.jsonl").open("wb", buffering=_WRITE_BUFFER) for i in range(parts)
        ]
        self.count = 0
        self.rejected: list[dict[str, Any]] = []

    def write(self, decided: Iterable[tuple[Staged, str | None]]) -> None:
        for (ref, text, parsed, readable), reason in decided:
            if reason is not None:
                self.rejected.append(dead_letter(self.source, reason, ref, text))
                continue
            self.outs[self.count % len(self.outs)].write(self._line(ref, text, parsed, readable))
            self.count += 1

    def _line(self, ref: str, text: str, parsed: object, readable: bool) -> bytes:
        """The record's staged line: brief when the table reads it and the job only counts it
        (:class:`NeededActions`), else whole."""
        if readable and self.needed is not None:
            record: dict[str, Any] = parsed  # type: ignore[assignment]
            if not self.needed.wants(record[RECORD_KEYS[self.source][0]]):
                return brief_line(ref, record, self.source)
        return staged_line(ref, text, parsed, self.source, readable)

    def close(self) -> None:
        for out in self.outs:
            out.close()


def _stage_source(
    source: str,
    paths: list[Path],
    labels: dict[Path, str],
    ids: RecordIds,
    writer: _Writer,
    guard: FutureGuard[Staged],
) -> StagedSource:
    tally = _Tally()
    empty = 0
    try:
        for ref, text, parsed in _staged_records(source, paths, labels, ids, tally):
            if isinstance(parsed, InputNotice):
                if parsed.kind == "empty":
                    empty += 1
                else:
                    writer.rejected.append(dead_letter(source, parsed.reason, ref, ""))
                continue
            dead = staging_dead_letter(source, ref, text, parsed)
            if dead is not None:
                writer.rejected.append(dead)
                continue
            readable = table_readable(source, parsed)
            when = _guard_time(source, parsed, readable)
            writer.write(guard.push((ref, text, parsed, readable), when))
        writer.write(guard.finish())
    finally:
        writer.close()
    return StagedSource(
        source,
        writer.target,
        writer.count,
        len(paths),
        duplicates=tally.duplicates,
        distinct_ids=tally.distinct_ids,
        not_events=tally.not_events,
        rejected=tuple(writer.rejected),
        empty_containers=empty,
    )


def _guard_time(source: str, parsed: object, readable: bool) -> int | None:
    """The time a staged record can push its source's watermark to (None: it cannot)."""
    if parsed is NOT_JSON:
        return None
    if source in RAW_SOURCES:
        return record_time(source, parsed)
    if not readable:
        return None
    return watermark_time(parsed[SOURCE_TIME_FIELDS[source]])  # type: ignore[index]


def staging_dead_letter(source: str, ref: str, text: str, parsed: object) -> dict[str, Any] | None:
    """The dead letter for a record staging cannot hand to the job as text, or None.

    Text that is not JSON goes to the job (which dead-letters it with the parser's reason)
    unless it holds bytes that are not UTF-8 (the job's JSON lines could not carry them; the
    dead letter keeps them, base64) or is over the dead-letter size bound (no record of that
    size needs to cross into the job to be refused).
    """
    if parsed is not NOT_JSON:
        return None
    if has_invalid_utf8(text):
        return dead_letter(source, "invalid JSON: the record is not UTF-8", ref, text)
    if len(text) > RAW_LIMIT_BYTES // 4 and len(text.encode("utf-8")) > RAW_LIMIT_BYTES:
        return dead_letter(source, "invalid JSON (oversize record)", ref, text)
    return None


def _column_type(fields: tuple[FieldPath, ...], depth: int = 0) -> list[str]:
    """``name TYPE`` declarations for the fields below one level (nested as ``ROW``)."""
    groups: dict[str, list[FieldPath]] = {}
    for field in fields:
        groups.setdefault(field.path[depth], []).append(field)
    columns = []
    for name, members in groups.items():
        leaf = [f for f in members if len(f.path) == depth + 1]
        if leaf:
            columns.append(f"`{name}` {leaf[0].column_type}")
        else:
            inner = ", ".join(_column_type(tuple(members), depth + 1))
            columns.append(f"`{name}` ROW<{inner}>")
    return columns


# The keys whose value times a raw record, per source, in the order they are tried. An
# EventBridge envelope's inner eventTime is found like a bare record's.
PAYLOAD_TIME_KEYS: dict[str, tuple[str, ...]] = {
    "okta": ("published",),
    "cloudtrail": ("eventTime", "@timestamp"),
}


def payload_time_sql(source: str, payload: str, clock_seconds: int | None) -> str:
    """SQL for the time of a raw JSON text column (``TIMESTAMP(3)``, epoch when unreadable or,
    unless ``clock_seconds`` is None, more than ``clock_seconds`` ahead of the clock): the
    watermark of tables that read records as text (Kafka topics, watched directories).

    It finds the key's first ``"key":"`` (or ``"key": "``) in the text and reads the 19
    characters after it, to the second: a substring search, where ``JSON_VALUE`` parses the
    whole record for each key (measured at 2.8-3.5k records/s for a few keys). A quote inside
    a string value is escaped in JSON text, so no field's content can pose as the key. The
    exact time of each event is the normalizer's, in Python. Entra ID and Windows records:
    :func:`~seamwatch.sources.raw.raw_payload_time_sql`.
    """
    if check_source(source) in RAW_SOURCES:
        return bounded_time_sql(raw_payload_time_sql(source, payload), clock_seconds)
    candidates = []
    for key in PAYLOAD_TIME_KEYS[check_source(source)]:
        for pattern in (f'"{key}":"', f'"{key}": "'):
            literal = sql_literal(pattern)
            at = f"POSITION({literal} IN {payload})"
            candidates.append(
                f"CASE WHEN {at} > 0 THEN SUBSTRING({payload} FROM {at} + {len(pattern)} "
                "FOR 19) END"
            )
    # Each candidate is at most 19 characters: the function reads them all.
    return watermark_time_sql(f"COALESCE({', '.join(candidates)})", clock_seconds)


def event_time_sql(source: str, clock_seconds: int | None = DEFAULT_CLOCK_SECONDS) -> str:
    """SQL for the time the watermark follows (``TIMESTAMP(3)``): the source's time field read
    by :func:`~seamwatch.sources.timeguard.watermark_time_sql` (the epoch when unreadable or
    more than ``clock_seconds`` ahead of the clock)."""
    column = f"`{SOURCE_TIME_FIELDS[check_source(source)]}`"
    return watermark_time_sql(column, clock_seconds)


def source_columns(source: str) -> list[str]:
    """The columns of a source table: the ref, the raw text, then the normalizer's fields."""
    return [f"`{REF_KEY}` STRING", f"`{RAW_KEY}` STRING", *_column_type(SOURCE_FIELDS[source])]


def field_column(index: int) -> str:
    """The computed column holding the ``index``-th field of the source's SOURCE_FIELDS."""
    return f"f{index}"


def field_columns(source: str) -> list[str]:
    """Each field as a flat computed column (``f0 AS `eventName```): a Python function that
    reads nested ``ROW`` fields directly trips the planner (IndexOutOfBoundsException)."""
    return [
        f"{field_column(i)} AS {field.sql_in(None)}"
        for i, field in enumerate(SOURCE_FIELDS[source])
    ]


def staged_table_ddl(
    table: str,
    staged: StagedSource,
    watermark_seconds: int,
    clock_seconds: int | None = DEFAULT_CLOCK_SECONDS,
) -> str:
    """A filesystem table over one staged directory, with the source's event-time watermark.

    A time more than ``clock_seconds`` ahead of the clock reads as the epoch (it never moves
    the watermark). The DDL names the Java function of
    :func:`~seamwatch.sources.timeguard.watermark_time_sql`, which reads the time field of a
    source read by its fields and the time staging wrote for a raw-text one: register it
    first (:func:`seamwatch.jobs.pipeline.attach_staged` does)."""
    path = str(staged.path).replace("'", "''")
    if staged.source in RAW_SOURCES:
        columns = f"`{REF_KEY}` STRING,\n  `{RAW_KEY}` STRING,\n  `{TIME_KEY}` STRING"
        # Staging wrote the time as "yyyy-MM-dd HH:mm:ss" (or null): read by the same function.
        time_sql = watermark_time_sql(f"`{TIME_KEY}`", clock_seconds)
    else:
        columns = ",\n  ".join(source_columns(staged.source) + field_columns(staged.source))
        time_sql = event_time_sql(staged.source, clock_seconds)
    return (
        f"CREATE TEMPORARY TABLE {table} (\n"
        f"  {columns},\n"
        f"  ts AS {time_sql},\n"
        f"  WATERMARK FOR ts AS ts - {sql_interval(watermark_seconds)}\n"
        ") WITH (\n"
        "  'connector' = 'filesystem',\n"
        f"  'path' = '{path}',\n"
        "  'format' = 'json',\n"
        "  'json.ignore-parse-errors' = 'true'\n"
        ")"
    )
