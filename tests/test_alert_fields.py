"""What each event of an alert says: AWS context, device, AS, ISO times, detection latency."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import fastavro
import orjson
import pytest

from seamwatch.rules.compiler import ALERT_EVENT_FIELDS
from seamwatch.udfs.alerts import (
    OPEN_ALERT_VERSION,
    RuleMeta,
    build_alert,
    decode_open_alert,
    encode_open_alert,
    fold_into_open_alert,
    iso_ms,
)
from seamwatch.udfs.errors import StateFormatError
from seamwatch.udfs.identity import IdentityGraph

SCHEMA = fastavro.parse_schema(
    json.loads(
        (Path(__file__).resolve().parents[1] / "seamwatch" / "schemas" / "alert.avsc").read_text()
    )
)
META = RuleMeta("r", "t", "d", ("T1098.001",), "high", 900, "entity_id", suppress_seconds=3600)
# 2026-03-04T14:09:00.250Z: months before the job runs (a replay).
OLD = 1_772_633_340_250


def _event(event_id: str, at: int, arrived_at: int | None, **extra: Any) -> dict[str, Any]:
    return {
        "step": "s",
        "event_id": event_id,
        "source": "cloudtrail",
        "event_time": at,
        "action": "CreateAccessKey",
        "outcome": "failure",
        "entity_id": "dana",
        "raw_ref": "2026/03/04/ct.json.gz:1#3",
        "arrived_at": arrived_at,
        **extra,
    }


def test_each_event_carries_account_region_service_error_asn_and_device() -> None:
    event = _event(
        "e1",
        OLD,
        None,
        account_id="111122223333",
        region="eu-west-1",
        service="iam.amazonaws.com",
        error_code="AccessDenied",
        asn=9009,
        as_org="M247 Europe SRL",
        device="aws-cli",
        new_device=True,
    )
    alert = build_alert(META, "dana", json.dumps([event]), IdentityGraph(), OLD + 5_000)
    (shown,) = alert["events"]
    assert (shown["account_id"], shown["region"], shown["service"]) == (
        "111122223333",
        "eu-west-1",
        "iam.amazonaws.com",
    )
    assert (shown["error_code"], shown["asn"], shown["as_org"]) == (
        "AccessDenied",
        9009,
        "M247 Europe SRL",
    )
    assert shown["device"] == "aws-cli" and shown["new_device"] is True
    assert "arrived_at" not in shown  # the latency's input, not the analyst's


def test_every_epoch_time_has_its_iso_8601_beside_it() -> None:
    alert = build_alert(
        META, "dana", json.dumps([_event("e1", OLD, None)]), IdentityGraph(), OLD + 61_000
    )
    assert alert["events"][0]["event_time_iso"] == "2026-03-04T14:09:00.250Z"
    assert (
        alert["first_event_time_iso"] == alert["last_event_time_iso"] == "2026-03-04T14:09:00.250Z"
    )
    assert alert["detected_at_iso"] == "2026-03-04T14:10:01.250Z"
    assert alert["last_match_time_iso"] == "2026-03-04T14:09:00.250Z"
    later = build_alert(
        META,
        "dana",
        json.dumps([_event("e2", OLD + 600_000, None)]),
        IdentityGraph(),
        OLD + 700_000,
    )
    _, folded = fold_into_open_alert(alert, later, META.suppress_seconds)
    assert folded["match_count"] == 2
    assert folded["last_match_time_iso"] == iso_ms(OLD + 600_000)
    assert folded["detected_at_iso"] == iso_ms(OLD + 700_000)


def test_time_to_detect_on_a_replay_counts_from_the_last_arrival_in_the_job() -> None:
    now = OLD + 270 * 86_400_000  # the replay runs 270 days after the events
    events = [
        _event("e1", OLD, now - 4_000),
        _event("e2", OLD + 540_000, now - 1_500),  # arrived last: the match completes with it
    ]
    alert = build_alert(META, "dana", json.dumps(events), IdentityGraph(), now)
    assert alert["time_to_detect_ms"] == 1_500
    # Without arrival times (events built outside the job) it falls back to event time.
    bare = [_event("e1", OLD, None)]
    assert (
        build_alert(META, "dana", json.dumps(bare), IdentityGraph(), OLD + 9)["time_to_detect_ms"]
        == 9
    )


def test_the_sql_builds_every_field_the_alert_shows_and_the_schema_holds_them() -> None:
    shown = [
        "account_id",
        "region",
        "service",
        "error_code",
        "asn",
        "as_org",
        "device",
        "raw_ref",
        "arrived_at",
    ]
    assert set(shown) <= set(ALERT_EVENT_FIELDS)
    event = _event(
        "e1", OLD, OLD + 10, account_id="1", region="r", service="s", error_code="x", asn=1
    )
    alert = build_alert(META, "dana", json.dumps([event]), IdentityGraph(), OLD + 20)
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, SCHEMA, alert)
    buffer.seek(0)
    back: Any = fastavro.schemaless_reader(buffer, SCHEMA)
    assert back["events"][0]["event_time_iso"] == iso_ms(OLD)
    assert (back["events"][0]["region"], back["events"][0]["asn"]) == ("r", 1)
    assert back["time_to_detect_ms"] == 10


def test_windows_and_entra_events_carry_host_logon_type_ticket_and_risk() -> None:
    from seamwatch.udfs.records import EVENT_FIELDS

    detail = ["host", "logon_type", "ticket_encryption", "target_group", "risk_level"]
    # Read from the event row the rules already read: the alert widens no row.
    columns = {name for name, _ in EVENT_FIELDS}
    assert set(detail) <= set(ALERT_EVENT_FIELDS) <= columns
    ticket = _event(
        "w1",
        OLD,
        None,
        source="windows",
        action="kerberos_service_ticket_request",
        host="dc01.corp.local",
        ticket_encryption="0x17",
    )
    logon = _event(
        "w2", OLD + 1, None, source="windows", action="logon", host="srv7", logon_type="10"
    )
    group = _event(
        "w3", OLD + 2, None, source="windows", action="group_member_added", target_group="CORP\\x"
    )
    risky = _event("e1", OLD + 3, None, source="entra", action="sign_in", risk_level="high")
    events = [ticket, logon, group, risky]
    alert = build_alert(META, "dana", json.dumps(events), IdentityGraph(), OLD + 20)
    shown = alert["events"]
    assert (shown[0]["host"], shown[0]["ticket_encryption"]) == ("dc01.corp.local", "0x17")
    assert (shown[1]["host"], shown[1]["logon_type"]) == ("srv7", "10")
    assert shown[2]["target_group"] == "CORP\\x" and shown[3]["risk_level"] == "high"
    assert shown[3]["host"] is None  # an Entra sign-in names no logging machine
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, SCHEMA, alert)
    buffer.seek(0)
    back: Any = fastavro.schemaless_reader(buffer, SCHEMA)
    assert [e["logon_type"] for e in back["events"]] == [None, "10", None, None]
    assert back["events"][0]["ticket_encryption"] == "0x17"


# An open alert as MatchesToAlerts stored it before the format had a version (the bare alert,
# ``orjson.dumps(open_alert)``, commit c58aee3): version 0.
V0_OPEN_ALERT = (
    '{"alert_id":"a43bff996c1be1108f0e8dd441bf6f5e","rule_id":"r","title":"t","description"'
    ':"d","techniques":["T1098.001"],"severity":"high","group_by":"entity_id","group_key":"'
    'dana","entity":{"id":"dana","type":"human","name":null,"identifiers":[{"kind":"aws_arn'
    '","value":"arn:aws:sts::111122223333:assumed-role/Admin/dana"},{"kind":"email","value"'
    ':"dana@example.com"}],"resolved_by":"static","confidence":0.9},"entities":[{"id":"dana'
    '","type":"human","name":null,"identifiers":[{"kind":"aws_arn","value":"arn:aws:sts::11'
    '1122223333:assumed-role/Admin/dana"},{"kind":"email","value":"dana@example.com"}],"res'
    'olved_by":"static","confidence":0.9}],"window_seconds":900,"first_event_time":17726206'
    '04000,"first_event_time_iso":"2026-03-04T10:36:44.000Z","last_event_time":177262060400'
    '0,"last_event_time_iso":"2026-03-04T10:36:44.000Z","detected_at":1772620700000,"detect'
    'ed_at_iso":"2026-03-04T10:38:20.000Z","time_to_detect_ms":96000,"match_count":1,"last_'
    'match_time":1772620604000,"last_match_time_iso":"2026-03-04T10:36:44.000Z","events":[{'
    '"step":"create_key","count":null,"event_id":"ct-1","source":"cloudtrail","event_time":'
    '1772620604000,"action":"CreateAccessKey","outcome":"success","principal":"arn:aws:sts:'
    ':111122223333:assumed-role/Admin/dana","principal_type":null,"src_ip":null,"src_host":'
    'null,"country":null,"city":null,"user_agent":null,"access_key_id":null,"role_arn":null'
    ',"target_user":null,"resolved_by":"static","resolved_via":"email:dana@example.com","ne'
    'w_country":false,"new_ip":false,"new_asn":false,"new_device":false,"new_role":false,"i'
    'mpossible_travel":false,"travel_speed_kmh":null,"as_org":null,"device":null,"geo_sourc'
    'e":null,"raw_ref":"ct.jsonl:1","asn":null,"account_id":null,"region":null,"service":nu'
    'll,"error_code":null,"event_time_iso":"2026-03-04T10:36:44.000Z"}],"context":null}'
)


def test_an_open_alert_of_the_format_before_the_version_marker_still_counts_matches() -> None:
    stored = decode_open_alert(V0_OPEN_ALERT)
    assert stored == orjson.loads(V0_OPEN_ALERT)
    later = build_alert(
        META, "dana", json.dumps([_event("e2", 1772620604000 + 60_000, None)]), IdentityGraph(), 1
    )
    kept, out = fold_into_open_alert(stored, later, META.suppress_seconds)
    assert out["alert_id"] == "a43bff996c1be1108f0e8dd441bf6f5e"
    assert out["match_count"] == 2
    assert kept is not None
    again = encode_open_alert(kept)
    assert orjson.loads(again)["version"] == OPEN_ALERT_VERSION == 1
    assert decode_open_alert(again) == kept
    assert decode_open_alert(None) is None and decode_open_alert("") is None


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('{"version": 2, "alert": {"alert_id": "x"}}', "format version 2 "),
        ('{"version": 1, "alert": {}}', "format version 1 "),
        ('{"rule_id": "r"}', "format version 'unreadable'"),
        ("{", "format version 'unreadable'"),
    ],
)
def test_an_open_alert_of_another_version_fails_loudly_naming_it(text: str, named: str) -> None:
    with pytest.raises(StateFormatError, match=named):
        decode_open_alert(text)
