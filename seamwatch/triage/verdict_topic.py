"""Verdicts on Kafka: the compacted ``seamwatch.verdicts`` topic, keyed by ``alert_id``.

The shared counterpart of the local file store (:mod:`seamwatch.triage.verdicts`): one record
per verdict, its key the alert id and its value the same JSON object as a store line. All
verdicts of an alert share a key, hence a partition, so the last one in offset order is the
alert's verdict, and compaction keeps exactly that one. A record without a value (tombstone)
withdraws the alert's verdict. Client-side only (confluent-kafka), with the client properties
the other Kafka commands use.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

import orjson

from seamwatch.errors import SeamwatchError
from seamwatch.triage.verdicts import Verdict, VerdictError, VerdictLog, parse_verdict

VERDICT_TOPIC = "seamwatch.verdicts"
TOPIC_CONFIG = {"cleanup.policy": "compact"}


class VerdictTopicError(SeamwatchError, RuntimeError):
    """The topic could not be written or read to its end."""


def create_verdict_topic(
    conf: Mapping[str, Any],
    topic: str = VERDICT_TOPIC,
    *,
    partitions: int = 1,
    replication: int = 1,
) -> str:
    """Create the compacted topic; ``created``, or ``exists`` when it is already there."""
    # Deferred: confluent_kafka (librdkafka) loads only when Kafka is actually used.
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient
    from confluent_kafka.cimpl import NewTopic

    admin = AdminClient(dict(conf))
    future = admin.create_topics(
        [NewTopic(topic, partitions, replication, config=dict(TOPIC_CONFIG))]
    )[topic]
    try:
        future.result()
    except KafkaException as exc:
        if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise VerdictTopicError(f"creating {topic}: {exc.args[0].str()}") from exc
        return "exists"
    return "created"


def publish_verdict(
    conf: Mapping[str, Any], verdict: Verdict, topic: str = VERDICT_TOPIC, timeout: float = 30.0
) -> None:
    """Write one verdict and wait until the broker acknowledged it (all in-sync replicas)."""
    # Deferred: confluent_kafka (librdkafka) loads only when Kafka is actually used.
    from confluent_kafka import Producer

    producer = Producer({**conf, "acks": "all", "enable.idempotence": True})
    failures: list[str] = []

    def delivered(err: Any, _message: Any) -> None:
        if err is not None:
            failures.append(str(err))

    producer.produce(
        topic, key=verdict.alert_id.encode(), value=verdict.to_json(), on_delivery=delivered
    )
    left = producer.flush(timeout)
    if left or failures:
        reason = failures[0] if failures else f"not acknowledged within {timeout:.0f}s"
        raise VerdictTopicError(f"verdict on {verdict.alert_id} to {topic}: {reason}")


def read_verdict_topic(
    conf: Mapping[str, Any], topic: str = VERDICT_TOPIC, timeout: float = 30.0
) -> VerdictLog:
    """Every verdict on the topic up to its current end, the last of each alert winning.

    Reads each partition from the beginning to the high watermark it had when the read
    started, with a throw-away consumer group (nothing is committed). A value that is not a
    verdict is skipped and reported, like a damaged store line.
    """
    # Deferred: confluent_kafka (librdkafka) loads only when Kafka is actually used.
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer(
        {
            **conf,
            "group.id": f"seamwatch-verdicts-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
        }
    )
    latest: dict[str, Verdict] = {}
    skipped: list[str] = []
    lines = 0
    try:
        metadata = consumer.list_topics(topic, timeout=timeout).topics.get(topic)
        if metadata is None or metadata.error is not None or not metadata.partitions:
            raise VerdictTopicError(
                f"topic {topic} not found (it is created by the first `seamwatch verdict --kafka`)"
            )
        ends: dict[int, int] = {}
        for partition in metadata.partitions:
            low, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=timeout
            )
            if high > low:
                ends[partition] = high
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends])
        deadline = time.monotonic() + timeout
        while ends:
            if time.monotonic() > deadline:
                raise VerdictTopicError(f"reading {topic}: not at its end after {timeout:.0f}s")
            message = consumer.poll(0.5)
            if message is None:
                # Past the end without a message: transaction markers take offsets too.
                for position in consumer.position([TopicPartition(topic, p) for p in list(ends)]):
                    if position.offset >= ends[position.partition]:
                        ends.pop(position.partition, None)
                continue
            if message.error():
                raise VerdictTopicError(f"reading {topic}: {message.error()}")
            lines += 1
            key = message.key()
            value = message.value()
            where = f"{topic}/{message.partition()}@{message.offset()}"
            if value is None:
                if key is not None:
                    latest.pop(key.decode(errors="replace"), None)
            else:
                try:
                    verdict = parse_verdict(orjson.loads(value))
                except (orjson.JSONDecodeError, VerdictError, KeyError, TypeError) as exc:
                    skipped.append(f"{where}: {exc}")
                else:
                    latest.pop(verdict.alert_id, None)
                    latest[verdict.alert_id] = verdict
            partition, offset = message.partition(), message.offset()
            if (
                partition is not None
                and offset is not None
                and offset + 1 >= ends.get(partition, 0)
            ):
                ends.pop(partition, None)
    finally:
        consumer.close()
    return VerdictLog(latest, lines, skipped)
