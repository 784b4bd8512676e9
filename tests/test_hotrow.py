"""The hot path's one Python step, without Flink: which rows a source row becomes."""

from __future__ import annotations

from typing import Any

import orjson

from seamwatch.jobs.links_sql import link_views_sql
from seamwatch.jobs.settings import DEFAULT_RULES_DIR
from seamwatch.rules.compiler import absence_in_sql, compile_absence_candidates
from seamwatch.rules.rulebook import load_rules
from seamwatch.udfs.behaviour import BaselineConfig
from seamwatch.udfs.hotrow import LINK_SKEW_MS, NOT_NEEDED_ROW, OUTPUT_FIELDS, prepare
from seamwatch.udfs.identity import IdentityGraph, load_identity_file
from seamwatch.udfs.links import Link
from seamwatch.udfs.records import Event
from seamwatch.udfs.sqlfields import SOURCE_FIELDS

NAMES = [name for name, _ in OUTPUT_FIELDS]
CONFIG = BaselineConfig()


def _values(source: str, **by_path: Any) -> list[Any]:
    return [by_path.get(".".join(f.path)) for f in SOURCE_FIELDS[source]]


def _wants_all(event: Event) -> bool:
    return True


def _row(row: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip(NAMES, row, strict=True))


def test_saml_federation_teaches_its_key_a_minute_before_the_call(tmp_path: Any) -> None:
    identities = tmp_path / "identities.yaml"
    identities.write_text(
        "entities:\n  - id: dana\n    type: human\n    name: Dana\n"
        "    identifiers:\n      - {kind: email, value: dana@corp.example}\n"
    )
    graph = load_identity_file(identities)
    values = _values(
        "cloudtrail",
        eventName="AssumeRoleWithSAML",
        eventTime="2026-03-04T10:28:47Z",
        eventID="ev-1",
        sourceIPAddress="86.105.9.46",
        **{
            "userIdentity.type": "SAMLUser",
            "userIdentity.userName": "dana@corp.example",
            "userIdentity.identityProvider": "arn:aws:iam::1:saml-provider/Okta",
            "responseElements.credentials.accessKeyId": "ASIAEXAMPLE1",
            "requestParameters.roleArn": "arn:aws:iam::1:role/Admin",
        },
    )
    out = prepare("cloudtrail", "ct.json:1", None, values, graph, _wants_all, CONFIG)
    link, event = (_row(r) for r in out.rows)
    assert (link["kind"], event["kind"]) == ("L", "E")
    assert event["entity_id"] == "dana" and event["issued_access_key"] == "ASIAEXAMPLE1"
    assert link["access_key_id"] == "ASIAEXAMPLE1"
    assert link["event_time"] == event["event_time"] - LINK_SKEW_MS
    taught = Link.decode(link["detail"])
    assert (taught.entity_id, taught.taught_by, taught.issued_at) == (
        "dana",
        "ev-1",
        event["event_time"],
    )
    # What the baseline compares travels with the event.
    assert event["v_ip"] == "86.105.9.46" and event["v_role"] == "arn:aws:iam::1:role/Admin"
    assert (out.normalized, out.dead_lettered) == (1, 0)


def test_bad_raw_text_is_a_dead_letter_row_with_its_reason() -> None:
    out = prepare("okta", "o.json:9", "{not json", (), IdentityGraph(), _wants_all, CONFIG)
    (row,) = (_row(r) for r in out.rows)
    assert row["kind"] == "D" and row["event_time"] == 0
    letter = orjson.loads(row["detail"])
    assert letter["raw_ref"] == "o.json:9" and letter["raw"] == "{not json"
    assert letter["reason"].startswith("invalid JSON")
    assert out.dead_lettered == 1


def test_events_no_rule_needs_become_a_bare_row_the_job_counts() -> None:
    values = _values(
        "okta", eventType="user.session.start", published="2026-03-04T10:00:00Z", uuid="u-1"
    )
    out = prepare("okta", "o.json:1", None, values, IdentityGraph(), lambda e: False, CONFIG)
    assert (out.normalized, out.not_needed) == (1, 1)
    (row,) = (_row(r) for r in out.rows)
    assert row["kind"] == NOT_NEEDED_ROW
    assert (row["source"], row["raw_ref"]) == ("okta", "o.json:1")
    assert row["event_time"] == 1772618400000
    assert row["entity_id"] is None and row["action"] is None


def test_chained_hops_teach_the_next_hop_and_the_last_does_not() -> None:
    views = link_views_sql("link_input", 2)
    names = [name for name, _ in views]
    assert names == [
        "link_hop_0_window",
        "link_hop_0",
        "link_hop_0_chained",
        "link_hop_1_window",
        "link_hop_1",
        "link_hop_1_events",
    ]
    chained = dict(views)["link_hop_0_chained"]
    assert "WHERE takes AND action IN ('AssumeRole'" in chained
    assert "issued_access_key AS access_key_id" in chained


def test_absence_candidates_select_the_absent_steps_events_sql_does_not_decide() -> None:
    rules = load_rules(DEFAULT_RULES_DIR)
    sql = compile_absence_candidates(rules)
    assert sql is not None
    checked_later = [r for r in rules if r.absent_step is not None and not absence_in_sql(r)]
    assert checked_later
    for rule in rules:
        if rule in checked_later:
            assert rule.absent_step is not None
            assert f"'{rule.id}' AS rule_id" in sql
            assert f"'step' VALUE '{rule.absent_step.name}'" in sql
        else:
            assert f"'{rule.id}' AS rule_id" not in sql


def test_an_event_row_carries_its_device_and_its_arrival_in_the_job() -> None:
    values = _values(
        "cloudtrail",
        eventName="CreateAccessKey",
        eventTime="2026-03-04T10:28:47Z",
        eventID="ev-2",
        eventSource="iam.amazonaws.com",
        awsRegion="eu-west-1",
        recipientAccountId="111122223333",
        errorCode="AccessDenied",
        sourceIPAddress="86.105.9.46",
        userAgent="aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64",
        **{
            "userIdentity.type": "IAMUser",
            "userIdentity.arn": "arn:aws:iam::111122223333:user/dana",
            "userIdentity.accountId": "111122223333",
        },
    )
    out = prepare(
        "cloudtrail", "ct.json:2", None, values, IdentityGraph(), _wants_all, CONFIG, 1_234
    )
    (event,) = (_row(r) for r in out.rows)
    # The device the new_device flag compares is the one the alert shows.
    assert event["device"] == "aws-cli"
    assert "v_device" not in event
    assert event["arrived_at"] == 1_234
    assert (event["account_id"], event["region"], event["service"], event["error_code"]) == (
        "111122223333",
        "eu-west-1",
        "iam.amazonaws.com",
        "AccessDenied",
    )
