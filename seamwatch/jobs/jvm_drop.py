"""Records read as text that no rule needs, dropped in the JVM before the Python step.

A file run's staging writes a record no rule and no baseline needs as a brief line, which the
source table drops by its action before Python (:func:`seamwatch.jobs.pipeline.normalize_sql`).
Tables that read records as text (Kafka topics, watched directories) had no such step: every
record crossed into Python, whose relevance test then counted and dropped it. On a large AWS
estate most CloudTrail records are such records (reads, data events).

Here the Java function ``io.seamwatch.udf.RawNotNeeded`` (``seamwatch/java/``) makes the same
decision on the raw text: it parses the record once and answers true only for a record the
file path would have staged as a brief line (what :func:`seamwatch.udfs.sqlfields.sql_readable`
accepts, checked conservatively) whose action :meth:`Relevance.actions` does not name, that is
no container, envelope, Insights record, digest or S3 notification, and whose time the Python
step would not dead-letter as ahead of the clock. Anything else, including every record it is
unsure of, still goes to Python, which decides as before. Its rules come from this module's
:func:`drop_spec`, a JSON literal in the SQL, so the Java side holds no list of its own.

Only CloudTrail and Okta (the sources with :data:`~seamwatch.udfs.sqlfields.SOURCE_FIELDS`)
are dropped this way, and only in jobs that do not count the records no rule needs (Kafka and
cluster jobs): a dropped record is counted on the metric
``seamwatch_records_not_needed_in_jvm``, not as an ``N`` row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from seamwatch.jobs.javaudf import register as register_java
from seamwatch.rules.relevance import Relevance
from seamwatch.sqltext import sql_literal
from seamwatch.udfs.insights import INSIGHT_EVENT_TYPE
from seamwatch.udfs.normalize import container_keys
from seamwatch.udfs.sqlfields import RECORD_KEYS, SOURCE_FIELDS, read_objects

#: The SQL name the job registers the Java function under.
FUNCTION = "seamwatch_raw_not_needed"
JAVA_CLASS = "io.seamwatch.udf.RawNotNeeded"

# Top-level keys that make a record something other than one plain record of its source, per
# source: containers the Python step expands, an EventBridge envelope, a CloudTrail digest
# file, an S3 event notification or test event, an Insights record. A record with any of them
# goes to Python (a superset of what it tests: the exact shapes need more than one key).
_NOT_PLAIN_KEYS: dict[str, tuple[str, ...]] = {
    "cloudtrail": (
        "detail-type",
        "detail",
        "digestStartTime",
        "digestEndTime",
        "logFiles",
        "s3",
        "Event",
        "insightDetails",
    ),
    "okta": (),
}
# Top-level key and value pairs that do the same (an Insights record names itself this way).
_NOT_PLAIN_VALUES: dict[str, tuple[tuple[str, str], ...]] = {
    "cloudtrail": (("eventType", INSIGHT_EVENT_TYPE),),
    "okta": (),
}
# Keys whose value must be a list when present (sql_readable: Okta's target).
_LIST_KEYS: dict[str, tuple[str, ...]] = {"cloudtrail": (), "okta": ("target",)}
# An object where a key spelled like the action (case aside) other than the one named is a
# shape the table does not read (sql_readable: CloudTrail's sign-in results).
_ECHO: dict[str, tuple[str, str] | None] = {
    "cloudtrail": ("responseElements", "ConsoleLogin"),
    "okta": None,
}


def drop_spec(source: str, relevance: Relevance, clock_seconds: int | None) -> str | None:
    """The ``RawNotNeeded`` spec for ``source`` as JSON text, or None when its records cannot
    be dropped before Python (no fields table for the source, or a rule step takes any of its
    actions). ``clock_seconds``: the Python step's bound on event times ahead of the clock
    (None: no bound)."""
    if source not in SOURCE_FIELDS:
        return None
    actions = relevance.actions(source)
    if actions is None:
        return None
    exact, prefixes = actions
    name, time_key, id_key = RECORD_KEYS[source]
    spec = {
        "name": name,
        "time": time_key,
        "id": id_key,
        "clock_ms": -1 if clock_seconds is None else clock_seconds * 1000,
        "reject": sorted({*container_keys(source), *_NOT_PLAIN_KEYS[source]}),
        "reject_values": [list(pair) for pair in _NOT_PLAIN_VALUES[source]],
        "lists": list(_LIST_KEYS[source]),
        "echo": list(_ECHO[source] or ()),
        "exact": sorted(exact),
        "prefixes": sorted(prefixes),
        "objects": [[list(path), sorted(keys)] for path, keys in read_objects(source).items()],
    }
    return orjson.dumps(spec).decode()


def drop_specs(
    sources: Mapping[str, bool], relevance: Relevance, clock_seconds: int | None
) -> dict[str, str]:
    """Per source read as text (``sources``: source -> read by its fields), its spec, for the
    sources whose records can be dropped before Python."""
    specs = {}
    for source, by_fields in sources.items():
        spec = None if by_fields else drop_spec(source, relevance, clock_seconds)
        if spec is not None:
            specs[source] = spec
    return specs


def keep_sql(spec: str, text_sql: str) -> str:
    """SQL true for a record (its text ``text_sql``) that must go on to the Python step."""
    return f"NOT {FUNCTION}({sql_literal(spec)}, {text_sql})"


def register(t_env: Any) -> None:
    """Register the Java function under :data:`FUNCTION`, its jar shipped with the job."""
    register_java(t_env, FUNCTION, JAVA_CLASS)
