"""Response actions without Flink: the rule model, signing, and delivery to a real loopback
server (retries, a receiver that is down or slow, the deadline), Okta and AWS plans."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from seamwatch.jobs.settings import DEFAULT_RULES_DIR
from seamwatch.respond.actions import (
    Action,
    AwsDeactivateAccessKey,
    OktaRevokeSessions,
    WebhookAction,
)
from seamwatch.respond.aws import plan_keys
from seamwatch.respond.runner import (
    ResponseConfig,
    readiness,
    respond,
    response_log_path,
    run_action,
    write_log,
)
from seamwatch.respond.webhook import (
    ALERT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature,
    verify,
)
from seamwatch.rules.rulebook import load_rule
from seamwatch.yamlfile import ConfigError
from tests.http_receiver import closed_port_url, receiver

SECRET = b"s3cr3t-for-tests"
NOW_MS = 1_772_620_000_000


def _alert(alert_id: str = "a1b2c3", user_id: str | None = "00u1dana") -> dict[str, Any]:
    identifiers = [{"kind": "email", "value": "dana@example.com"}]
    if user_id:
        identifiers.insert(0, {"kind": "okta_user_id", "value": user_id})
    return {
        "alert_id": alert_id,
        "rule_id": "okta-new-country-saml-access-key",
        "severity": "high",
        "entity": {"id": "email:dana@example.com", "identifiers": identifiers},
        "events": [
            {"source": "okta", "action": "user.session.start", "principal": "dana@example.com"},
            {
                "source": "cloudtrail",
                "action": "CreateAccessKey",
                "principal": "arn:aws:iam::111122223333:user/eng/dana",
                "access_key_id": "AKIAEXAMPLEDANA00001",
            },
            {
                "source": "cloudtrail",
                "action": "ListBuckets",
                "principal": "arn:aws:sts::111122223333:assumed-role/Admin/dana",
                "access_key_id": "ASIAEXAMPLETEMP00001",
            },
        ],
    }


class Sleeps:
    """Records the backoff waits instead of sleeping them."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _live(**kwargs: Any) -> ResponseConfig:
    return ResponseConfig(mode="live", webhook_secret=SECRET, **kwargs)


# --- signing ----------------------------------------------------------------------------------


def test_a_receiver_verifies_the_signature_and_refuses_tampering_and_replays() -> None:
    body = orjson.dumps(_alert())
    sent = 1_772_620_000
    header = signature(body, SECRET, sent)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify(body, str(sent), header, SECRET, now=sent + 10)
    assert not verify(body + b" ", str(sent), header, SECRET, now=sent)  # body changed
    assert not verify(body, str(sent + 1), header, SECRET, now=sent)  # timestamp changed
    assert not verify(body, str(sent), header, b"other", now=sent)  # wrong secret
    assert not verify(body, str(sent), header, SECRET, now=sent + 301)  # a replay, too late
    assert not verify(body, None, header, SECRET, now=sent)


# --- the webhook against a real server on loopback ---------------------------------------------


def test_live_webhook_posts_the_alert_signed() -> None:
    alert = _alert()
    with receiver([204]) as server:
        action = WebhookAction(type="webhook", url=server.url + "/hooks/soc")
        result = run_action(action, 0, alert, _live(), NOW_MS)
    assert (result.status, result.attempts, result.reason) == ("done", 1, "HTTP 204")
    [got] = server.received
    assert (got.method, got.path) == ("POST", "/hooks/soc")
    assert orjson.loads(got.body) == alert
    assert got.headers[ALERT_ID_HEADER] == "a1b2c3"
    assert got.headers[TIMESTAMP_HEADER] == str(NOW_MS // 1000)
    assert verify(
        got.body,
        got.headers[TIMESTAMP_HEADER],
        got.headers[SIGNATURE_HEADER],
        SECRET,
        now=NOW_MS // 1000,
    )


def test_webhook_retries_server_errors_with_backoff_then_delivers() -> None:
    sleeps = Sleeps()
    with receiver([503, 500, 204]) as server:
        action = WebhookAction(type="webhook", url=server.url, retries=3)
        result = run_action(action, 0, _alert(), _live(sleep=sleeps), NOW_MS)
    assert (result.status, result.attempts) == ("done", 3)
    assert sleeps.waits == [0.5, 1.0]
    bodies = {r.body for r in server.received}
    assert len(server.received) == 3 and len(bodies) == 1  # the same signed alert each time


def test_webhook_gives_up_after_its_retries_and_says_why() -> None:
    sleeps = Sleeps()
    with receiver([500]) as server:
        action = WebhookAction(type="webhook", url=server.url, retries=2)
        result = run_action(action, 0, _alert(), _live(sleep=sleeps), NOW_MS)
    assert (result.status, result.attempts) == ("failed", 3)
    assert result.reason.startswith("HTTP 500") and "after 3 attempts" in result.reason
    assert len(server.received) == 3 and sleeps.waits == [0.5, 1.0]


def test_a_refused_request_is_not_retried() -> None:
    with receiver([403]) as server:
        action = WebhookAction(type="webhook", url=server.url, retries=3)
        result = run_action(action, 0, _alert(), _live(sleep=Sleeps()), NOW_MS)
    assert (result.status, result.attempts, len(server.received)) == ("failed", 1, 1)
    assert result.reason.startswith("HTTP 403")


def test_a_receiver_that_is_down_fails_the_action_after_bounded_retries() -> None:
    sleeps = Sleeps()
    action = WebhookAction(type="webhook", url=closed_port_url(), retries=2)
    result = run_action(action, 0, _alert(), _live(sleep=sleeps), NOW_MS)
    assert (result.status, result.attempts) == ("failed", 3)
    assert result.reason.startswith("no connection")
    assert sleeps.waits == [0.5, 1.0]


def test_a_slow_receiver_costs_at_most_the_timeout_per_attempt() -> None:
    with receiver([204], delay=3.0) as server:
        action = WebhookAction(type="webhook", url=server.url, timeout=0.3, retries=1)
        started = time.monotonic()
        result = run_action(action, 0, _alert(), _live(sleep=Sleeps()), NOW_MS)
        took = time.monotonic() - started
    assert (result.status, result.attempts) == ("failed", 2)
    assert "timed out" in result.reason
    assert took < 2.0


def test_after_the_deadline_no_further_action_starts_and_each_is_recorded() -> None:
    alerts = [_alert(f"alert{i}") for i in range(4)]
    with receiver([204], delay=0.5) as server:
        actions = {alerts[0]["rule_id"]: [WebhookAction(type="webhook", url=server.url)]}
        config = _live(workers=1, deadline_seconds=0.2)
        started = time.monotonic()
        results = respond(alerts, actions, config)
        took = time.monotonic() - started
    assert [r.alert_id for r in results] == ["alert0", "alert1", "alert2", "alert3"]
    assert [r.status for r in results] == ["done", "failed", "failed", "failed"]
    assert all("deadline" in r.reason for r in results[1:])
    assert len(server.received) == 1 and took < 2.0


def test_dry_run_sends_nothing_and_records_the_request_it_would_make(tmp_path: Path) -> None:
    with receiver([204]) as server:
        action = WebhookAction(type="webhook", url=server.url + "/x")
        config = ResponseConfig(mode="dry-run", webhook_secret=SECRET)
        results = respond([_alert()], {"okta-new-country-saml-access-key": [action]}, config)
    assert server.received == []
    [result] = results
    assert result.status == "dry-run" and result.attempts == 0
    [request] = result.requests
    assert (request["method"], request["url"]) == ("POST", server.url + "/x")
    assert request["headers"][SIGNATURE_HEADER].startswith("sha256=")
    log = response_log_path(tmp_path / "alerts.jsonl")
    write_log(log, results)
    assert log.name == "alerts.responses.jsonl"
    [line] = [orjson.loads(x) for x in log.read_bytes().splitlines()]
    assert (line["alert_id"], line["status"], line["mode"]) == ("a1b2c3", "dry-run", "dry-run")


# --- Okta and AWS -------------------------------------------------------------------------------


def test_okta_revoke_deletes_the_users_sessions_and_keeps_the_token_out_of_the_log() -> None:
    action = OktaRevokeSessions(type="okta_revoke_sessions", oauth_tokens=True)
    with receiver([204]) as okta:
        config = ResponseConfig(mode="live", okta_org_url=okta.url + "/", okta_token="tok-123")
        result = run_action(action, 0, _alert(), config, NOW_MS)
    assert result.status == "done"
    [got] = okta.received
    assert (got.method, got.path) == ("DELETE", "/api/v1/users/00u1dana/sessions?oauthTokens=true")
    assert got.headers["Authorization"] == "SSWS tok-123"
    assert "tok-123" not in orjson.dumps(result.to_record()).decode()


def test_okta_revoke_skips_an_alert_without_an_okta_user_id() -> None:
    action = OktaRevokeSessions(type="okta_revoke_sessions")
    config = ResponseConfig(mode="live", okta_org_url="http://127.0.0.1:9", okta_token="t")
    result = run_action(action, 0, _alert(user_id=None), config, NOW_MS)
    assert (result.status, result.attempts) == ("skipped", 0)
    assert "okta_user_id" in result.reason


def test_aws_plan_deactivates_the_users_long_term_key_and_skips_temporary_credentials() -> None:
    plans = {p.access_key_id: p for p in plan_keys(_alert())}
    key = plans["AKIAEXAMPLEDANA00001"]
    assert (key.user_name, key.account, key.skip) == ("dana", "111122223333", None)
    assert key.describe()["params"] == {
        "UserName": "dana",
        "AccessKeyId": "AKIAEXAMPLEDANA00001",
        "Status": "Inactive",
    }
    assert "temporary" in (plans["ASIAEXAMPLETEMP00001"].skip or "")
    action = AwsDeactivateAccessKey(type="aws_deactivate_access_key")
    dry = run_action(action, 0, _alert(), ResponseConfig(), NOW_MS)
    assert dry.status == "dry-run" and "AKIAEXAMPLEDANA00001" in dry.reason


_IAM_NS = 'xmlns="https://iam.amazonaws.com/doc/2010-05-08/"'
_IAM_OK = (
    f"<UpdateAccessKeyResponse {_IAM_NS}><ResponseMetadata><RequestId>r-1</RequestId>"
    "</ResponseMetadata></UpdateAccessKeyResponse>"
).encode()
_IAM_DENIED = (
    f"<ErrorResponse {_IAM_NS}><Error><Type>Sender</Type><Code>AccessDenied</Code>"
    "<Message>not authorized to perform iam:UpdateAccessKey</Message></Error>"
    "<RequestId>r-2</RequestId></ErrorResponse>"
).encode()


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Credentials of the standard chain, and nothing else the SDK could find on this machine."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIARESPONDERTEST001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "responder-secret")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.usefixtures("aws_credentials")
def test_live_aws_deactivates_the_long_term_key_over_the_iam_api() -> None:
    action = AwsDeactivateAccessKey(type="aws_deactivate_access_key", timeout=5, retries=0)
    with receiver([200], body=_IAM_OK) as iam:
        config = ResponseConfig(mode="live", aws_iam_endpoint=iam.url)
        result = run_action(action, 0, _alert(), config, NOW_MS)
    assert result.status == "done", result.reason
    assert "AKIAEXAMPLEDANA00001 of dana set Inactive" in result.reason
    assert "skipped ASIAEXAMPLETEMP00001" in result.reason  # the temporary key: nothing to call
    (call,) = iam.received
    form = dict(pair.split("=", 1) for pair in call.body.decode().split("&"))
    assert form["Action"] == "UpdateAccessKey"
    assert (form["UserName"], form["AccessKeyId"], form["Status"]) == (
        "dana",
        "AKIAEXAMPLEDANA00001",
        "Inactive",
    )
    # Signed with the standard chain's credentials, for IAM's region.
    auth = call.headers["Authorization"]
    assert "AKIARESPONDERTEST001/" in auth and "/us-east-1/iam/aws4_request" in auth


@pytest.mark.usefixtures("aws_credentials")
def test_live_aws_refused_by_iam_is_a_failed_action_with_aws_reason() -> None:
    action = AwsDeactivateAccessKey(type="aws_deactivate_access_key", timeout=5, retries=0)
    with receiver([403], body=_IAM_DENIED) as iam:
        config = ResponseConfig(mode="live", aws_iam_endpoint=iam.url)
        result = run_action(action, 0, _alert(), config, NOW_MS)
    assert result.status == "failed"
    assert result.reason.startswith("AccessDenied: not authorized")
    assert len(iam.received) == 1  # a refusal is not retried


@pytest.mark.usefixtures("aws_credentials")
def test_live_aws_with_iam_unreachable_fails_without_raising() -> None:
    action = AwsDeactivateAccessKey(type="aws_deactivate_access_key", timeout=1, retries=1)
    config = ResponseConfig(mode="live", aws_iam_endpoint=closed_port_url())
    result = run_action(action, 0, _alert(), config, NOW_MS)
    assert result.status == "failed"
    assert "EndpointConnectionError" in result.reason or "Could not connect" in result.reason


# --- deployment config and the rule file -------------------------------------------------------


def test_credentials_come_from_files_and_a_live_run_without_them_is_refused(
    tmp_path: Path,
) -> None:
    secret_file = tmp_path / "webhook-secret"
    secret_file.write_text("from-a-secret\n")
    env = {"SEAMWATCH_WEBHOOK_SECRET_FILE": str(secret_file)}
    assert ResponseConfig.from_env("live", env).webhook_secret == b"from-a-secret"
    actions: list[Action] = [
        WebhookAction(type="webhook", url="https://soar.example/hook"),
        OktaRevokeSessions(type="okta_revoke_sessions"),
    ]
    errors, _ = readiness(actions, ResponseConfig.from_env("live", {}))
    assert len(errors) == 3 and "SEAMWATCH_WEBHOOK_SECRET_FILE" in errors[0]
    assert readiness(actions, ResponseConfig.from_env("dry-run", {})) == ([], [])
    missing = {"SEAMWATCH_OKTA_TOKEN_FILE": str(tmp_path / "none")}
    with pytest.raises(ValueError, match="cannot read"):
        ResponseConfig.from_env("live", missing)
    assert ResponseConfig.from_env("dry-run", missing).okta_token is None


def _rule_with(tmp_path: Path, respond_yaml: str) -> Path:
    base = (DEFAULT_RULES_DIR / "okta_new_country_saml_access_key.yaml").read_text()
    base = base.split("\nrespond:")[0].split("\ntests:")[0]
    path = tmp_path / "rule.yaml"
    path.write_text(base + "\nrespond:\n" + respond_yaml)
    return path


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_a_rule_names_its_actions(tmp_path: Path) -> None:
    rule_yaml = "  - type: webhook\n    url: https://soar.example/hook\n    retries: 1\n"
    rule_yaml += "  - type: okta_revoke_sessions\n  - type: aws_deactivate_access_key\n"
    path = _rule_with(tmp_path, rule_yaml)
    rule = load_rule(path)
    assert [a.type for a in rule.respond] == [
        "webhook",
        "okta_revoke_sessions",
        "aws_deactivate_access_key",
    ]
    assert isinstance(rule.respond[0], WebhookAction) and rule.respond[0].retries == 1


@pytest.mark.parametrize(
    ("entry", "at", "reason"),
    [
        ("  - type: webhook\n    url: ftp://soar.example/\n", "ftp://", "not an http(s) URL"),
        ("  - type: webhook\n    url: https://soar.example/\n    timeout: 90\n", "timeout", "30"),
        ("  - type: page_someone\n", "page_someone", "does not match any of the expected"),
        ("  - type: okta_revoke_sessions\n    user: dana\n", "user:", "Extra inputs"),
    ],
)
def test_a_bad_action_is_refused_with_its_line(
    tmp_path: Path, entry: str, at: str, reason: str
) -> None:
    path = _rule_with(tmp_path, "  - type: webhook\n    url: https://ok.example/\n" + entry)
    with pytest.raises(ConfigError) as caught:
        load_rule(path)
    assert caught.value.line == _line_of(path, at), caught.value
    assert reason in caught.value.reason


def test_a_credential_in_a_rule_is_refused_at_its_entry(tmp_path: Path) -> None:
    entry = "  - type: webhook\n    url: https://soar.example/\n    secret: hunter2\n"
    path = _rule_with(tmp_path, "  - type: webhook\n    url: https://ok.example/\n" + entry)
    with pytest.raises(ConfigError) as caught:
        load_rule(path)
    entries = [i for i, line in enumerate(path.read_text().splitlines(), 1) if "- type:" in line]
    assert caught.value.line == entries[-1], caught.value
    assert "'secret': credentials never go in a rule file" in caught.value.reason


def test_a_live_run_without_the_webhook_secret_is_refused_before_flink(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from seamwatch.cli.app import app

    rules = tmp_path / "rules"
    rules.mkdir()
    _rule_with(rules, "  - type: webhook\n    url: https://soar.example/hook\n")
    output = tmp_path / "out" / "alerts.jsonl"
    args = ["run", "--rules", str(rules), "--output", str(output)]
    env = {"SEAMWATCH_WEBHOOK_SECRET_FILE": "", "SEAMWATCH_WEBHOOK_SECRET": ""}
    result = CliRunner().invoke(app, [*args, "--respond", "live"], env=env)
    assert result.exit_code == 2
    assert "SEAMWATCH_WEBHOOK_SECRET_FILE" in result.output
    assert not output.parent.exists()
    result = CliRunner().invoke(app, [*args, "--respond", "maybe"], env=env)
    assert result.exit_code == 2 and "choose dry-run or live" in result.output


def test_respond_acts_on_an_alert_file_and_appends_to_the_log(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from seamwatch.cli.app import app

    secret = tmp_path / "secret"
    secret.write_bytes(SECRET)
    alerts = tmp_path / "alerts.jsonl"
    alerts.write_bytes(b"".join(orjson.dumps(_alert(f"id{i}")) + b"\n" for i in range(2)))
    log = tmp_path / "responses.jsonl"
    log.write_text('{"earlier": true}\n')
    rules = tmp_path / "rules"
    rules.mkdir()
    with receiver([204]) as soar:
        _rule_with(rules, f"  - type: webhook\n    url: {soar.url}/hook\n")
        result = CliRunner().invoke(
            app,
            [
                "respond",
                "--alerts",
                str(alerts),
                "--rules",
                str(rules),
                "--log",
                str(log),
                "--respond",
                "live",
            ],
            env={"SEAMWATCH_WEBHOOK_SECRET_FILE": str(secret)},
        )
    assert result.exit_code == 0, result.output
    assert sorted(orjson.loads(r.body)["alert_id"] for r in soar.received) == ["id0", "id1"]
    lines = [orjson.loads(line) for line in log.read_bytes().splitlines()]
    assert lines[0] == {"earlier": True}
    assert [(r["alert_id"], r["status"]) for r in lines[1:]] == [("id0", "done"), ("id1", "done")]
    assert "responses (live): 2 done" in result.output
    neither = CliRunner().invoke(app, ["respond", "--rules", str(rules)])
    assert neither.exit_code == 2 and "--kafka BOOTSTRAP or --alerts FILE" in neither.output
