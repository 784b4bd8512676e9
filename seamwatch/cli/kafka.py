"""Kafka commands: ``topics create``, ``replay``, ``alerts tail``, and ``run --kafka``.

Client properties never come from arguments (they would land in shell history): they come from
``--properties FILE`` / ``$SEAMWATCH_KAFKA_PROPERTIES`` and ``SEAMWATCH_KAFKA_*`` variables
(see docs/kafka.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress

from seamwatch.cli.output import (
    console,
    err_console,
    fail,
    parse_pairs,
    print_alert,
    print_finding,
)
from seamwatch.jobs.kafka_job import KafkaSettings, register_alert_schema, run_kafka
from seamwatch.jobs.settings import DEFAULT_KAFKA_SOURCES, CommonSettings, common_fields
from seamwatch.kafka.client import librdkafka_config
from seamwatch.kafka.codec import ALERT_FORMATS, AlertFormat
from seamwatch.kafka.config import (
    ClientProperties,
    KafkaConfigError,
    KafkaTopics,
    load_client_properties,
)
from seamwatch.kafka.schema_registry import FramedAlertDecoder, RegistryClient
from seamwatch.kafka.tools import (
    check_broker,
    consume,
    create_topics,
    load_files,
    plan_replay,
    produce,
    read_alerts,
)
from seamwatch.rules.rulebook import load_rules
from seamwatch.rules.runnable import idle_rules_text, split_runnable
from seamwatch.sources.staging import UnknownSourceError, check_source
from seamwatch.udfs.terminal import terminal_safe

_DEFAULTS = KafkaTopics()

BootstrapOption = Annotated[
    str, typer.Option("--kafka", "--bootstrap", help="Kafka bootstrap servers, host:port[,...].")
]
PropertiesOption = Annotated[
    Path | None,
    typer.Option(
        "--properties",
        help="Kafka client properties file (Java keys); default $SEAMWATCH_KAFKA_PROPERTIES.",
    ),
]
OktaTopic = Annotated[str, typer.Option(help="Okta System Log topic.")]
CloudTrailTopic = Annotated[str, typer.Option(help="CloudTrail topic.")]
EntraTopic = Annotated[str, typer.Option(help="Entra ID sign-in and audit log topic.")]
WindowsTopic = Annotated[str, typer.Option(help="Windows / AD Security event topic.")]
IdentityTopic = Annotated[str, typer.Option(help="Identity-mapping topic (compacted).")]
AlertTopic = Annotated[str, typer.Option(help="Alert topic.")]
DeadLetterTopic = Annotated[str, typer.Option(help="Dead-letter topic.")]
RegistryOption = Annotated[
    str | None,
    typer.Option(
        help="Schema registry URL: alerts are Avro in the Confluent wire format (docs/alerts.md); "
        "credentials from SEAMWATCH_SCHEMA_REGISTRY_USERNAME/_PASSWORD.",
    ),
]
LateTopic = Annotated[str, typer.Option(help="Late-events topic.")]
FormatOption = Annotated[
    str,
    typer.Option(
        "--format", "--alert-format", help="Alert encoding: avro, json or ocsf (docs/alerts.md)."
    ),
]

topics_app = typer.Typer(help="Manage Seamwatch's Kafka topics.", no_args_is_help=True)
alerts_app = typer.Typer(help="Read alerts from the alert topic.", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:

    return fail(message)


def _properties(path: Path | None) -> ClientProperties:
    try:
        return load_client_properties(path)
    except KafkaConfigError as exc:
        raise _fail(str(exc)) from exc


def _format(value: str) -> AlertFormat:
    for known in ALERT_FORMATS:
        if value == known:
            return known
    raise _fail(f"--alert-format {value!r}: use {', '.join(ALERT_FORMATS)}")


def _client_conf(bootstrap: str, properties: ClientProperties) -> dict[str, Any]:
    """The client configuration, once a broker has answered: one clear line otherwise."""
    conf = librdkafka_config(bootstrap, properties)
    check_broker(conf)  # BrokerUnreachable: one line, from the command group
    return conf


def register(app: typer.Typer) -> None:
    """Add the Kafka command groups to the main app."""
    app.add_typer(topics_app, name="topics")
    app.add_typer(alerts_app, name="alerts")
    app.command("replay")(replay)


@topics_app.command("create")
def topics_create(
    kafka: BootstrapOption,
    properties: PropertiesOption = None,
    okta_topic: OktaTopic = _DEFAULTS.okta,
    cloudtrail_topic: CloudTrailTopic = _DEFAULTS.cloudtrail,
    identity_topic: IdentityTopic = _DEFAULTS.identities,
    alert_topic: AlertTopic = _DEFAULTS.alerts,
    dead_letter_topic: DeadLetterTopic = _DEFAULTS.dead_letters,
    late_topic: LateTopic = _DEFAULTS.late_events,
    entra_topic: EntraTopic = _DEFAULTS.entra,
    windows_topic: WindowsTopic = _DEFAULTS.windows,
    partitions: Annotated[int, typer.Option(min=1, help="Partitions per topic.")] = 1,
    replication: Annotated[int, typer.Option(min=1, help="Replication factor.")] = 1,
) -> None:
    """Create the topics (identity topic compacted); existing ones are left alone."""
    topics = KafkaTopics(
        okta_topic,
        cloudtrail_topic,
        identity_topic,
        alert_topic,
        dead_letter_topic,
        late_topic,
        entra_topic,
        windows_topic,
    )
    conf = _client_conf(kafka, _properties(properties))
    try:
        result = create_topics(conf, topics, partitions, replication)
    except Exception as exc:  # KafkaException carries the broker's reason
        raise _fail(f"creating topics on {kafka}: {exc}") from exc
    for name, status in result.items():
        console.print(f"{status:8} {name}", markup=False)


def replay(
    kafka: BootstrapOption,
    inputs: Annotated[
        list[str],
        typer.Option("--input", "-i", help="SOURCE=PATH (okta, cloudtrail, entra or windows)."),
    ],
    properties: PropertiesOption = None,
    okta_topic: OktaTopic = _DEFAULTS.okta,
    cloudtrail_topic: CloudTrailTopic = _DEFAULTS.cloudtrail,
    entra_topic: EntraTopic = _DEFAULTS.entra,
    windows_topic: WindowsTopic = _DEFAULTS.windows,
    rate: Annotated[
        float | None, typer.Option(min=0.001, help="At most this many records per second.")
    ] = None,
    shift_to_now: Annotated[
        bool, typer.Option(help="Move event times so that the newest record is now.")
    ] = False,
) -> None:
    """Produce log files to the source topics, in event-time order across sources.

    With ``--shift-to-now``, Okta's ``published`` and CloudTrail's ``eventTime`` move; in Entra
    ID and Windows records every time moves (by whole seconds), so that times read from
    different keys (NXLog's local ``EventTime`` and Logstash's ``@timestamp``) stay apart.
    """
    topics = KafkaTopics(
        okta=okta_topic, cloudtrail=cloudtrail_topic, entra=entra_topic, windows=windows_topic
    ).sources()
    try:
        pairs = parse_pairs(inputs, "--input")
        for source in pairs:
            check_source(source)
        damaged: list[tuple[str, str]] = []
        planned = plan_replay(load_files(pairs, damaged), shift_to_now, datetime.now(UTC))
    except (UnknownSourceError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    for path, reason in damaged:  # its readable records are replayed
        err_console.print(f"warning: {terminal_safe(path)}: {terminal_safe(reason)}", markup=False)
    conf = _client_conf(kafka, _properties(properties))
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("replaying", total=len(planned))
        count = produce(
            conf,
            topics,
            planned,
            rate=rate,
            progress=lambda n: progress.advance(task, n),
        )
    per_source = {s: sum(1 for r in planned if r.source == s) for s in topics}
    detail = ", ".join(f"{s} {n} -> {topics[s]}" for s, n in per_source.items() if n)
    console.print(f"produced {count} records ({detail})")


@alerts_app.command("tail")
def alerts_tail(
    kafka: BootstrapOption,
    properties: PropertiesOption = None,
    alert_topic: AlertTopic = _DEFAULTS.alerts,
    alert_format: FormatOption = "avro",
    from_beginning: Annotated[
        bool, typer.Option(help="Start at the oldest alert instead of new ones.")
    ] = True,
    timeout: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: never).")
    ] = None,
    schema_registry: RegistryOption = None,
) -> None:
    """Print each committed alert as a timeline, as ``seamwatch run`` does."""
    fmt = _format(alert_format)
    conf = _client_conf(kafka, _properties(properties))
    if schema_registry is not None and fmt != "avro":
        raise _fail(f"--schema-registry reads framed Avro alerts; --alert-format is {fmt!r}")
    try:
        if schema_registry is not None:
            alerts = _framed_alerts(conf, alert_topic, schema_registry, from_beginning, timeout)
        else:
            alerts = read_alerts(
                conf, alert_topic, fmt, from_beginning=from_beginning, timeout=timeout
            )
        for alert in alerts:
            if fmt == "ocsf":
                print_finding(alert)
            else:
                print_alert(alert)
    except KeyboardInterrupt:
        return


def _framed_alerts(
    conf: dict[str, Any],
    topic: str,
    registry_url: str,
    from_beginning: bool,
    timeout: float | None,
) -> Iterator[dict[str, Any]]:
    """Alerts in the Confluent wire format, decoded with the writer schemas of the registry."""
    decode = FramedAlertDecoder(RegistryClient.from_env(registry_url))
    for message in consume(conf, topic, from_beginning=from_beginning, timeout=timeout):
        yield decode(message.value())


def run_kafka_command(
    bootstrap: str,
    common: CommonSettings,
    *,
    alert_format: str = "avro",
    schema_registry: str | None = None,
    sources: tuple[str, ...] = DEFAULT_KAFKA_SOURCES,
    properties_file: Path | None = None,
    topics: KafkaTopics | None = None,
) -> None:
    """``seamwatch run --kafka BOOTSTRAP``: run the job on Kafka until interrupted."""
    settings = KafkaSettings(
        **common_fields(common),
        bootstrap=bootstrap,
        topics=topics or KafkaTopics(),
        properties=_properties(properties_file),
        alert_format=_format(alert_format),
        schema_registry=schema_registry,
        sources=sources,
    )
    try:
        settings.source_topics()
        settings.startup_mode  # noqa: B018  (validated before anything starts)
        settings.job_jars()
        # Registered here, before Flink starts, so an unreachable registry fails at once;
        # the job registers again (same schema, same id) when it is built.
        schema_id = register_alert_schema(settings)
    except KafkaConfigError as exc:
        raise _fail(str(exc)) from exc
    _client_conf(bootstrap, settings.properties)  # a broker answers, or one clear line
    t = settings.topics
    read = " + ".join(
        f"{topic} (idle after {settings.idle_timeout(source):g}s)"
        for source, topic in settings.source_topics().items()
    )
    encoding: str = settings.alert_format
    if schema_id is not None:
        encoding += f", Confluent wire format, schema id {schema_id} at {schema_registry}"
    console.print(
        f"seamwatch on {bootstrap}: {read} (+ {t.identities}) -> "
        f"{t.alerts} ({encoding}), dead letters -> {t.dead_letters}, "
        f"late events -> {t.late_events}; "
        f"client properties {settings.properties.redacted()}",
        markup=False,
    )
    try:
        rules = load_rules(settings.rules_dir)
    except ValueError as exc:  # a rule file's ConfigError: file, line and reason
        raise _fail(str(exc)) from exc
    _, idle = split_runnable(rules, settings.source_topics())
    if idle:  # not run by the job either (seamwatch.jobs.pipeline.build_pipeline)
        console.print(idle_rules_text(idle), markup=False)
    try:
        run_kafka(settings, rules)
    except KeyboardInterrupt:
        console.print("stopped")
