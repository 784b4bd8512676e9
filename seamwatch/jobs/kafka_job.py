"""Entry point for Kafka in and out (``seamwatch run --kafka BOOTSTRAP``).

Topology around :func:`seamwatch.jobs.pipeline.build_pipeline`::

    <okta topic>        -> SQL table (raw value, watermark from the payload, idle timeout) -+
    <cloudtrail topic>  -> SQL table (same)                                                 -+-> raw
    <entra topic>, <windows topic> -> the same, when asked for (``sources``)               -+
    <identity topic>    -> read whole by the resolver itself (kafka.identity_topic), Avro
    alerts       -> Avro (framed for a schema registry, or not), JSON or OCSF -> <alert topic>
                                                           exactly once (Kafka transactions)
    dead letters -> JSON + topic/partition/offset -> <dead-letter topic>   exactly once

Client properties (security protocol, SASL, SSL files, consumer group, starting offsets) come
from a Java-style properties file and/or ``SEAMWATCH_KAFKA_*`` environment variables, never from
command-line arguments; values that look secret are masked wherever settings are printed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from seamwatch.jobs.javaudf import register_watermark_time
from seamwatch.jobs.local import load_identities
from seamwatch.jobs.runtime import create_environments
from seamwatch.jobs.settings import DEFAULT_KAFKA_SOURCES, REPO_ROOT, CommonSettings
from seamwatch.kafka.client import librdkafka_config
from seamwatch.kafka.codec import AlertFormat, dead_letter_record, encode_alert
from seamwatch.kafka.config import (
    ClientProperties,
    KafkaConfigError,
    KafkaTopics,
)
from seamwatch.kafka.identity_topic import IdentityTopic
from seamwatch.kafka.schema_registry import RegistryClient, encode_framed_alert
from seamwatch.kafka.schema_registry import register_alert_schema as register_with_registry
from seamwatch.rules.rulebook import Rule, load_rules
from seamwatch.sources.staging import payload_time_sql
from seamwatch.sqltext import sql_interval
from seamwatch.udfs.geo import check_databases

JOB_JARS_DIR = REPO_ROOT / ".jars" / "job"
# Relative to the working directory, like the file runs' seamwatch-out/alerts.jsonl.
DEFAULT_CHECKPOINT_DIR = Path("seamwatch-out") / "checkpoints"
StartupMode = Literal["earliest-offset", "latest-offset", "group-offsets"]
_STARTUP_MODES: tuple[StartupMode, ...] = ("earliest-offset", "latest-offset", "group-offsets")
# Keys handled by Seamwatch itself rather than passed to the Kafka clients.
_GROUP_KEY = "group.id"
_STARTUP_KEY = "scan.startup.mode"
_SQL_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Large enough for a 5 MB record to reach the dead-letter topic (the topic must allow it too).
MAX_REQUEST_BYTES = 16 * 1024 * 1024


@dataclass(kw_only=True)
class KafkaSettings(CommonSettings):
    """A run on Kafka topics (``seamwatch run --kafka``, the cluster program's ``kafka`` mode).
    ``properties`` are Java Kafka client properties."""

    bootstrap: str  # --kafka
    topics: KafkaTopics = field(default_factory=KafkaTopics)
    properties: ClientProperties = field(default_factory=ClientProperties)
    alert_format: AlertFormat = "avro"
    # Confluent wire format with the schema registered there (seamwatch.kafka.schema_registry).
    schema_registry: str | None = None
    # The log topics read (--source); each one read must be fed, or it holds event time back
    # for its idle timeout at every start (settings.DEFAULT_KAFKA_SOURCES).
    sources: tuple[str, ...] = DEFAULT_KAFKA_SOURCES
    checkpoint_interval_ms: int = 10_000
    checkpoint_dir: Path | None = None
    restore_from: Path | None = None
    transactional_id_prefix: str = "seamwatch"
    # Below the broker's transaction.max.timeout.ms (15 minutes by default).
    transaction_timeout_ms: int = 600_000
    jars_dir: Path = JOB_JARS_DIR

    @property
    def group_id(self) -> str:
        return self.properties.get(_GROUP_KEY, "seamwatch")

    @property
    def startup_mode(self) -> StartupMode:
        mode = self.properties.get(_STARTUP_KEY, "group-offsets")
        for known in _STARTUP_MODES:
            if mode == known:
                return known
        raise KafkaConfigError(f"{_STARTUP_KEY}={mode!r}: use one of {', '.join(_STARTUP_MODES)}")

    def source_topics(self) -> dict[str, str]:
        """The log topics this run reads: source -> topic."""
        topics = self.topics.sources()
        unknown = [s for s in self.sources if s not in topics]
        if unknown or not self.sources:
            raise KafkaConfigError(
                f"--source {', '.join(unknown) or '(none)'}: read one or more of "
                f"{', '.join(topics)}"
            )
        return {s: topics[s] for s in topics if s in self.sources}

    def client_properties(self) -> dict[str, str]:
        """Properties passed to every Kafka client of the job (without Seamwatch's own keys)."""
        return {k: v for k, v in self.properties.items() if k not in (_GROUP_KEY, _STARTUP_KEY)}

    def __repr__(self) -> str:  # the dataclass repr would print the properties unmasked
        return (
            f"KafkaSettings(bootstrap={self.bootstrap!r}, topics={self.topics!r}, "
            f"properties={self.properties!r}, alert_format={self.alert_format!r}, "
            f"schema_registry={self.schema_registry!r})"
        )

    def job_jars(self) -> list[Path]:
        jars = sorted(self.jars_dir.glob("*.jar"))
        if not any(j.name.startswith("flink-sql-connector-kafka") for j in jars):
            raise KafkaConfigError(
                f"the Flink Kafka connector is not in {self.jars_dir}: run `make jars` "
                "(Maven copies deploy/jars/pom.xml's jars there)"
            )
        return jars

    def flink_configuration(self) -> dict[str, str]:
        """Jars, checkpointing (needed by the transactional sink) and recovery."""
        conf = {
            "pipeline.jars": ";".join(j.resolve().as_uri() for j in self.job_jars()),
            "execution.checkpointing.interval": f"{self.checkpoint_interval_ms} ms",
            "execution.checkpointing.mode": "EXACTLY_ONCE",
            "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
        }
        # Always on a filesystem: the job manager's memory storage refuses state over 5 MB, and
        # a CEP operator buffering a busy entity's window exceeds that; with no completed
        # checkpoint the transactional sink never commits and no alert ever becomes readable.
        conf["execution.checkpointing.storage"] = "filesystem"
        conf["execution.checkpointing.dir"] = (
            (self.checkpoint_dir or DEFAULT_CHECKPOINT_DIR).resolve().as_uri()
        )
        if self.restore_from is not None:
            conf["execution.state-recovery.path"] = self.restore_from.resolve().as_uri()
        return conf


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _with_options(options: Mapping[str, str]) -> str:
    return ",\n".join(f"  {_sql_string(k)} = {_sql_string(v)}" for k, v in options.items())


def _client_options(settings: KafkaSettings, group_suffix: str = "") -> dict[str, str]:
    options = {
        "connector": "kafka",
        "properties.bootstrap.servers": settings.bootstrap,
        "properties.group.id": settings.group_id + group_suffix,
        # With group offsets and no committed offset yet, start from the beginning.
        "properties.auto.offset.reset": "earliest",
    }
    for key, value in settings.client_properties().items():
        options[f"properties.{key}"] = value
    return options


def source_table_ddl(table: str, source: str, topic: str, settings: KafkaSettings) -> str:
    """A Kafka table of one log source: raw value, Kafka coordinates, payload event time.

    Every source's table reads the value as text; the watermark column finds the event time in
    it (:func:`seamwatch.sources.staging.payload_time_sql`; Entra ID and Windows by their
    normalizers' time keys), with the source's own bound and idle timeout."""
    if not _SQL_IDENT.match(table):
        raise KafkaConfigError(f"bad table name {table!r}")
    options = {
        **_client_options(settings),
        "topic": topic,
        "scan.startup.mode": settings.startup_mode,
        # Per source: see settings.DEFAULT_IDLE_TIMEOUT_SECONDS.
        "scan.watermark.idle-timeout": f"{int(settings.idle_timeout(source) * 1000)} ms",
        "format": "raw",
        "raw.charset": "UTF-8",
    }
    bound = sql_interval(settings.watermark_bound(source))
    # A time too far ahead of the clock never moves the watermark (sources.timeguard).
    clock = settings.future_bounds.clock_seconds
    return (
        f"CREATE TEMPORARY TABLE {table} (\n"
        "  payload STRING,\n"
        "  `topic` STRING METADATA VIRTUAL,\n"
        "  `partition` INT METADATA VIRTUAL,\n"
        "  `offset` BIGINT METADATA VIRTUAL,\n"
        f"  ts AS {payload_time_sql(source, 'payload', clock)},\n"
        f"  WATERMARK FOR ts AS ts - {bound}\n"
        f") WITH (\n{_with_options(options)}\n)"
    )


# A Kafka record's pointer back, and its text (a null value is an empty record).
KAFKA_REF_SQL = "CONCAT(`topic`, '/', CAST(`partition` AS STRING), '@', CAST(`offset` AS STRING))"


def _kafka_sink(settings: KafkaSettings, topic: str, id_suffix: str) -> Any:
    # pyflink here and below: deferred so that the CLI, which imports this module, starts
    # without loading PyFlink.
    from pyflink.common.serialization import ByteArraySchema
    from pyflink.datastream.connectors.base import DeliveryGuarantee
    from pyflink.datastream.connectors.kafka import KafkaRecordSerializationSchema, KafkaSink

    builder = (
        KafkaSink.builder()
        .set_bootstrap_servers(settings.bootstrap)
        .set_record_serializer(
            KafkaRecordSerializationSchema.builder()
            .set_topic(topic)
            .set_value_serialization_schema(ByteArraySchema())
            .build()
        )
        .set_delivery_guarantee(DeliveryGuarantee.EXACTLY_ONCE)
        .set_transactional_id_prefix(f"{settings.transactional_id_prefix}-{id_suffix}")
        .set_property("transaction.timeout.ms", str(settings.transaction_timeout_ms))
        .set_property("max.request.size", str(MAX_REQUEST_BYTES))
    )
    for key, value in settings.client_properties().items():
        builder = builder.set_property(key, value)
    return builder.build()


def build_kafka_job(
    env: Any, t_env: Any, settings: KafkaSettings, rules: list[Rule] | None = None
) -> None:
    """Attach the Kafka sources and sinks to the pipeline (nothing is executed).

    ``rules``: the rules of ``settings.rules_dir`` when the caller has loaded them already
    (loaded here otherwise)."""
    from pyflink.common import Types

    # pipeline imports PyFlink at its top: deferred, as above.
    from seamwatch.jobs.pipeline import SourceTable, build_pipeline, needed_late_event

    alert_schema_id = register_alert_schema(settings)
    if rules is None:
        rules = load_rules(settings.rules_dir)
    graph = load_identities(settings)
    # The planner resolves the connector factory on the client: put the jars there too.
    t_env.get_config().set("pipeline.jars", settings.flink_configuration()["pipeline.jars"])
    register_watermark_time(t_env)
    tables = {}
    for source, topic in settings.source_topics().items():
        table = f"{source}_kafka"
        t_env.execute_sql(source_table_ddl(table, source, topic, settings)).wait()
        tables[source] = SourceTable(
            table, fields=False, ref=KAFKA_REF_SQL, text="COALESCE(payload, '')"
        )

    identity_topic = IdentityTopic(
        conf=librdkafka_config(settings.bootstrap, settings.client_properties()),
        topic=settings.topics.identities,
    )
    check_databases(settings.geo)
    outputs = build_pipeline(t_env, tables, graph, rules, settings, identity_topic=identity_topic)

    fmt = settings.alert_format
    bytes_type = Types.PRIMITIVE_ARRAY(Types.BYTE())
    if alert_schema_id is None:
        encoded = outputs.alerts.map(lambda text: _encode_alert(text, fmt), output_type=bytes_type)
        encoding: str = fmt
    else:
        schema_id = alert_schema_id  # an int in the closure: no registry call per record
        encoded = outputs.alerts.map(
            lambda text: _encode_framed_alert(text, schema_id), output_type=bytes_type
        )
        encoding = f"avro, schema id {schema_id}"
    alert_values = encoded.uid("encode-alerts").name(f"encode alerts ({encoding})")
    alert_values.sink_to(_kafka_sink(settings, settings.topics.alerts, "alerts")).uid(
        "alerts-sink"
    ).name(f"alerts -> {settings.topics.alerts}")
    dead_values = (
        outputs.dead_letters.map(_dead_letter_value, output_type=bytes_type)
        .uid("encode-dead-letters")
        .name("encode dead letters")
    )
    dead_values.sink_to(_kafka_sink(settings, settings.topics.dead_letters, "dead-letters")).uid(
        "dead-letters-sink"
    ).name(f"dead letters -> {settings.topics.dead_letters}")
    late_values = (
        outputs.late_events.filter(needed_late_event)
        .map(_late_event_value, output_type=bytes_type)
        .uid("encode-late-events")
        .name("encode late events")
    )
    late_values.sink_to(_kafka_sink(settings, settings.topics.late_events, "late-events")).uid(
        "late-events-sink"
    ).name(f"late events -> {settings.topics.late_events}")


def _encode_alert(text: str, fmt: AlertFormat) -> bytes:
    return encode_alert(text, fmt)


def _encode_framed_alert(text: str, schema_id: int) -> bytes:
    return encode_framed_alert(text, schema_id)


def register_alert_schema(settings: KafkaSettings) -> int | None:
    """With a schema registry: register the alert schema (on the client, once) and return its
    id; None without one. Raises ``SchemaRegistryError`` if the registry is unreachable or
    refuses the schema, :class:`KafkaConfigError` for a registry with a non-Avro format."""
    if settings.schema_registry is None:
        return None
    if settings.alert_format != "avro":
        raise KafkaConfigError(
            f"--schema-registry frames Avro alerts; --alert-format is {settings.alert_format!r}"
        )
    return register_with_registry(
        RegistryClient.from_env(settings.schema_registry), settings.topics.alerts
    )


def _dead_letter_value(text: str) -> bytes:
    return dead_letter_record(text)


def _late_event_value(text: str) -> bytes:
    """A late event (JSON, :func:`seamwatch.jobs.pipeline.late_event_json`) as the value."""
    return text.encode()


def create_kafka_environments(settings: KafkaSettings) -> tuple[Any, Any]:
    """The Flink environments configured for a Kafka run (first Flink call of a process)."""
    return create_environments(
        settings.parallelism, settings.python_mode, settings.flink_configuration()
    )


def start_kafka_job(settings: KafkaSettings) -> Any:
    """Build and submit the job to a local mini-cluster; returns the ``JobClient``.

    The job never ends by itself: cancel it with ``client.cancel().result()``.
    """
    env, t_env = create_kafka_environments(settings)
    build_kafka_job(env, t_env, settings)
    return env.execute_async("seamwatch-kafka")


def run_kafka(settings: KafkaSettings, rules: list[Rule] | None = None) -> None:
    """Run the job until it is stopped (Ctrl-C cancels it); ``rules``: see
    :func:`build_kafka_job`."""
    env, t_env = create_kafka_environments(settings)
    build_kafka_job(env, t_env, settings, rules)
    env.execute("seamwatch-kafka")
