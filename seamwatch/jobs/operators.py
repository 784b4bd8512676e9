"""The Flink functions around the plain logic in ``seamwatch.udfs``.

Each reads state, calls the logic, writes state and emits; nothing here decides anything a test
of the logic would not already cover.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import orjson
from pyflink.common import Row, Types
from pyflink.datastream import OutputTag, RuntimeContext
from pyflink.datastream.functions import (
    BroadcastProcessFunction,
    KeyedProcessFunction,
    MapFunction,
)
from pyflink.datastream.state import MapStateDescriptor, ValueStateDescriptor

from seamwatch.udfs.alerts import RuleMeta, build_alert
from seamwatch.udfs.baseline import decode_history, encode_history, observe_country
from seamwatch.udfs.identity import IdentityGraph, entity_from_mapping, resolve
from seamwatch.udfs.normalize import normalize_text
from seamwatch.udfs.records import EVENT_FIELDS, Event, Rejected

FIELD_NAMES = [name for name, _ in EVENT_FIELDS]
_COUNTRY = FIELD_NAMES.index("country")
_OUTCOME = FIELD_NAMES.index("outcome")
_EVENT_TIME = FIELD_NAMES.index("event_time")
_NEW_COUNTRY = FIELD_NAMES.index("new_country")
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
IDENTITY_UPDATES = MapStateDescriptor("identity-updates", Types.STRING(), Types.STRING())


def event_row(event: Event) -> Row:
    return Row(*[getattr(event, name) for name in FIELD_NAMES])


def dead_letter_json(rejected: Rejected) -> str:
    return orjson.dumps(
        {
            "kind": "dead_letter",
            "source": rejected.source,
            "reason": rejected.reason,
            "raw_ref": rejected.raw_ref,
            "raw": rejected.raw,
        }
    ).decode()


def apply_identity_update(graph: IdentityGraph, entity_id: str, doc: str) -> None:
    """An update from the identity stream: a JSON entity upserts, an empty value deletes."""
    if doc:
        graph.upsert(entity_from_mapping(orjson.loads(doc)))
    else:
        graph.remove(entity_id)


class NormalizeAndResolve(BroadcastProcessFunction):  # type: ignore[misc]
    """Raw record -> normalized, resolved event rows; unusable records -> dead letters.

    The static identity graph comes with the function, so it is there before the first event;
    identity updates arrive on the broadcast input ``(entity_id, entity JSON or "")`` and are
    kept in broadcast state, so they survive a restart.
    """

    def __init__(self, graph: IdentityGraph) -> None:
        self._static = graph
        self._graph = IdentityGraph()
        self._restored = False

    def open(self, runtime_context: RuntimeContext) -> None:
        self._graph = IdentityGraph(dict(self._static.entities), dict(self._static.index))
        self._restored = False
        metrics = runtime_context.get_metrics_group()
        self._normalized = metrics.counter("seamwatch_events_normalized")
        self._rejected = metrics.counter("seamwatch_records_dead_lettered")

    def _restore(self, ctx: Any) -> None:
        for entity_id, doc in ctx.get_broadcast_state(IDENTITY_UPDATES).items():
            apply_identity_update(self._graph, entity_id, doc)
        self._restored = True

    def process_element(self, value: Row, ctx: Any) -> Iterator[Any]:
        if not self._restored:
            self._restore(ctx)
        source, raw_ref, payload = value[0], value[1], value[2]
        for item in normalize_text(source, payload, raw_ref):
            if isinstance(item, Rejected):
                self._rejected.inc()
                yield DEAD_LETTERS, dead_letter_json(item)
            else:
                self._normalized.inc()
                yield event_row(resolve(item, self._graph))

    def process_broadcast_element(self, value: tuple[str, str], ctx: Any) -> None:
        entity_id, doc = value[0], value[1]
        state = ctx.get_broadcast_state(IDENTITY_UPDATES)
        state.put(entity_id, doc)
        apply_identity_update(self._graph, entity_id, doc)


class FirstSeenCountry(KeyedProcessFunction):  # type: ignore[misc]
    """Keyed by entity: sets ``new_country`` from the entity's country history."""

    def open(self, runtime_context: RuntimeContext) -> None:
        # One compact string (baseline.encode_history): array-typed state values do not
        # survive a None read in thread mode.
        self._history = runtime_context.get_state(ValueStateDescriptor("countries", Types.STRING()))

    def process_element(self, value: Row, ctx: Any) -> Iterator[Row]:
        country = value[_COUNTRY]
        if not country:
            yield value
            return
        history = decode_history(self._history.value())
        updated, is_new = observe_country(
            history, country, value[_EVENT_TIME], value[_OUTCOME] == "success"
        )
        if updated != history:
            self._history.update(encode_history(updated))
        values = list(value)
        values[_NEW_COUNTRY] = is_new
        yield Row(*values)


class AssembleAlert(MapFunction):  # type: ignore[misc]
    """A CEP match row ``(rule_id, group_key, events)`` -> alert JSON (``kind: alert``)."""

    def __init__(self, metas: dict[str, RuleMeta], graph: IdentityGraph) -> None:
        self._metas = metas
        self._graph = graph

    def map(self, value: Row) -> str:
        rule_id, group_key, events = value[0], value[1], value[2]
        alert = build_alert(
            self._metas[rule_id], group_key, events, self._graph, int(time.time() * 1000)
        )
        return orjson.dumps({"kind": "alert", **alert}).decode()
