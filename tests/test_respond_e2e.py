"""``seamwatch run --respond live`` end to end: the real job on a mini-cluster, then the rule's
webhooks against real HTTP servers on loopback, one up and one down."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest
import yaml
from typer.testing import CliRunner

from seamwatch.cli.app import app
from seamwatch.jobs.settings import DEFAULT_RULES_DIR
from seamwatch.respond.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.http_receiver import closed_port_url, receiver

pytestmark = pytest.mark.flink

RULE = "okta-new-country-saml-access-key"
SECRET = "e2e-webhook-secret"


def test_live_run_posts_each_alert_signed_and_a_receiver_down_loses_nothing(
    tmp_path: Path,
) -> None:
    secret_file = tmp_path / "webhook-secret"
    secret_file.write_text(SECRET + "\n")
    rules = tmp_path / "rules"
    rules.mkdir()
    down = closed_port_url() + "/down"
    output = tmp_path / "out" / "alerts.jsonl"
    with receiver([503, 204]) as soar:
        rule = yaml.safe_load((DEFAULT_RULES_DIR / f"{RULE.replace('-', '_')}.yaml").read_text())
        rule.pop("tests")  # not run by `seamwatch run`
        rule["respond"] = [
            {"type": "webhook", "url": f"{soar.url}/soar"},
            {"type": "webhook", "url": down, "retries": 1, "timeout": 1},
        ]
        (rules / "rule.yaml").write_text(yaml.safe_dump(rule))
        started = time.time()
        result = CliRunner().invoke(
            app,
            ["run", "--rules", str(rules), "--output", str(output), "--respond", "live", "--quiet"],
            env={"SEAMWATCH_WEBHOOK_SECRET_FILE": str(secret_file)},
        )
    assert result.exit_code == 0, result.output
    alerts = [orjson.loads(line) for line in output.read_bytes().splitlines()]
    assert [a["rule_id"] for a in alerts] == [RULE]
    assert alerts[0]["entity"]["name"] == "Dana Whitfield"

    # The receiver got the alert as written, signed; the first 503 was retried.
    assert len(soar.received) == 2 and soar.received[0].body == soar.received[1].body
    got = soar.received[-1]
    assert got.path == "/soar"
    assert orjson.loads(got.body) == alerts[0]
    assert verify(
        got.body,
        got.headers[TIMESTAMP_HEADER],
        got.headers[SIGNATURE_HEADER],
        SECRET.encode(),
        now=int(time.time()),
    )
    assert int(got.headers[TIMESTAMP_HEADER]) >= int(started)

    # The receiver that is down: the alert is still in the output, the failure in the log.
    log = output.with_name("alerts.responses.jsonl")
    records = [orjson.loads(line) for line in log.read_bytes().splitlines()]
    by_url = {r["requests"][0]["url"]: r for r in records}
    assert by_url[f"{soar.url}/soar"]["status"] == "done"
    assert by_url[f"{soar.url}/soar"]["attempts"] == 2
    failed = by_url[down]
    assert (failed["status"], failed["attempts"], failed["alert_id"]) == (
        "failed",
        2,
        alerts[0]["alert_id"],
    )
    assert failed["reason"].startswith("no connection")
    assert "responses (live): 1 done, 1 failed" in result.output
