"""Per-source raw tables with event time taken from the payload.

Each log source is one SQL table of raw records. Its watermark is declared on a column computed
from the payload (``published`` for Okta; ``eventTime``, an EventBridge ``detail.eventTime`` or
a Logstash ``@timestamp`` for CloudTrail), never from arrival time, each source with its own
bound; the union of the sources then runs at the slower source's pace. The SQL expression only
drives the watermark (second precision is plenty for a bound measured in minutes); the exact
event time of each record is parsed in Python by the normalizer. A record whose time the SQL
cannot read gets the epoch, which never advances the watermark; the normalizer decides whether
the record is usable.

File input is first *staged*: the client expands the user's files (directories, globs, gzip,
CloudTrail S3 files, Okta API arrays, event-hook deliveries) into one file per source holding
``<raw_ref>\\t<record>`` lines, so every record keeps a pointer to where it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from seamwatch.jobs.compiler import sql_interval
from seamwatch.jobs.inputs import expand_paths, iter_raw_records, replay_order

SOURCE_TIME_PATHS: dict[str, tuple[str, ...]] = {
    "okta": ("$.published",),
    "cloudtrail": ("$.eventTime", "$.detail.eventTime", "$['@timestamp']"),
}

_TAB = "U&'\\0009'"
_PAYLOAD = f"SUBSTRING(line FROM POSITION({_TAB} IN line) + 1)"
_REF = f"SUBSTRING(line FROM 1 FOR POSITION({_TAB} IN line) - 1)"


class UnknownSourceError(ValueError):
    pass


@dataclass(frozen=True)
class StagedSource:
    source: str
    path: Path
    records: int
    files: int


def check_source(source: str) -> str:
    if source not in SOURCE_TIME_PATHS:
        known = ", ".join(SOURCE_TIME_PATHS)
        raise UnknownSourceError(f"unknown log source {source!r}; known sources: {known}")
    return source


def stage_inputs(inputs: dict[str, list[str]], staging_dir: Path) -> list[StagedSource]:
    """Write one staged file per source; returns what was staged, per source."""
    staged = []
    staging_dir.mkdir(parents=True, exist_ok=True)
    for source, specs in inputs.items():
        check_source(source)
        paths = replay_order(p for spec in specs for p in expand_paths(spec))
        target = staging_dir / f"{source}.staged"
        count = 0
        with target.open("w", encoding="utf-8", newline="\n") as out:
            for ref, text in iter_raw_records(source, paths):
                line = text.replace("\r", " ").replace("\n", " ")
                out.write(f"{ref}\t{line}\n")
                count += 1
        staged.append(StagedSource(source, target, count, len(paths)))
    return staged


def event_time_sql(source: str, payload: str = _PAYLOAD) -> str:
    """SQL for the event time of one raw record (``TIMESTAMP(3)``, epoch when unreadable)."""
    values = ", ".join(
        f"JSON_VALUE({payload}, '{path.replace(chr(39), chr(39) * 2)}')"
        for path in SOURCE_TIME_PATHS[check_source(source)]
    )
    text = f"COALESCE({values})" if "," in values else values
    return (
        f"COALESCE(TO_TIMESTAMP(SUBSTRING(REPLACE({text}, 'T', ' ') FROM 1 FOR 19)), "
        "TIMESTAMP '1970-01-01 00:00:00')"
    )


def staged_table_ddl(table: str, staged: StagedSource, watermark_seconds: int) -> str:
    """A filesystem table over one staged file, with the source's event-time watermark."""
    path = str(staged.path).replace("'", "''")
    return (
        f"CREATE TEMPORARY TABLE {table} (\n"
        "  line STRING,\n"
        f"  ts AS {event_time_sql(staged.source)},\n"
        f"  WATERMARK FOR ts AS ts - {sql_interval(watermark_seconds)}\n"
        ") WITH (\n"
        "  'connector' = 'filesystem',\n"
        f"  'path' = '{path}',\n"
        "  'format' = 'raw'\n"
        ")"
    )


def raw_union_sql(tables: dict[str, str]) -> str:
    """One query over every source table: ``source, raw_ref, payload, ts``."""
    return "\nUNION ALL\n".join(
        f"SELECT '{source}' AS source, {_REF} AS raw_ref, {_PAYLOAD} AS payload, ts FROM {table}"
        for source, table in tables.items()
    )
