"""Avro alerts in the Confluent wire format, the schema in a real schema registry.

The first tests need nothing running (framing, options, a registry that is down). The rest
share one Apicurio Registry (``tests/schema_registry.py``, Confluent-compatible API), one Kafka
broker and one run of the Kafka job with ``schema_registry`` set: the bundled scenario goes
in, and its attack's alert is read off the alert topic as bytes, then decoded the ways a
consumer would: by the registry's schema for the id in the frame, by confluent-kafka's
``AvroDeserializer``, and by ``seamwatch alerts tail --schema-registry``.
"""

from __future__ import annotations

import contextlib
import io
import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import pytest
import yaml
from fastavro import parse_schema, schemaless_reader
from typer.testing import CliRunner

from seamwatch.cli.app import app
from seamwatch.cli.deploy import SubmitOptions, job_arguments
from seamwatch.jobs import cluster
from seamwatch.jobs.kafka_job import KafkaSettings, register_alert_schema, start_kafka_job
from seamwatch.kafka.client import librdkafka_config
from seamwatch.kafka.codec import DecodeError, avro_encode
from seamwatch.kafka.config import KafkaConfigError, KafkaTopics
from seamwatch.kafka.schema_registry import (
    ENV_PASSWORD,
    ENV_USERNAME,
    FramedAlertDecoder,
    RegistryClient,
    SchemaRegistryError,
    frame,
    schema_json,
    unframe,
    value_subject,
)
from seamwatch.kafka.tools import ReplayRecord, consume, create_topics, plan_replay, produce
from seamwatch.sample.scenario import Sample, build_sample
from seamwatch.udfs.alerts import RuleMeta, build_alert
from seamwatch.udfs.identity import Entity, IdentityGraph
from seamwatch.udfs.records import Identifier
from tests.kafka_broker import KafkaBroker, free_port, unique_topics
from tests.schema_registry import ApicurioRegistry

RULE = "okta-new-country-saml-access-key"
runner = CliRunner()


def _dead_registry() -> str:
    """A registry URL on a loopback port where nothing listens."""
    return f"http://127.0.0.1:{free_port()}/apis/ccompat/v7"


def _some_alert() -> dict[str, Any]:
    """An alert of two events built by the job's own function (plain data, no Flink)."""
    base = {"entity_id": "lee.park", "entity_type": "human", "resolved_by": "static"}
    events = [
        {
            **base,
            "step": "okta_login",
            "event_id": "okta-7",
            "source": "okta",
            "event_time": 2_000_000,
            "action": "user.session.start",
            "outcome": "success",
            "src_ip": "203.0.113.9",
            "country": "Chile",
            "raw_ref": "okta/log.jsonl:3",
        },
        {
            **base,
            "step": "create_key",
            "event_id": "ct-7",
            "source": "cloudtrail",
            "event_time": 2_090_000,
            "action": "CreateAccessKey",
            "outcome": "success",
            "src_ip": "203.0.113.9",
            "raw_ref": "cloudtrail/a.json:1#Records[0]",
        },
    ]
    meta = RuleMeta(RULE, "title", "description", ("T1098.001",), "high", 900, "entity_id")
    graph = IdentityGraph.from_entities(
        [
            Entity(
                id="lee.park",
                type="human",
                name="Lee Park",
                identifiers=(Identifier("email", "lee@x.org"),),
            )
        ]
    )
    return build_alert(meta, "lee.park", json.dumps(events), graph, 2_100_000)


# --- framing and options: nothing running -----------------------------------------------


def test_frame_is_magic_byte_then_big_endian_id_then_the_avro_binary() -> None:
    payload = b"\x02ab"
    value = frame(70_000, payload)
    assert value == b"\x00\x00\x01\x11\x70" + payload
    assert unframe(value) == (70_000, payload)


def test_schemaless_avro_and_short_values_are_not_taken_for_framed_ones() -> None:
    with pytest.raises(DecodeError, match="magic byte"):
        unframe(b"\x00\x00\x01")
    # A schemaless alert starts with the varint length of its 64-character id (0x80 0x01).
    with pytest.raises(DecodeError, match="magic byte"):
        unframe(avro_encode("alert", _some_alert()))


def test_the_registered_schema_is_the_alert_schema() -> None:
    registered: Any = parse_schema(orjson.loads(schema_json("alert")))
    assert registered["name"] == "io.seamwatch.Alert"
    value = avro_encode("alert", _some_alert())
    decoded: Any = schemaless_reader(io.BytesIO(value), registered, None)
    assert [e["event_id"] for e in decoded["events"]] == ["okta-7", "ct-7"]
    assert decoded["entity"]["id"] == "lee.park"
    assert "timestamp-millis" in schema_json("alert")  # times stay times for other readers


def test_credentials_come_from_the_environment_never_the_url() -> None:
    env = {ENV_USERNAME: "svc-seamwatch", ENV_PASSWORD: "s3cret"}
    client = RegistryClient.from_env("https://registry.example:8081/", env)
    assert (client.url, client.username, client.password) == (
        "https://registry.example:8081",
        "svc-seamwatch",
        "s3cret",
    )
    assert "s3cret" not in repr(client)
    with pytest.raises(SchemaRegistryError, match=ENV_USERNAME):
        RegistryClient.from_env("https://svc:s3cret@registry.example:8081", {})
    with pytest.raises(SchemaRegistryError, match="http"):
        RegistryClient.from_env("registry.example:8081", {})


def test_an_unreachable_registry_is_a_clear_error() -> None:
    url = _dead_registry()
    with pytest.raises(SchemaRegistryError, match="unreachable") as caught:
        RegistryClient.from_env(url, {}).register("t.alerts-value", schema_json("alert"))
    assert url in str(caught.value)


@pytest.mark.kafka  # `run --kafka` checks for the Kafka connector jars (make jars) first
def test_run_kafka_fails_before_flink_starts_when_the_registry_is_down() -> None:
    url = _dead_registry()
    args = ["run", "--kafka", f"127.0.0.1:{free_port()}", "--schema-registry", url]
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert "unreachable" in result.output and url in result.output


def test_the_registry_frames_avro_only() -> None:
    settings = KafkaSettings(bootstrap="x:9092", alert_format="json", schema_registry="http://r")
    with pytest.raises(KafkaConfigError, match="Avro"):
        register_alert_schema(settings)
    result = runner.invoke(app, ["run", "--schema-registry", "http://r"])
    assert result.exit_code != 0 and "--kafka" in result.output


def test_submit_and_the_cluster_entry_point_pass_the_registry_on() -> None:
    url = "https://registry.internal:8081"
    options = SubmitOptions(mode="kafka", bootstrap="kafka:9092", schema_registry=url)
    args = job_arguments(options)
    assert args[args.index("--schema-registry") + 1] == url
    parsed = cluster.argument_parser().parse_args(args)
    settings = cluster._kafka_settings(parsed, cluster.settings_from_args(parsed))
    assert settings.schema_registry == url and settings.alert_format == "avro"
    assert "--schema-registry" not in job_arguments(SubmitOptions(mode="kafka", bootstrap="k:1"))


# --- a real registry, a real broker, the real job ---------------------------------------


@pytest.fixture(scope="module")
def registry() -> Iterator[ApicurioRegistry]:
    """Apicurio Registry (in memory) on a free loopback port, shared by this module."""
    server = ApicurioRegistry().start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Published:
    """The attack's alert as the job wrote it to the alert topic."""

    settings: KafkaSettings
    conf: dict[str, Any]
    sample: Sample
    schema_id: int
    value: bytes


def _send_sample(conf: dict[str, Any], topics: KafkaTopics, sample: Sample) -> None:
    def at(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    records = {
        "okta": [ReplayRecord("okta", orjson.dumps(d), at(d["published"])) for d in sample.okta],
        "cloudtrail": [
            ReplayRecord("cloudtrail", orjson.dumps(d), at(d["eventTime"]))
            for d in sample.cloudtrail
        ],
    }
    produce(conf, topics.sources(), plan_replay(records, shift_to_now=False, now=datetime.now()))


def _registered_id(registry: ApicurioRegistry, subject: str) -> int:
    path = f"/subjects/{urllib.parse.quote(subject, safe='')}/versions/latest"
    with urllib.request.urlopen(registry.url + path, timeout=10) as response:
        schema_id: int = orjson.loads(response.read())["id"]
        return schema_id


@pytest.fixture(scope="module")
def published(
    registry: ApicurioRegistry,
    kafka_broker: KafkaBroker,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Published]:
    topics = unique_topics("r")
    sample = build_sample()
    identities = tmp_path_factory.mktemp("identities") / "identities.yaml"
    identities.write_text(yaml.safe_dump(sample.identities), encoding="utf-8")
    settings = KafkaSettings(
        bootstrap=kafka_broker.bootstrap,
        topics=topics,
        identities=identities,
        schema_registry=registry.url,
        watermark_seconds={"okta": 60, "cloudtrail": 60},
        checkpoint_interval_ms=1000,
        checkpoint_dir=tmp_path_factory.mktemp("checkpoints"),
        transactional_id_prefix=f"seamwatch-{topics.okta}",
    )
    conf = librdkafka_config(kafka_broker.bootstrap, {})
    create_topics(conf, topics)
    client = start_kafka_job(settings)
    try:
        _send_sample(conf, topics, sample)
        schema_id = _registered_id(registry, value_subject(topics.alerts))
        decode = FramedAlertDecoder(RegistryClient.from_env(registry.url, {}))
        seen = []
        for message in consume(conf, topics.alerts, timeout=180):
            alert = decode(message.value())
            if tuple(e["event_id"] for e in alert["events"]) == sample.attack.event_ids:
                break
            seen.append(alert["rule_id"])
        else:
            raise AssertionError(f"no alert for the attack within 180s; alerts seen: {seen}")
        yield Published(settings, conf, sample, schema_id, message.value())
    finally:
        with contextlib.suppress(Exception):
            client.cancel().result()


@pytest.mark.kafka
@pytest.mark.flink
@pytest.mark.last
def test_the_job_registers_the_alert_schema_under_the_topic_subject(
    registry: ApicurioRegistry, published: Published
) -> None:
    subject = value_subject(published.settings.topics.alerts)
    with urllib.request.urlopen(f"{registry.url}/subjects", timeout=10) as response:
        assert subject in orjson.loads(response.read())
    # Registering the same schema again (a restarted job) keeps the id.
    client = RegistryClient.from_env(registry.url, {})
    assert client.register(subject, schema_json("alert")) == published.schema_id


@pytest.mark.kafka
@pytest.mark.flink
@pytest.mark.last
def test_each_alert_is_framed_with_the_registered_id(published: Published) -> None:
    values = list(consume(published.conf, published.settings.topics.alerts, idle_stop=3))
    assert values
    for message in values:
        value = message.value()
        assert value[0] == 0
        assert int.from_bytes(value[1:5], "big") == published.schema_id


@pytest.mark.kafka
@pytest.mark.flink
@pytest.mark.last
def test_a_consumer_decodes_the_alert_with_the_schema_the_registry_returns(
    registry: ApicurioRegistry, published: Published
) -> None:
    """What any Confluent deserializer does, written out: the id from the frame, the writer
    schema from ``GET /schemas/ids/{id}``, the Avro body read with it."""
    value = published.value
    schema_id = int.from_bytes(value[1:5], "big")
    subject = value_subject(published.settings.topics.alerts)
    url = f"{registry.url}/schemas/ids/{schema_id}?subject={urllib.parse.quote(subject)}"
    with urllib.request.urlopen(url, timeout=10) as response:
        writer = parse_schema(orjson.loads(orjson.loads(response.read())["schema"]))
    alert: Any = schemaless_reader(io.BytesIO(value[5:]), writer, None)
    _assert_the_attack(alert, published.sample)
    assert alert["first_event_time"].tzinfo is not None  # timestamp-millis survived


@pytest.mark.kafka
@pytest.mark.flink
@pytest.mark.last
def test_confluent_kafka_avro_deserializer_reads_the_alert(
    registry: ApicurioRegistry, published: Published
) -> None:
    avro = pytest.importorskip(
        "confluent_kafka.schema_registry.avro",
        reason="confluent-kafka's schema-registry extras (authlib, httpx2, cachetools) are not "
        "installed",
    )
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.serialization import MessageField, SerializationContext

    deserializer = avro.AvroDeserializer(SchemaRegistryClient({"url": registry.url}))
    context = SerializationContext(published.settings.topics.alerts, MessageField.VALUE)
    alert = deserializer(published.value, context)
    _assert_the_attack(alert, published.sample)


@pytest.mark.kafka
@pytest.mark.flink
@pytest.mark.last
def test_alerts_tail_decodes_framed_alerts(
    registry: ApicurioRegistry, published: Published
) -> None:
    args = [
        "alerts",
        "tail",
        "--kafka",
        published.settings.bootstrap,
        "--alert-topic",
        published.settings.topics.alerts,
        "--schema-registry",
        registry.url,
        "--timeout",
        "15",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert RULE in result.output and published.sample.attack.entity in result.output


def _assert_the_attack(alert: dict[str, Any], sample: Sample) -> None:
    assert alert["rule_id"] == RULE
    assert alert["entity"]["id"] == sample.attack.entity
    assert tuple(e["event_id"] for e in alert["events"]) == sample.attack.event_ids
    assert [e["action"] for e in alert["events"]] == [
        "user.session.start",
        "AssumeRoleWithSAML",
        "CreateAccessKey",
    ]
    assert {e["src_ip"] for e in alert["events"]} == {sample.attack.ip}
