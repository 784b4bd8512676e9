"""The job graph: raw records in, alerts and dead letters out.

``build_pipeline`` takes streams and returns streams; the entry points attach the sources
(staged files today, Kafka later) and the sinks, so tests and the CLI share one topology::

    raw (source, raw_ref, payload; event-time watermarks per source)
      -> normalize + resolve   (Python; identity graph, plus the mapping topic on Kafka runs;
                                bad records -> dead letters; events no rule can use are
                                counted and dropped)
      -> learned key links     (Python, keyed by access key, one stage per role-chaining hop)
      -> behaviour baseline    (Python, keyed by entity: new IP / country / ASN / device / role,
                                impossible travel; geography from Okta or an offline database)
      -> events view           (rowtime = the payload's time, SOURCE_WATERMARK)
      -> one MATCH_RECOGNIZE per rule, UNION ALL
         (+ absent steps: keyed Python with event-time timers, fed the present-step matches
            and the absent step's events the baseline picks)
      -> alert assembly        (Python, keyed by rule and group: suppression)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyflink.common import Row, Types
from pyflink.table import DataTypes, Schema

from seamwatch.jobs.compiler import compile_absence_catalog, compile_catalog
from seamwatch.jobs.identity_topic import IdentityTopic
from seamwatch.jobs.operators import (
    ABSENCE_CANDIDATES,
    DEAD_LETTERS,
    EVENT_ROW_TYPE,
    MATCH_ROW_TYPE,
    AbsenceCheck,
    AssembleAlert,
    BehaviourBaseline,
    LinkStage,
    NormalizeAndResolve,
    match_key,
)
from seamwatch.jobs.relevance import Relevance
from seamwatch.jobs.rulebook import Rule
from seamwatch.jobs.settings import DEFAULT_LEARNING_DAYS
from seamwatch.udfs.absence import AbsenceSpec, CandidateTap
from seamwatch.udfs.alerts import RuleMeta
from seamwatch.udfs.behaviour import BaselineConfig
from seamwatch.udfs.conditions import StepCondition
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
_ACCESS_KEY = [name for name, _ in EVENT_FIELDS].index("access_key_id")
_EVENT_ID = [name for name, _ in EVENT_FIELDS].index("event_id")


@dataclass
class PipelineOutputs:
    alerts: Any  # DataStream[str]: alert JSON
    dead_letters: Any  # DataStream[str]: dead-letter JSON
    events: Any  # DataStream[Row]: normalized, resolved, flagged events


def absence_specs(rules: list[Rule]) -> dict[str, AbsenceSpec]:
    """The absent step of each rule that has one, for the keyed absence check."""
    specs = {}
    for rule in rules:
        step = rule.absent_step
        if step is None or step.within is None:
            continue
        specs[rule.id] = AbsenceSpec(
            rule_id=rule.id,
            mode="before" if rule.steps[0] is step else "after",
            window_ms=step.within * 1000,
            same=dict(step.same),
            differ=dict(step.differ),
            within_ms=rule.within * 1000,
        )
    return specs


def candidate_taps(rules: list[Rule]) -> tuple[CandidateTap, ...]:
    """What the baseline picks for the absence check: each absent step's events."""
    taps = []
    for rule in rules:
        step = rule.absent_step
        if step is None:
            continue
        taps.append(
            CandidateTap(
                rule_id=rule.id,
                step=step.name,
                group_by=rule.group_by,
                condition=StepCondition.of(step.source, step.where),
                compared=tuple(sorted({*step.same, *step.differ})),
            )
        )
    return tuple(taps)


def rule_meta(rule: Rule) -> RuleMeta:
    return RuleMeta(
        rule_id=rule.id,
        title=rule.title,
        description=rule.description.strip(),
        techniques=tuple(rule.techniques),
        severity=rule.severity,
        within_seconds=rule.within,
        group_by=rule.group_by,
        suppress_seconds=rule.suppress,
        context_seconds=rule.context,
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
    graph: IdentityGraph,
    rules: list[Rule],
    link_stages: int = 2,
    baseline: BaselineConfig | None = None,
    identity_topic: IdentityTopic | None = None,
) -> PipelineOutputs:
    """Wire the job.

    ``raw``: DataStream of rows ``(source, raw_ref, payload, ...)`` carrying event-time
    timestamps and watermarks. ``graph``: the static identity graph. ``identity_topic``: the
    compacted identity-mapping topic the resolver reads while it runs (Kafka runs).
    ``link_stages``: how many hops of role chaining learned links follow (at least 1).
    """
    if link_stages < 1:
        raise ValueError("link_stages must be at least 1")
    resolved = (
        raw.process(
            NormalizeAndResolve(graph, Relevance(rules), identity_topic), output_type=EVENT_ROW_TYPE
        )
        .uid("normalize-resolve")
        .name("normalize + resolve identity")
    )
    dead_letters = resolved.get_side_output(DEAD_LETTERS)
    # Every event and every taught link goes through the link stages in line, one input and
    # one output each: no side path unioned back, no second input (see LinkStage: after an
    # idle spell either lets a watermark overtake the events released at it). Key-less events
    # are keyed by their id, so they never share one hot key.
    events = resolved
    for stage in range(link_stages):
        events = (
            events.key_by(
                lambda row: row[_ACCESS_KEY] or row[_EVENT_ID] or "", key_type=Types.STRING()
            )
            .process(LinkStage(last=stage == link_stages - 1), output_type=EVENT_ROW_TYPE)
            .uid(f"identity-links-{stage}")
            .name(f"resolve through learned keys ({stage + 1})")
        )
    flagged = (
        events.key_by(lambda row: row[_ENTITY], key_type=Types.STRING())
        .process(
            BehaviourBaseline(
                baseline or BaselineConfig(learning_days=DEFAULT_LEARNING_DAYS),
                candidate_taps(rules),
            ),
            output_type=EVENT_ROW_TYPE,
        )
        .uid("behaviour-baseline")
        .name("baseline: new IP / country / ASN / device / role, impossible travel")
    )
    t_env.create_temporary_view(EVENTS_VIEW, t_env.from_data_stream(flagged, events_schema()))
    matches: Any = None
    if any(rule.absent_step is None for rule in rules):
        # Typed like the absence check's output, so the two can be unioned.
        matches = (
            t_env.to_data_stream(t_env.sql_query(compile_catalog(rules, EVENTS_VIEW)))
            .map(lambda row: Row(row[0], row[1], row[2]), output_type=MATCH_ROW_TYPE)
            .uid("cep-matches")
            .name("CEP matches")
        )
    present = compile_absence_catalog(rules, EVENTS_VIEW)
    if present is not None:
        confirmed = (
            t_env.to_data_stream(t_env.sql_query(present))
            .key_by(match_key, key_type=Types.STRING())
            .connect(
                flagged.get_side_output(ABSENCE_CANDIDATES).key_by(
                    match_key, key_type=Types.STRING()
                )
            )
            .process(AbsenceCheck(absence_specs(rules)), output_type=MATCH_ROW_TYPE)
            .uid("absence-steps")
            .name("absence steps (event-time timers)")
        )
        matches = confirmed if matches is None else matches.union(confirmed)
    metas = {rule.id: rule_meta(rule) for rule in rules}
    alerts = (
        matches.key_by(match_key, key_type=Types.STRING())
        .process(AssembleAlert(metas, graph, identity_topic), output_type=Types.STRING())
        .uid("assemble-alerts")
        .name("assemble alerts")
    )
    return PipelineOutputs(alerts=alerts, dead_letters=dead_letters, events=flagged)
