"""The keyed Flink functions around the plain logic in ``seamwatch.udfs``, per match.

Each reads state, calls the logic, writes state and emits; nothing here decides anything a test
of the logic would not already cover. They see matches and absence candidates only, never every
event (the per-event work is SQL's and the one Python table function's, see
:mod:`seamwatch.jobs.pipeline`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import orjson
from pyflink.common import Row, Types
from pyflink.datastream import RuntimeContext
from pyflink.datastream.functions import (
    KeyedCoProcessFunction,
    KeyedProcessFunction,
)
from pyflink.datastream.state import ValueStateDescriptor

from seamwatch.jobs.identity_topic import IdentityTopic, LiveIdentityGraph
from seamwatch.udfs.absence import AbsenceSpec, AbsenceState, on_candidate, on_match, on_timer
from seamwatch.udfs.alerts import RuleMeta, build_alert, fold_into_open_alert
from seamwatch.udfs.identity import IdentityGraph

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
