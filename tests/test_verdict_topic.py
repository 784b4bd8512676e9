"""Verdicts on the compacted ``seamwatch.verdicts`` topic, against a real Kafka broker."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from seamwatch.cli.app import app
from seamwatch.triage.verdict_topic import (
    create_verdict_topic,
    publish_verdict,
    read_verdict_topic,
)
from seamwatch.triage.verdicts import make_verdict
from tests.kafka_broker import KafkaBroker
from tests.triage_alerts import Ev, make_alert

pytestmark = pytest.mark.kafka
runner = CliRunner()
RULE = "okta-mfa-push-fatigue"


def _conf(broker: KafkaBroker) -> dict[str, Any]:
    return {"bootstrap.servers": broker.bootstrap}


def test_the_topic_is_compacted_and_the_last_verdict_of_an_alert_wins(
    kafka_broker: KafkaBroker,
) -> None:
    from confluent_kafka.admin import AdminClient
    from confluent_kafka.admin._config import ConfigResource

    conf, topic = _conf(kafka_broker), "verdicts-a"
    assert create_verdict_topic(conf, topic, partitions=3) == "created"
    assert create_verdict_topic(conf, topic) == "exists"
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    admin = AdminClient(conf)  # kept alive until the future resolves
    configs = admin.describe_configs([resource])[resource].result()
    assert configs["cleanup.policy"].value == "compact"

    for alert_id, kind in [
        ("a1", "benign"),
        ("b2", "duplicate"),
        ("c3", "benign"),
        ("a1", "confirmed"),
    ]:
        publish_verdict(conf, make_verdict(alert_id, kind, recorded_at=1, note=kind), topic)
    from confluent_kafka import Producer

    withdraw = Producer(conf)
    withdraw.produce(topic, key=b"c3", value=None)  # a tombstone withdraws c3's verdict
    withdraw.produce(topic, key=b"zz", value=b"not a verdict")
    withdraw.flush(10)
    log = read_verdict_topic(conf, topic)
    assert {k: v.verdict for k, v in log.latest.items()} == {"a1": "confirmed", "b2": "duplicate"}
    assert log.latest["a1"].note == "confirmed"
    assert log.lines == 6 and len(log.skipped) == 1


def test_verdicts_from_the_cli_reach_the_topic_and_rule_health_reads_them(
    kafka_broker: KafkaBroker, tmp_path: Path
) -> None:
    now = int(time.time() * 1000)
    alerts = []
    for i in range(10):
        alert = make_alert(
            f"user{i}", [Ev("okta", i, "user.mfa.okta_verify.deny_push")], rule_id=RULE
        )
        alert["detected_at"] = now - 3_600_000
        alerts.append(alert)
    file = tmp_path / "alerts.jsonl"
    file.write_bytes(b"".join(orjson.dumps(a) + b"\n" for a in alerts))
    topic = "verdicts-cli"
    kafka = ["--kafka", kafka_broker.bootstrap, "--verdict-topic", topic]
    for i, alert in enumerate(alerts):
        kind = "confirmed" if i < 2 else "benign"
        result = runner.invoke(
            app, ["verdict", alert["alert_id"], kind, "--alerts", str(file), *kafka]
        )
        assert result.exit_code == 0, result.output
    assert not (tmp_path / "verdicts.jsonl").exists()
    latest = read_verdict_topic(_conf(kafka_broker), topic).latest
    assert len(latest) == 10 and latest[alerts[0]["alert_id"]].rule_id == RULE

    result = runner.invoke(app, ["rules", "health", "--alerts", str(file), *kafka])
    assert result.exit_code == 0, result.output
    assert f"warning: {RULE} confirms 20% of 10 decided alerts" in result.output

    result = runner.invoke(
        app,
        [
            "rules",
            "health",
            "--alerts",
            str(file),
            "--kafka",
            kafka_broker.bootstrap,
            "--verdict-topic",
            "no-such-topic",
        ],
    )
    assert result.exit_code == 2 and "no-such-topic not found" in result.output
