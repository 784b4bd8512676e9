"""Entra ID and Windows / AD through the real job, beside Okta and CloudTrail (one run).

The files (``tests/idp_scenario.py``) are generated in the shapes of the corpus: an Entra Event
Hub batch and a Graph list response, Winlogbeat ECS and NXLog Windows events, an Okta event, a
pretty-printed CloudTrail S3 file. One person is behind all of them, and the catalog's
cross-source rules must find him: Kerberoasting on the domain controller, then his SAML session
in AWS; a risky Entra sign-in, SAML into AWS from its address, an access key created.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from seamwatch.jobs.local import RunResult, run_files
from seamwatch.jobs.settings import DEFAULT_RULES_DIR, JobSettings
from tests.idp_scenario import HOME_IP, OBJECT_ID, SID, UPN, write_files

pytestmark = pytest.mark.flink

KERBEROAST = "kerberoasting-then-aws-activity"
RISKY = "entra-risky-sign-in-saml-iam-persistence"
SAML_CALL = "5e1d0000-0000-4000-8000-000000000001"
KEY_CALL = "5e1d0000-0000-4000-8000-000000000002"


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    tmp = tmp_path_factory.mktemp("idp")
    files = write_files(tmp / "in")
    return run_files(
        JobSettings(
            inputs=files.inputs,
            rules_dir=DEFAULT_RULES_DIR,
            identities=files.identities,
            output=tmp / "out" / "alerts.jsonl",
        )
    )


def _alert(result: RunResult, rule: str) -> dict[str, Any]:
    found = [a for a in result.alerts if a["rule_id"] == rule]
    assert len(found) == 1, [(a["rule_id"], a["group_key"]) for a in result.alerts]
    return found[0]


def test_kerberoasting_then_the_persons_saml_session_in_aws(result: RunResult) -> None:
    alert = _alert(result, KERBEROAST)
    assert alert["group_key"] == "jsmith"
    assert alert["entity"]["name"] == "J Smith"
    events = alert["events"]
    # The counted step shows its first and last ticket request, then the AWS call.
    assert [(e["source"], e["event_id"]) for e in events] == [
        ("windows", "dc01.corp.local:4769:88101"),
        ("windows", "dc01.corp.local:4769:88103"),
        ("cloudtrail", SAML_CALL),
    ]
    assert events[0]["count"] == 3
    assert events[0]["target_user"] == "svc-sql" and events[1]["target_user"] == "svc-backup"
    # Kerberos names him by the DNS domain: the sAMAccountName of the identity file meets it.
    assert events[0]["principal"] == "CORP.LOCAL\\jsmith"
    assert events[0]["resolved_via"] == "ad_sam:jsmith"
    # The SAML session is named by his UPN (Entra as the SAML provider): resolved like Okta's.
    assert events[2]["resolved_via"] == f"email:{UPN}"
    kinds = {i["kind"] for i in alert["entity"]["identifiers"]}
    assert {"entra_upn", "entra_object_id", "ad_sid", "ad_account", "ad_sam"} <= kinds


def test_risky_entra_sign_in_then_saml_and_an_access_key(result: RunResult) -> None:
    alert = _alert(result, RISKY)
    assert alert["group_key"] == "jsmith"
    events = alert["events"]
    assert [(e["source"], e["event_id"]) for e in events] == [
        ("entra", "b01e0000-0000-4000-8000-000000000002"),
        ("cloudtrail", SAML_CALL),
        ("cloudtrail", KEY_CALL),
    ]
    assert {e["src_ip"] for e in events} == {HOME_IP}
    # Entra's object id resolved him (written upper-case in the identity file).
    assert events[0]["resolved_via"] == f"entra_object_id:{OBJECT_ID.lower()}"
    # Entra's "US" is Okta's "United States": his usual country, so no new-country alert.
    assert events[0]["country"] == "United States"
    assert events[0]["new_country"] is False


def test_nothing_else_alerts_and_dead_letters_say_why(result: RunResult) -> None:
    assert sorted(a["rule_id"] for a in result.alerts) == sorted([KERBEROAST, RISKY])
    reasons = sorted((d["source"], d["reason"]) for d in result.dead_letters)
    assert reasons == [
        ("entra", "not of interest: Entra log category 'RiskyUsers' is not read"),
        ("windows", "not of interest: event id 4658 is not read"),
    ]
    by_source = {s.source: s.records for s in result.staged}
    # Containers unpacked: the Graph list and the Event Hub batch, the S3 file's Records.
    assert by_source == {"okta": 1, "cloudtrail": 2, "entra": 3, "windows": 5}


def test_the_logon_identifiers_reach_the_alert_entity(result: RunResult) -> None:
    alert = _alert(result, KERBEROAST)
    values = {(i["kind"], i["value"]) for i in alert["entity"]["identifiers"]}
    assert ("ad_sid", SID) in values


def test_written_to_files(result: RunResult) -> None:
    assert Path(result.output).read_text().count("\n") == 2
