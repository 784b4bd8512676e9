"""Kafka in and out against a real broker (KRaft) and a real Flink mini-cluster.

One broker serves the module. One job (``live_job``) runs for the first tests, in order: bad
records then the bundled scenario (dead letters + the field attack's alert), then identity
mappings published while it runs. The checkpoint test runs its own job twice on its own topics.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from seamwatch.jobs.kafka_job import KafkaSettings, start_kafka_job
from seamwatch.kafka.client import librdkafka_config
from seamwatch.kafka.codec import avro_decode, encode_mapping
from seamwatch.kafka.tools import (
    ReplayRecord,
    consume,
    create_topics,
    dead_letter,
    plan_replay,
    produce,
)
from seamwatch.sample.factories import (
    Geo,
    ct_call,
    okta_session_start,
)
from seamwatch.sample.scenario import build_sample
from tests.flink_cluster import latest_checkpoint
from tests.kafka_broker import KafkaBroker, unique_topics
from tests.scenarios import ABROAD, ACCOUNT, HOME, ROLE, field_steps, person

pytestmark = [pytest.mark.kafka, pytest.mark.flink]

RULE = "okta-new-country-saml-access-key"
WATERMARK_SECONDS = 60
LATER = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)  # after the bundled scenario's four days
ELSEWHERE = Geo("Sao Paulo", "Sao Paulo", "Brazil", "01000", -23.55, -46.63, ("200.147.3.157",), -3)


@dataclass
class Running:
    settings: KafkaSettings
    conf: dict[str, Any]
    client: Any


def _settings(broker: KafkaBroker, identities: Path, **kwargs: Any) -> KafkaSettings:
    topics = unique_topics("t")
    settings = KafkaSettings(
        bootstrap=broker.bootstrap,
        topics=topics,
        identities=identities,
        watermark_seconds={"okta": WATERMARK_SECONDS, "cloudtrail": WATERMARK_SECONDS},
        checkpoint_interval_ms=1000,
        transactional_id_prefix=f"seamwatch-{topics.okta}",
        **kwargs,
    )
    create_topics(librdkafka_config(broker.bootstrap, {}), topics)
    return settings


def _cancel(client: Any) -> None:
    # A job that already failed or finished has nothing left to stop.
    with contextlib.suppress(Exception):
        client.cancel().result()


@pytest.fixture(scope="module")
def identities_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("identities") / "identities.yaml"
    path.write_text(yaml.safe_dump(build_sample().identities), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def live_job(
    kafka_broker: KafkaBroker, identities_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    checkpoints = tmp_path_factory.mktemp("live-checkpoints")
    settings = _settings(kafka_broker, identities_file, checkpoint_dir=checkpoints)
    client = start_kafka_job(settings)
    try:
        yield Running(settings, librdkafka_config(kafka_broker.bootstrap, {}), client)
    finally:
        _cancel(client)


def _records(source: str, docs: list[dict[str, Any]]) -> list[ReplayRecord]:
    return [ReplayRecord(source, orjson.dumps(doc), None) for doc in docs]


def _send(run: Running, okta: list[dict[str, Any]], cloudtrail: list[dict[str, Any]]) -> None:
    by_time = plan_replay(
        {
            "okta": [ReplayRecord("okta", orjson.dumps(d), _time(d["published"])) for d in okta],
            "cloudtrail": [
                ReplayRecord("cloudtrail", orjson.dumps(d), _time(d["eventTime"]))
                for d in cloudtrail
            ],
        },
        shift_to_now=False,
        now=LATER,
    )
    produce(run.conf, run.settings.topics.sources(), by_time)


def _send_in_turn(
    run: Running, okta: list[dict[str, Any]], cloudtrail: list[dict[str, Any]]
) -> None:
    """Like :func:`_send`, but each run of one source's records (in time order) is read by the
    job before the next is produced.

    A source that was idle (no record for its idle timeout) rejoins the watermark only when
    its reader emits again; produced together, the other topic's later records could be read
    first and put the earlier records of the idle one behind the watermark, as late. Waiting
    for the job's committed offset (committed when a checkpoint completes, after the reader
    emitted them) takes that race out of the tests.
    """
    records = sorted(
        [("okta", _time(d["published"]), d) for d in okta]
        + [("cloudtrail", _time(d["eventTime"]), d) for d in cloudtrail],
        key=lambda item: item[1],
    )
    topics = run.settings.topics.sources()
    for source, group in itertools.groupby(records, key=lambda item: item[0]):
        values = [ReplayRecord(source, orjson.dumps(d), None) for _, _, d in group]
        produce(run.conf, {source: topics[source]}, values)
        _wait_read(run, topics[source])


def _wait_read(run: Running, topic: str, timeout: float = 90) -> None:
    """Until the job's consumer group has committed the end of ``topic`` (one partition)."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({**run.conf, "group.id": run.settings.group_id})
    try:
        _, end = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        deadline = time.monotonic() + timeout
        while True:
            [committed] = consumer.committed([TopicPartition(topic, 0)], timeout=10)
            if committed.offset >= end:
                return
            assert time.monotonic() < deadline, f"the job did not read {topic} to {end}"
            time.sleep(0.2)
    finally:
        consumer.close()


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _attack(
    key: str, at: datetime, seed: int, geo: Geo = ABROAD, home_first: bool = True
) -> tuple[list[Any], list[Any], tuple[str, ...]]:
    """Sign-in at home a day before (the baseline flags nothing while an entity has less than
    ``DEFAULT_LEARNING_DAYS`` of history); then the field attack at ``at`` from ``geo``; then
    later traffic. The trailing records (an hour later, both sources) move the watermark past
    the attack.
    """
    rng = random.Random(seed)
    who = person(key)
    home = okta_session_start(who, at - timedelta(days=1, hours=2), HOME.ips[0], HOME, rng=rng)
    steps = field_steps(who, at, rng, login_geo=geo)
    bystander = person("tick.tock")
    tick_okta = okta_session_start(bystander, at + timedelta(hours=1), HOME.ips[0], HOME, rng=rng)
    tick_ct = ct_call(
        bystander,
        at + timedelta(hours=1),
        HOME.ips[0],
        "sts.amazonaws.com",
        "GetCallerIdentity",
        ACCOUNT,
        ROLE,
        "ASIATICKTOCK0000001",
        rng=rng,
    )
    okta = [home, steps.login, tick_okta] if home_first else [steps.login, tick_okta]
    return okta, [steps.issued.record, steps.created, tick_ct], steps.ids


def _wait_alert(
    run: Running, match: Callable[[dict[str, Any]], bool], timeout: float = 90
) -> dict[str, Any]:
    """The first committed alert on the alert topic that ``match`` accepts (Avro decoded)."""
    from seamwatch.kafka.codec import decode_alert

    deadline = time.monotonic() + timeout
    seen: list[str] = []
    for message in consume(run.conf, run.settings.topics.alerts, timeout=timeout):
        alert = decode_alert(message.value(), run.settings.alert_format)
        if match(alert):
            return alert
        seen.append(f"{alert['rule_id']} {alert['entity']['id']}")
        if time.monotonic() > deadline:
            break
    raise AssertionError(f"no matching alert within {timeout:.0f}s; alerts seen: {seen}")


def _event_ids(alert: dict[str, Any]) -> tuple[str, ...]:
    return tuple(e["event_id"] for e in alert["events"])


def test_bad_records_are_dead_lettered_and_the_scenario_still_alerts(live_job: Running) -> None:
    okta_topic = live_job.settings.topics.okta
    huge = b'{"published": "' + b"9" * (5 * 1024 * 1024) + b'"}'
    bad = [
        b'{"eventType": "user.session.start", "published": ',  # cut-off JSON
        orjson.dumps({"uuid": 42, "published": ["2026-03-02"], "eventType": 7}),  # wrong types
        b"",  # empty value
        huge,
    ]
    produce(live_job.conf, {"okta": okta_topic}, [ReplayRecord("okta", v, None) for v in bad])
    sample = build_sample()
    _send(live_job, sample.okta, sample.cloudtrail)

    alert = _wait_alert(live_job, lambda a: _event_ids(a) == sample.attack.event_ids)
    assert alert["rule_id"] == RULE
    assert alert["entity"]["id"] == sample.attack.entity == "dana.whitfield"
    assert [e["action"] for e in alert["events"]] == [
        "user.session.start",
        "AssumeRoleWithSAML",
        "CreateAccessKey",
    ]
    assert {e["src_ip"] for e in alert["events"]} == {sample.attack.ip}

    letters = []
    for message in consume(live_job.conf, live_job.settings.topics.dead_letters, timeout=60):
        letters.append(dead_letter(message))
        if len(letters) >= len(bad):
            break
    assert [(d["topic"], d["partition"], d["offset"]) for d in letters] == [
        (okta_topic, 0, offset) for offset in range(len(bad))
    ]
    assert all(d["reason"] and d["source"] == "okta" for d in letters)
    assert "JSON" in letters[0]["reason"]
    assert letters[2]["reason"] == "empty record"
    # An oversize record's dead letter keeps a bounded prefix, the size and a hash.
    assert letters[3]["raw_truncated"] is True and letters[3]["raw_bytes"] == len(huge)
    assert letters[3]["raw_sha256"] == hashlib.sha256(huge).hexdigest()
    assert huge.startswith(letters[3]["raw"].encode())


def test_identity_mapping_published_while_running_changes_the_entity(live_job: Running) -> None:
    from confluent_kafka import Producer

    topic = live_job.settings.topics.identities
    producer = Producer(live_job.conf)
    mapped = {
        "id": "zoe.contractor",
        "type": "human",
        "name": "Zoe Contractor (via HR feed)",
        "identifiers": [{"kind": "email", "value": "zoe.quinn@example.com"}],
    }
    producer.produce(topic, key=b"zoe.contractor", value=encode_mapping(mapped))
    producer.flush(10)
    time.sleep(4)  # the resolvers poll the topic about every half second

    okta, cloudtrail, ids = _attack("zoe.quinn", LATER, seed=11)
    _send_in_turn(live_job, okta, cloudtrail)
    alert = _wait_alert(live_job, lambda a: _event_ids(a) == ids)
    assert alert["entity"]["id"] == "zoe.contractor"
    assert alert["entity"]["name"] == "Zoe Contractor (via HR feed)"
    assert [e["resolved_by"] for e in alert["events"][:2]] == ["static", "static"]

    # A tombstone deletes the mapping: the next attack resolves by email alone. It comes a day
    # and more later, so that its home sign-in (a day before it) is not behind the watermark
    # the first attack's traffic set: a late event teaches no baseline.
    producer.produce(topic, key=b"zoe.contractor", value=None)
    producer.flush(10)
    time.sleep(4)
    okta, cloudtrail, ids = _attack("zoe.quinn", LATER + timedelta(hours=30), seed=12)
    _send_in_turn(live_job, okta, cloudtrail)
    alert = _wait_alert(live_job, lambda a: _event_ids(a) == ids)
    assert alert["entity"]["id"] == "email:zoe.quinn@example.com"
    assert [e["resolved_by"] for e in alert["events"][:2]] == ["normalized", "normalized"]


def test_a_future_dated_record_cannot_blind_the_job(live_job: Running) -> None:
    """One CloudTrail record dated 9999 is dead-lettered with the reason, one whose first
    ``"eventTime"`` key hides in its request parameters is read at its real time, and an attack
    after both still alerts (before, the first moved the watermark to 9999 and every later
    event was late)."""
    at = LATER + timedelta(days=3)
    rng = random.Random(13)
    bystander = person("tick.tock")

    def call(when: datetime, **kwargs: Any) -> dict[str, Any]:
        return ct_call(
            bystander,
            when,
            HOME.ips[0],
            "sts.amazonaws.com",
            "GetCallerIdentity",
            ACCOUNT,
            ROLE,
            "ASIATICKTOCK0000001",
            rng=rng,
            **kwargs,
        )

    # Between the last test's traffic and this attack's first sign-in (a day before it).
    before = at - timedelta(days=1, hours=6)
    evil = {**call(before), "eventTime": "9999-12-31T23:59:59Z"}
    evil["eventID"] = "evil-9999"
    hidden = call(before)
    # The payload's watermark column takes the first "eventTime" in the text.
    hidden_text = (
        b'{"requestParameters":{"eventTime":"9999-12-31T23:59:59Z"},'
        + orjson.dumps({k: v for k, v in hidden.items() if k != "requestParameters"})[1:]
    )
    topic = live_job.settings.topics.cloudtrail
    produce(
        live_job.conf,
        {"cloudtrail": topic},
        [
            ReplayRecord("cloudtrail", orjson.dumps(evil), None),
            ReplayRecord("cloudtrail", hidden_text, None),
        ],
    )
    # A quiet minute of Okta (its idle timeout) leaves the CloudTrail watermark alone in charge:
    # had the 9999 record moved it, every event after this would be late.
    time.sleep(live_job.settings.idle_timeout_seconds["okta"] + 5)
    okta, cloudtrail, ids = _attack("nora.night", at, seed=14)
    _send_in_turn(live_job, okta, cloudtrail)
    alert = _wait_alert(live_job, lambda a: _event_ids(a) == ids)
    assert alert["rule_id"] == RULE and alert["entity"]["id"] == "email:nora.night@example.com"

    refused = None
    for message in consume(live_job.conf, live_job.settings.topics.dead_letters, timeout=60):
        letter = dead_letter(message)
        if "evil-9999" in letter["raw"]:
            refused = letter
            break
    assert refused is not None, "no dead letter for the record dated 9999"
    assert refused["topic"] == topic and "ahead of the clock" in refused["reason"]


def test_alerts_decode_against_the_alert_schema(live_job: Running) -> None:
    messages = list(consume(live_job.conf, live_job.settings.topics.alerts, idle_stop=3))
    assert messages, "the earlier tests left alerts on the topic"
    for message in messages:
        alert = avro_decode("alert", message.value())
        assert alert["rule_id"] and alert["events"]


def test_restart_from_checkpoint_publishes_each_alert_once(
    kafka_broker: KafkaBroker, identities_file: Path, tmp_path: Path
) -> None:
    checkpoints = tmp_path / "checkpoints"
    settings = _settings(kafka_broker, identities_file, checkpoint_dir=checkpoints)
    conf = librdkafka_config(kafka_broker.bootstrap, {})
    run = Running(settings, conf, start_kafka_job(settings))
    try:
        okta, cloudtrail, first_ids = _attack("ava.stone", LATER, seed=21)
        _send_in_turn(run, okta, cloudtrail)
        _wait_alert(run, lambda a: _event_ids(a) == first_ids)
        seen = latest_checkpoint(checkpoints)
        deadline = time.monotonic() + 60
        while (latest := latest_checkpoint(checkpoints)) is None or (
            seen is not None and latest[0] <= seen[0]
        ):
            assert time.monotonic() < deadline, "no checkpoint completed after the alert"
            time.sleep(0.5)
    finally:
        _cancel(run.client)
    checkpoint = latest_checkpoint(checkpoints)
    assert checkpoint is not None

    settings.restore_from = checkpoint[1]
    run = Running(settings, conf, start_kafka_job(settings))
    try:
        # No sign-in at home this time: the day of history the baseline needs before it flags
        # a new country is in the restored state, and so is Romania, hence a third country.
        okta, cloudtrail, second_ids = _attack(
            "ava.stone", LATER + timedelta(hours=4), seed=22, geo=ELSEWHERE, home_first=False
        )
        _send_in_turn(run, okta, cloudtrail)
        _wait_alert(run, lambda a: _event_ids(a) == second_ids)
    finally:
        _cancel(run.client)

    # Each version of an alert is on the topic once. A version is (alert_id, match_count): a
    # rule with a suppression period re-emits its open alert with the count raised when it
    # matches again inside the period.
    versions: dict[tuple[str, int], int] = {}
    by_events: dict[tuple[str, tuple[str, ...]], str] = {}
    for message in consume(conf, settings.topics.alerts, idle_stop=3):
        alert = avro_decode("alert", message.value())
        version = (alert["alert_id"], alert["match_count"])
        versions[version] = versions.get(version, 0) + 1
        by_events[(alert["rule_id"], _event_ids(alert))] = alert["alert_id"]
    assert versions and set(versions.values()) == {1}
    assert (RULE, first_ids) in by_events and (RULE, second_ids) in by_events
    # The anomalous-login rule (6 h suppression) matched both attacks: the second match is
    # counted on the alert the first run opened, so that open alert survived the restart.
    persistence = by_events[("okta-anomalous-login-iam-persistence", (first_ids[0], first_ids[2]))]
    assert (persistence, 2) in versions
