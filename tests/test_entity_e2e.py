"""Who an alert is about, end to end on a Flink mini-cluster (one run, several people).

- IAM users whose failed console sign-ins name them only by ``userName`` and ``accountId``
  (the shape of real failures, see ``tests/test_cloudtrail.py``) and whose success carries the
  ARN: "failed sign-ins, then a success" is one entity, in the graph (``raj``, in the China
  partition) or not (``anaya``); two different users never make one sequence.
- An IAM Identity Center user (``kim``) gets role credentials (``GetRoleCredentials``, naming
  only the Identity Center user id), Identity Center federates into the ``AWSReservedSSO_*``
  role (``AssumeRoleWithSAML``, issuing the key), and the role session creates an access key:
  one person. The records have the shape of AWS's documented and published records.
- An IP pivot (Okta failures of three users from one IP, then the AWS root signs in from it)
  names the Okta users and the root account as the alert's entities.
- An Okta user whose login is no address, renamed between failed sign-ins and a success, stays
  one entity (keyed by its Okta id); a person in the graph stays that person across a rename;
  an unlisted Okta user whose login is an address, renamed likewise, stays the entity of its
  first address (``email:<first login>``, the Okta id learned by the resolver).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
import yaml

from seamwatch.jobs.local import RunResult, run_files
from seamwatch.jobs.settings import DEFAULT_RULES_DIR, JobSettings

pytestmark = pytest.mark.flink

ACCOUNT = "111122223333"
CN_ACCOUNT = "222233334444"
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
KIM_ID = "9067642ac7-1f2e3d4c-5b6a-7980-a1b2-c3d4e5f6a7b8"
LEE_ID = "9067642ac7-0a0b0c0d-1e2f-3a4b-5c6d-7e8f9a0b1c2d"
STORE = f"arn:aws:identitystore::{ACCOUNT}:identitystore/d-9067642ac7"
SSO_ROLE = "AWSReservedSSO_AdministratorAccess_7a1b2c3d4e5f6a7b"
KIM_KEY = "ASIAEXAMPLEKIM00001"
PIVOT_RULE = "ip-pivot-okta-failures-to-aws-console"

CONSOLE_RULE = """\
id: test-iam-console-guessing
title: Failed console sign-ins, then a success
techniques: [T1110.001]
severity: medium
within: 30m
steps:
  - name: failures
    source: cloudtrail
    where: {action: ConsoleLogin, outcome: failure}
    count: 3
  - name: success
    source: cloudtrail
    where: {action: ConsoleLogin, outcome: success}
"""
IDC_RULE = """\
id: test-idc-credentials-then-key
title: Identity Center role credentials, then an access key created
techniques: [T1098.001]
severity: medium
within: 10m
steps:
  - name: credentials
    source: cloudtrail
    where: {action: GetRoleCredentials, outcome: success}
  - name: create_key
    source: cloudtrail
    where: {action: CreateAccessKey, outcome: success}
"""
OKTA_RULE = """\
id: test-okta-guessing
title: Failed Okta sign-ins, then a success
techniques: [T1110.001]
severity: medium
within: 30m
steps:
  - name: failures
    source: okta
    where: {action: user.session.start, outcome: failure}
    count: 3
  - name: success
    source: okta
    where: {action: user.session.start, outcome: success}
"""


def _at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _console_login(
    event_id: str,
    minutes: float,
    identity: dict[str, Any],
    result: str,
    ip: str,
    region: str = "us-east-1",
) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": identity,
        "eventTime": _at(minutes),
        "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin",
        "awsRegion": region,
        "sourceIPAddress": ip,
        "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Firefox/124.0",
        "requestParameters": None,
        "responseElements": {"ConsoleLogin": result},
        "additionalEventData": {"MFAUsed": "No", "MobileVersion": "No"},
        "eventID": event_id,
        "eventType": "AwsConsoleSignIn",
        "recipientAccountId": identity.get("accountId", ACCOUNT),
    }
    if result == "Failure":
        rec["errorMessage"] = "Failed authentication"
    return rec


def _iam_user(name: str, account: str = ACCOUNT, partition: str = "aws") -> dict[str, Any]:
    """``userIdentity`` of a successful sign-in: with the ARN."""
    return {
        "type": "IAMUser",
        "principalId": f"AIDAEXAMPLE{name.upper()}",
        "arn": f"arn:{partition}:iam::{account}:user/{name}",
        "accountId": account,
        "userName": name,
    }


def _iam_user_failing(name: str, account: str = ACCOUNT) -> dict[str, Any]:
    """``userIdentity`` of a failed sign-in: name and account, no ARN."""
    return {
        "type": "IAMUser",
        "principalId": f"AIDAEXAMPLE{name.upper()}",
        "accountId": account,
        "accessKeyId": "",
        "userName": name,
    }


def _console_guessing(
    prefix: str, failing: str, succeeding: dict[str, Any], ip: str, **kw: Any
) -> list[dict[str, Any]]:
    account = kw.pop("account", ACCOUNT)
    fails = [
        _console_login(
            f"{prefix}-f{i}", i, _iam_user_failing(failing, account), "Failure", ip, **kw
        )
        for i in range(3)
    ]
    return [*fails, _console_login(f"{prefix}-ok", 4, succeeding, "Success", ip, **kw)]


def _identity_center(user_id: str) -> dict[str, Any]:
    return {
        "type": "IdentityCenterUser",
        "accountId": ACCOUNT,
        "onBehalfOf": {"userId": user_id, "identityStoreArn": STORE},
        "credentialId": f"AAAAAExampleCredential{user_id[-6:]}",
    }


def _get_role_credentials(event_id: str, minutes: float, user_id: str) -> dict[str, Any]:
    return {
        "eventVersion": "1.11",
        "userIdentity": _identity_center(user_id),
        "eventTime": _at(minutes),
        "eventSource": "sso.amazonaws.com",
        "eventName": "GetRoleCredentials",
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "198.51.100.40",
        "userAgent": "aws-cli/2.22.0 api/sso#2.22.0",
        "requestParameters": None,
        "responseElements": None,
        "eventID": event_id,
        "readOnly": True,
        "eventType": "AwsServiceEvent",
        "recipientAccountId": ACCOUNT,
        "serviceEventDetails": {"role_name": "AdministratorAccess", "account_id": ACCOUNT},
    }


def _kim_flow() -> list[dict[str, Any]]:
    email = "kim.ng@example.com"
    session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{SSO_ROLE}/{email}"
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/{SSO_ROLE}"
    create_token = {
        "eventVersion": "1.11",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLEAPP:portal-helper",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/PortalHelperRole/portal-helper",
            "accountId": ACCOUNT,
            "accessKeyId": "ASIAEXAMPLEAPP00001",
        },
        "eventTime": _at(29.5),
        "eventSource": "sso-oauth.amazonaws.com",
        "eventName": "CreateTokenWithIAM",
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "198.51.100.40",
        "requestParameters": {
            "grantType": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": "HIDDEN_DUE_TO_SECURITY_REASONS",
        },
        "responseElements": {"accessToken": "HIDDEN_DUE_TO_SECURITY_REASONS"},
        "additionalEventData": {"identitystore:UserId": KIM_ID},
        "eventID": "kim-token",
        "eventType": "AwsApiCall",
        "recipientAccountId": ACCOUNT,
    }
    federate = {
        "eventVersion": "1.11",
        "userIdentity": {
            "type": "SAMLUser",
            "principalId": f"c2FtbC1wcm92aWRlcg==:{email}",
            "userName": email,
            "identityProvider": "c2FtbC1wcm92aWRlcg==",
        },
        "eventTime": _at(30),
        "eventSource": "sts.amazonaws.com",
        "eventName": "AssumeRoleWithSAML",
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "203.0.113.200",
        "requestParameters": {"roleSessionName": email, "roleArn": role_arn},
        "responseElements": {
            "credentials": {"accessKeyId": KIM_KEY},
            "assumedRoleUser": {"arn": session_arn},
            "subject": email,
        },
        "eventID": "kim-saml",
        "eventType": "AwsApiCall",
        "recipientAccountId": ACCOUNT,
    }
    create_key = {
        "eventVersion": "1.11",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": f"AROAEXAMPLESSO:{email}",
            "arn": session_arn,
            "accountId": ACCOUNT,
            "accessKeyId": KIM_KEY,
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": role_arn}},
            "onBehalfOf": {"userId": KIM_ID, "identityStoreArn": STORE},
        },
        "eventTime": _at(33),
        "eventSource": "iam.amazonaws.com",
        "eventName": "CreateAccessKey",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.40",
        "requestParameters": {"userName": "svc-reports"},
        "responseElements": {"accessKey": {"accessKeyId": "AKIAEXAMPLEKIM00002"}},
        "eventID": "kim-create-key",
        "eventType": "AwsApiCall",
        "recipientAccountId": ACCOUNT,
    }
    return [
        create_token,
        _get_role_credentials("kim-credentials", 30, KIM_ID),
        federate,
        create_key,
    ]


def _okta(
    event_id: str, minutes: float, actor_id: str, login: str, result: str, ip: str
) -> dict[str, Any]:
    return {
        "uuid": event_id,
        "published": _at(minutes).replace("Z", ".000Z"),
        "eventType": "user.session.start",
        "actor": {"id": actor_id, "type": "User", "alternateId": login, "displayName": login},
        "client": {
            "ipAddress": ip,
            "geographicalContext": {"country": "United States", "city": "Denver"},
            "userAgent": {"rawUserAgent": "Mozilla/5.0 Firefox/124.0"},
        },
        "outcome": {
            "result": result,
            **({"reason": "INVALID_CREDENTIALS"} if result == "FAILURE" else {}),
        },
    }


def _okta_guessing(prefix: str, actor_id: str, old: str, new: str, ip: str) -> list[dict[str, Any]]:
    fails = [_okta(f"{prefix}-f{i}", 60 + i, actor_id, old, "FAILURE", ip) for i in range(3)]
    return [*fails, _okta(f"{prefix}-ok", 64, actor_id, new, "SUCCESS", ip)]


IDENTITIES = {
    "entities": [
        {
            "id": "raj",
            "type": "human",
            "identifiers": [
                {"kind": "aws_arn", "value": f"arn:aws-cn:iam::{CN_ACCOUNT}:user/raj"},
            ],
        },
        {
            "id": "kim",
            "type": "human",
            "name": "Kim Ng",
            # Known by the Identity Center user id alone (an identity-store export).
            "identifiers": [{"kind": "aws_principal_id", "value": KIM_ID}],
        },
        {
            "id": "lee",
            "type": "human",
            "identifiers": [{"kind": "aws_principal_id", "value": LEE_ID}],
        },
        {
            "id": "maria",
            "type": "human",
            "identifiers": [
                {"kind": "okta_user_id", "value": "00u1maria"},
                {"kind": "email", "value": "maria.silva@example.com"},
            ],
        },
    ]
}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    tmp = tmp_path_factory.mktemp("entities")
    cloudtrail = [
        *_console_guessing("anaya", "anaya", _iam_user("anaya"), "192.0.2.10"),
        *_console_guessing(
            "raj",
            "raj",
            _iam_user("raj", CN_ACCOUNT, "aws-cn"),
            "192.0.2.11",
            account=CN_ACCOUNT,
            region="cn-north-1",
        ),
        # Carl fails, Dora signs in: two users, no sequence.
        *_console_guessing("carl", "carl", _iam_user("dora"), "192.0.2.12"),
        *_kim_flow(),
        # Lee gets role credentials too; Kim's key creation is not Lee's.
        _get_role_credentials("lee-credentials", 31, LEE_ID),
        _console_login(
            "root-login",
            50,
            {"type": "Root", "arn": f"arn:aws:iam::{ACCOUNT}:root", "accountId": ACCOUNT},
            "Success",
            "192.0.2.66",
        ),
    ]
    okta = [
        *(
            _okta(f"spray-{n}", 40 + i, f"00u1{n}", f"{n}@example.com", "FAILURE", "192.0.2.66")
            for i, n in enumerate(("ana", "ben", "cai"))
        ),
        # Okta logins that are no address, renamed between the failures and the success.
        *_okta_guessing("jdoe", "00u1jdoe", "jdoe", "john.doe2", "192.0.2.20"),
        # Not in the graph, logins that are addresses: the first address's entity is kept.
        *_okta_guessing(
            "mia", "00u1mia", "mia.lund@example.com", "mia.berg@example.com", "192.0.2.22"
        ),
        # A person of the graph, renamed: the graph knows the Okta id.
        *_okta_guessing(
            "maria", "00u1maria", "maria.silva@example.com", "maria.costa@example.com", "192.0.2.21"
        ),
    ]
    rules = tmp / "rules"
    rules.mkdir()
    (rules / "console.yaml").write_text(CONSOLE_RULE)
    (rules / "idc.yaml").write_text(IDC_RULE)
    (rules / "okta.yaml").write_text(OKTA_RULE)
    pivot = DEFAULT_RULES_DIR / "ip_pivot_okta_failures_to_aws_console.yaml"
    (rules / pivot.name).write_text(pivot.read_text())
    (tmp / "identities.yaml").write_text(yaml.safe_dump(IDENTITIES))
    (tmp / "okta.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in okta))
    (tmp / "cloudtrail.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in cloudtrail))
    settings = JobSettings(
        inputs={"okta": [str(tmp / "okta.jsonl")], "cloudtrail": [str(tmp / "cloudtrail.jsonl")]},
        rules_dir=rules,
        identities=tmp / "identities.yaml",
        output=tmp / "out" / "alerts.jsonl",
    )
    return run_files(settings)


def _alerts(result: RunResult, rule: str) -> list[dict[str, Any]]:
    return [a for a in result.alerts if a["rule_id"] == rule]


def _ids(alert: dict[str, Any]) -> list[str]:
    return [e["event_id"] for e in alert["events"]]


def test_failed_console_sign_ins_without_arn_then_a_success_are_one_iam_user(
    run: RunResult,
) -> None:
    alerts = {a["entity"]["id"]: a for a in _alerts(run, "test-iam-console-guessing")}
    anaya_arn = f"arn:aws:iam::{ACCOUNT}:user/anaya"
    assert sorted(alerts) == ["raj", f"unresolved:aws_arn:{anaya_arn}"]
    anaya = alerts[f"unresolved:aws_arn:{anaya_arn}"]
    # The counted step shows its first and last failures, then the success.
    assert _ids(anaya) == ["anaya-f0", "anaya-f2", "anaya-ok"]
    assert [e["principal"] for e in anaya["events"]] == [
        f"IAMUser:{ACCOUNT}:anaya",
        f"IAMUser:{ACCOUNT}:anaya",
        anaya_arn,
    ]
    assert {"kind": "aws_arn", "value": anaya_arn} in anaya["entity"]["identifiers"]
    raj = alerts["raj"]
    assert _ids(raj) == ["raj-f0", "raj-f2", "raj-ok"]
    assert [e["resolved_by"] for e in raj["events"]] == ["static", "static", "static"]
    assert [e["resolved_via"] for e in raj["events"]] == [
        f"aws_arn:arn:aws-cn:iam::{CN_ACCOUNT}:user/raj"
    ] * 3


def test_identity_center_credentials_and_the_role_session_are_one_person(run: RunResult) -> None:
    (alert,) = _alerts(run, "test-idc-credentials-then-key")
    assert alert["entity"]["id"] == "kim"
    assert alert["entity"]["name"] == "Kim Ng"
    assert _ids(alert) == ["kim-credentials", "kim-create-key"]
    credentials, create_key = alert["events"]
    assert credentials["resolved_via"] == f"aws_principal_id:{KIM_ID}"
    assert create_key["principal"].endswith(f"/{SSO_ROLE}/kim.ng@example.com")
    assert create_key["access_key_id"] == KIM_KEY
    # The role session names the Identity Center user it was issued to (onBehalfOf).
    assert (create_key["resolved_by"], create_key["resolved_via"]) == (
        "static",
        f"aws_principal_id:{KIM_ID}",
    )


def test_an_ip_pivot_names_the_okta_users_and_the_root_account(run: RunResult) -> None:
    (alert,) = _alerts(run, PIVOT_RULE)
    assert alert["group_key"] == "192.0.2.66"
    assert _ids(alert) == ["spray-ana", "spray-cai", "root-login"]
    root = f"arn:aws:iam::{ACCOUNT}:root"
    assert [e["id"] for e in alert["entities"]] == [
        "email:ana@example.com",
        "email:cai@example.com",
        f"unresolved:aws_arn:{root}",
    ]
    assert alert["entity"]["resolved_by"] == "normalized"
    assert alert["entities"][2]["identifiers"] == [{"kind": "aws_arn", "value": root}]


def test_an_okta_user_is_its_okta_id_across_a_login_rename(run: RunResult) -> None:
    alerts = {a["entity"]["id"]: a for a in _alerts(run, "test-okta-guessing")}
    assert sorted(alerts) == [
        "email:mia.lund@example.com",
        "maria",
        "unresolved:okta_user_id:00u1jdoe",
    ]
    jdoe = alerts["unresolved:okta_user_id:00u1jdoe"]
    assert _ids(jdoe) == ["jdoe-f0", "jdoe-f2", "jdoe-ok"]
    assert [e["principal"] for e in jdoe["events"]] == ["jdoe", "jdoe", "john.doe2"]
    maria = alerts["maria"]
    assert _ids(maria) == ["maria-f0", "maria-f2", "maria-ok"]
    assert {e["resolved_via"] for e in maria["events"]} == {"okta_user_id:00u1maria"}


def test_an_unlisted_okta_user_renamed_between_addresses_is_one_entity(run: RunResult) -> None:
    (alert,) = [a for a in _alerts(run, "test-okta-guessing") if _ids(a)[0].startswith("mia-")]
    assert _ids(alert) == ["mia-f0", "mia-f2", "mia-ok"]
    assert [e["principal"] for e in alert["events"]] == [
        "mia.lund@example.com",
        "mia.lund@example.com",
        "mia.berg@example.com",
    ]
    assert [e["id"] for e in alert["entities"]] == ["email:mia.lund@example.com"]
    assert alert["entity"]["id"] == "email:mia.lund@example.com"
    assert [e["resolved_by"] for e in alert["events"]] == ["normalized"] * 3
    assert alert["events"][2]["resolved_via"] == "okta_user_id:00u1mia"
    identifiers = alert["entity"]["identifiers"]
    for ident in (
        {"kind": "okta_login", "value": "mia.lund@example.com"},
        {"kind": "okta_login", "value": "mia.berg@example.com"},
        {"kind": "okta_user_id", "value": "00u1mia"},
    ):
        assert ident in identifiers


def test_nothing_else_alerts(run: RunResult) -> None:
    assert sorted((a["rule_id"], a["entity"]["id"]) for a in run.alerts) == sorted(
        [
            ("test-iam-console-guessing", "raj"),
            ("test-iam-console-guessing", f"unresolved:aws_arn:arn:aws:iam::{ACCOUNT}:user/anaya"),
            ("test-idc-credentials-then-key", "kim"),
            (PIVOT_RULE, "email:ana@example.com"),
            ("test-okta-guessing", "maria"),
            ("test-okta-guessing", "email:mia.lund@example.com"),
            ("test-okta-guessing", "unresolved:okta_user_id:00u1jdoe"),
        ]
    )
    assert run.dead_letters == []
