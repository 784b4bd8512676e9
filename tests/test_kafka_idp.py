"""Entra ID and Windows / AD on their own Kafka topics, against a real broker and Flink.

The four-source scenario of ``tests/idp_scenario.py`` (Winlogbeat and NXLog Windows events, an
Entra Event Hub batch and a Graph list response, an Okta event, a CloudTrail S3 file) is
written to files and produced to the topics by ``seamwatch replay``, as an operator would. The
job reads all four topics; the catalog's cross-source rules must alert as they do on files.
A cut Windows record sent first must become a dead letter with its reason while the job goes on.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from seamwatch.cli.app import app
from seamwatch.jobs.kafka_job import KafkaSettings, start_kafka_job
from seamwatch.kafka.client import librdkafka_config
from seamwatch.kafka.codec import decode_alert
from seamwatch.kafka.tools import (
    ReplayRecord,
    consume,
    create_topics,
    dead_letter,
    produce,
    read_source_records,
    shift_record,
)
from tests.idp_scenario import HOME_IP, OBJECT_ID, SID, T0, UPN, Files, write_files
from tests.kafka_broker import KafkaBroker, unique_topics

pytestmark = [pytest.mark.kafka, pytest.mark.flink]

KERBEROAST = "kerberoasting-then-aws-activity"
RISKY = "entra-risky-sign-in-saml-iam-persistence"
SAML_CALL = "5e1d0000-0000-4000-8000-000000000001"
KEY_CALL = "5e1d0000-0000-4000-8000-000000000002"
CUT_WINDOWS = b'{"@timestamp": "2026-03-10T08:00:00.000Z", "winlog": {"event_id": "4769", '


@dataclass
class Replayed:
    settings: KafkaSettings
    conf: dict[str, Any]
    files: Files
    alerts: list[dict[str, Any]]


def _is_tick(source: str, doc: object) -> bool:
    """A record of the scenario no rule reads: Entra's RiskyUsers record, NXLog's 4658."""
    if not isinstance(doc, dict):
        return False
    if source == "entra":
        return doc.get("category") == "RiskyUsers"
    return doc.get("EventID") == 4658


def _later(files: Files) -> list[ReplayRecord]:
    """Per source one record three hours after the attack, which moves every topic's watermark
    past it: a copy of a record no rule reads (Entra, Windows; every time in it moved), or one
    that cannot be normalized (Okta, CloudTrail)."""
    then = T0 + timedelta(hours=3)
    ticks = []
    for source in ("entra", "windows"):
        records = read_source_records(source, files.inputs[source])
        tick = next(r for r in records if _is_tick(source, orjson.loads(r.value)))
        assert tick.event_time is not None
        moved = shift_record(tick, (then - tick.event_time).total_seconds())
        assert moved.event_time == then
        ticks.append(moved)
    at = then.strftime("%Y-%m-%dT%H:%M:%SZ")
    for source, key in (("okta", "published"), ("cloudtrail", "eventTime")):
        ticks.append(ReplayRecord(source, orjson.dumps({key: at, "eventType": 7}), None))
    return ticks


@pytest.fixture(scope="module")
def replayed(
    kafka_broker: KafkaBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Replayed]:
    tmp = tmp_path_factory.mktemp("kafka-idp")
    files = write_files(tmp / "in")
    topics = unique_topics("i")
    conf = librdkafka_config(kafka_broker.bootstrap, {})
    create_topics(conf, topics)
    settings = KafkaSettings(
        bootstrap=kafka_broker.bootstrap,
        topics=topics,
        identities=files.identities,
        sources=("okta", "cloudtrail", "entra", "windows"),
        watermark_seconds=dict.fromkeys(("okta", "cloudtrail", "entra", "windows"), 60),
        checkpoint_interval_ms=1000,
        checkpoint_dir=tmp / "checkpoints",
        transactional_id_prefix=f"seamwatch-{topics.okta}",
    )
    client = start_kafka_job(settings)
    try:
        produce(conf, topics.sources(), [ReplayRecord("windows", CUT_WINDOWS, None)])
        args = ["replay", "--kafka", kafka_broker.bootstrap]
        for source, specs in files.inputs.items():
            args += [f"--{source}-topic", topics.sources()[source]]
            args += [arg for spec in specs for arg in ("--input", f"{source}={spec}")]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        produce(conf, topics.sources(), _later(files))
        yield Replayed(
            settings, conf, files, _wait_alerts(conf, topics.alerts, {KERBEROAST, RISKY})
        )
    finally:
        with contextlib.suppress(Exception):
            client.cancel().result()


def _wait_alerts(conf: dict[str, Any], topic: str, rules: set[str]) -> list[dict[str, Any]]:
    """Every committed alert, read again from the start once each rule of ``rules`` has
    alerted (or 120 s passed) and the topic has been quiet for a few seconds."""
    seen: set[str] = set()
    deadline = time.monotonic() + 120
    for message in consume(conf, topic, timeout=120):
        seen.add(decode_alert(message.value(), "avro")["rule_id"])
        if rules <= seen or time.monotonic() > deadline:
            break
    time.sleep(3)  # an alert that should not be there has time to be committed
    return [decode_alert(m.value(), "avro") for m in consume(conf, topic, timeout=30, idle_stop=5)]


def _alert(replayed: Replayed, rule: str) -> dict[str, Any]:
    found = [a for a in replayed.alerts if a["rule_id"] == rule]
    assert len(found) == 1, [(a["rule_id"], a["entity"]["id"]) for a in replayed.alerts]
    return found[0]


def test_replay_names_the_entra_and_windows_topics(replayed: Replayed) -> None:
    topics = replayed.settings.topics
    entra = [m.value() for m in consume(replayed.conf, topics.entra, idle_stop=3)]
    windows = [m.value() for m in consume(replayed.conf, topics.windows, idle_stop=3)]
    # The Event Hub batch and the Graph list are unpacked: one record per sign-in or risk
    # record (3), then the tick.
    assert len(entra) == 3 + 1
    # The cut record, the five events of the Winlogbeat and NXLog files, the tick.
    assert windows[0] == CUT_WINDOWS and len(windows) == 1 + 5 + 1
    assert all("winlog" in orjson.loads(v) or "EventID" in orjson.loads(v) for v in windows[1:])


def test_kerberoasting_on_the_windows_topic_then_his_saml_session(replayed: Replayed) -> None:
    assert sorted(a["rule_id"] for a in replayed.alerts) == sorted([KERBEROAST, RISKY])
    alert = _alert(replayed, KERBEROAST)
    assert alert["entity"]["id"] == "jsmith" and alert["entity"]["name"] == "J Smith"
    events = alert["events"]
    assert [(e["source"], e["event_id"]) for e in events] == [
        ("windows", "dc01.corp.local:4769:88101"),
        ("windows", "dc01.corp.local:4769:88103"),
        ("cloudtrail", SAML_CALL),
    ]
    assert events[0]["count"] == 3
    assert events[0]["principal"] == "CORP.LOCAL\\jsmith"
    assert events[0]["resolved_via"] == "ad_sam:jsmith"
    # Each event points back to its Kafka record.
    windows_topic = replayed.settings.topics.windows
    assert events[0]["raw_ref"].startswith(f"{windows_topic}/0@")
    values = {(i["kind"], i["value"]) for i in alert["entity"]["identifiers"]}
    assert ("ad_sid", SID) in values


def test_risky_entra_sign_in_on_the_entra_topic_then_an_access_key(replayed: Replayed) -> None:
    alert = _alert(replayed, RISKY)
    assert alert["entity"]["id"] == "jsmith"
    events = alert["events"]
    assert [(e["source"], e["event_id"]) for e in events] == [
        ("entra", "b01e0000-0000-4000-8000-000000000002"),
        ("cloudtrail", SAML_CALL),
        ("cloudtrail", KEY_CALL),
    ]
    assert {e["src_ip"] for e in events} == {HOME_IP}
    assert events[0]["resolved_via"] == f"entra_object_id:{OBJECT_ID.lower()}"
    assert events[0]["country"] == "United States" and events[0]["new_country"] is False
    assert events[0]["raw_ref"].startswith(f"{replayed.settings.topics.entra}/0@")
    assert UPN in {i["value"] for i in alert["entity"]["identifiers"]}


def test_a_cut_windows_record_is_a_dead_letter_and_the_job_goes_on(replayed: Replayed) -> None:
    topics = replayed.settings.topics
    letters = [dead_letter(m) for m in consume(replayed.conf, topics.dead_letters, idle_stop=3)]
    cut = [d for d in letters if d["topic"] == topics.windows and d["offset"] == 0]
    assert len(cut) == 1
    assert cut[0]["source"] == "windows" and cut[0]["partition"] == 0
    assert cut[0]["reason"].startswith("invalid JSON")
    assert cut[0]["raw"].encode() == CUT_WINDOWS
    # Sent before everything else, and both attacks still alerted (the test above).
    reasons = sorted(
        {(d["source"], d["reason"]) for d in letters if d["source"] in ("entra", "windows")}
    )
    assert ("entra", "not of interest: Entra log category 'RiskyUsers' is not read") in reasons
    assert ("windows", "not of interest: event id 4658 is not read") in reasons


def test_the_entra_and_windows_tables_read_their_time_from_the_record(
    replayed: Replayed,
) -> None:
    from seamwatch.jobs.kafka_job import source_table_ddl

    settings = replayed.settings
    for source, idle in (("entra", "900000 ms"), ("windows", "60000 ms")):
        ddl = source_table_ddl("t", source, getattr(settings.topics, source), settings)
        assert f"'scan.watermark.idle-timeout' = '{idle}'" in ddl
        assert "'format' = 'raw'" in ddl
    entra = source_table_ddl("t", "entra", settings.topics.entra, settings)
    assert '"createdDateTime":"' in entra and '"TimeGenerated":"' in entra
    windows = source_table_ddl("t", "windows", settings.topics.windows, settings)
    assert '"SystemTime":"' in windows and '"@timestamp":"' in windows
    assert Path(replayed.files.identities).is_file()
