"""Entra ID sign-in and audit records: each shape, the fields, and the corpus' records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from seamwatch.udfs.entra import entra_records, normalize_entra
from seamwatch.udfs.errors import NormalizeError, NotOfInterest
from seamwatch.udfs.ustime import parse_us_time

USER_ID = "6f1e3c55-0000-4000-8000-0000000000aa"


def _sign_in(category: str = "SignInLogs", **properties: Any) -> dict[str, Any]:
    """A small hand-written diagnostic-settings sign-in record."""
    body: dict[str, Any] = {
        "id": "si-1",
        "createdDateTime": "2025-03-01T09:00:00.1234567Z",
        "userPrincipalName": "Dana.Lee@Example.org",
        "userId": USER_ID,
        "appDisplayName": "AWS Single-Account Access",
        "ipAddress": "203.0.113.9",
        "status": {"errorCode": 0, "failureReason": None},
        "location": {
            "city": "Oslo",
            "countryOrRegion": "NO",
            "geoCoordinates": {"latitude": 59.9, "longitude": 10.7},
        },
        "riskLevelDuringSignIn": "none",
        "riskState": "none",
        "conditionalAccessStatus": "success",
        "authenticationRequirement": "multiFactorAuthentication",
    }
    body.update(properties)
    return {
        "time": "2025-03-01T09:00:05.0000000Z",
        "category": category,
        "tenantId": "tenant-1",
        "callerIpAddress": "203.0.113.9",
        "properties": body,
    }


def test_interactive_sign_in_fields() -> None:
    event = normalize_entra(_sign_in(), "f:1")
    assert (event.source, event.action, event.outcome) == ("entra", "sign_in", "success")
    assert event.event_time == 1_740_819_600_123  # createdDateTime, not the envelope's time
    assert [(i.kind, i.value) for i in event.identifiers] == [
        ("entra_object_id", USER_ID),
        ("entra_upn", "dana.lee@example.org"),
        ("email", "dana.lee@example.org"),
    ]
    assert event.principal == "Dana.Lee@Example.org" and event.principal_type == "User"
    assert (event.country, event.city, event.geo_source) == ("NO", "Oslo", "entra")
    assert (event.latitude, event.longitude) == (59.9, 10.7)
    assert event.app == "AWS Single-Account Access" and event.account_id == "tenant-1"
    assert event.ca_status == "success" and event.risk_level is None


def test_mfa_denied_sign_in() -> None:
    steps = [
        {"authenticationMethod": "Password", "succeeded": True},
        {
            "authenticationMethod": "Mobile app notification",
            "succeeded": False,
            "authenticationStepResultDetail": "MFA denied; user declined the authentication",
        },
    ]
    rec = _sign_in(
        status={"errorCode": 500121},
        authenticationDetails=steps,
        riskLevelDuringSignIn="high",
        riskState="atRisk",
    )
    event = normalize_entra(rec, "f:1")
    assert (event.outcome, event.error_code) == ("failure", "500121")
    assert event.auth_method == "Password+Mobile app notification"
    assert event.mfa_detail == (
        "Mobile app notification: MFA denied; user declined the authentication"
    )
    assert (event.risk_level, event.risk_state) == ("high", "atRisk")


@pytest.mark.parametrize(
    ("category", "action", "principal_type"),
    [
        ("NonInteractiveUserSignInLogs", "non_interactive_sign_in", "User"),
        ("ServicePrincipalSignInLogs", "service_principal_sign_in", "ServicePrincipal"),
        ("ManagedIdentitySignInLogs", "managed_identity_sign_in", "ManagedIdentity"),
        ("ADFSSignInLogs", "adfs_sign_in", "User"),
    ],
)
def test_categories(category: str, action: str, principal_type: str) -> None:
    rec = _sign_in(category, servicePrincipalId="SP-OBJ", appId="APP-1", servicePrincipalName="x")
    event = normalize_entra(rec, "f:1")
    assert (event.action, event.principal_type) == (action, principal_type)
    if principal_type != "User":
        assert [i.kind for i in event.identifiers] == ["entra_object_id", "entra_app_id"]


def test_adfs_us_format_time_and_lower_cased_envelope() -> None:
    rec = {
        "time": "12/12/2025 3:03:58 PM",
        "category": "ADFSSignInLogs",
        "resulttype": "0",
        "properties": {
            "userPrincipalName": "dana.lee@example.org",
            "ipAddress": "198.51.100.4",
            "tokenIssuerType": "ADFederationServices",
            "createdDateTime": None,
        },
    }
    event = normalize_entra(rec, "f:1")
    assert event.event_time == 1_765_551_838_000  # 2025-12-12T15:03:58Z
    assert (event.action, event.outcome) == ("adfs_sign_in", "success")


def test_us_time_forms() -> None:
    assert parse_us_time("1/24/2022 5:03:25 PM") == 1_643_043_805_000
    assert parse_us_time("1/24/2022 12:03:25 AM") == 1_642_982_605_000
    assert parse_us_time("1/24/2022 17:03:25.5") == 1_643_043_805_500
    assert parse_us_time("2/30/2022 5:03:25 PM") is None
    assert parse_us_time("13/24/2022 5:03:25 PM") is None
    assert parse_us_time("1/24/2022 13:03:25 PM") is None


def test_containers() -> None:
    batch = {"records": [_sign_in(), _sign_in("AuditLogs")]}
    assert len(entra_records(batch)) == 2
    assert len(entra_records({"@odata.context": "x", "value": [{}, {}, {}]})) == 3
    single = _sign_in()
    assert entra_records(single) == [single]


def test_graph_directory_audit_and_log_analytics_json_strings() -> None:
    graph = {
        "id": "Directory_1",
        "category": "RoleManagement",
        "activityDateTime": "2025-03-01T09:00:00Z",
        "activityDisplayName": "Add member to role",
        "result": "success",
        "initiatedBy": {"user": {"id": USER_ID, "userPrincipalName": "a@example.org"}},
        "targetResources": [{"type": "User", "userPrincipalName": "b@example.org"}],
    }
    event = normalize_entra(graph, "f:1")
    assert (event.action, event.service, event.target_user) == (
        "Add member to role",
        "RoleManagement",
        "b@example.org",
    )
    log_analytics = {
        "Type": "AuditLogs",
        "TimeGenerated": "2025-03-01T09:00:00Z",
        "OperationName": "Add owner to application",
        "Result": "failure",
        "ResultReason": "Insufficient privileges",
        "InitiatedBy": orjson.dumps(graph["initiatedBy"]).decode(),
        "TargetResources": '[{"type": "Application", "displayName": "SimuLandApp"}]',
    }
    event = normalize_entra(log_analytics, "f:2")
    assert (event.outcome, event.error_code, event.app) == (
        "failure",
        "Insufficient privileges",
        "SimuLandApp",
    )
    assert event.identifiers[0].value == USER_ID


def test_other_categories_are_not_of_interest_and_broken_records_are_errors() -> None:
    with pytest.raises(NotOfInterest, match="category 'RiskyUsers'"):
        normalize_entra({"time": "2025-03-01T09:00:00Z", "category": "RiskyUsers"}, "f:1")
    with pytest.raises(NormalizeError, match="not an Entra record"):
        normalize_entra({"hello": "world"}, "f:1")
    with pytest.raises(NormalizeError, match="no usable event time"):
        normalize_entra(_sign_in(createdDateTime="soon") | {"time": None}, "f:1")


def test_corpus_failed_graph_sign_in_50126(corpus_dir: Path) -> None:
    """The Graph beta example: duplicate keys, a failed password sign-in."""
    path = corpus_dir / "entra" / "microsoft-graph-docs_signin-list_examples.jsonl"
    failed = [
        normalize_entra(orjson.loads(line), f"{path.name}:{n}")
        for n, line in enumerate(path.read_bytes().splitlines(), 1)
    ]
    [event] = [e for e in failed if e.outcome == "failure"]
    assert event.error_code == "50126"
    assert event.principal == "testaccount1@contoso.com" and event.app == "Azure Portal"
    assert event.auth_method == "Password" and event.auth_protocol == "oAuth2"
    assert event.mfa_detail == "singleFactorAuthentication"
    assert event.event_time == 1_625_070_872_000  # 2021-06-30T16:34:32Z
    assert (event.country, event.latitude) == ("US", None)  # empty geoCoordinates


def test_corpus_lower_cased_service_principal_failures(corpus_dir: Path) -> None:
    path = corpus_dir / "entra" / "panther-analysis_rule-tests_signin_lowercased-keys.jsonl"
    events = [
        normalize_entra(orjson.loads(line), f"{path.name}:{n}")
        for n, line in enumerate(path.read_bytes().splitlines(), 1)
    ]
    failures = [e for e in events if e.outcome == "failure"]
    assert {e.action for e in failures} == {"service_principal_sign_in"}
    assert {e.error_code for e in failures} == {"7000215"}  # invalid client secret
    assert all(e.identifiers[0].kind == "entra_object_id" for e in failures)
