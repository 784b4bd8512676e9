"""The JVM-first job graph: the JVM does the per-event work, Python one small step per event.

::

    source tables (json format: the normalizer's fields as nested ROW columns; watermark)
      -> normalize + resolve   (one Python table function per source: fields in, small rows
                                out; bad records -> dead letters; events no rule needs dropped)
      -> one DataStream hop    (so the Python step runs once, whatever reads its rows)
      -> learned key links     (SQL: an event-time OVER window per role-chaining hop)
      -> behaviour flags       (one event-time OVER layer per entity running the Java
                                BaselineFlags aggregate, seamwatch.jobs.baseline)
      -> a second hop          (the rules' query is planned over a stream of its own)
      -> events view           (rowtime = the payload's time)
      -> one query: a MATCH_RECOGNIZE per rule, UNION ALL, with the present-step matches and
         the absence candidates of the absent steps SQL does not decide itself
      -> absence check + alert assembly   (one keyed Python step, per match or candidate)

``build_pipeline`` takes the source tables and returns streams; the entry point attaches the
tables and the sinks.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from pyflink.common import Row, Types
from pyflink.java_gateway import get_gateway
from pyflink.table import DataTypes, Schema, Table
from pyflink.table.udf import FunctionContext, TableFunction, udtf
from pyflink.util.java_utils import load_java_class

from seamwatch.jobs.baseline import create_baseline_view
from seamwatch.jobs.javaudf import register_recent_list, register_watermark_time
from seamwatch.jobs.jvm_drop import drop_specs, keep_sql
from seamwatch.jobs.jvm_drop import register as register_raw_drop
from seamwatch.jobs.links_sql import link_views_sql
from seamwatch.jobs.operators import PENDING_OUTPUT, MatchesToAlerts, decision_key
from seamwatch.jobs.settings import CommonSettings
from seamwatch.kafka.identity_topic import BadMapping, IdentityTopic, LiveIdentityGraph
from seamwatch.rules.compiler import compile_decisions
from seamwatch.rules.relevance import Relevance
from seamwatch.rules.rulebook import Rule
from seamwatch.rules.runnable import split_runnable
from seamwatch.sources.staging import RAW_KEY, REF_KEY, StagedSource, field_column, staged_table_ddl
from seamwatch.sources.timeguard import DEFAULT_CLOCK_SECONDS, ahead_of_clock
from seamwatch.sqltext import sql_literal
from seamwatch.udfs.absence import AbsenceSpec
from seamwatch.udfs.alerts import RuleMeta
from seamwatch.udfs.behaviour import BaselineConfig
from seamwatch.udfs.geo import GeoDatabases, configure
from seamwatch.udfs.hotrow import (
    COUNTED_ROW,
    DEAD_ROW,
    DEVICE_VALUE_COLUMN,
    EVENT_ROW,
    LINK_ROW,
    NOT_NEEDED_ROW,
    OUTPUT_FIELDS,
    VALUE_FIELDS,
    mapping_dead_row,
    prepare,
)
from seamwatch.udfs.identity import IdentityGraph, OktaUserKeys
from seamwatch.udfs.links import LONG_TERM_LINK_SECONDS
from seamwatch.udfs.records import EVENT_FIELDS
from seamwatch.udfs.sqlfields import SOURCE_ACTION_FIELD, SOURCE_FIELDS

EVENTS_VIEW = "events"
FLAGGED_VIEW = "flagged_events"
_DATA_TYPES = {
    "STRING": DataTypes.STRING,
    "BIGINT": DataTypes.BIGINT,
    "DOUBLE": DataTypes.DOUBLE,
    "BOOLEAN": DataTypes.BOOLEAN,
}


@dataclass
class PipelineOutputs:
    alerts: Any  # DataStream[str]: alert JSON
    dead_letters: Any  # DataStream[str]: dead-letter JSON
    # DataStream[str]: late-event JSON (:func:`late_events_sql`), needed or not: the outputs
    # keep the needed ones (:func:`needed_late_event`)
    late_events: Any
    # DataStream[str]: absence decisions the end of a bounded input forced (JSON, see
    # MatchesToAlerts); the entry point decides with the last event time which are alerts
    pending: Any
    counts: Any | None = None  # DataStream[str]: count JSON (:func:`counts_sql`), on request


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


NORMALIZED_VIEW = "normalized"


@dataclass(frozen=True)
class SourceTable:
    """A source table the Python step reads: by its fields (staged files, see
    :func:`seamwatch.sources.staging.staged_table_ddl`) or as raw text (Kafka topics, watched
    directories: ``ref`` and ``text`` are SQL expressions over the table's columns)."""

    name: str
    fields: bool = True
    ref: str = f"`{REF_KEY}`"
    text: str = f"`{RAW_KEY}`"


def attach_staged(
    t_env: Any,
    staged: Iterable[StagedSource],
    watermark_seconds: Mapping[str, int],
    clock_seconds: int | None = DEFAULT_CLOCK_SECONDS,
) -> dict[str, SourceTable]:
    """One source table per staged source (:func:`seamwatch.sources.staging.staged_table_ddl`),
    each with its source's watermark bound, as :func:`build_pipeline` takes them."""
    register_watermark_time(t_env)
    tables = {}
    for item in staged:
        table = f"{item.source}_staged"
        ddl = staged_table_ddl(table, item, watermark_seconds[item.source], clock_seconds)
        t_env.execute_sql(ddl).wait()
        # Sources without SOURCE_FIELDS (Entra, Windows) are staged as raw text only.
        tables[item.source] = SourceTable(table, fields=item.source in SOURCE_FIELDS)
    return tables


class NormalizeResolve(TableFunction):  # type: ignore[misc]
    """Table function around :func:`seamwatch.udfs.hotrow.prepare`, with its counters.

    The static identity graph comes with the function, so it is there before the first event.
    With an identity-mapping topic (Kafka runs), the function reads the whole topic before its
    first event and polls it while events flow (:mod:`seamwatch.kafka.identity_topic`); records
    of that topic that are not mappings become dead letters. It also holds the learned keys of
    unlisted Okta users (:class:`~seamwatch.udfs.identity.OktaUserKeys`), fresh at each
    ``open``: per worker, not checkpointed.
    """

    def __init__(
        self,
        graph: IdentityGraph,
        relevance: Relevance,
        config: BaselineConfig,
        topic: IdentityTopic | None = None,
        geo: GeoDatabases | None = None,
        clock_seconds: int | None = DEFAULT_CLOCK_SECONDS,
    ) -> None:
        self._identities = LiveIdentityGraph(graph, topic)
        self._okta_keys = OktaUserKeys()
        self._clock_seconds = clock_seconds
        self._relevance = relevance
        self._config = config
        self._geo = geo
        self._bad_mappings: list[BadMapping] = []

    def open(self, function_context: FunctionContext) -> None:
        configure(self._geo)
        metrics = function_context.get_metric_group()
        self._normalized = metrics.counter("seamwatch_events_normalized")
        self._rejected = metrics.counter("seamwatch_records_dead_lettered")
        self._unresolved = metrics.counter("seamwatch_events_unresolved")
        self._irrelevant = metrics.counter("seamwatch_events_not_needed_by_rules")
        self._bad_mappings = self._identities.open()
        self._okta_keys = OktaUserKeys()
        self._now_ms = 0  # the clock when the row in hand was read

    def close(self) -> None:
        self._identities.close()

    def _dead_mappings(self) -> list[tuple[Any, ...]]:
        """Dead letters of identity-mapping records that arrived since the last row."""
        bad, self._bad_mappings = self._bad_mappings, []
        bad += self._identities.refresh()
        if bad:
            self._rejected.inc(len(bad))
        return [mapping_dead_row(item.dead_letter_json()) for item in bad]

    def _ahead_of_clock(self, event_time: int) -> str | None:
        """The dead-letter reason for an event time too far ahead of this machine's clock."""
        assert self._clock_seconds is not None
        return ahead_of_clock(event_time, self._now_ms, self._clock_seconds * 1000)

    def eval(
        self, source: str, raw_ref: str, raw: str | None, *values: Any
    ) -> list[tuple[Any, ...]]:
        """The rows of one source row, as a list of tuples (PyFlink takes that as it takes a
        generator of ``Row``: the generator and a ``Row`` per output row cost a few us a
        row)."""
        # The topic's mappings first: one that arrived before this row resolves it.
        dead = self._dead_mappings()
        self._now_ms = int(time.time() * 1000)
        out = prepare(
            source,
            raw_ref,
            raw,
            values,
            self._identities.graph,
            self._relevance.wants,
            self._config,
            self._now_ms,
            self._ahead_of_clock if self._clock_seconds is not None else None,
            self._okta_keys,
        )
        if out.normalized:
            self._normalized.inc(out.normalized)
        if out.dead_lettered:
            self._rejected.inc(out.dead_lettered)
        if out.unresolved:
            self._unresolved.inc(out.unresolved)
        if out.not_needed:
            self._irrelevant.inc(out.not_needed)
        return dead + out.rows if dead else out.rows


def _wanted_sql(source: str, relevance: Relevance | None) -> str | None:
    """SQL keeping the rows of a fields table that some rule or the baseline may need (by
    their action alone, :meth:`Relevance.actions`); raw rows always go to Python."""
    actions = relevance.actions(source) if relevance is not None else None
    if actions is None:
        return None
    exact, prefixes = actions
    column = field_column(SOURCE_ACTION_FIELD[source])
    parts = [f"`{RAW_KEY}` IS NOT NULL"]
    if exact:
        parts.append(f"{column} IN ({', '.join(sql_literal(a) for a in sorted(exact))})")
    parts += [f"{column} LIKE {sql_literal(prefix + '%')}" for prefix in prefixes]
    return " OR ".join(parts)


def _not_event_columns(values: Mapping[str, str]) -> str:
    """A SELECT list in OUTPUT_FIELDS order: ``values`` for the named columns, NULL for the
    others."""
    named = []
    for name, sql_type in OUTPUT_FIELDS:
        named.append(f"{values.get(name, f'CAST(NULL AS {sql_type})')} AS {name}")
    return ", ".join(named)


_SOURCE_TIME_MS = "CAST(EXTRACT(EPOCH FROM ts) AS BIGINT) * 1000"


_LATE_AT_SOURCE = "(CURRENT_WATERMARK(ts) IS NOT NULL AND ts <= CURRENT_WATERMARK(ts))"


def _not_needed_view(table: SourceTable) -> str:
    return f"{table.name}_not_needed"


def not_needed_views(
    tables: Mapping[str, SourceTable], relevance: Relevance
) -> list[tuple[str, str]]:
    """The views :func:`normalize_sql` counts not-needed rows from (name, SQL): per fields
    table, its rows no rule needs that are on time at their source."""
    views = []
    for source, table in tables.items():
        wanted = _wanted_sql(source, relevance) if table.fields else None
        if wanted:
            views.append(
                (
                    _not_needed_view(table),
                    f"SELECT * FROM {table.name} WHERE NOT ({wanted}) AND NOT {_LATE_AT_SOURCE}",
                )
            )
    return views


def _not_needed_sql(source: str, table: SourceTable, wanted: str) -> list[str]:
    """The rows of a fields table no rule needs, counted without Python.

    On time at their source (the usual case), they are counted in SQL, per day of event time
    (over the view of :func:`not_needed_views`): one ``C`` row per day and source, the count
    in ``detail`` and the day's latest time in ``event_time`` (a window aggregate, final when
    the source's watermark passes the day). Behind their source's watermark (a window would
    drop them), each stays one ``N`` row (source, ref and time only), which the job counts as
    it counts the Python step's ``N`` rows. Every operator downstream of the source's
    watermark assigner sees the watermark at or behind where this test saw it, so a row this
    test finds on time is on time for the window too, and each row is counted once.
    """
    one_by_one = _not_event_columns(
        {
            "kind": f"'{NOT_NEEDED_ROW}'",
            "source": sql_literal(source),
            "raw_ref": f"CAST({table.ref} AS STRING)",
            "event_time": _SOURCE_TIME_MS,
        }
    )
    counted = _not_event_columns(
        {
            "kind": f"'{COUNTED_ROW}'",
            "source": sql_literal(source),
            "event_time": f"MAX({_SOURCE_TIME_MS})",
            "detail": "CAST(COUNT(*) AS STRING)",
        }
    )
    return [
        f"SELECT {one_by_one} FROM {table.name} WHERE NOT ({wanted}) AND {_LATE_AT_SOURCE}",
        f"SELECT {counted}\n"
        f"FROM TABLE(TUMBLE(TABLE {_not_needed_view(table)}, DESCRIPTOR(ts), {COUNT_WINDOW}))\n"
        f"GROUP BY window_start, window_end",
    ]


def normalize_sql(
    tables: Mapping[str, SourceTable],
    relevance: Relevance | None = None,
    count_not_needed: bool = True,
    raw_drops: Mapping[str, str] | None = None,
) -> str:
    """Every source table through the Python step, as one ``UNION ALL`` of its rows.

    With ``relevance``, rows of a fields table whose action no rule and no baseline needs
    skip Python. With ``count_not_needed`` they are counted in SQL (:func:`_not_needed_sql`;
    the views of :func:`not_needed_views` must exist), as the job counts the ``N`` rows the
    Python step makes of what its fuller relevance test drops; without it (a job that reports
    no counts) they are only dropped. ``raw_drops`` (source -> spec of
    :func:`seamwatch.jobs.jvm_drop.drop_spec`, the function registered): records of those
    tables read as text that the Java function finds no rule needs skip Python too.
    """
    raw_drops = raw_drops or {}
    names = ", ".join(name for name, _ in OUTPUT_FIELDS)
    lateral = f"LATERAL TABLE(seamwatch_normalize({{}})) AS T({names})"
    parts = []
    raw = [(source, table) for source, table in tables.items() if not table.fields]
    if raw:
        # Tables read as text (Kafka topics, Entra ID and Windows files) share one Python
        # operator rather than one per table, whose task threads would take turns at the one
        # interpreter lock. Measured on Kafka: within the noise of one per table
        # (docs/kafka.md, ninth session); it keeps one Python step for the raw path.
        rows = "\n  UNION ALL\n".join(
            f"  SELECT '{source}' AS in_source, {table.ref} AS in_ref, {table.text} AS in_text "
            f"FROM {table.name}"
            + (f" WHERE {keep_sql(raw_drops[source], table.text)}" if source in raw_drops else "")
            for source, table in raw
        )
        parts.append(
            f"SELECT T.* FROM (\n{rows}\n) AS S, "
            + lateral.format("S.in_source, S.in_ref, S.in_text")
        )
    for source, table in tables.items():
        if not table.fields:
            continue
        args = [f"'{source}'", table.ref, table.text]
        args += [f"S.{field_column(i)}" for i in range(len(SOURCE_FIELDS[source]))]
        where = ""
        wanted = _wanted_sql(source, relevance)
        if wanted:
            where = f" WHERE {wanted}"
            if count_not_needed:
                parts += _not_needed_sql(source, table, wanted)
        parts.append(
            f"SELECT T.* FROM (SELECT * FROM {table.name}{where}) AS S, "
            + lateral.format(", ".join(args))
        )
    return "\nUNION ALL\n".join(parts)


def _is_late(view_column: str = "rowtime") -> str:
    """SQL: the row is behind the watermark where it stands, so the first event-time window
    it meets would drop it (Flink's ``OVER`` drops a row whose time is not after the
    watermark). Every operator after the hop sees the watermark in the same order relative to
    the rows, so every reader of the hop decides alike."""
    wm = f"CURRENT_WATERMARK({view_column})"
    return f"({wm} IS NOT NULL AND {view_column} <= {wm})"


ON_TIME_VIEW = "on_time"
# Kinds that are events (each one record read): the ones the job counts and reports late.
_EVENT_KINDS = f"('{EVENT_ROW}', '{NOT_NEEDED_ROW}')"


def late_events_sql(view: str = NORMALIZED_VIEW) -> str:
    """The events behind their source's watermark when they left the Python step: ``kind``
    (``E`` an event a rule needs, ``N`` one none needs), where it came from, its time, the
    watermark it was behind (epoch milliseconds; source watermarks are whole seconds)."""
    wm = "CAST(CURRENT_WATERMARK(rowtime) AS TIMESTAMP(3))"
    return (
        f"SELECT kind, source, raw_ref, event_id, action, entity_id, event_time, "
        f"CAST(EXTRACT(EPOCH FROM {wm}) AS BIGINT) * 1000 AS watermark_ms\n"
        f"FROM {view}\nWHERE kind IN {_EVENT_KINDS} AND {_is_late()}"
    )


COUNT_WINDOW = "INTERVAL '1' DAY"


def counts_sql(view: str = ON_TIME_VIEW, normalized: str = NORMALIZED_VIEW) -> str:
    """On-time events counted per source and kind, per day of event time, with the latest
    event time of each: a window aggregate, final when the watermark passes the day (all of
    them at the end of a bounded input), one row per day, source and kind. Only on-time rows
    come here (a window drops late ones); late rows are counted from the late-events output.
    The ``C`` rows (not-needed events SQL counted before the Python step) join them as
    ``N`` counts."""
    return (
        f"SELECT source, kind, COUNT(*) AS events, MAX(event_time) AS last_event_time\n"
        f"FROM TABLE(TUMBLE(TABLE {view}, DESCRIPTOR(rowtime), {COUNT_WINDOW}))\n"
        f"WHERE kind IN {_EVENT_KINDS}\n"
        f"GROUP BY window_start, window_end, source, kind\n"
        f"UNION ALL\n"
        f"SELECT source, '{NOT_NEEDED_ROW}' AS kind, CAST(detail AS BIGINT) AS events, "
        f"event_time AS last_event_time\n"
        f"FROM {normalized}\nWHERE kind = '{COUNTED_ROW}'"
    )


def _hop_schema(columns: Sequence[tuple[str, str]]) -> Any:
    """The schema of a view read back from a DataStream hop: ``columns`` (each with an
    ``event_time`` in epoch ms), ``rowtime`` from it, and the upstream watermark."""
    builder = Schema.new_builder()
    for name, sql_type in columns:
        builder = builder.column(name, _DATA_TYPES[sql_type]())
    return (
        builder.column_by_expression("rowtime", "TO_TIMESTAMP_LTZ(event_time, 3)")
        .watermark("rowtime", "SOURCE_WATERMARK()")
        .build()
    )


def _hop(t_env: Any, table: Any, columns: Sequence[tuple[str, str]]) -> Any:
    """``table`` through a DataStream hop, read back as ``columns`` with their rowtime and the
    upstream watermark (:func:`_hop_schema`).

    The stream carries Flink's internal rows (``RowData``, each column as the table runtime
    holds it), not PyFlink's ``to_data_stream`` rows: those convert every column of every row to
    a Java object and back, and the rules then re-encode each string they read.
    """
    j_tenv = t_env._j_tenv
    j_table = table._j_table
    internal = (
        j_table.getResolvedSchema()
        .toPhysicalRowDataType()
        .bridgedTo(load_java_class("org.apache.flink.table.data.RowData"))
    )
    j_stream = j_tenv.toDataStream(j_table, internal)
    # What PyFlink's from_data_stream does first, so the Python operators upstream are set up.
    get_gateway().jvm.org.apache.flink.python.util.PythonConfigUtil.configPythonOperator(
        j_stream.getExecutionEnvironment()
    )
    return Table(j_tenv.fromDataStream(j_stream, _hop_schema(columns)._j_schema), t_env)


def _create_views(t_env: Any, views: list[tuple[str, str]]) -> None:
    for name, sql in views:
        t_env.create_temporary_view(name, t_env.sql_query(sql))


def _baseline_input_sql(view: str) -> str:
    """The resolved events with the columns the baseline view expects (flags still NULL)."""
    present = {name for name, _ in OUTPUT_FIELDS}
    columns = []
    for name, sql_type in EVENT_FIELDS:
        if name in present:
            columns.append(name)
        else:
            columns.append(f"CAST(NULL AS {sql_type}) AS {name}")
    values = [*VALUE_FIELDS[:3], f"{DEVICE_VALUE_COLUMN} AS v_device", *VALUE_FIELDS[3:]]
    return f"SELECT {', '.join([*columns, 'rowtime', *values])} FROM {view}"


@dataclass(frozen=True)
class EventViews:
    """The views the hot path creates, in data-path order (the bench stops at each)."""

    normalized: str  # the Python step's rows (E, L, D), after the one DataStream hop
    linked: str  # resolved events after the link hops (flags not yet computed)
    events: str  # the flagged events the rules run on


def create_event_views(
    t_env: Any,
    tables: Mapping[str, SourceTable],
    graph: IdentityGraph,
    rules: list[Rule],
    baseline: BaselineConfig,
    link_hops: int = 2,
    identity_topic: IdentityTopic | None = None,
    geo: GeoDatabases | None = None,
    clock_seconds: int | None = DEFAULT_CLOCK_SECONDS,
    count_not_needed: bool = True,
) -> EventViews:
    """Register the Python step and the views from the source ``tables`` (source name ->
    table name, see :func:`seamwatch.sources.staging.staged_table_ddl`) to the events view.
    ``count_not_needed``: see :func:`normalize_sql`."""
    relevance = Relevance(rules)
    # Wall-clock bound on the windows' state (links by key, baselines by entity and value):
    # detection forgets in event time (links' lifetimes, forget_after_days); this only lets
    # the state of keys and entities never seen again go.
    ttl_ms = int(max(baseline.forget_after_days * 86400, LONG_TERM_LINK_SECONDS) * 1000)
    t_env.get_config().set("table.exec.state.ttl", f"{ttl_ms} ms")
    t_env.create_temporary_function(
        "seamwatch_normalize",
        udtf(
            NormalizeResolve(graph, relevance, baseline, identity_topic, geo, clock_seconds),
            result_types=[_DATA_TYPES[t]() for _, t in OUTPUT_FIELDS],
        ),
    )
    raw_drops: dict[str, str] = {}
    if count_not_needed:
        _create_views(t_env, not_needed_views(tables, relevance))
    else:
        # A job that counts no records (Kafka, cluster) drops the text records no rule needs
        # in the JVM (seamwatch.jobs.jvm_drop); a counting one leaves them to Python's N rows.
        raw_drops = drop_specs(
            {source: table.fields for source, table in tables.items()}, relevance, clock_seconds
        )
        if raw_drops:
            register_raw_drop(t_env)
    # One DataStream hop: every reader below shares this one Python step.
    t_env.create_temporary_view(
        NORMALIZED_VIEW,
        _hop(
            t_env,
            t_env.sql_query(normalize_sql(tables, relevance, count_not_needed, raw_drops)),
            OUTPUT_FIELDS,
        ),
    )
    # Late rows leave here, reported (late_events_sql), instead of being dropped unseen by the
    # first window; a late link row goes with its late event.
    t_env.create_temporary_view(
        ON_TIME_VIEW,
        t_env.sql_query(f"SELECT * FROM {NORMALIZED_VIEW} WHERE NOT {_is_late()}"),
    )
    t_env.create_temporary_view(
        "link_input",
        t_env.sql_query(
            f"SELECT * FROM {ON_TIME_VIEW} WHERE kind IN ('{EVENT_ROW}', '{LINK_ROW}')"
        ),
    )
    links = link_views_sql("link_input", link_hops)
    _create_views(t_env, links)
    linked = links[-1][0]
    t_env.create_temporary_view("baseline_input", t_env.sql_query(_baseline_input_sql(linked)))
    create_baseline_view(t_env, "baseline_input", FLAGGED_VIEW, baseline)
    # A second hop: the rules read the flagged events as a stream of their own. The planner then
    # optimizes the links and flags once instead of once per rule branch (the decisions query
    # planned in 3.9 s instead of 10.4 s), and the flags' last projection runs once instead of
    # being merged into every rule's filter.
    names = ", ".join(name for name, _ in EVENT_FIELDS)
    t_env.create_temporary_view(
        EVENTS_VIEW,
        _hop(
            t_env,
            t_env.sql_query(f"SELECT {names} FROM {FLAGGED_VIEW}"),
            EVENT_FIELDS,
        ),
    )
    return EventViews(NORMALIZED_VIEW, linked, EVENTS_VIEW)


def build_pipeline(
    t_env: Any,
    tables: Mapping[str, SourceTable],
    graph: IdentityGraph,
    rules: list[Rule],
    settings: CommonSettings,
    *,
    identity_topic: IdentityTopic | None = None,
    counts: bool = False,
    link_hops: int = 2,
) -> PipelineOutputs:
    """Wire the whole job over the source ``tables``: alerts, dead letters, late events and
    pending absence decisions out; with ``counts``, the on-time counts (bounded runs).

    From ``settings`` (whatever the entry point): the baseline, the MaxMind databases
    (:mod:`seamwatch.udfs.geo`; the bundled ones by default) and the clock bound: an event more
    than ``future_bounds.clock_seconds`` ahead of the clock is dead-lettered (None: no check;
    see :mod:`seamwatch.sources.timeguard`).

    Rules that cannot match what the ``tables`` read are left out
    (:func:`seamwatch.rules.runnable.split_runnable`).
    """
    rules, _idle = split_runnable(rules, tables)
    views = create_event_views(
        t_env,
        tables,
        graph,
        rules,
        settings.baseline,
        link_hops,
        identity_topic,
        settings.geo,
        settings.future_bounds.clock_seconds,
        count_not_needed=counts,
    )
    dead_letters = t_env.to_data_stream(
        t_env.sql_query(f"SELECT detail FROM {views.normalized} WHERE kind = '{DEAD_ROW}'")
    )
    # One query for the rules, the absent steps' matches and their candidates: the links and
    # flags under it are computed once, whatever reads them.
    register_recent_list(t_env)
    decisions = t_env.to_data_stream(t_env.sql_query(compile_decisions(rules, views.events)))
    metas = {rule.id: rule_meta(rule) for rule in rules}
    alerts = (
        decisions.key_by(decision_key, key_type=Types.STRING())
        .process(
            MatchesToAlerts(metas, absence_specs(rules), graph, identity_topic),
            output_type=Types.STRING(),
        )
        .uid("matches-to-alerts")
        .name("absence steps, alerts")
    )
    late = t_env.to_data_stream(t_env.sql_query(late_events_sql(views.normalized)))
    count_rows = t_env.to_data_stream(t_env.sql_query(counts_sql())) if counts else None
    return PipelineOutputs(
        alerts=alerts,
        dead_letters=dead_letters.map(lambda row: row[0], output_type=Types.STRING()),
        late_events=late.map(late_event_json, output_type=Types.STRING()),
        pending=alerts.get_side_output(PENDING_OUTPUT),
        counts=(
            count_rows.map(count_json, output_type=Types.STRING())
            if count_rows is not None
            else None
        ),
    )


def late_event_json(row: Row) -> str:
    """A late event as the late-events output holds it (:func:`late_events_sql`)."""
    kind, source, ref, event_id, action, entity_id, event_time, watermark = tuple(row)
    return orjson.dumps(
        {
            "source": source,
            "raw_ref": ref,
            "event_id": event_id,
            "action": action,
            "entity_id": entity_id,
            "needed": kind == EVENT_ROW,
            "event_time": event_time,
            "watermark": watermark,
            "behind_watermark_ms": watermark - event_time,
        }
    ).decode()


def needed_late_event(text: str) -> bool:
    """A late event a rule needed (the others are counted by file runs, not written)."""
    return bool(orjson.loads(text)["needed"])


def count_json(row: Row) -> str:
    source, kind, events, last = tuple(row)
    return orjson.dumps(
        {"source": source, "kind": kind, "events": events, "last_event_time": last}
    ).decode()
