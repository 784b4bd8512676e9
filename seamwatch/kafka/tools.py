"""Kafka tooling around the job: create the topics, replay log files, tail the alerts.

These run in the client (confluent-kafka, i.e. librdkafka), not in Flink. They read the same
client properties as the job (Java client keys, see :mod:`seamwatch.jobs.kafka_job`) and
translate the few that librdkafka spells differently
(:func:`seamwatch.kafka.client.librdkafka_config`).
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from seamwatch.errors import SeamwatchError
from seamwatch.kafka.codec import AlertFormat, decode_alert
from seamwatch.kafka.config import KafkaConfigError, KafkaTopics
from seamwatch.sources.damage import InputNotice
from seamwatch.sources.inputs import expand_paths, iter_records, replay_order
from seamwatch.sources.raw import RAW_SOURCES, record_time
from seamwatch.udfs.timeparse import parse_time

# Topic-level limit for the log and dead-letter topics: a dead letter carries the raw record.
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
# How long the tools wait for a broker to answer before they give up, unless
# $SEAMWATCH_BROKER_TIMEOUT (seconds) says otherwise (a broker far away, or a test that wants
# the refusal quickly).
BROKER_TIMEOUT_SECONDS = 10.0
BROKER_TIMEOUT_VARIABLE = "SEAMWATCH_BROKER_TIMEOUT"


def broker_timeout() -> float:
    """Seconds to wait for a broker's first answer: ``$SEAMWATCH_BROKER_TIMEOUT`` or 10."""
    text = os.environ.get(BROKER_TIMEOUT_VARIABLE, "").strip()
    if not text:
        return BROKER_TIMEOUT_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < 3600:
        raise KafkaConfigError(
            f"${BROKER_TIMEOUT_VARIABLE}={text!r}: give seconds, more than 0 and less than 3600"
        )
    return seconds


# librdkafka logs every failed connection attempt to stderr; the tools say it once themselves.
_QUIET = logging.getLogger("seamwatch.kafka.tools.librdkafka")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


class BrokerUnreachable(SeamwatchError, RuntimeError):
    """No Kafka broker answered (wrong address, broker down, or credentials refused)."""


def quiet(conf: Mapping[str, Any]) -> dict[str, Any]:
    """``conf`` with librdkafka's own log lines kept off the terminal."""
    return {**conf, "logger": _QUIET}


def check_broker(conf: Mapping[str, Any], timeout: float | None = None) -> None:
    """Raise :class:`BrokerUnreachable` unless a broker answers a metadata request within
    ``timeout`` seconds (:func:`broker_timeout` when None)."""
    if timeout is None:
        timeout = broker_timeout()
    # Deferred: confluent_kafka (librdkafka) loads only when Kafka is actually used.
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(quiet(conf))
    try:
        admin.list_topics(timeout=timeout)
    except KafkaException as exc:
        error = exc.args[0] if exc.args else exc
        reason = error.str() if hasattr(error, "str") else str(error)
        raise BrokerUnreachable(
            f"no Kafka broker answered at {conf.get('bootstrap.servers')} within "
            f"{timeout:g}s ({reason})"
        ) from exc


def topic_specs(topics: KafkaTopics) -> dict[str, dict[str, str]]:
    """Topic -> topic config: the identity topic compacted, the rest deleted by time."""
    big = {"max.message.bytes": str(MAX_MESSAGE_BYTES)}
    return {
        topics.okta: dict(big),
        topics.cloudtrail: dict(big),
        topics.entra: dict(big),
        topics.windows: dict(big),
        topics.dead_letters: dict(big),
        topics.late_events: {},
        topics.alerts: {},
        topics.identities: {"cleanup.policy": "compact"},
    }


def create_topics(
    conf: Mapping[str, Any], topics: KafkaTopics, partitions: int = 1, replication: int = 1
) -> dict[str, str]:
    """Create the topics; returns topic -> ``created`` or ``exists``. Other errors raise."""
    # Deferred: confluent_kafka (librdkafka) loads only when Kafka is actually used.
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient
    from confluent_kafka.cimpl import NewTopic

    admin = AdminClient(quiet(conf))
    specs = topic_specs(topics)
    futures = admin.create_topics(
        [NewTopic(name, partitions, replication, config=cfg) for name, cfg in specs.items()]
    )
    result: dict[str, str] = {}
    for name, future in futures.items():
        try:
            future.result()
            result[name] = "created"
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
            result[name] = "exists"
    return result


# ------------------------------------------------------------------------------------------
# Replay
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplayRecord:
    source: str
    value: bytes
    event_time: datetime | None


def _event_time(source: str, doc: Any) -> datetime | None:
    if not isinstance(doc, dict):
        return None
    if source in RAW_SOURCES:  # Entra ID, Windows: their normalizers' own time rules
        at = record_time(source, doc)
        return datetime.fromtimestamp(at / 1000, tz=UTC) if at is not None else None
    text = doc.get("published") if source == "okta" else doc.get("eventTime")
    if not isinstance(text, str):
        return None
    millis = parse_time(text)  # None when unreadable: replayed as is, the job dead-letters it
    return datetime.fromtimestamp(millis / 1000, tz=UTC) if millis is not None else None


def read_source_records(
    source: str, specs: Sequence[str], damaged: list[tuple[str, str]] | None = None
) -> list[ReplayRecord]:
    """The records of one source from files, in file order (the order the job sees).

    A damaged file gives its readable records; ``(path, reason)`` of each damaged file is
    appended to ``damaged``.
    """
    paths = replay_order(p for spec in specs for p in expand_paths(spec))
    records = []
    for ref, text, parsed in iter_records(source, paths):
        if isinstance(parsed, InputNotice):
            if parsed.kind == "damaged" and damaged is not None:
                damaged.append((ref, parsed.reason))
            continue
        try:
            doc = orjson.loads(text)
        except orjson.JSONDecodeError:
            doc = None
        # Bytes that were not UTF-8 go out as they came in (surrogateescape, sources.damage).
        value = text.encode("utf-8", "surrogateescape")
        records.append(ReplayRecord(source, value, _event_time(source, doc)))
    return records


def _format_like(original: str, at: datetime) -> str:
    """``at`` written like ``original``: milliseconds kept only if the original had them."""
    if "." in original:
        return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


# Times as Entra ID and Windows producers write them: ISO-8601 with a "T" or a space, any
# fraction, "Z", an offset or no zone (NXLog); and AD FS's US form.
_ISO_TIME = re.compile(r"(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")
_US_TIME = re.compile(r"\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2} [AP]M")
_US_FORMAT = "%m/%d/%Y %I:%M:%S %p"


def _shift_time_text(value: str, delta: timedelta) -> str:
    """``value`` moved by ``delta`` (whole seconds) if it is a time, in its own format."""
    iso = _ISO_TIME.fullmatch(value)
    if iso is not None:
        head = iso.group(1)
        moved = datetime.fromisoformat(head.replace(" ", "T")) + delta
        text = moved.strftime("%Y-%m-%dT%H:%M:%S" if "T" in head else "%Y-%m-%d %H:%M:%S")
        return text + (iso.group(2) or "") + (iso.group(3) or "")
    if _US_TIME.fullmatch(value):
        return (datetime.strptime(value, _US_FORMAT) + delta).strftime(_US_FORMAT)
    return value


def _shift_times(node: Any, delta: timedelta) -> Any:
    """Every time in ``node`` moved by ``delta``: a raw source's time is read from several
    keys, at several depths, some local (NXLog's ``EventTime`` beside Logstash's
    ``@timestamp``), so all of them move together and keep their differences."""
    if isinstance(node, dict):
        return {k: _shift_times(v, delta) for k, v in node.items()}
    if isinstance(node, list):
        return [_shift_times(v, delta) for v in node]
    if isinstance(node, str):
        return _shift_time_text(node, delta)
    return node


def _shift_raw(record: ReplayRecord, delta_seconds: float) -> ReplayRecord:
    delta = timedelta(seconds=round(delta_seconds))
    doc = _shift_times(orjson.loads(record.value), delta)
    return ReplayRecord(record.source, orjson.dumps(doc), _event_time(record.source, doc))


def shift_record(record: ReplayRecord, delta_seconds: float) -> ReplayRecord:
    """The record with its event time moved by ``delta_seconds`` (payload rewritten).

    Entra ID and Windows records have every time in them moved, by whole seconds, each
    written as before (:func:`_shift_times`).
    """
    if record.event_time is None or delta_seconds == 0:
        return record
    if record.source in RAW_SOURCES:
        return _shift_raw(record, delta_seconds)
    doc = orjson.loads(record.value)
    key = "published" if record.source == "okta" else "eventTime"
    moved = record.event_time + timedelta(seconds=delta_seconds)
    doc[key] = _format_like(str(doc[key]), moved)
    return ReplayRecord(record.source, orjson.dumps(doc), moved)


def plan_replay(
    by_source: Mapping[str, list[ReplayRecord]], shift_to_now: bool, now: datetime
) -> list[ReplayRecord]:
    """One sequence to produce: the sources interleaved by event time, each in its own order.

    With ``shift_to_now`` every record moves by the same amount so that the newest record of
    all sources is ``now``.
    """
    times = [r.event_time for rs in by_source.values() for r in rs if r.event_time is not None]
    delta = (now - max(times)).total_seconds() if shift_to_now and times else 0.0
    shifted = {s: [shift_record(r, delta) for r in rs] for s, rs in by_source.items()}
    # Merge per source in order: a record without time keeps its place after its predecessor.
    keyed = []
    for source, records in shifted.items():
        last = datetime.min.replace(tzinfo=UTC)
        for i, record in enumerate(records):
            last = record.event_time or last
            keyed.append((last, source, i, record))
    keyed.sort(key=lambda item: (item[0], item[1], item[2]))
    return [item[3] for item in keyed]


def produce(
    conf: Mapping[str, Any],
    topics: Mapping[str, str],
    records: Iterable[ReplayRecord],
    rate: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Produce records to their source's topic, at most ``rate`` per second; returns the count."""
    # Deferred: confluent_kafka (librdkafka) loads only when Kafka is actually used.
    from confluent_kafka import Producer

    producer = Producer({**quiet(conf), "message.max.bytes": MAX_MESSAGE_BYTES, "linger.ms": 5})
    started = time.monotonic()
    count = 0
    for record in records:
        while True:
            try:
                producer.produce(topics[record.source], record.value)
                break
            except BufferError:
                producer.poll(0.1)
        count += 1
        producer.poll(0)
        if progress is not None:
            progress(1)
        if rate:
            ahead = count / rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
    remaining = producer.flush(60)
    if remaining:
        raise RuntimeError(f"{remaining} records not delivered after 60 s")
    return count


# ------------------------------------------------------------------------------------------
# Alerts
# ------------------------------------------------------------------------------------------


def consume(
    conf: Mapping[str, Any],
    topic: str,
    *,
    from_beginning: bool = True,
    timeout: float | None = None,
    until: Callable[[list[Any]], bool] | None = None,
    idle_stop: float | None = None,
) -> Iterator[Any]:
    """Messages of ``topic`` as they become readable (read_committed), one consumer group each.

    Stops after ``timeout`` seconds, or ``idle_stop`` seconds without a message; runs until
    interrupted when neither is given.
    """
    # Deferred: confluent_kafka (librdkafka) loads only when Kafka is actually used.
    from confluent_kafka import Consumer

    consumer = Consumer(
        {
            **quiet(conf),
            "group.id": f"seamwatch-tail-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest" if from_beginning else "latest",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    consumer.subscribe([topic])
    deadline = time.monotonic() + timeout if timeout is not None else None
    last_seen = time.monotonic()
    try:
        while deadline is None or time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                if idle_stop is not None and time.monotonic() - last_seen > idle_stop:
                    return
                continue
            if message.error():
                continue
            last_seen = time.monotonic()
            yield message
    finally:
        consumer.close()


def read_alerts(
    conf: Mapping[str, Any], topic: str, fmt: AlertFormat, **kwargs: Any
) -> Iterator[dict[str, Any]]:
    """Decoded alerts of the alert topic (see :func:`consume` for the stop options)."""
    for message in consume(conf, topic, **kwargs):
        yield decode_alert(message.value(), fmt)


def dead_letter(message: Any) -> dict[str, Any]:
    decoded: dict[str, Any] = orjson.loads(message.value())
    return decoded


def load_files(
    inputs: Mapping[str, Sequence[str]], damaged: list[tuple[str, str]] | None = None
) -> dict[str, list[ReplayRecord]]:
    return {source: read_source_records(source, specs, damaged) for source, specs in inputs.items()}
