"""Who an alert names: its entities and their identifiers (``seamwatch.udfs.alerts``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson

from seamwatch.udfs.alerts import RuleMeta, build_alert, timeline
from seamwatch.udfs.identity import IDENTIFIER_KINDS, NORMALIZER_KINDS, Entity, IdentityGraph
from seamwatch.udfs.records import Identifier

DOCS = Path(__file__).resolve().parents[1] / "docs" / "identities.md"
ROOT = "arn:aws:iam::111122223333:root"
PIVOT = RuleMeta("ip-pivot", "t", "d", ("T1110.003",), "high", 3600, "src_ip")
BY_ENTITY = RuleMeta("r", "t", "d", ("T1078.004",), "high", 900, "entity_id")


def _okta_failure(event_id: str, login: str, at: int) -> dict[str, Any]:
    return {
        "step": "okta_failures",
        "count": 3,
        "event_id": event_id,
        "source": "okta",
        "event_time": at,
        "action": "user.session.start",
        "outcome": "failure",
        "principal": login,
        "principal_type": "User",
        "src_ip": "192.0.2.66",
        "entity_id": f"email:{login}",
        "entity_type": "unknown",
        "resolved_by": "normalized",
        "resolved_via": f"okta_login:{login}",
        "confidence": 0.6,
        "raw_ref": f"okta.jsonl:{event_id}",
    }


ROOT_LOGIN = {
    "step": "console_login",
    "event_id": "root-login",
    "source": "cloudtrail",
    "event_time": 1_200_000,
    "action": "ConsoleLogin",
    "outcome": "success",
    "principal": ROOT,
    "principal_type": "Root",
    "src_ip": "192.0.2.66",
    "entity_id": f"unresolved:aws_arn:{ROOT}",
    "entity_type": "unknown",
    "resolved_by": "unresolved",
    "resolved_via": f"aws_arn:{ROOT}",
    "confidence": 0.0,
    "raw_ref": "cloudtrail.jsonl:9",
}


def _pivot_alert(graph: IdentityGraph | None = None) -> dict[str, Any]:
    events = [
        _okta_failure("f1", "a@example.com", 0),
        _okta_failure("f3", "c@example.com", 120_000),
        ROOT_LOGIN,
    ]
    return build_alert(
        PIVOT, "192.0.2.66", orjson.dumps(events).decode(), graph or IdentityGraph(), 1
    )


def test_an_ip_pivot_names_the_failed_okta_users_and_the_root_that_signed_in() -> None:
    alert = _pivot_alert()
    assert [e["id"] for e in alert["entities"]] == [
        "email:a@example.com",
        "email:c@example.com",
        f"unresolved:aws_arn:{ROOT}",
    ]
    root = alert["entities"][2]
    assert {"kind": "aws_arn", "value": ROOT} in root["identifiers"]
    assert (root["resolved_by"], root["confidence"]) == ("unresolved", 0.0)
    # The first Okta user keeps its own resolution: the root's does not lower it.
    assert alert["entity"] == alert["entities"][0]
    assert (alert["entity"]["resolved_by"], alert["entity"]["confidence"]) == ("normalized", 0.6)
    assert alert["entity"]["identifiers"] == [{"kind": "okta_login", "value": "a@example.com"}]


def test_a_known_root_account_is_named_with_its_graph_entry() -> None:
    graph = IdentityGraph.from_entities(
        [Entity("aws-root-prod", "service", "Prod root", (Identifier("aws_arn", ROOT),))]
    )
    root_login = {**ROOT_LOGIN, "entity_id": "aws-root-prod", "resolved_by": "static"}
    root_login |= {"confidence": 1.0, "entity_type": "service"}
    events = [_okta_failure("f1", "a@example.com", 0), root_login]
    alert = build_alert(PIVOT, "192.0.2.66", orjson.dumps(events).decode(), graph, 1)
    root = alert["entities"][1]
    assert (root["id"], root["name"], root["type"]) == ("aws-root-prod", "Prod root", "service")
    assert root["resolved_by"] == "static"
    lines = timeline(alert)
    assert any("entity email:a@example.com" in line for line in lines)
    assert any("entity aws-root-prod (Prod root)" in line for line in lines)


def test_an_entity_alert_has_one_entity_with_its_weakest_resolution() -> None:
    role = "arn:aws:sts::111122223333:assumed-role/PlatformAdmin/botocore-session-1"
    login = {**_okta_failure("o1", "dana@example.com", 0), "outcome": "success"}
    login |= {"entity_id": "dana", "resolved_by": "static", "confidence": 1.0}
    login["resolved_via"] = "okta_user_id:00u1dana"
    call = {
        "event_id": "c1",
        "source": "cloudtrail",
        "event_time": 60_000,
        "action": "CreateAccessKey",
        "principal": role,
        "principal_type": "AssumedRole",
        "access_key_id": "ASIAEXAMPLE0001",
        "entity_id": "dana",
        "resolved_by": "learned",
        "resolved_via": "aws_access_key:ASIAEXAMPLE0001",
        "confidence": 0.95,
    }
    alert = build_alert(BY_ENTITY, "dana", orjson.dumps([login, call]).decode(), IdentityGraph(), 1)
    assert alert["entities"] == [alert["entity"]]
    entity = alert["entity"]
    assert (entity["resolved_by"], entity["confidence"]) == ("learned", 0.95)
    assert entity["identifiers"] == [
        {"kind": "okta_login", "value": "dana@example.com"},
        {"kind": "okta_user_id", "value": "00u1dana"},
        {"kind": "aws_arn", "value": role},
        {"kind": "aws_access_key", "value": "ASIAEXAMPLE0001"},
    ]


def test_described_principals_are_not_identifiers() -> None:
    """``IAMUser:<account>:<name>`` describes a principal without an ARN; it is no kind."""
    event = {
        **ROOT_LOGIN,
        "principal": "IAMUser:111122223333:anaya",
        "principal_type": "IAMUser",
        "entity_id": "unresolved:aws_arn:arn:aws:iam::111122223333:user/anaya",
        "resolved_via": "aws_arn:arn:aws:iam::111122223333:user/anaya",
    }
    alert = build_alert(BY_ENTITY, "x", orjson.dumps([event]).decode(), IdentityGraph(), 1)
    assert alert["entity"]["identifiers"] == [
        {"kind": "aws_arn", "value": "arn:aws:iam::111122223333:user/anaya"}
    ]


def _documented_kinds() -> set[str]:
    text = DOCS.read_text()
    kinds: set[str] = set()
    for heading in ("Identifier kinds:", "Kinds the normalizers also produce"):
        start = text.index(heading)
        paragraph = text[start : text.index("\n\n", start)]
        kinds |= set(re.findall(r"`([a-z_]+)`", paragraph))
    return kinds


def test_the_documented_identifier_kinds_are_the_codes() -> None:
    assert _documented_kinds() == set(IDENTIFIER_KINDS) | set(NORMALIZER_KINDS)


def test_alert_identifiers_have_documented_kinds() -> None:
    documented = _documented_kinds()
    for alert in (_pivot_alert(),):
        for entity in alert["entities"]:
            assert {i["kind"] for i in entity["identifiers"]} <= documented


def test_the_alert_schema_carries_every_entity() -> None:
    import io
    import json

    import fastavro

    schema = fastavro.parse_schema(
        json.loads((DOCS.parents[1] / "seamwatch" / "schemas" / "alert.avsc").read_text())
    )
    alert = _pivot_alert()
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, schema, alert)
    buffer.seek(0)
    back: Any = fastavro.schemaless_reader(buffer, schema)
    assert back["entities"] == alert["entities"]
