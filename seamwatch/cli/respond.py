"""``seamwatch run --respond`` and ``seamwatch respond``: the rules' response actions.

The job emits and writes every alert first; only then are the actions run, on the client
(``run``: after the job, results in the response log next to the alert output) or by a separate
consumer of the alert topic (``respond --kafka``), bounded (see :mod:`seamwatch.respond.runner`),
so a receiver that is down or slow can neither lose an alert nor hold the job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from seamwatch.cli.kafka import AlertTopic, FormatOption, PropertiesOption
from seamwatch.cli.output import console, err_console, fail
from seamwatch.jobs.local import RunResult
from seamwatch.jobs.settings import DEFAULT_RULES_DIR
from seamwatch.kafka.client import librdkafka_config
from seamwatch.kafka.config import KafkaConfigError, KafkaTopics, load_client_properties
from seamwatch.respond.actions import Action
from seamwatch.respond.kafka_consumer import ConsumerOptions, respond_from_topic
from seamwatch.respond.runner import (
    MODES,
    ActionResult,
    ResponseConfig,
    readiness,
    respond,
    response_log_path,
    summarize,
    write_log,
)
from seamwatch.rules.rulebook import load_rules

_ALERT_TOPIC = KafkaTopics().alerts


def prepare_response(mode: str, rules_dir: Path) -> ResponseConfig:
    """The deployment's response config; a live run missing a credential is refused here,
    before the job starts (``ValueError``, or ``ConfigError`` for a bad rule)."""
    if mode not in MODES:
        raise ValueError(f"--respond {mode!r}: choose dry-run or live")
    config = ResponseConfig.from_env(mode)
    actions = [action for rule in load_rules(rules_dir) for action in rule.respond]
    errors, warnings = readiness(actions, config)
    if errors:
        raise ValueError("--respond live: " + "; ".join(errors))
    for warning in warnings:
        err_console.print(f"[yellow]warning:[/] {warning}")
    return config


def respond_after_run(result: RunResult, config: ResponseConfig) -> Path | None:
    """Run the actions of the run's alerts; the response log's path, or None without actions."""
    actions = {rule.id: list(rule.respond) for rule in result.rules if rule.respond}
    if not actions:
        return None
    results = respond(result.alerts, actions, config)
    path = response_log_path(result.output)
    write_log(path, results)
    for item in results:
        _print_result(item)
    console.print(f"responses ({config.mode}): {summarize(results)}; log: {path}")
    return path


def respond_command(
    kafka: Annotated[
        str | None,
        typer.Option(
            "--kafka",
            help="Kafka bootstrap servers: act on the committed alerts of the alert topic.",
        ),
    ] = None,
    alerts: Annotated[
        Path | None,
        typer.Option(help="Instead of Kafka: act on the alerts of this file (JSON lines)."),
    ] = None,
    rules: Annotated[Path, typer.Option(help="Directory of rule YAML files.")] = DEFAULT_RULES_DIR,
    respond_mode: Annotated[
        str, typer.Option("--respond", help="dry-run (default) or live (docs/response.md).")
    ] = "dry-run",
    log: Annotated[Path, typer.Option(help="Response log (JSON lines, appended).")] = Path(
        "seamwatch-out/responses.jsonl"
    ),
    properties: PropertiesOption = None,
    alert_topic: AlertTopic = _ALERT_TOPIC,
    alert_format: FormatOption = "avro",
    group: Annotated[str, typer.Option(help="Kafka consumer group.")] = "seamwatch-respond",
    from_beginning: Annotated[
        bool, typer.Option(help="A new group starts at the oldest alert, not the newest.")
    ] = False,
    timeout: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: never).")
    ] = None,
) -> None:
    """Run the rules' response actions on alerts, apart from the job (docs/response.md)."""
    if (kafka is None) == (alerts is None):
        raise fail("give --kafka BOOTSTRAP or --alerts FILE")
    try:
        config = prepare_response(respond_mode, rules)
        actions = {rule.id: list(rule.respond) for rule in load_rules(rules) if rule.respond}
    except ValueError as exc:  # ConfigError too
        raise fail(str(exc)) from exc
    if alerts is not None:
        _respond_to_file(alerts, actions, config, log)
        return
    if alert_format not in ("avro", "json"):
        raise fail(f"--format {alert_format!r}: use avro or json")
    try:
        conf = librdkafka_config(str(kafka), load_client_properties(properties))
    except KafkaConfigError as exc:
        raise fail(str(exc)) from exc
    console.print(f"responding ({config.mode}) to {alert_topic} on {kafka}; log: {log}")
    options = ConsumerOptions(group=group, from_beginning=from_beginning, timeout=timeout)
    try:
        counts = respond_from_topic(
            conf,
            alert_topic,
            "avro" if alert_format == "avro" else "json",
            actions,
            config,
            log,
            options,
            on_result=_print_result,
        )
    except KeyboardInterrupt:
        console.print("stopped")
        return
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no actions"
    console.print(f"responses ({config.mode}): {summary}")


def _respond_to_file(
    path: Path, actions: dict[str, list[Action]], config: ResponseConfig, log: Path
) -> None:
    try:
        lines = path.read_bytes().splitlines()
        alerts = [orjson.loads(line) for line in lines if line.strip()]
    except (OSError, orjson.JSONDecodeError) as exc:
        raise fail(f"{path}: cannot read the alerts: {exc}") from exc
    results = respond(alerts, actions, config)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        for result in results:
            out.write(orjson.dumps(result.to_record()) + b"\n")
            _print_result(result)
    console.print(f"responses ({config.mode}): {summarize(results)}; log: {log}")


def _print_result(item: ActionResult) -> None:
    style = {"failed": "bold red", "done": "green"}.get(item.status, "")
    console.print(
        f"respond {item.status:<8} {item.action:<26} alert {item.alert_id}  {item.reason}",
        style=style,
        markup=False,
    )
