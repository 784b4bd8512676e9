"""The Avro schemas describe what the code produces."""

from __future__ import annotations

import dataclasses
import io
import json
import typing
from datetime import datetime
from pathlib import Path
from typing import Any

import fastavro

from seamwatch.udfs.alerts import RuleMeta, build_alert
from seamwatch.udfs.identity import IdentityGraph
from seamwatch.udfs.normalize import normalize_text
from seamwatch.udfs.records import EVENT_FIELDS, SOURCE_DETAIL_FIELDS, Event

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = REPO / "seamwatch" / "schemas"
EXAMPLES = REPO / "examples"


def _schema(name: str) -> Any:
    return fastavro.parse_schema(json.loads((SCHEMAS / name).read_text()))


_AVRO_TYPES = {str: "string", int: "long", float: "double", bool: "boolean"}


def _avro_type(hint: object) -> object:
    """The Avro type an Event field of this Python type must have."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) is typing.Literal:
        return _AVRO_TYPES[type(args[0])]
    if typing.get_origin(hint) is list:
        return "array"
    if len(args) == 1:  # X | None
        return ["null", _avro_type(args[0])]
    assert isinstance(hint, type), hint
    return _AVRO_TYPES[hint]


def _plain(avro_type: object) -> object:
    """An Avro field type without its logical type or items: ``long``, ``array``, ..."""
    if isinstance(avro_type, list):
        return [_plain(t) for t in avro_type]
    if isinstance(avro_type, dict):
        return avro_type["type"]
    return avro_type


def test_event_schema_has_every_event_field_with_its_type_and_the_flink_row_is_a_subset() -> None:
    """The Event dataclass is the one declaration: the Avro schema names every field in its
    order with the type its Python type gives, and the Flink row (EVENT_FIELDS, derived from
    it) is the fields the job carries."""
    avro = json.loads((SCHEMAS / "event.avsc").read_text())["fields"]
    assert [f["name"] for f in avro] == [f.name for f in dataclasses.fields(Event)]
    hints = typing.get_type_hints(Event)
    wrong = {
        f["name"]: (_plain(f["type"]), _avro_type(hints[f["name"]]))
        for f in avro
        if _plain(f["type"]) != _avro_type(hints[f["name"]])
    }
    assert wrong == {}, "avro type != the dataclass's: " + repr(wrong)
    not_in_row = {"identifiers", *SOURCE_DETAIL_FIELDS}
    assert [name for name, _ in EVENT_FIELDS] == [
        f["name"] for f in avro if f["name"] not in not_in_row
    ]
    sql = {"string": "STRING", "long": "BIGINT", "double": "DOUBLE", "boolean": "BOOLEAN"}
    for name, sql_type in EVENT_FIELDS:
        avro_type = _avro_type(hints[name])
        base = avro_type[1] if isinstance(avro_type, list) else avro_type
        assert sql[str(base)] == sql_type, name


def test_an_assembled_alert_validates_against_the_alert_schema() -> None:
    events = [
        {
            "step": "okta_login",
            "event_id": "e1",
            "source": "okta",
            "event_time": 1_000,
            "action": "user.session.start",
            "outcome": "success",
            "principal": "a@b.c",
            "src_ip": "192.0.2.1",
            "country": "Romania",
            "entity_id": "a",
            "resolved_by": "static",
            "confidence": 1.0,
            "new_country": True,
            "raw_ref": "f:1",
        }
    ]
    meta = RuleMeta("r", "t", "d", ("T1078.004",), "high", 900, "entity_id")
    alert = build_alert(meta, "a", json.dumps(events), IdentityGraph(), 5_000)
    back = _round_trip("alert.avsc", alert)
    assert back["events"][0]["country"] == "Romania"
    assert back["time_to_detect_ms"] == 4_000
    assert back == alert


def _auth(i: int, at: int) -> dict[str, Any]:
    return {
        "event_id": f"a{i}",
        "source": "okta",
        "event_time": at,
        "action": "user.session.start",
        "outcome": "success",
        "principal": "a@b.c",
        "src_ip": "192.0.2.1",
        "country": "Romania",
        "new_country": True,
        "raw_ref": f"okta:{i}",
    }


def test_context_lists_the_groups_authentications_oldest_first_without_the_match() -> None:
    stop = {
        "step": "logging_change",
        "event_id": "stop",
        "source": "cloudtrail",
        "event_time": 100_000,
        "action": "StopLogging",
        "outcome": "success",
        "entity_id": "a",
        "new_country": False,
        "raw_ref": "cloudtrail:1",
        # As the SQL aggregates it: JSON objects joined by commas, in arrival order, the
        # matched event itself included when it is an authentication.
        "auth_context": ",".join(
            json.dumps(e)
            for e in [_auth(i, 1_000 * (30 - i)) for i in range(25)]
            + [{**_auth(99, 100_000), "event_id": "stop"}, _auth(98, 100_000 - 3_601_000)]
        ),
    }
    meta = RuleMeta("r", "t", "d", ("T1562.008",), "critical", 60, "entity_id", None, 3600)
    alert = build_alert(meta, "a", json.dumps([stop]), IdentityGraph(), 200_000)
    context = alert["context"]
    assert context["window_seconds"] == 3600
    assert context["total"] == 25
    shown = context["authentications"]
    assert len(shown) == 20
    assert [e["event_id"] for e in shown] == [f"a{i}" for i in range(19, -1, -1)]
    assert shown[0]["event_time"] == 11_000 and shown[-1]["event_time"] == 30_000
    assert "auth_context" not in alert["events"][0]
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, _schema("alert.avsc"), alert)
    buffer.seek(0)
    back: Any = fastavro.schemaless_reader(buffer, _schema("alert.avsc"))
    assert back["context"]["authentications"][0]["new_country"] is True

    quiet = dict(stop, auth_context=None)
    assert build_alert(meta, "a", json.dumps([quiet]), IdentityGraph(), 1)["context"] == {
        "window_seconds": 3600,
        "total": 0,
        "authentications": [],
    }
    no_context = RuleMeta("r", "t", "d", ("T1562.008",), "critical", 60, "entity_id")
    assert build_alert(no_context, "a", json.dumps([quiet]), IdentityGraph(), 1)["context"] is None


def _round_trip(schema: str, record: dict[str, Any]) -> Any:
    """``record`` written with the schema and read back, timestamps as epoch milliseconds.

    fastavro reads a ``timestamp-millis`` field as an aware datetime; it is turned back into
    the milliseconds the code writes, so the result compares equal to ``record`` field for
    field when nothing was lost or renamed on the way.
    """
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, _schema(schema), record)
    buffer.seek(0)
    return _millis(fastavro.schemaless_reader(buffer, _schema(schema)))


def _millis(value: Any) -> Any:
    if isinstance(value, datetime):
        return round(value.timestamp() * 1000)
    if isinstance(value, dict):
        return {key: _millis(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_millis(item) for item in value]
    return value


def test_a_normalized_event_round_trips_through_the_event_schema() -> None:
    # The field attack's first deny-push (examples/, line 239): Okta's geography, a user
    # agent, a session, identifiers; then what the resolver and the baseline add.
    line = (EXAMPLES / "okta" / "system-log.jsonl").read_text().splitlines()[238]
    (normalized,) = normalize_text("okta", line, "examples/okta/system-log.jsonl:239")
    assert isinstance(normalized, Event)
    event = dataclasses.replace(
        normalized,
        entity_id="dana.whitfield",
        entity_type="human",
        entity_name="Dana Whitfield",
        resolved_by="static",
        resolved_via="email:dana.whitfield@example.com",
        confidence=0.9,
        new_country=True,
        impossible_travel=True,
        travel_speed_kmh=1234.5,
    )
    record = dataclasses.asdict(event)
    assert (record["country"], record["asn"], record["session_id"]) == (
        "Romania",
        200019,
        "idxITwjwH7lLCkBnpefsF2BWA",
    )
    assert record["identifiers"] and record["latitude"] == 44.4354
    assert _round_trip("event.avsc", record) == record


def test_suppression_counts_later_matches_on_the_open_alert() -> None:
    from seamwatch.udfs.alerts import fold_into_open_alert

    meta = RuleMeta("r", "t", "d", ("T1621",), "medium", 600, "entity_id", suppress_seconds=3600)
    first = build_alert(
        meta, "a", json.dumps([{"event_id": "1", "event_time": 0}]), IdentityGraph(), 9
    )
    second = build_alert(
        meta, "a", json.dumps([{"event_id": "2", "event_time": 1_800_000}]), IdentityGraph(), 9
    )
    late = build_alert(
        meta, "a", json.dumps([{"event_id": "3", "event_time": 7_200_000}]), IdentityGraph(), 9
    )
    open_alert, out = fold_into_open_alert(None, first, 3600)
    assert out is first
    open_alert, out = fold_into_open_alert(open_alert, second, 3600)
    assert (out["alert_id"], out["match_count"], out["last_match_time"]) == (
        first["alert_id"],
        2,
        1_800_000,
    )
    _, out = fold_into_open_alert(open_alert, late, 3600)
    assert (out["alert_id"], out["match_count"]) == (late["alert_id"], 1)
