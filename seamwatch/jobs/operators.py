"""The Flink functions around the plain logic in ``seamwatch.udfs``.

Each reads state, calls the logic, writes state and emits; nothing here decides anything a test
of the logic would not already cover.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import orjson
from pyflink.common import Row, Time, Types
from pyflink.datastream import OutputTag, RuntimeContext
from pyflink.datastream.functions import (
    KeyedCoProcessFunction,
    KeyedProcessFunction,
    ProcessFunction,
)
from pyflink.datastream.state import MapStateDescriptor, StateTtlConfig, ValueStateDescriptor

from seamwatch.jobs.identity_topic import BadMapping, IdentityTopic, LiveIdentityGraph
from seamwatch.jobs.relevance import Relevance
from seamwatch.udfs.absence import (
    AbsenceSpec,
    AbsenceState,
    CandidateTap,
    on_candidate,
    on_match,
    on_timer,
)
from seamwatch.udfs.alerts import RuleMeta, build_alert, fold_into_open_alert
from seamwatch.udfs.behaviour import (
    FLAG_FIELDS,
    BaselineConfig,
    decode_state,
    encode_state,
    observe,
)
from seamwatch.udfs.geo import enrich
from seamwatch.udfs.identity import IdentityGraph, resolve
from seamwatch.udfs.links import (
    LONG_TERM_LINK_SECONDS,
    TEMPORARY_ISSUERS,
    TEMPORARY_LINK_SECONDS,
    Link,
    apply_link,
    is_temporary_key,
    teaches,
    waits_for_link,
)
from seamwatch.udfs.normalize import normalize_text
from seamwatch.udfs.records import EVENT_FIELDS, Event, Rejected

FIELD_NAMES = [name for name, _ in EVENT_FIELDS]
_EVENT_TIME = FIELD_NAMES.index("event_time")
_ACCESS_KEY = FIELD_NAMES.index("access_key_id")
_RESOLVED_BY = FIELD_NAMES.index("resolved_by")
_SOURCE = FIELD_NAMES.index("source")
_RAW_REF = FIELD_NAMES.index("raw_ref")
_SQL_TO_TYPE = {
    "STRING": Types.STRING,
    "BIGINT": Types.LONG,
    "DOUBLE": Types.DOUBLE,
    "BOOLEAN": Types.BOOLEAN,
}
EVENT_ROW_TYPE = Types.ROW_NAMED(
    FIELD_NAMES, [_SQL_TO_TYPE[sql_type]() for _, sql_type in EVENT_FIELDS]
)
DEAD_LETTERS = OutputTag("dead-letters", Types.STRING())
# Events that fill a rule's absent step, picked by the baseline for the absence check:
# (rule_id, group_key, event_time, candidate JSON).
ABSENCE_CANDIDATES = OutputTag(
    "absence-candidates",
    Types.ROW_NAMED(
        ["rule_id", "group_key", "event_time", "event"],
        [Types.STRING(), Types.STRING(), Types.LONG(), Types.STRING()],
    ),
)
# A link taught by a credential-issuing call travels in the event stream itself, as an event
# row of this pseudo-source (issued key in access_key_id, encoded Link in raw_ref): the link
# stages then have one input, and no second channel can carry a watermark ahead of the events.
LINK_SOURCE = "__link__"


def event_row(event: Event) -> Row:
    return Row(*[getattr(event, name) for name in FIELD_NAMES])


def teach_row(key: str, link: Link) -> Row:
    """The stream row that teaches the link stages ``key`` -> ``link`` (see LINK_SOURCE)."""
    values: list[Any] = [None] * len(FIELD_NAMES)
    values[FIELD_NAMES.index("event_id")] = link.taught_by
    values[_SOURCE] = LINK_SOURCE
    values[_EVENT_TIME] = link.issued_at
    values[_RAW_REF] = link.encode()
    values[_ACCESS_KEY] = key
    return Row(*values)


def dead_letter_json(rejected: Rejected) -> str:
    return orjson.dumps(
        {
            "source": rejected.source,
            "reason": rejected.reason,
            "raw_ref": rejected.raw_ref,
            "raw": rejected.raw,
        }
    ).decode()


class NormalizeAndResolve(ProcessFunction):  # type: ignore[misc]
    """Raw record -> normalized, resolved event rows; unusable records -> dead letters.

    The static identity graph comes with the function, so it is there before the first event.
    With an identity-mapping topic (Kafka runs), the function reads the whole topic before its
    first event and polls it while events flow (:mod:`seamwatch.jobs.identity_topic`): upserts
    and tombstones change the resolution of later events, and records that are not mappings
    become dead letters. One input on purpose: see that module on why not a second one.

    Outputs: events no rule or baseline can use are counted and dropped (see
    :mod:`seamwatch.jobs.relevance`); the rest is the main output, which goes through the link
    stages (:class:`LinkStage`) whether or not it waits for a link, together with the links
    credential-issuing calls teach (:func:`teach_row`), each just before its call.
    """

    def __init__(
        self, graph: IdentityGraph, relevance: Relevance, topic: IdentityTopic | None = None
    ) -> None:
        self._identities = LiveIdentityGraph(graph, topic)
        self._relevance = relevance
        self._bad_mappings: list[BadMapping] = []

    def open(self, runtime_context: RuntimeContext) -> None:
        metrics = runtime_context.get_metrics_group()
        self._normalized = metrics.counter("seamwatch_events_normalized")
        self._rejected = metrics.counter("seamwatch_records_dead_lettered")
        self._unresolved = metrics.counter("seamwatch_events_unresolved")
        self._irrelevant = metrics.counter("seamwatch_events_not_needed_by_rules")
        self._bad_mappings = self._identities.open()

    def close(self) -> None:
        self._identities.close()

    def _dead_mappings(self, bad: list[BadMapping]) -> Iterator[Any]:
        for item in bad:
            self._rejected.inc()
            yield DEAD_LETTERS, item.dead_letter_json()

    def process_element(self, value: Row, ctx: Any) -> Iterator[Any]:
        if self._bad_mappings:
            bad, self._bad_mappings = self._bad_mappings, []
            yield from self._dead_mappings(bad)
        yield from self._dead_mappings(self._identities.refresh())
        graph = self._identities.graph
        source, raw_ref, payload = value[0], value[1], value[2]
        for item in normalize_text(source, payload, raw_ref):
            if isinstance(item, Rejected):
                self._rejected.inc()
                yield DEAD_LETTERS, dead_letter_json(item)
                continue
            self._normalized.inc()
            event = resolve(item, graph)
            if event.resolved_by == "unresolved":
                self._unresolved.inc()
            if not self._relevance.wants(event):
                self._irrelevant.inc()
                continue
            event = enrich(event)
            taught = teaches(event, graph)
            if taught is not None:
                yield teach_row(*taught)
            yield event_row(event)


class WaitingByTime:
    """Rows held in keyed state until event time passes theirs (one event-time timer per
    distinct time): a MapState from event time to the JSON list of that millisecond's rows, so
    a busy key's many waiting rows never go through one ever-growing value."""

    def __init__(self, runtime_context: RuntimeContext) -> None:
        self._rows = runtime_context.get_map_state(
            MapStateDescriptor("waiting-by-time", Types.LONG(), Types.STRING())
        )

    def hold(self, event_time: int, values: list[Any], ctx: Any) -> None:
        same_time = self._rows.get(event_time)
        waiting = orjson.loads(same_time) if same_time else []
        waiting.append(values)
        self._rows.put(event_time, orjson.dumps(waiting).decode())
        ctx.timer_service().register_event_time_timer(event_time)

    def release(self, timestamp: int) -> list[list[Any]]:
        """The rows held for exactly ``timestamp`` (its timer fired), removed from state."""
        waiting = self._rows.get(timestamp)
        if not waiting:
            return []
        self._rows.remove(timestamp)
        rows: list[list[Any]] = orjson.loads(waiting)
        return rows


def _ttl(seconds: int) -> Any:
    return (
        StateTtlConfig.new_builder(Time.seconds(seconds))
        .set_update_type(StateTtlConfig.UpdateType.OnCreateAndWrite)
        .set_state_visibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
        # PyFlink's default background cleanup builds a java Duration through a new JVM
        # gateway, which fails inside a task manager (thread mode): clean up on access.
        .disable_cleanup_in_background()
        .cleanup_incrementally(10, False)
        .build()
    )


class LinkStage(KeyedProcessFunction):  # type: ignore[misc]
    """Keyed by access key id: resolves events through links learned from issuing calls.

    One input, in line between the resolver and the baseline: *every* event (keyed by its
    access key, or by its event id when it has none) and the links taught by issuing calls
    (:func:`teach_row`, keyed by the issued key). Events that do not wait for a link
    (:func:`waits_for_link`, or already resolved by an earlier stage) pass straight through.
    An event whose key has no link yet waits, in keyed state, until event time passes its own
    time (an event-time timer): by then every issuing call within the watermark bound has
    arrived, so a key learned after its first use still resolves. Links expire in event time
    (:meth:`Link.valid_at`) and their state has a TTL.

    A waiting event is released exactly at the watermark, so it must leave on the channel that
    carries that watermark. On a side path unioned back into the main stream, or with the links
    on a second input, an idle spell (every source quiet for the idle timeout, between two
    bursts) lets the other channel's watermark overtake it: MATCH_RECOGNIZE then drops it as
    late, or its timer waits for the next burst. Hence one input and one output.

    Events resolved here that themselves issued a temporary key (role chaining) teach the next
    stage with a link row in the stream; the last stage (``last``) emits no link rows.
    """

    def __init__(self, last: bool) -> None:
        self._last = last

    def open(self, runtime_context: RuntimeContext) -> None:
        temporary = ValueStateDescriptor("link-temporary", Types.STRING())
        temporary.enable_time_to_live(_ttl(TEMPORARY_LINK_SECONDS))
        long_term = ValueStateDescriptor("link-long-term", Types.STRING())
        long_term.enable_time_to_live(_ttl(LONG_TERM_LINK_SECONDS))
        self._temporary = runtime_context.get_state(temporary)
        self._long_term = runtime_context.get_state(long_term)
        self._pending = WaitingByTime(runtime_context)
        self._learned = runtime_context.get_metrics_group().counter("seamwatch_events_learned")

    def _link_state(self, key: str) -> Any:
        return self._temporary if is_temporary_key(key) else self._long_term

    def _resolve(self, values: list[Any]) -> Iterator[Any]:
        event = Event(**dict(zip(FIELD_NAMES, values, strict=True)))
        key = event.access_key_id or ""
        stored = self._link_state(key).value()
        link = Link.decode(stored) if stored else None
        if link is not None and link.valid_at(key, event.event_time):
            apply_link(event, link)
            self._learned.inc()
            if event.action in TEMPORARY_ISSUERS and not self._last:  # role chaining
                taught = teaches(event, IdentityGraph())
                if taught is not None:
                    yield teach_row(*taught)
        yield event_row(event)

    def process_element(self, value: Row, ctx: Any) -> Iterator[Any]:
        if value[_SOURCE] == LINK_SOURCE:
            self._link_state(value[_ACCESS_KEY]).update(value[_RAW_REF])
            return
        if not value[_ACCESS_KEY] or value[_RESOLVED_BY] == "learned":
            yield value  # nothing to learn, or an earlier stage resolved it
            return
        values = list(value)
        if not waits_for_link(Event(**dict(zip(FIELD_NAMES, values, strict=True)))):
            yield value
            return
        due = values[_EVENT_TIME] <= ctx.timer_service().current_watermark()
        if due or self._link_state(values[_ACCESS_KEY]).value():
            yield from self._resolve(values)  # a late event has nothing left to wait for
            return
        self._pending.hold(values[_EVENT_TIME], values, ctx)

    def on_timer(self, timestamp: int, ctx: Any) -> Iterator[Any]:
        # One timer per waiting event time, fired in time order: only this time's events.
        for values in self._pending.release(timestamp):
            yield from self._resolve(values)


_FLAG_INDEXES = tuple(FIELD_NAMES.index(name) for name in FLAG_FIELDS)


class BehaviourBaseline(KeyedProcessFunction):  # type: ignore[misc]
    """Keyed by entity: flags each event against the entity's baseline
    (:func:`seamwatch.udfs.behaviour.observe`), in event-time order.

    Okta and CloudTrail arrive at their own pace (CloudTrail minutes late), so arrival order
    is not the order things happened. Each event waits in keyed state until the watermark
    passes its time (an event-time timer; the CEP downstream waits for the same watermark, so
    no detection is delayed by it), then the entity's events are observed in time order. The
    baseline itself is one compact string with a TTL.

    Released events that fill a rule's absent step (``taps``) also go to the side output
    :data:`ABSENCE_CANDIDATES`, already cut down to what the absence check keeps: picked here,
    they cost no second trip through SQL and back into Python.
    """

    def __init__(self, config: BaselineConfig, taps: tuple[CandidateTap, ...] = ()) -> None:
        self._config = config
        self._taps = taps

    def open(self, runtime_context: RuntimeContext) -> None:
        # One compact string (behaviour.encode_state): array-typed state values do not survive
        # a None read in thread mode.
        descriptor = ValueStateDescriptor("behaviour", Types.STRING())
        descriptor.enable_time_to_live(_ttl(int(self._config.forget_after_days * 86400)))
        self._state = runtime_context.get_state(descriptor)
        self._waiting = WaitingByTime(runtime_context)
        # Events already behind the watermark when they get here: the matcher downstream drops
        # them (e.g. a source that resumed after its idle timeout while another ruled).
        self._late = runtime_context.get_metrics_group().counter("seamwatch_events_late")

    def process_element(self, value: Row, ctx: Any) -> None:
        event_time = value[_EVENT_TIME]
        if event_time <= ctx.timer_service().current_watermark():
            self._late.inc()
        self._waiting.hold(event_time, list(value), ctx)

    def on_timer(self, timestamp: int, ctx: Any) -> Iterator[Any]:
        waiting = self._waiting.release(timestamp)
        if not waiting:
            return
        state = decode_state(self._state.value())
        for values in waiting:
            record = dict(zip(FIELD_NAMES, values, strict=True))
            state, flags = observe(state, Event(**record), self._config)
            for index, name in zip(_FLAG_INDEXES, FLAG_FIELDS, strict=True):
                values[index] = record[name] = getattr(flags, name)
            yield Row(*values)
            if self._taps:
                yield from self._candidates(record)
        self._state.update(encode_state(state))

    def _candidates(self, record: dict[str, Any]) -> Iterator[Any]:
        """The flagged event ``record`` (field name -> value) for each absent step it fills."""
        for tap in self._taps:
            picked = tap.pick(record)
            if picked is not None:
                group_key, candidate = picked
                row = Row(
                    tap.rule_id, group_key, record["event_time"], orjson.dumps(candidate).decode()
                )
                yield ABSENCE_CANDIDATES, row


MATCH_ROW_TYPE = Types.ROW_NAMED(
    ["rule_id", "group_key", "events"], [Types.STRING(), Types.STRING(), Types.STRING()]
)


def match_key(row: Row) -> str:
    """Key of a match or candidate row: one rule and one group."""
    return f"{row[0]}\x1f{row[1]}"


class AbsenceCheck(KeyedCoProcessFunction):  # type: ignore[misc]
    """Keyed by rule and group: lets a present-step match through only if the absent step's
    event did not come inside the window (``seamwatch.udfs.absence``).

    Input 1: matches ``(rule_id, group_key, events JSON)``; input 2: candidates
    ``(rule_id, group_key, event_time, event JSON)`` (:data:`ABSENCE_CANDIDATES`).
    """

    def __init__(self, specs: dict[str, AbsenceSpec]) -> None:
        self._specs = specs

    def open(self, runtime_context: RuntimeContext) -> None:
        self._state = runtime_context.get_state(ValueStateDescriptor("absence", Types.STRING()))

    def _store(self, state: AbsenceState) -> None:
        if state.pending or state.candidates:
            self._state.update(state.encode())
        else:  # nothing left to wait for or to compare with: the group leaves state
            self._state.clear()

    def process_element1(self, value: Row, ctx: Any) -> Iterator[Row]:
        spec = self._specs[value[0]]
        state = AbsenceState.decode(self._state.value())
        emit, timer = on_match(state, spec, orjson.loads(value[2]))
        self._store(state)
        if timer is not None:
            ctx.timer_service().register_event_time_timer(timer)
        if emit is not None:
            yield Row(value[0], value[1], orjson.dumps(emit).decode())

    def process_element2(self, value: Row, ctx: Any) -> None:
        spec = self._specs[value[0]]
        state = AbsenceState.decode(self._state.value())
        watermark = ctx.timer_service().current_watermark()
        on_candidate(state, spec, value[2], orjson.loads(value[3]), watermark)
        self._store(state)

    def on_timer(self, timestamp: int, ctx: Any) -> Iterator[Row]:
        rule_id, _, group_key = ctx.get_current_key().partition("\x1f")
        spec = self._specs[rule_id]
        state = AbsenceState.decode(self._state.value())
        due = on_timer(state, spec, timestamp)
        self._store(state)
        for events in due:
            yield Row(rule_id, group_key, orjson.dumps(events).decode())


class AssembleAlert(KeyedProcessFunction):  # type: ignore[misc]
    """Keyed by rule and group: a match -> alert JSON (``schemas/alert.avsc``).

    Rules with a suppression period keep their open alert in state and count later matches on
    it (:func:`seamwatch.udfs.alerts.fold_into_open_alert`).
    """

    def __init__(
        self,
        metas: dict[str, RuleMeta],
        graph: IdentityGraph,
        topic: IdentityTopic | None = None,
    ) -> None:
        self._metas = metas
        # Names and identifiers of entities that came from the mapping topic, too (its bad
        # records are the resolver's to dead-letter).
        self._identities = LiveIdentityGraph(graph, topic)

    def open(self, runtime_context: RuntimeContext) -> None:
        self._open = runtime_context.get_state(ValueStateDescriptor("open-alert", Types.STRING()))
        self._identities.open()

    def close(self) -> None:
        self._identities.close()

    def process_element(self, value: Row, ctx: Any) -> Iterator[str]:
        rule_id, group_key, events = value[0], value[1], value[2]
        meta = self._metas[rule_id]
        self._identities.refresh()
        graph = self._identities.graph
        alert = build_alert(meta, group_key, events, graph, int(time.time() * 1000))
        if not meta.suppress_seconds:
            yield orjson.dumps(alert).decode()
            return
        stored = self._open.value()
        open_alert, out = fold_into_open_alert(
            orjson.loads(stored) if stored else None, alert, meta.suppress_seconds
        )
        if open_alert is not None:
            self._open.update(orjson.dumps(open_alert).decode())
        yield orjson.dumps(out).decode()
