"""The job graph: raw records in, alerts and dead letters out.

``build_pipeline`` takes streams and returns streams; the entry points attach the sources
(staged files today, Kafka later) and the sinks, so tests and the CLI share one topology::

    raw (source, raw_ref, payload; event-time watermarks per source)
      -> normalize + resolve   (Python, broadcast identity updates; bad records -> dead letters)
      -> first-seen country    (Python, keyed by entity)
      -> events view           (rowtime = the payload's time, SOURCE_WATERMARK)
      -> one MATCH_RECOGNIZE per rule, UNION ALL
      -> alert assembly        (Python)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyflink.common import Types
from pyflink.table import DataTypes, Schema

from seamwatch.jobs.compiler import compile_catalog
from seamwatch.jobs.operators import (
    DEAD_LETTERS,
    EVENT_ROW_TYPE,
    IDENTITY_UPDATES,
    AssembleAlert,
    FirstSeenCountry,
    NormalizeAndResolve,
)
from seamwatch.jobs.rulebook import Rule
from seamwatch.udfs.alerts import RuleMeta
from seamwatch.udfs.identity import IdentityGraph
from seamwatch.udfs.records import EVENT_FIELDS

EVENTS_VIEW = "events"
_SQL_TO_DATATYPE = {
    "STRING": DataTypes.STRING,
    "BIGINT": DataTypes.BIGINT,
    "DOUBLE": DataTypes.DOUBLE,
    "BOOLEAN": DataTypes.BOOLEAN,
}
_ENTITY = [name for name, _ in EVENT_FIELDS].index("entity_id")


@dataclass
class PipelineOutputs:
    alerts: Any  # DataStream[str]: alert JSON
    dead_letters: Any  # DataStream[str]: dead-letter JSON
    events: Any  # DataStream[Row]: normalized, resolved, flagged events


def rule_meta(rule: Rule) -> RuleMeta:
    return RuleMeta(
        rule_id=rule.id,
        title=rule.title,
        description=rule.description.strip(),
        techniques=tuple(rule.techniques),
        severity=rule.severity,
        within_seconds=rule.within,
        group_by=rule.group_by,
    )


def events_schema() -> Any:
    """The event view's schema: the event row, rowtime from the payload's time."""
    builder = Schema.new_builder()
    for name, sql_type in EVENT_FIELDS:
        builder = builder.column(name, _SQL_TO_DATATYPE[sql_type]())
    return (
        builder.column_by_expression("rowtime", "TO_TIMESTAMP_LTZ(event_time, 3)")
        .watermark("rowtime", "SOURCE_WATERMARK()")
        .build()
    )


def build_pipeline(
    t_env: Any,
    raw: Any,
    identity_updates: Any,
    graph: IdentityGraph,
    rules: list[Rule],
) -> PipelineOutputs:
    """Wire the job.

    ``raw``: DataStream of rows ``(source, raw_ref, payload, ...)`` carrying event-time
    timestamps and watermarks. ``identity_updates``: DataStream of ``(entity_id, entity JSON)``
    tuples (empty JSON deletes), with watermarks or bounded, so it never holds time back.
    """
    resolved = (
        raw.connect(identity_updates.broadcast(IDENTITY_UPDATES))
        .process(NormalizeAndResolve(graph), output_type=EVENT_ROW_TYPE)
        .uid("normalize-resolve")
        .name("normalize + resolve identity")
    )
    dead_letters = resolved.get_side_output(DEAD_LETTERS)
    flagged = (
        resolved.key_by(lambda row: row[_ENTITY], key_type=Types.STRING())
        .process(FirstSeenCountry(), output_type=EVENT_ROW_TYPE)
        .uid("baseline-first-seen-country")
        .name("baseline: first-seen country")
    )
    t_env.create_temporary_view(EVENTS_VIEW, t_env.from_data_stream(flagged, events_schema()))
    matches = t_env.to_data_stream(t_env.sql_query(compile_catalog(rules, EVENTS_VIEW)))
    metas = {rule.id: rule_meta(rule) for rule in rules}
    alerts = (
        matches.map(AssembleAlert(metas, graph), output_type=Types.STRING())
        .uid("assemble-alerts")
        .name("assemble alerts")
    )
    return PipelineOutputs(alerts=alerts, dead_letters=dead_letters, events=flagged)
