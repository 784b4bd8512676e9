"""Kafka commands: ``topics create``, ``replay``, ``alerts tail``, and ``run --kafka``.

Client properties never come from arguments (they would land in shell history): they come from
``--properties FILE`` / ``$SEAMWATCH_KAFKA_PROPERTIES`` and ``SEAMWATCH_KAFKA_*`` variables
(see docs/kafka.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from seamwatch.cli_output import console, fail, parse_pairs, print_alert
from seamwatch.jobs.kafka_job import (
    ClientProperties,
    KafkaConfigError,
    KafkaSettings,
    KafkaTopics,
    load_client_properties,
)
from seamwatch.kafka_codec import AlertFormat

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
IdentityTopic = Annotated[str, typer.Option(help="Identity-mapping topic (compacted).")]
AlertTopic = Annotated[str, typer.Option(help="Alert topic.")]
DeadLetterTopic = Annotated[str, typer.Option(help="Dead-letter topic.")]
FormatOption = Annotated[str, typer.Option("--format", help="Alert encoding: avro or json.")]

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
    if value == "avro":
        return "avro"
    if value == "json":
        return "json"
    raise _fail(f"--format {value!r}: use avro or json")


def _client_conf(bootstrap: str, properties: ClientProperties) -> dict[str, Any]:
    from seamwatch.kafka_client import librdkafka_config

    return librdkafka_config(bootstrap, properties)


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
    partitions: Annotated[int, typer.Option(min=1, help="Partitions per topic.")] = 1,
    replication: Annotated[int, typer.Option(min=1, help="Replication factor.")] = 1,
) -> None:
    """Create the topics (identity topic compacted); existing ones are left alone."""
    from seamwatch.kafka_tools import create_topics

    topics = KafkaTopics(
        okta_topic, cloudtrail_topic, identity_topic, alert_topic, dead_letter_topic
    )
    try:
        result = create_topics(
            _client_conf(kafka, _properties(properties)), topics, partitions, replication
        )
    except Exception as exc:  # KafkaException carries the broker's reason
        raise _fail(f"creating topics on {kafka}: {exc}") from exc
    for name, status in result.items():
        console.print(f"{status:8} {name}", markup=False)


def replay(
    kafka: BootstrapOption,
    inputs: Annotated[
        list[str], typer.Option("--input", "-i", help="SOURCE=PATH (okta or cloudtrail).")
    ],
    properties: PropertiesOption = None,
    okta_topic: OktaTopic = _DEFAULTS.okta,
    cloudtrail_topic: CloudTrailTopic = _DEFAULTS.cloudtrail,
    rate: Annotated[
        float | None, typer.Option(min=0.001, help="At most this many records per second.")
    ] = None,
    shift_to_now: Annotated[
        bool, typer.Option(help="Move event times so that the newest record is now.")
    ] = False,
) -> None:
    """Produce log files to the source topics, in event-time order across sources."""
    from rich.progress import Progress

    from seamwatch.jobs.inputs import InputError
    from seamwatch.jobs.sources import UnknownSourceError, check_source
    from seamwatch.kafka_tools import load_files, plan_replay, produce

    topics = KafkaTopics(okta=okta_topic, cloudtrail=cloudtrail_topic).sources()
    try:
        pairs = parse_pairs(inputs, "--input")
        for source in pairs:
            check_source(source)
            if source not in topics:  # entra, windows: file input only for now
                raise ValueError(f"{source!r} has no Kafka topic yet: read it with `run --input`")
        planned = plan_replay(load_files(pairs), shift_to_now, datetime.now(UTC))
    except (InputError, UnknownSourceError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("replaying", total=len(planned))
        count = produce(
            _client_conf(kafka, _properties(properties)),
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
) -> None:
    """Print each committed alert as a timeline, as ``seamwatch run`` does."""
    from seamwatch.kafka_tools import read_alerts

    fmt = _format(alert_format)
    try:
        for alert in read_alerts(
            _client_conf(kafka, _properties(properties)),
            alert_topic,
            fmt,
            from_beginning=from_beginning,
            timeout=timeout,
        ):
            print_alert(alert)
    except KeyboardInterrupt:
        return


def run_kafka_command(
    bootstrap: str,
    *,
    identities: Path | None,
    rules: Path,
    watermark_seconds: dict[str, int],
    parallelism: int,
    properties_file: Path | None = None,
    topics: KafkaTopics | None = None,
    alert_format: str = "avro",
) -> None:
    """``seamwatch run --kafka BOOTSTRAP``: run the job on Kafka until interrupted."""
    from seamwatch.jobs.kafka_job import run_kafka

    settings = KafkaSettings(
        bootstrap=bootstrap,
        topics=topics or KafkaTopics(),
        properties=_properties(properties_file),
        rules_dir=rules,
        identities=identities,
        alert_format=_format(alert_format),
        watermark_seconds=watermark_seconds,
        parallelism=parallelism,
    )
    try:
        settings.startup_mode  # noqa: B018  (validated before anything starts)
        settings.job_jars()
    except KafkaConfigError as exc:
        raise _fail(str(exc)) from exc
    t = settings.topics
    console.print(
        f"seamwatch on {bootstrap}: {t.okta} + {t.cloudtrail} (+ {t.identities}) -> "
        f"{t.alerts} ({settings.alert_format}), dead letters -> {t.dead_letters}; "
        f"client properties {settings.properties.redacted()}",
        markup=False,
    )
    try:
        run_kafka(settings)
    except KeyboardInterrupt:
        console.print("stopped")
