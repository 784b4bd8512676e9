"""The analyst's commands: ``seamwatch report``, ``seamwatch verdict``, ``seamwatch rules health``.

Registered on the application by :func:`register` (one hook in :mod:`seamwatch.cli`); the work
is done by the plain functions of :mod:`seamwatch.triage`.
"""

from __future__ import annotations

import getpass
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from seamwatch.cli.output import console, err_console, fail
from seamwatch.jobs.settings import DEFAULT_RULES_DIR
from seamwatch.kafka.client import librdkafka_config
from seamwatch.kafka.config import KafkaConfigError, load_client_properties
from seamwatch.rules.rulebook import load_rules, parse_duration
from seamwatch.triage.alertfile import AlertSet, read_alerts
from seamwatch.triage.health import (
    DEFAULT_MIN_VERDICTS,
    DEFAULT_THRESHOLD,
    HealthReport,
    format_duration,
    format_ratio,
    rule_health,
)
from seamwatch.triage.report_html import render_report
from seamwatch.triage.verdict_topic import (
    VERDICT_TOPIC,
    VerdictTopicError,
    create_verdict_topic,
    publish_verdict,
    read_verdict_topic,
)
from seamwatch.triage.verdicts import (
    VERDICTS,
    Verdict,
    VerdictLog,
    append_verdict,
    default_store,
    load_verdicts,
    make_verdict,
)

DEFAULT_ALERTS = Path("seamwatch-out/alerts.jsonl")
DEFAULT_REPORT_DIR = Path("seamwatch-out/report")
REPORT_FILE = "report.html"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# The shortest alert id prefix `verdict` accepts in place of the whole id.
MIN_PREFIX = 8
_DEFAULT_THRESHOLD = f"{DEFAULT_THRESHOLD:.0%}"

AlertsArg = Annotated[
    list[Path],
    typer.Argument(help="Alert JSON-lines files or directories (as `run --output` writes)."),
]
VerdictsOpt = Annotated[
    Path | None,
    typer.Option(
        "--verdicts",
        help="Verdict store (default $SEAMWATCH_VERDICTS, else seamwatch-out/verdicts.jsonl).",
    ),
]
KafkaOpt = Annotated[
    str | None,
    typer.Option(
        "--kafka",
        help="Kafka bootstrap servers: verdicts on the compacted verdict topic, not the file "
        "store (client properties as for `run --kafka`).",
    ),
]
PropertiesOpt = Annotated[
    Path | None,
    typer.Option(
        "--properties",
        help="Kafka client properties file (Java keys); default $SEAMWATCH_KAFKA_PROPERTIES.",
    ),
]
VerdictTopicOpt = Annotated[str, typer.Option(help="Verdict topic (compacted, keyed by alert).")]
RulesOpt = Annotated[
    Path, typer.Option(help="Directory of rule YAML files (rules that raised nothing show too).")
]
ThresholdOpt = Annotated[
    str,
    typer.Option(help="Warn below this escalation-to-confirmed ratio: 30% or 0.3."),
]
MinVerdictsOpt = Annotated[
    int,
    typer.Option(min=1, help="Decided verdicts (confirmed + benign) a rule needs to be judged."),
]


def plain(text: object) -> Text:
    """Text for the terminal: no markup, control characters shown as ``?``."""
    return Text(_CONTROL.sub("?", str(text)))


def parse_threshold(text: str) -> float:
    """``"30%"`` or ``"0.3"`` -> ``0.3``; a ratio between 0 and 1."""
    value = text.strip()
    try:
        ratio = float(value[:-1]) / 100 if value.endswith("%") else float(value)
    except ValueError as exc:
        raise ValueError(f"threshold {text!r}: write a percentage (30%) or a ratio (0.3)") from exc
    if not 0 <= ratio <= 1:
        raise ValueError(f"threshold {text!r} is not between 0 and 100 %")
    return ratio


def _read(paths: Sequence[Path]) -> AlertSet:
    found = read_alerts(paths)
    for line in found.skipped[:10]:
        err_console.print(plain(f"skipped {line}"), style="yellow")
    if len(found.skipped) > 10:
        err_console.print(f"... and {len(found.skipped) - 10} more lines skipped", style="yellow")
    return found


def _kafka_conf(bootstrap: str, properties: Path | None) -> dict[str, Any]:
    try:
        return librdkafka_config(bootstrap, load_client_properties(properties))
    except KafkaConfigError as exc:
        raise fail(str(exc)) from exc


def _verdict_log(
    store: Path | None, kafka: str | None, properties: Path | None, topic: str
) -> VerdictLog:
    """The verdicts: from the topic with ``--kafka``, else from the file store."""
    if kafka is None:
        log = load_verdicts(store or default_store())
    else:
        log = read_verdict_topic(_kafka_conf(kafka, properties), topic)
    for line in log.skipped[:10]:
        err_console.print(plain(f"skipped verdict {line}"), style="yellow")
    return log


def _health(
    alerts: AlertSet,
    log: VerdictLog,
    rules: Path,
    *,
    since_ms: int | None,
    threshold: str,
    min_verdicts: int,
) -> tuple[HealthReport, dict[str, Verdict]]:
    try:
        ratio = parse_threshold(threshold)
        titles = {rule.id: rule.title for rule in load_rules(rules)} if rules.is_dir() else {}
    except ValueError as exc:  # a rule file's ConfigError is one too
        raise fail(str(exc)) from exc
    report = rule_health(
        alerts.alerts,
        log.latest,
        rule_titles=titles,
        since_ms=since_ms,
        threshold=ratio,
        min_verdicts=min_verdicts,
    )
    return report, dict(log.latest)


def report_command(
    alerts: AlertsArg,
    out: Annotated[Path, typer.Option(help="Directory to write report.html into.")] = (
        DEFAULT_REPORT_DIR
    ),
    verdicts: VerdictsOpt = None,
    rules: RulesOpt = DEFAULT_RULES_DIR,
    threshold: ThresholdOpt = _DEFAULT_THRESHOLD,
    min_verdicts: MinVerdictsOpt = DEFAULT_MIN_VERDICTS,
    kafka: KafkaOpt = None,
    properties: PropertiesOpt = None,
    verdict_topic: VerdictTopicOpt = VERDICT_TOPIC,
) -> None:
    """Write the alerts as one self-contained HTML page: timelines, verdicts, rule health."""
    found = _read(alerts)
    health, latest = _health(
        found,
        _verdict_log(verdicts, kafka, properties, verdict_topic),
        rules,
        since_ms=None,
        threshold=threshold,
        min_verdicts=min_verdicts,
    )
    page = render_report(
        found.alerts,
        latest,
        health,
        generated_at_ms=int(time.time() * 1000),
        sources=[str(p) for p in found.files],
    )
    out.mkdir(parents=True, exist_ok=True)
    path = out / REPORT_FILE
    path.write_text(page, encoding="utf-8")
    console.print(plain(f"{len(found.alerts)} alerts from {len(found.files)} files: {path}"))


def verdict_command(
    alert_id: Annotated[str, typer.Argument(help="The alert's id (or its first 8+ characters).")],
    verdict: Annotated[str, typer.Argument(help="confirmed, benign or duplicate.")],
    note: Annotated[str | None, typer.Option(help="Why; kept with the verdict.")] = None,
    analyst: Annotated[
        str | None, typer.Option(help="Who decided (default: the login name).")
    ] = None,
    store: VerdictsOpt = None,
    alerts: Annotated[
        list[Path] | None,
        typer.Option(
            help="Alert files to find the alert in (default seamwatch-out/alerts.jsonl if present)."
        ),
    ] = None,
    check: Annotated[
        bool, typer.Option(help="Refuse an id that is in none of the alert files.")
    ] = True,
    kafka: KafkaOpt = None,
    properties: PropertiesOpt = None,
    verdict_topic: VerdictTopicOpt = VERDICT_TOPIC,
) -> None:
    """Record an analyst's verdict on an alert (append-only; the last verdict wins)."""
    paths = alerts or ([DEFAULT_ALERTS] if DEFAULT_ALERTS.exists() else [])
    rule_id = None
    if paths:
        found = _read(paths)
        matched = _find(found.alerts, alert_id)
        if len(matched) > 1:
            raise fail(f"{alert_id!r} is the start of {len(matched)} alert ids; give more of it")
        if matched:
            alert_id, rule_id = str(matched[0]["alert_id"]), str(matched[0]["rule_id"])
        elif check:
            names = ", ".join(str(p) for p in found.files)
            raise fail(
                f"no alert {alert_id!r} in {names}; pass --alerts with the file that holds it, "
                "or --no-check to record it anyway"
            )
    record = make_verdict(
        alert_id,
        verdict,
        recorded_at=int(time.time() * 1000),
        note=note,
        analyst=analyst if analyst is not None else _login(),
        rule_id=rule_id,
    )
    rule = f" ({rule_id})" if rule_id else ""
    if kafka is not None:
        _publish(_kafka_conf(kafka, properties), record, verdict_topic)
        console.print(plain(f"{record.verdict}: {record.alert_id}{rule} -> {verdict_topic}"))
        return
    path = store or default_store()
    append_verdict(path, record)
    console.print(plain(f"{record.verdict}: {record.alert_id}{rule} -> {path}"))


def _publish(conf: dict[str, Any], record: Verdict, topic: str) -> None:
    """Create the compacted topic if it is missing, then write the verdict to it."""
    try:
        create_verdict_topic(conf, topic)
    except VerdictTopicError as exc:  # e.g. not allowed to create topics: it may exist
        err_console.print(plain(f"warning: {exc}"), style="yellow")
    publish_verdict(conf, record, topic)


def _find(alerts: Sequence[dict[str, Any]], alert_id: str) -> list[dict[str, Any]]:
    exact = [a for a in alerts if a["alert_id"] == alert_id]
    if exact or len(alert_id) < MIN_PREFIX:
        return exact
    return [a for a in alerts if str(a["alert_id"]).startswith(alert_id)]


def _login() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def health_command(
    alerts: Annotated[
        list[Path] | None,
        typer.Option(
            "--alerts", help="Alert files or directories (default seamwatch-out/alerts.jsonl)."
        ),
    ] = None,
    since: Annotated[
        str, typer.Option(help="Only alerts detected in this period before now, e.g. 30d.")
    ] = "30d",
    verdicts: VerdictsOpt = None,
    rules: RulesOpt = DEFAULT_RULES_DIR,
    threshold: ThresholdOpt = _DEFAULT_THRESHOLD,
    min_verdicts: MinVerdictsOpt = DEFAULT_MIN_VERDICTS,
    kafka: KafkaOpt = None,
    properties: PropertiesOpt = None,
    verdict_topic: VerdictTopicOpt = VERDICT_TOPIC,
) -> None:
    """Per rule: alerts, verdicts, escalation-to-confirmed ratio, median time to detect."""
    try:
        period = parse_duration(since)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    found = _read(alerts or [DEFAULT_ALERTS])
    report, _ = _health(
        found,
        _verdict_log(verdicts, kafka, properties, verdict_topic),
        rules,
        since_ms=int(time.time() * 1000) - period * 1000,
        threshold=threshold,
        min_verdicts=min_verdicts,
    )
    table = Table(title=f"Rule health, the last {since} ({len(found.files)} alert files)")
    widest = max((len(rule.rule_id) for rule in report.rules), default=4)
    table.add_column("rule", no_wrap=True, min_width=min(widest, 60))
    for column in ("alerts", "verdicts", "confirmed", "benign", "duplicate", "ratio"):
        table.add_column(column, justify="right")
    table.add_column("median TTD", justify="right")
    for rule in report.rules:
        style = "bold red" if rule.below_threshold else None
        table.add_row(
            plain(rule.rule_id),
            str(rule.alerts),
            str(rule.verdicts),
            str(rule.confirmed),
            str(rule.benign),
            str(rule.duplicate),
            format_ratio(rule.ratio),
            format_duration(rule.median_ttd_ms),
            style=style,
        )
    console.print(table)
    for rule in report.rules:
        if rule.below_threshold:
            line = Text("warning: ", style="bold red")
            line.append(plain(rule.rule_id))
            line.append(
                f" confirms {format_ratio(rule.ratio)} of {rule.decided} decided alerts, "
                f"below {report.threshold:.0%}: tune its window or threshold",
                style="red",
            )
            console.print(line)
    if report.orphan_verdicts:
        console.print(
            f"{report.orphan_verdicts} verdicts are for alerts in none of the files "
            "and name no rule",
            style="yellow",
        )


def register(app: typer.Typer, rules_app: typer.Typer) -> None:
    """Add ``report`` and ``verdict`` to ``app`` and ``health`` to its ``rules`` group."""
    app.command("report")(report_command)
    app.command("verdict")(verdict_command)
    rules_app.command("health")(health_command)


__all__ = ["VERDICTS", "register"]
