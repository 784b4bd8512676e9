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
from pyflink.datastream import OutputTag, RuntimeContext
from pyflink.datastream.functions import (
    KeyedProcessFunction,
)
from pyflink.datastream.state import ValueStateDescriptor

from seamwatch.kafka.identity_topic import IdentityTopic, LiveIdentityGraph
from seamwatch.rules.compiler import CANDIDATE, MATCH
from seamwatch.udfs.absence import AbsenceSpec, AbsenceState, on_candidate, on_match, take_due
from seamwatch.udfs.alerts import (
    RuleMeta,
    build_alert,
    decode_open_alert,
    encode_open_alert,
    fold_into_open_alert,
)
from seamwatch.udfs.identity import IdentityGraph

# The watermark a bounded input ends with (Long.MAX_VALUE): it fires every timer at once.
END_OF_INPUT = 2**63 - 1
# Absence decisions that only the end of a bounded input forced: not alerts yet (see
# MatchesToAlerts.on_timer).
PENDING_OUTPUT = OutputTag("pending-absence", Types.STRING())


def decision_key(row: Row) -> str:
    """Key of a decisions row ``(kind, rule_id, group_key, ...)``: one rule and one group."""
    return f"{row[1]}\x1f{row[2]}"


class MatchesToAlerts(KeyedProcessFunction):  # type: ignore[misc]
    """Keyed by rule and group: matches in, alert JSON (``seamwatch/schemas/alert.avsc``) out.

    - ``M``: a match -> an alert.
    - ``P``: a present-step match of a rule with an absent step: an alert only if the absent
      step's event did not come inside its window (``seamwatch.udfs.absence``), decided in
      event time (timers), never early.
    - ``C``: an event that fills an absent step, kept as long as a match to come can need it.

    Rules with a suppression period keep their open alert in state and count later matches on
    it (:func:`seamwatch.udfs.alerts.fold_into_open_alert`). One function for both, since both
    are keyed alike: a match crosses into Python once.

    Its two ``ValueState`` texts are versioned formats that read the version before them
    (:func:`seamwatch.udfs.alerts.decode_open_alert`, :meth:`AbsenceState.decode`); a version
    they do not know fails the job with a :class:`~seamwatch.udfs.errors.StateFormatError`.
    """

    def __init__(
        self,
        metas: dict[str, RuleMeta],
        specs: dict[str, AbsenceSpec],
        graph: IdentityGraph,
        topic: IdentityTopic | None = None,
    ) -> None:
        self._metas = metas
        self._specs = specs
        # Names and identifiers of entities that came from the mapping topic, too (its bad
        # records are the resolver's to dead-letter).
        self._identities = LiveIdentityGraph(graph, topic)

    def open(self, runtime_context: RuntimeContext) -> None:
        self._open = runtime_context.get_state(ValueStateDescriptor("open-alert", Types.STRING()))
        self._absence = runtime_context.get_state(ValueStateDescriptor("absence", Types.STRING()))
        self._identities.open()

    def close(self) -> None:
        self._identities.close()

    def _store(self, state: AbsenceState) -> None:
        if state.pending or state.candidates:
            self._absence.update(state.encode())
        else:  # nothing left to wait for or to compare with: the group leaves state
            self._absence.clear()

    def process_element(self, value: Row, ctx: Any) -> Iterator[str]:
        kind, rule_id, group_key, payload = value[0], value[1], value[2], value[3]
        if kind == MATCH:
            yield self._alert(rule_id, group_key, payload)
            return
        spec = self._specs[rule_id]
        state = AbsenceState.decode(self._absence.value())
        if kind == CANDIDATE:
            watermark = ctx.timer_service().current_watermark()
            on_candidate(state, spec, value[4], orjson.loads(payload), watermark)
            self._store(state)
            return
        timer = on_match(state, spec, orjson.loads(payload))
        self._store(state)
        if timer is not None:
            ctx.timer_service().register_event_time_timer(timer)

    def on_timer(self, timestamp: int, ctx: Any) -> Iterator[Any]:
        """Event time reached an absent step's deadline.

        When a bounded input ends, the watermark jumps to its maximum and fires every timer,
        whether or not the input's events reached the deadline. Those decisions go to the
        pending output instead, with the deadline: the entry point, which knows the last
        event time the job read, makes alerts of the ones whose window did close before it,
        and reports the others as pending (never early).
        """
        rule_id, _, group_key = ctx.get_current_key().partition("\x1f")
        state = AbsenceState.decode(self._absence.value())
        due = take_due(state, self._specs[rule_id], timestamp)
        self._store(state)
        ended = ctx.timer_service().current_watermark() >= END_OF_INPUT
        for pending in due:
            events = orjson.dumps(pending.events).decode()
            if not ended:
                yield self._alert(rule_id, group_key, events)
                continue
            meta = self._metas[rule_id]
            alert = build_alert(meta, group_key, events, self._identities.graph, now_ms())
            yield (
                PENDING_OUTPUT,
                orjson.dumps({"closes_at": pending.deadline, "alert": alert}).decode(),
            )

    def _alert(self, rule_id: str, group_key: str, events: str) -> str:
        meta = self._metas[rule_id]
        self._identities.refresh()
        alert = build_alert(meta, group_key, events, self._identities.graph, now_ms())
        if not meta.suppress_seconds:
            return orjson.dumps(alert).decode()
        open_alert, out = fold_into_open_alert(
            decode_open_alert(self._open.value()), alert, meta.suppress_seconds
        )
        if open_alert is not None:
            self._open.update(encode_open_alert(open_alert))
        return orjson.dumps(out).decode()


def now_ms() -> int:
    """Wall-clock time of detection (``detected_at``), epoch milliseconds."""
    return int(time.time() * 1000)
