from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from seamwatch.udfs.cloudtrail import normalize_cloudtrail
from seamwatch.udfs.errors import NormalizeError
from seamwatch.udfs.records import Identifier

ACCOUNT = "210987654321"
T = 1_722_375_081_000  # 2024-07-30T21:31:21Z


def ct_event(identity: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """A small hand-written CloudTrail record; keyword arguments replace top-level keys."""
    rec: dict[str, Any] = {
        "eventVersion": "1.09",
        "eventTime": "2024-07-30T21:31:21Z",
        "eventSource": "ec2.amazonaws.com",
        "eventName": "DescribeInstances",
        "awsRegion": "eu-north-1",
        "sourceIPAddress": "198.51.100.23",
        "userAgent": "aws-cli/2.17.0",
        "requestParameters": {"maxResults": 5},
        "responseElements": None,
        "eventID": "0b1f9a64-1111-4222-8333-444455556666",
        "recipientAccountId": ACCOUNT,
    }
    if identity is not None:
        rec["userIdentity"] = identity
    rec.update(overrides)
    return rec


def ids(*pairs: tuple[str, str]) -> list[Identifier]:
    return [Identifier(kind, value) for kind, value in pairs]


SSO_ARN = (
    f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Admin_0123abcd/Kim.Ng+ops@Example.com"
)

IDENTITY_CASES = [
    pytest.param(
        {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLE0001",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/ops/alice",
            "accountId": ACCOUNT,
            "accessKeyId": "AKIAEXAMPLE0001",
            "userName": "alice",
            "invokedBy": "signin.amazonaws.com",
        },
        f"arn:aws:iam::{ACCOUNT}:user/ops/alice",
        ids(
            ("aws_arn", f"arn:aws:iam::{ACCOUNT}:user/ops/alice"),
            ("aws_access_key", "AKIAEXAMPLE0001"),
            ("aws_principal_id", "AIDAEXAMPLE0001"),
            ("aws_account", ACCOUNT),
        ),
        None,
        id="IAMUser",
    ),
    pytest.param(
        {"type": "IAMUser", "userName": "bob", "accountId": ACCOUNT, "accessKeyId": ""},
        f"IAMUser:{ACCOUNT}:bob",
        # The ARN the user has (a failed ConsoleLogin, CheckMfa): its name is unique in its
        # account. The principal stays as the record describes it.
        ids(("aws_arn", f"arn:aws:iam::{ACCOUNT}:user/bob"), ("aws_account", ACCOUNT)),
        None,
        id="IAMUser-without-arn",
    ),
    pytest.param(
        {"type": "Root", "principalId": ACCOUNT, "accountId": ACCOUNT},
        f"Root:{ACCOUNT}:{ACCOUNT}",
        ids(
            ("aws_arn", f"arn:aws:iam::{ACCOUNT}:root"),
            ("aws_principal_id", ACCOUNT),
            ("aws_account", ACCOUNT),
        ),
        None,
        id="Root-without-arn",
    ),
    pytest.param(
        {"type": "IAMUser", "userName": "HIDDEN_DUE_TO_SECURITY_REASONS", "accountId": ACCOUNT},
        f"IAMUser:{ACCOUNT}",
        ids(("aws_account", ACCOUNT)),
        None,
        id="IAMUser-hidden-name",
    ),
    pytest.param(
        {"type": "IAMUser", "userName": "bob", "accountId": "redacted"},
        "IAMUser:bob",
        [],
        None,
        id="IAMUser-without-account",
    ),
    pytest.param(
        {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE0002:Deploy-Session",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Deployer/Deploy-Session",
            "accountId": ACCOUNT,
            "accessKeyId": "ASIAEXAMPLE0002",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "arn": f"arn:aws:iam::{ACCOUNT}:role/ci/Deployer",
                    "userName": "Deployer",
                },
                "sourceIdentity": "Pat.Doe@Example.com",
            },
        },
        f"arn:aws:sts::{ACCOUNT}:assumed-role/Deployer/Deploy-Session",
        ids(
            ("aws_arn", f"arn:aws:sts::{ACCOUNT}:assumed-role/Deployer/Deploy-Session"),
            ("aws_role_session", "Deployer/deploy-session"),
            ("email", "pat.doe@example.com"),
            ("aws_access_key", "ASIAEXAMPLE0002"),
            ("aws_principal_id", "AROAEXAMPLE0002:Deploy-Session"),
            ("aws_account", ACCOUNT),
        ),
        f"arn:aws:iam::{ACCOUNT}:role/ci/Deployer",
        id="AssumedRole",
    ),
    pytest.param(
        {
            "type": "AssumedRole",
            "arn": SSO_ARN,
            "accountId": ACCOUNT,
            "sessionContext": {
                "sessionIssuer": {
                    "arn": f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/"
                    "eu-north-1/AWSReservedSSO_Admin_0123abcd"
                }
            },
        },
        SSO_ARN,
        ids(
            ("aws_arn", SSO_ARN),
            ("aws_role_session", "AWSReservedSSO_Admin_0123abcd/kim.ng+ops@example.com"),
            ("email", "kim.ng@example.com"),
            ("aws_account", ACCOUNT),
        ),
        f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-north-1/"
        "AWSReservedSSO_Admin_0123abcd",
        id="AssumedRole-IdentityCenter",
    ),
    pytest.param(
        {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE0005:kim.ng@example.com",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Admin_0123abcd/"
            "kim.ng@example.com",
            "accountId": ACCOUNT,
            "accessKeyId": "ASIAEXAMPLE0005",
            "onBehalfOf": {
                "userId": "94482488-3041-7026-18f3-be45837cd0e4",
                "identityStoreArn": "arn:aws:identitystore::210987654321:identitystore/d-9067",
            },
        },
        f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Admin_0123abcd/kim.ng@example.com",
        ids(
            (
                "aws_arn",
                f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Admin_0123abcd/"
                "kim.ng@example.com",
            ),
            ("aws_role_session", "AWSReservedSSO_Admin_0123abcd/kim.ng@example.com"),
            ("email", "kim.ng@example.com"),
            ("aws_access_key", "ASIAEXAMPLE0005"),
            # The Identity Center user the session was issued to, as on its own calls.
            ("aws_principal_id", "94482488-3041-7026-18f3-be45837cd0e4"),
            ("aws_principal_id", "AROAEXAMPLE0005:kim.ng@example.com"),
            ("aws_account", ACCOUNT),
        ),
        None,
        id="AssumedRole-IdentityCenter-onBehalfOf",
    ),
    pytest.param(
        {
            "type": "Root",
            "principalId": ACCOUNT,
            "arn": f"arn:aws:iam::{ACCOUNT}:root",
            "accountId": ACCOUNT,
            "accessKeyId": "",
        },
        f"arn:aws:iam::{ACCOUNT}:root",
        ids(
            ("aws_arn", f"arn:aws:iam::{ACCOUNT}:root"),
            ("aws_principal_id", ACCOUNT),
            ("aws_account", ACCOUNT),
        ),
        None,
        id="Root",
    ),
    pytest.param(
        {"type": "AWSService", "invokedBy": "ec2.amazonaws.com"},
        "AWSService:ec2.amazonaws.com",
        ids(("aws_service", "ec2.amazonaws.com")),
        None,
        id="AWSService",
    ),
    pytest.param(
        {"type": "AWSAccount", "principalId": "AIDAEXAMPLE0003", "accountId": "111122223333"},
        "AWSAccount:111122223333:AIDAEXAMPLE0003",
        ids(("aws_principal_id", "AIDAEXAMPLE0003"), ("aws_account", "111122223333")),
        None,
        id="AWSAccount",
    ),
    pytest.param(
        {
            "type": "FederatedUser",
            "principalId": f"{ACCOUNT}:Lee.Wu@example.com",
            "arn": f"arn:aws:sts::{ACCOUNT}:federated-user/Lee.Wu@example.com",
            "accountId": ACCOUNT,
            "accessKeyId": "ASIAEXAMPLE0004",
            "sessionContext": {
                "sessionIssuer": {"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/broker"}
            },
        },
        f"arn:aws:sts::{ACCOUNT}:federated-user/Lee.Wu@example.com",
        ids(
            ("aws_arn", f"arn:aws:sts::{ACCOUNT}:federated-user/Lee.Wu@example.com"),
            ("email", "lee.wu@example.com"),
            ("aws_access_key", "ASIAEXAMPLE0004"),
            ("aws_principal_id", f"{ACCOUNT}:Lee.Wu@example.com"),
            ("aws_account", ACCOUNT),
        ),
        None,
        id="FederatedUser",
    ),
    pytest.param(
        {
            "type": "SAMLUser",
            "principalId": "c2FtbA==:Ana.Silva@Example.com",
            "userName": "Ana.Silva@Example.com",
            "identityProvider": "c2FtbA==",
        },
        "SAMLUser:c2FtbA==:Ana.Silva@Example.com",
        ids(
            ("email", "ana.silva@example.com"),
            ("aws_principal_id", "c2FtbA==:Ana.Silva@Example.com"),
        ),
        None,
        id="SAMLUser",
    ),
    pytest.param(
        {
            "type": "WebIdentityUser",
            "principalId": "accounts.google.com:app-id:1234567890",
            "userName": "1234567890",
            "identityProvider": "accounts.google.com",
        },
        "WebIdentityUser:accounts.google.com:1234567890",
        ids(("aws_principal_id", "accounts.google.com:app-id:1234567890")),
        None,
        id="WebIdentityUser",
    ),
    pytest.param(
        {
            "type": "IdentityCenterUser",
            "accountId": ACCOUNT,
            "onBehalfOf": {
                "userId": "94482488-3041-7026-18f3-be45837cd0e4",
                "identityStoreArn": "arn:aws:identitystore::210987654321:identitystore/d-9067",
            },
            "credentialId": "EXAMPLEcredential",
        },
        "IdentityCenterUser:arn:aws:identitystore::210987654321:identitystore/d-9067:"
        "94482488-3041-7026-18f3-be45837cd0e4",
        ids(
            ("aws_principal_id", "94482488-3041-7026-18f3-be45837cd0e4"),
            ("aws_account", ACCOUNT),
        ),
        None,
        id="IdentityCenterUser",
    ),
    pytest.param(
        {
            "type": "Unknown",
            "principalId": "94482488-aaaa",
            "accountId": ACCOUNT,
            "userName": "kim",
        },
        f"Unknown:{ACCOUNT}:kim",
        ids(("aws_principal_id", "94482488-aaaa"), ("aws_account", ACCOUNT)),
        None,
        id="Unknown",
    ),
    pytest.param(
        {
            "type": "Unknown",
            "principalId": "example.com//S-1-5-21-1122334455-3652759393-4233131409-1126",
            "accountId": ACCOUNT,
            "userName": "Kim.Ng@example.com",
            "onBehalfOf": {
                "userId": "94482488-3041-7026-18f3-be45837cd0e4",
                "identityStoreArn": "arn:aws:identitystore::210987654321:identitystore/d-9067",
            },
        },
        f"Unknown:{ACCOUNT}:Kim.Ng@example.com",
        ids(
            ("email", "kim.ng@example.com"),
            ("aws_principal_id", "94482488-3041-7026-18f3-be45837cd0e4"),
            ("aws_principal_id", "example.com//S-1-5-21-1122334455-3652759393-4233131409-1126"),
            ("aws_account", ACCOUNT),
        ),
        None,
        id="Unknown-access-portal",
    ),
    pytest.param(
        {"accountId": ACCOUNT, "invokedBy": "secretsmanager.amazonaws.com"},
        f"unknown:{ACCOUNT}:secretsmanager.amazonaws.com",
        ids(("aws_service", "secretsmanager.amazonaws.com"), ("aws_account", ACCOUNT)),
        None,
        id="missing-type",
    ),
    pytest.param({}, None, [], None, id="empty-userIdentity"),
]


@pytest.mark.parametrize(("identity", "principal", "expected", "role_arn"), IDENTITY_CASES)
def test_identity_shapes(
    identity: dict[str, Any],
    principal: str | None,
    expected: list[Identifier],
    role_arn: str | None,
) -> None:
    event = normalize_cloudtrail(ct_event(identity), "r")
    assert event.principal == principal
    assert event.principal_type == identity.get("type")
    assert event.identifiers == expected
    assert event.role_arn == role_arn


def test_missing_user_identity() -> None:
    event = normalize_cloudtrail(ct_event(None), "r")
    assert (event.principal, event.principal_type, event.identifiers) == (None, None, [])
    assert event.account_id == ACCOUNT


def test_maps_every_field() -> None:
    identity = {
        "type": "IAMUser",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
        "accountId": "999988887777",
        "accessKeyId": "AKIAEXAMPLE0001",
    }
    rec = ct_event(
        identity,
        eventSource="iam.amazonaws.com",
        eventName="CreateAccessKey",
        requestParameters={"userName": "mallory"},
        responseElements={"accessKey": {"userName": "mallory", "status": "Active"}},
    )
    event = normalize_cloudtrail(rec, "s3://b/k.json.gz:1#4")
    assert event.event_id == "0b1f9a64-1111-4222-8333-444455556666"
    assert event.source == "cloudtrail"
    assert event.event_time == T
    assert (event.action, event.service) == ("CreateAccessKey", "iam.amazonaws.com")
    assert (event.outcome, event.error_code) == ("success", None)
    assert event.raw_ref == "s3://b/k.json.gz:1#4"
    assert (event.src_ip, event.src_host) == ("198.51.100.23", None)
    assert event.user_agent == "aws-cli/2.17.0"
    assert event.access_key_id == "AKIAEXAMPLE0001"
    assert event.account_id == ACCOUNT  # recipientAccountId wins over the caller's account
    assert event.target_user == "mallory"
    assert event.session_id is None and event.country is None


def test_account_falls_back_to_identity_account() -> None:
    rec = ct_event({"type": "Root", "accountId": "999988887777"}, recipientAccountId=None)
    assert normalize_cloudtrail(rec, "r").account_id == "999988887777"


def test_error_code_means_failure() -> None:
    rec = ct_event({"type": "Root"}, errorCode="Client.UnauthorizedOperation", errorMessage="no")
    event = normalize_cloudtrail(rec, "r")
    assert (event.outcome, event.error_code) == ("failure", "Client.UnauthorizedOperation")


@pytest.mark.parametrize(
    ("response", "extra", "outcome", "error_code"),
    [
        ({"ConsoleLogin": "Success"}, {}, "success", None),
        (
            {"ConsoleLogin": "Failure"},
            {"errorMessage": "Failed authentication"},
            "failure",
            "Failed authentication",
        ),
        ({"ConsoleLogin": "Failure"}, {}, "failure", None),
        (None, {}, "unknown", None),
        (None, {"errorCode": "AccessDenied"}, "failure", "AccessDenied"),
    ],
)
def test_console_login_outcome(
    response: dict[str, str] | None, extra: dict[str, str], outcome: str, error_code: str | None
) -> None:
    rec = ct_event(
        {"type": "Root"},
        eventSource="signin.amazonaws.com",
        eventName="ConsoleLogin",
        responseElements=response,
        **extra,
    )
    event = normalize_cloudtrail(rec, "r")
    assert (event.outcome, event.error_code) == (outcome, error_code)


@pytest.mark.parametrize(
    ("source_ip", "src_ip", "src_host"),
    [
        ("198.51.100.23", "198.51.100.23", None),
        ("08.1.250.216", "8.1.250.216", None),
        ("211.9.016.253", "211.9.16.253", None),
        ("2001:DB8::0:1", "2001:db8::1", None),
        ("AWS Internal", None, "AWS Internal"),
        ("cloudformation.amazonaws.com", None, "cloudformation.amazonaws.com"),
        ("256.1.1.1", None, "256.1.1.1"),
        ("<Attacker source IP>", None, None),
        ("redacted", None, None),
        (None, None, None),
    ],
)
def test_source_ip(source_ip: str | None, src_ip: str | None, src_host: str | None) -> None:
    event = normalize_cloudtrail(ct_event({"type": "Root"}, sourceIPAddress=source_ip), "r")
    assert (event.src_ip, event.src_host) == (src_ip, src_host)


def test_assume_role_role_arn_is_the_requested_role() -> None:
    caller = {
        "type": "AssumedRole",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Base/s1",
        "sessionContext": {"sessionIssuer": {"arn": f"arn:aws:iam::{ACCOUNT}:role/Base"}},
    }
    rec = ct_event(
        caller,
        eventSource="sts.amazonaws.com",
        eventName="AssumeRole",
        requestParameters={
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/Target",
            "roleSessionName": "x",
        },
    )
    assert normalize_cloudtrail(rec, "r").role_arn == f"arn:aws:iam::{ACCOUNT}:role/Target"
    rec["requestParameters"] = None  # a denied AssumeRole
    assert normalize_cloudtrail(rec, "r").role_arn is None


def test_assume_role_with_saml_links_subject_and_new_session() -> None:
    session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/OktaAdmin/Ana.Silva@example.com"
    rec = ct_event(
        {
            "type": "SAMLUser",
            "principalId": "idp:Ana.Silva",
            "userName": "Ana.Silva",
            "identityProvider": f"arn:aws:iam::{ACCOUNT}:saml-provider/Okta",
        },
        eventSource="sts.amazonaws.com",
        eventName="AssumeRoleWithSAML",
        requestParameters={"roleArn": f"arn:aws:iam::{ACCOUNT}:role/OktaAdmin"},
        responseElements={
            "subject": "Ana.Silva@Example.com",
            "subjectType": "persistent",
            "assumedRoleUser": {"arn": session_arn, "assumedRoleId": "AROAX:Ana.Silva@example.com"},
        },
    )
    event = normalize_cloudtrail(rec, "r")
    assert event.principal == f"SAMLUser:arn:aws:iam::{ACCOUNT}:saml-provider/Okta:Ana.Silva"
    assert event.identifiers == ids(
        ("aws_arn", session_arn),
        ("aws_role_session", "OktaAdmin/ana.silva@example.com"),
        ("email", "ana.silva@example.com"),
        ("aws_principal_id", "idp:Ana.Silva"),
    )
    assert event.role_arn == f"arn:aws:iam::{ACCOUNT}:role/OktaAdmin"


def test_assume_role_with_web_identity_subject() -> None:
    rec = ct_event(
        {
            "type": "WebIdentityUser",
            "userName": "sub-1",
            "identityProvider": "token.actions.example",
        },
        eventName="AssumeRoleWithWebIdentity",
        responseElements={"subjectFromWebIdentityToken": "Ci@Example.com"},
    )
    assert Identifier("email", "ci@example.com") in normalize_cloudtrail(rec, "r").identifiers


def test_access_key_typo_is_tolerated() -> None:
    rec = ct_event({"type": "IAMUser", "accesKeyId": "AKIATYPO", "accessKeyId": ""})
    event = normalize_cloudtrail(rec, "r")
    assert event.access_key_id == "AKIATYPO"
    assert ids(("aws_access_key", "AKIATYPO")) == event.identifiers


def test_string_request_parameters_do_not_raise() -> None:
    rec = ct_event({"type": "Root"}, requestParameters='{\n  "userName": "eve"\n}')
    assert normalize_cloudtrail(rec, "r").target_user == "eve"
    rec = ct_event({"type": "Root"}, requestParameters="not json", responseElements="{broken")
    assert normalize_cloudtrail(rec, "r").target_user is None


def test_null_request_and_response() -> None:
    rec = ct_event({"type": "Root"}, eventName="AssumeRole", requestParameters=None)
    event = normalize_cloudtrail(rec, "r")
    assert (event.target_user, event.role_arn, event.outcome) == (None, None, "success")


def test_eventbridge_envelope_is_unwrapped() -> None:
    inner = ct_event({"type": "Root", "arn": f"arn:aws:iam::{ACCOUNT}:root"})
    envelope = {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2",
        "time": "2024-07-30T21:31:22Z",
        "detail": inner,
    }
    assert normalize_cloudtrail(envelope, "r") == normalize_cloudtrail(inner, "r")


def test_eventbridge_envelope_time_is_the_last_fallback() -> None:
    inner = ct_event({"type": "Root"}, eventTime=None)
    envelope = {
        "detail-type": "AWS API Call via CloudTrail",
        "time": "2024-07-30T21:31:21Z",
        "detail": inner,
    }
    assert normalize_cloudtrail(envelope, "r").event_time == T


def test_logstash_timestamp_when_event_time_is_missing() -> None:
    rec = ct_event({"type": "Root"}, **{"@timestamp": "2024-07-30T21:31:21.000Z"})
    del rec["eventTime"]
    assert normalize_cloudtrail(rec, "r").event_time == T


def test_panther_time_forms() -> None:
    for value in ("2024-07-30 21:31:21.000000000", "2024-07-30 21:31:21", "2024-07-30 21:31:21Z"):
        assert normalize_cloudtrail(ct_event({}, eventTime=value), "r").event_time == T


def test_lower_cased_keys_give_the_same_event() -> None:
    camel = ct_event(
        {
            "type": "AssumedRole",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/R/s",
            "principalId": "AROA:s",
            "accountId": ACCOUNT,
            "accessKeyId": "ASIAX",
            "sessionContext": {"sessionIssuer": {"arn": f"arn:aws:iam::{ACCOUNT}:role/R"}},
        },
    )
    lowered = {
        "eventtime": camel["eventTime"],
        "eventsource": camel["eventSource"],
        "eventname": camel["eventName"],
        "awsregion": camel["awsRegion"],
        "sourceipaddress": camel["sourceIPAddress"],
        "useragent": camel["userAgent"],
        "eventid": camel["eventID"],
        "recipientaccountid": ACCOUNT,
        "useridentity": {
            "type": "AssumedRole",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/R/s",
            "principalid": "AROA:s",
            "accountid": ACCOUNT,
            "accesskeyid": "ASIAX",
            "sessioncontext": {"sessionissuer": {"arn": f"arn:aws:iam::{ACCOUNT}:role/R"}},
        },
        "SourceIpAddress": "ignored: the lower-case spelling above is found first",
    }
    assert normalize_cloudtrail(lowered, "r") == normalize_cloudtrail(camel, "r")


def test_mixed_case_key_is_found() -> None:
    rec = ct_event({"type": "Root"})
    rec["EventName"] = rec.pop("eventName")
    assert normalize_cloudtrail(rec, "r").action == "DescribeInstances"


def test_placeholder_event_id_gets_a_fallback() -> None:
    a = normalize_cloudtrail(ct_event({}, eventID="redacted"), "r").event_id
    b = normalize_cloudtrail(ct_event({}, eventID="redacted", eventName="Other"), "r").event_id
    assert a != b and len(a) == 20


@pytest.mark.parametrize(
    ("rec", "reason"),
    [
        ({}, "not a CloudTrail event: no eventName"),
        ({"eventType": "logout"}, "not a CloudTrail event: no eventName"),
        (ct_event({}, eventTime="redacted"), "no usable event time: eventTime='redacted'"),
        (ct_event({}, eventTime="..."), "no usable event time: eventTime='...'"),
        (ct_event({}, eventTime=None), "no usable event time: missing eventTime"),
        (
            {"detail-type": "x", "detail": {"eventTime": "2024-07-30T21:31:21Z"}},
            "not a CloudTrail event: no eventName",
        ),
    ],
)
def test_unusable_records_raise(rec: dict[str, Any], reason: str) -> None:
    with pytest.raises(NormalizeError) as info:
        normalize_cloudtrail(rec, "r")
    assert str(info.value) == reason


CALLER = {
    "type": "IAMUser",
    "principalId": "AIDAEXAMPLE0001",
    "arn": f"arn:aws:iam::{ACCOUNT}:user/ops/alice",
    "accountId": ACCOUNT,
    "accessKeyId": "AKIAEXAMPLE0001",
    "userName": "alice",
}
TEMPORARY = {
    "accessKeyId": "ASIAISSUED000001",
    "sessionToken": "token",
    "expiration": "Jul 30, 2024, 10:31:21 PM",
}


@pytest.mark.parametrize(
    ("event_name", "response"),
    [
        ("AssumeRole", {"credentials": TEMPORARY, "assumedRoleUser": {"arn": "x"}}),
        ("AssumeRoleWithSAML", {"credentials": TEMPORARY, "subject": "ana@example.com"}),
        ("AssumeRoleWithWebIdentity", {"credentials": TEMPORARY, "provider": "accounts"}),
        ("GetSessionToken", {"credentials": TEMPORARY}),
        ("GetFederationToken", {"credentials": TEMPORARY, "federatedUser": {"arn": "y"}}),
        (
            "CreateAccessKey",
            {"accessKey": {"accessKeyId": "ASIAISSUED000001", "status": "Active"}},
        ),
    ],
)
def test_issued_access_key(event_name: str, response: dict[str, Any]) -> None:
    rec = ct_event(CALLER, eventName=event_name, responseElements=response)
    assert normalize_cloudtrail(rec, "r").issued_access_key == "ASIAISSUED000001"


@pytest.mark.parametrize(
    ("event_name", "overrides"),
    [
        pytest.param(
            "AssumeRole",
            {"errorCode": "AccessDenied", "responseElements": None},
            id="failed-AssumeRole-null-response",
        ),
        pytest.param(
            "GetSessionToken",
            {"errorCode": "AccessDenied", "responseElements": {"credentials": TEMPORARY}},
            id="failed-call-with-a-response",
        ),
        pytest.param(
            "DescribeInstances",
            {"responseElements": {"credentials": TEMPORARY}},
            id="not-an-issuing-call",
        ),
        pytest.param(
            "CreateAccessKey",
            {"responseElements": {"credentials": TEMPORARY}},
            id="CreateAccessKey-reads-accessKey-only",
        ),
        pytest.param(
            "AssumeRole",
            {"responseElements": {"credentials": {"accessKeyId": "redacted"}}},
            id="placeholder-key",
        ),
        pytest.param("AssumeRole", {"responseElements": {"credentials": None}}, id="no-key"),
    ],
)
def test_no_issued_access_key(event_name: str, overrides: dict[str, Any]) -> None:
    rec = ct_event(CALLER, eventName=event_name, **overrides)
    assert normalize_cloudtrail(rec, "r").issued_access_key is None


def test_issued_access_key_with_lower_cased_keys() -> None:
    rec = {
        "eventname": "GetSessionToken",
        "eventtime": "2024-07-30 21:31:21",
        "responseelements": {"credentials": {"accesskeyid": "ASIAISSUED000001"}},
    }
    assert normalize_cloudtrail(rec, "r").issued_access_key == "ASIAISSUED000001"


@pytest.mark.parametrize(
    ("region", "expected"),
    [("eu-north-1", "eu-north-1"), ("ap-central-2r", "ap-central-2r"), (" redacted ", None)],
)
def test_region(region: str, expected: str | None) -> None:
    assert normalize_cloudtrail(ct_event({}, awsRegion=region), "r").region == expected


def test_region_missing() -> None:
    rec = ct_event({})
    del rec["awsRegion"]
    assert normalize_cloudtrail(rec, "r").region is None


@pytest.mark.parametrize(
    ("caller", "request_parameters", "target_user"),
    [
        pytest.param(CALLER, {"userName": "mallory"}, "mallory", id="named-user"),
        pytest.param(CALLER, None, "alice", id="own-key-IAMUser"),
        pytest.param(CALLER, {}, "alice", id="own-key-empty-request"),
        pytest.param(
            {"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/ops/bob"},
            None,
            "bob",
            id="own-key-IAMUser-name-from-arn",
        ),
        pytest.param(
            {"type": "AssumedRole", "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/s"},
            None,
            None,
            id="own-key-AssumedRole",
        ),
        pytest.param(
            {"type": "Root", "arn": f"arn:aws:iam::{ACCOUNT}:root"}, {}, None, id="own-key-Root"
        ),
        pytest.param(None, None, None, id="own-key-no-userIdentity"),
    ],
)
def test_create_access_key_target_user(
    caller: dict[str, Any] | None,
    request_parameters: dict[str, Any] | None,
    target_user: str | None,
) -> None:
    rec = ct_event(
        caller,
        eventSource="iam.amazonaws.com",
        eventName="CreateAccessKey",
        requestParameters=request_parameters,
    )
    assert normalize_cloudtrail(rec, "r").target_user == target_user


def test_other_calls_without_user_name_have_no_target() -> None:
    rec = ct_event(CALLER, eventName="ListAccessKeys", requestParameters=None)
    assert normalize_cloudtrail(rec, "r").target_user is None


def test_vendor_record_with_one_odd_key_casing() -> None:
    """A key in another casing is found even when the record is otherwise in vendor casing."""
    rec = ct_event({"type": "Root", "ARN": f"arn:aws:iam::{ACCOUNT}:root"}, ErrorCode="Denied")
    event = normalize_cloudtrail(rec, "r")
    assert (event.outcome, event.error_code) == ("failure", "Denied")
    assert event.principal == f"arn:aws:iam::{ACCOUNT}:root"


def test_repeated_caller_gives_equal_events_with_own_lists() -> None:
    rec = ct_event(CALLER)
    first, second = normalize_cloudtrail(rec, "r"), normalize_cloudtrail(dict(rec), "r")
    assert first == second
    assert first.identifiers is not second.identifiers
    first.identifiers.append(Identifier("email", "x@example.com"))
    assert normalize_cloudtrail(rec, "r").identifiers == second.identifiers


@pytest.mark.parametrize(
    ("region", "arn"),
    [
        ("us-east-1", f"arn:aws:iam::{ACCOUNT}:user/bob"),
        ("cn-north-1", f"arn:aws-cn:iam::{ACCOUNT}:user/bob"),
        ("us-gov-west-1", f"arn:aws-us-gov:iam::{ACCOUNT}:user/bob"),
        ("us-isob-east-1", f"arn:aws-iso-b:iam::{ACCOUNT}:user/bob"),
        ("us-iso-east-1", f"arn:aws-iso:iam::{ACCOUNT}:user/bob"),
        (None, f"arn:aws:iam::{ACCOUNT}:user/bob"),
        ("cniso-east-3r", f"arn:aws:iam::{ACCOUNT}:user/bob"),  # anonymised, not China
    ],
)
def test_implied_user_arn_takes_the_partition_of_the_region(region: str | None, arn: str) -> None:
    rec = ct_event(
        {"type": "IAMUser", "userName": "bob", "accountId": ACCOUNT},
        eventSource="signin.amazonaws.com",
        eventName="ConsoleLogin",
        awsRegion=region,
        responseElements={"ConsoleLogin": "Failure"},
    )
    assert normalize_cloudtrail(rec, "r").identifiers[0] == Identifier("aws_arn", arn)


def test_console_login_failure_without_arn_has_the_users_arn(corpus_dir: Path) -> None:
    """A real failed ConsoleLogin of an IAM user (AWS's own example, via Panther's tests)
    carries userName and accountId but no arn: it gets the ARN the user's successful
    sign-ins carry."""
    path = corpus_dir / "cloudtrail" / "panther-analysis_rule-tests.jsonl"
    records = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    failures = [
        r
        for r in records
        if r.get("eventName") == "ConsoleLogin"
        and (r.get("userIdentity") or {}).get("type") == "IAMUser"
        and "arn" not in r["userIdentity"]
        and r["userIdentity"].get("accountId")
    ]
    assert failures, "the corpus holds a failed ConsoleLogin of an IAM user without arn"
    for rec in failures:
        identity = rec["userIdentity"]
        event = normalize_cloudtrail(rec, "r")
        assert event.outcome == "failure"
        assert event.identifiers[0] == Identifier(
            "aws_arn", f"arn:aws:iam::{identity['accountId']}:user/{identity['userName']}"
        )
