"""``seamwatch respond --kafka`` against a real broker: the committed alerts of the alert topic
are acted on once each, an aborted transaction's alert never, and offsets are committed."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from seamwatch.kafka.codec import encode_alert
from seamwatch.respond.actions import WebhookAction
from seamwatch.respond.kafka_consumer import ConsumerOptions, respond_from_topic
from seamwatch.respond.runner import ResponseConfig
from seamwatch.respond.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from seamwatch.udfs.alerts import RuleMeta, build_alert
from seamwatch.udfs.identity import IdentityGraph
from tests.http_receiver import receiver
from tests.kafka_broker import KafkaBroker

pytestmark = pytest.mark.kafka

SECRET = b"kafka-webhook-secret"
RULE = "okta-new-country-saml-access-key"


def _alert(person: str, at: int) -> dict[str, Any]:
    entity = f"email:{person}@example.com"
    event = {
        "step": "okta_login",
        "event_id": f"{person}-login",
        "source": "okta",
        "event_time": at,
        "action": "user.session.start",
        "outcome": "success",
        "principal": f"{person}@example.com",
        "src_ip": "192.0.2.7",
        "country": "Romania",
        "entity_id": entity,
        "resolved_by": "normalized",
        "confidence": 0.9,
        "new_country": True,
        "raw_ref": "okta/0@1",
    }
    meta = RuleMeta(RULE, "t", "d", ("T1078.004",), "high", 900, "entity_id")
    return build_alert(meta, entity, json.dumps([event]), IdentityGraph(), at + 5_000)


def _produce(bootstrap: str, topic: str, committed: list[bytes], aborted: list[bytes]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": "alerts-writer"})
    producer.init_transactions(30)
    for values, commit in ((aborted, False), (committed, True)):
        producer.begin_transaction()
        for value in values:
            producer.produce(topic, value)
        producer.flush(30)
        if commit:
            producer.commit_transaction(30)
        else:
            producer.abort_transaction(30)


def test_committed_alerts_are_acted_on_once_and_offsets_committed(
    kafka_broker: KafkaBroker, tmp_path: Path
) -> None:
    topic = "seamwatch.alerts.respond"
    admin = AdminClient({"bootstrap.servers": kafka_broker.bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic].result(30)
    dana, liam, ghost = _alert("dana", 1_000_000), _alert("liam", 2_000_000), _alert("ghost", 3)
    later = {**dana, "match_count": 2}  # a suppressed rule's open alert, emitted again
    committed = [encode_alert(orjson.dumps(a).decode(), "avro") for a in (dana, liam, later)]
    aborted = [encode_alert(orjson.dumps(ghost).decode(), "avro")]
    _produce(kafka_broker.bootstrap, topic, [*committed, b"\x00not avro"], aborted)

    log = tmp_path / "responses.jsonl"
    conf = {"bootstrap.servers": kafka_broker.bootstrap}
    options = ConsumerOptions(group="responder", from_beginning=True, timeout=60, idle_stop=5)
    with receiver([204]) as soar:
        actions = {RULE: [WebhookAction(type="webhook", url=soar.url + "/hook")]}
        config = ResponseConfig(mode="live", webhook_secret=SECRET)
        counts = respond_from_topic(conf, topic, "avro", actions, config, log, options)
        again = respond_from_topic(conf, topic, "avro", actions, config, log, options)

    # Actions run on worker threads: the receiver sees them in any order.
    received = {a["alert_id"]: a for a in (orjson.loads(r.body) for r in soar.received)}
    assert len(soar.received) == 2 and set(received) == {dana["alert_id"], liam["alert_id"]}
    assert received[dana["alert_id"]]["entity"]["id"] == "email:dana@example.com"
    assert received[dana["alert_id"]]["first_event_time"] == 1_000_000  # epoch ms again
    now = int(time.time())
    for got in soar.received:
        assert verify(
            got.body, got.headers[TIMESTAMP_HEADER], got.headers[SIGNATURE_HEADER], SECRET, now=now
        )
    assert counts == {"done": 2, "failed": 1}  # the record that is not Avro is logged, skipped
    assert sum(again.values()) == 0  # offsets were committed: nothing is acted on twice
    records = [orjson.loads(line) for line in log.read_bytes().splitlines()]
    [bad] = [r for r in records if r["action"] == "decode"]
    assert bad["status"] == "failed" and f"{topic}/0@" in bad["reason"]
    assert ghost["alert_id"] not in {r["alert_id"] for r in records}
