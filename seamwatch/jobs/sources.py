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

from dataclasses import dataclass
from pathlib import Path

import orjson

from seamwatch.jobs.compiler import sql_interval, sql_literal
from seamwatch.jobs.inputs import NOT_JSON, expand_paths, iter_records, replay_order
from seamwatch.jobs.raw_sources import RAW_SOURCES, TIME_KEY, raw_time_sql, staged_time
from seamwatch.udfs.sqlfields import SOURCE_FIELDS, FieldPath, sql_readable

# The column each source's watermark is computed from.
SOURCE_TIME_FIELDS: dict[str, str] = {"okta": "published", "cloudtrail": "eventTime"}
REF_KEY = "_ref"
RAW_KEY = "_raw"


class UnknownSourceError(ValueError):
    pass


@dataclass(frozen=True)
class StagedSource:
    source: str
    path: Path
    records: int
    files: int


def check_source(source: str) -> str:
    if source not in SOURCE_TIME_FIELDS and source not in RAW_SOURCES:
        known = ", ".join([*SOURCE_TIME_FIELDS, *RAW_SOURCES])
        raise UnknownSourceError(f"unknown log source {source!r}; known sources: {known}")
    return source


def staged_line(ref: str, text: str, parsed: object, source: str) -> bytes:
    """One staged JSON line for the record ``text`` (``parsed``: its parsed value)."""
    if source in RAW_SOURCES:  # raw text and its time (seamwatch.jobs.raw_sources)
        when = None if parsed is NOT_JSON else staged_time(source, parsed)
        return orjson.dumps({REF_KEY: ref, RAW_KEY: text, TIME_KEY: when}) + b"\n"
    ref_json = orjson.dumps(ref)
    if (
        parsed is not NOT_JSON
        and sql_readable(source, parsed)
        # A record that has a key of ours itself goes the raw way (Flink would read ours).
        and REF_KEY not in parsed  # type: ignore[operator]
        and RAW_KEY not in parsed  # type: ignore[operator]
    ):
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


def stage_inputs(
    inputs: dict[str, list[str]], staging_dir: Path, parts: int = 1
) -> list[StagedSource]:
    """Write one staged directory per source; returns what was staged, per source.

    Each directory holds ``parts`` files, the records dealt to them in turn, so every file
    spans the whole input in time order. Run the job at parallelism ``parts``: each source
    reader then reads one file, and the readers advance through event time together (a reader
    that read the files one after the other would find the second one behind the watermark
    the first one set).
    """
    if parts < 1:
        raise ValueError("parts must be at least 1")
    staged = []
    for source, specs in inputs.items():
        check_source(source)
        paths = replay_order(p for spec in specs for p in expand_paths(spec))
        target = staging_dir / f"{source}.staged"
        target.mkdir(parents=True, exist_ok=True)
        outs = [(target / f"part-{i}.jsonl").open("wb") for i in range(parts)]
        count = 0
        try:
            for ref, text, parsed in iter_records(source, paths):
                outs[count % parts].write(staged_line(ref, text, parsed, source))
                count += 1
        finally:
            for out in outs:
                out.close()
        staged.append(StagedSource(source, target, count, len(paths)))
    return staged


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


def payload_time_sql(source: str, payload: str) -> str:
    """SQL for the time of a raw JSON text column (``TIMESTAMP(3)``, epoch when unreadable):
    the watermark of tables that read records as text (Kafka topics, watched directories).

    It finds the key's first ``"key":"`` (or ``"key": "``) in the text and reads the 19
    characters after it, to the second: a substring search, where ``JSON_VALUE`` parses the
    whole record for each key (measured at 2.8-3.5k records/s for a few keys). A quote inside
    a string value is escaped in JSON text, so no field's content can pose as the key. The
    exact time of each event is the normalizer's, in Python.
    """
    candidates = []
    for key in PAYLOAD_TIME_KEYS[check_source(source)]:
        for pattern in (f'"{key}":"', f'"{key}": "'):
            literal = sql_literal(pattern)
            at = f"POSITION({literal} IN {payload})"
            candidates.append(
                f"CASE WHEN {at} > 0 THEN SUBSTRING({payload} FROM {at} + {len(pattern)} "
                "FOR 19) END"
            )
    text = f"COALESCE({', '.join(candidates)})"
    return f"COALESCE(TO_TIMESTAMP(REPLACE({text}, 'T', ' ')), TIMESTAMP '1970-01-01 00:00:00')"


def event_time_sql(source: str) -> str:
    """SQL for the time the watermark follows (``TIMESTAMP(3)``, the epoch when unreadable)."""
    column = f"`{SOURCE_TIME_FIELDS[check_source(source)]}`"
    return (
        f"COALESCE(TO_TIMESTAMP(SUBSTRING(REPLACE({column}, 'T', ' ') FROM 1 FOR 19)), "
        "TIMESTAMP '1970-01-01 00:00:00')"
    )


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


def staged_table_ddl(table: str, staged: StagedSource, watermark_seconds: int) -> str:
    """A filesystem table over one staged directory, with the source's event-time watermark."""
    path = str(staged.path).replace("'", "''")
    if staged.source in RAW_SOURCES:
        columns = f"`{REF_KEY}` STRING,\n  `{RAW_KEY}` STRING,\n  `{TIME_KEY}` STRING"
        time_sql = raw_time_sql()
    else:
        columns = ",\n  ".join(source_columns(staged.source) + field_columns(staged.source))
        time_sql = event_time_sql(staged.source)
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
