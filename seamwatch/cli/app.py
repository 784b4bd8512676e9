"""The ``seamwatch`` command line."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from seamwatch.cli import analyst, deploy
from seamwatch.cli import kafka as kafka_commands
from seamwatch.cli.coverage import coverage_command
from seamwatch.cli.output import (
    CommandGroup,
    console,
    err_console,
    fail,
    parse_pairs,
    print_alert,
)
from seamwatch.cli.progress import RunProgress
from seamwatch.cli.respond import prepare_response, respond_after_run, respond_command
from seamwatch.jobs.local import RunResult, run_files
from seamwatch.jobs.rule_sql import check_rules_sql
from seamwatch.jobs.rule_tests import run_rule_tests
from seamwatch.jobs.settings import (
    DEFAULT_KAFKA_SOURCES,
    DEFAULT_LEARNING_DAYS,
    DEFAULT_RULES_DIR,
    CommonSettings,
    JobSettings,
    common_fields,
    idle_timeouts_from,
    watermarks_from,
)
from seamwatch.rules.compiler import compile_rule
from seamwatch.rules.coverage_report import METHODS, measure
from seamwatch.rules.rulebook import load_located_rules, load_rules, parse_duration
from seamwatch.rules.runnable import idle_rules_text
from seamwatch.sources.staging import UnknownSourceError, check_source, skipped_summary
from seamwatch.sources.timeguard import FutureBounds
from seamwatch.udfs.behaviour import BaselineConfig
from seamwatch.udfs.geo import GeoDatabases
from seamwatch.udfs.identity import IdentityGraph, load_identity_file
from seamwatch.udfs.terminal import terminal_safe

app = typer.Typer(
    help="Seamwatch: correlate AWS CloudTrail with identity logs on Apache Flink.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    cls=CommandGroup,
)
rules_app = typer.Typer(help="Inspect and check detection rules.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
identities_app = typer.Typer(help="Check the identity graph and resolution.", no_args_is_help=True)
app.add_typer(identities_app, name="identities")
app.command("coverage")(coverage_command)
app.command("respond")(respond_command)


def _print_version(value: bool) -> None:
    if value:
        try:
            installed = metadata.version("seamwatch")
        except metadata.PackageNotFoundError:  # imported from a checkout that was never installed
            installed = "(not installed)"
        console.print(f"seamwatch {installed}", markup=False)
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the installed version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    pass


@app.command()
def run(
    inputs: Annotated[
        list[str] | None,
        typer.Option(
            "--input",
            "-i",
            help="SOURCE=PATH (okta, cloudtrail, entra or windows; a file, directory or glob of "
            ".json, .jsonl or .gz, and .evtx for windows). Repeat per source or path. Default: "
            "the bundled examples/.",
        ),
    ] = None,
    identities: Annotated[
        Path | None, typer.Option(help="Identity graph YAML (docs/identities.md).")
    ] = None,
    rules: Annotated[Path, typer.Option(help="Directory of rule YAML files.")] = DEFAULT_RULES_DIR,
    output: Annotated[Path, typer.Option("--output", "-o", help="Alerts as JSON lines.")] = Path(
        "seamwatch-out/alerts.jsonl"
    ),
    watermark: Annotated[
        list[str] | None,
        typer.Option(help="SOURCE=DURATION watermark bound, e.g. cloudtrail=20m."),
    ] = None,
    max_ahead_of_clock: Annotated[
        str,
        typer.Option(
            help="An event time further ahead of this machine's clock is dead-lettered: it never "
            "moves a watermark.",
        ),
    ] = "5m",
    max_ahead_of_next: Annotated[
        str,
        typer.Option(
            help="Files: an event time further ahead of the next records of its source "
            "(their median) is dead-lettered.",
        ),
    ] = "1h",
    parallelism: Annotated[int, typer.Option(min=1, help="Flink parallelism.")] = 1,
    learning_days: Annotated[
        float,
        typer.Option(min=0, help="Days of history before the baseline flags anything as new."),
    ] = DEFAULT_LEARNING_DAYS,
    quiet: Annotated[bool, typer.Option(help="Do not print the alert timelines.")] = False,
    geo_city: Annotated[
        Path | None,
        typer.Option(
            "--geo-city",
            help="A current MaxMind City database (.mmdb, GeoIP2/GeoLite2 City): country, "
            "city, coordinates. Default: the bundled offline data.",
        ),
    ] = None,
    geo_asn: Annotated[
        Path | None,
        typer.Option(
            "--geo-asn",
            help="A current MaxMind ASN database (.mmdb, GeoLite2/GeoIP2 ASN): AS number and "
            "organisation. Default: the bundled offline data (no AS numbers).",
        ),
    ] = None,
    kafka: Annotated[
        str | None,
        typer.Option(
            "--kafka",
            help="Kafka bootstrap servers: read the log topics, write alerts to the alert topic "
            "(docs/kafka.md; client properties from $SEAMWATCH_KAFKA_PROPERTIES / env).",
        ),
    ] = None,
    kafka_sources: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            help="With --kafka: a log topic to read (okta, cloudtrail, entra, windows); repeat. "
            "Default: okta and cloudtrail. A topic read but not fed holds event time back for "
            "its idle timeout.",
        ),
    ] = None,
    idle_timeout: Annotated[
        list[str] | None,
        typer.Option(
            help="With --kafka: [SOURCE=]DURATION a quiet topic stops holding back event time "
            "after, e.g. entra=20m (default: okta 1m, cloudtrail 15m, entra 15m, windows 1m).",
        ),
    ] = None,
    alert_format: Annotated[
        str | None,
        typer.Option(
            help="Alert encoding (docs/alerts.md): json or ocsf for the alert file (default "
            "json); avro, json or ocsf on Kafka (default avro).",
        ),
    ] = None,
    schema_registry: Annotated[
        str | None,
        typer.Option(
            help="With --kafka: schema registry URL; Avro alerts in the Confluent wire format, "
            "the schema registered under <alert topic>-value (docs/alerts.md; credentials "
            "from SEAMWATCH_SCHEMA_REGISTRY_USERNAME/_PASSWORD).",
        ),
    ] = None,
    respond_mode: Annotated[
        str,
        typer.Option(
            "--respond",
            help="The rules' response actions (docs/response.md): dry-run (default) records "
            "what they would do; live makes the calls, with credentials from the environment.",
        ),
    ] = "dry-run",
) -> None:
    """Run the correlation job on a local Flink mini-cluster over log files (or Kafka)."""
    if kafka is not None and respond_mode != "dry-run":
        raise fail("--respond on Kafka: the job does not respond itself (docs/response.md)")
    geo = GeoDatabases(
        city=str(geo_city) if geo_city else None, asn=str(geo_asn) if geo_asn else None
    )
    try:
        bounds = FutureBounds(
            clock_seconds=parse_duration(max_ahead_of_clock),
            next_seconds=parse_duration(max_ahead_of_next),
        )
    except ValueError as exc:
        raise fail(f"--max-ahead-of-*: {exc}") from exc
    try:
        common = CommonSettings(
            rules_dir=rules,
            identities=identities,
            parallelism=parallelism,
            watermark_seconds=watermarks_from(watermark or []),
            idle_timeout_seconds=idle_timeouts_from(idle_timeout or []),
            future_bounds=bounds,
            baseline=BaselineConfig(learning_days=learning_days),
            geo=geo,
        )
        sources = tuple(dict.fromkeys(check_source(s) for s in kafka_sources or []))
    except (UnknownSourceError, ValueError) as exc:
        raise fail(str(exc)) from exc
    if kafka is not None:
        kafka_commands.run_kafka_command(
            kafka,
            common,
            alert_format=alert_format or "avro",
            schema_registry=schema_registry,
            sources=sources or DEFAULT_KAFKA_SOURCES,
        )
        return
    if kafka_sources or idle_timeout:
        raise fail("--source and --idle-timeout choose the Kafka topics read: use with --kafka")
    if schema_registry is not None:
        raise fail("--schema-registry frames the Avro alerts of a Kafka run: use it with --kafka")
    if alert_format not in (None, "json", "ocsf"):
        raise fail(f"--alert-format {alert_format!r}: the alert file is json or ocsf")
    if inputs:
        chosen = parse_pairs(inputs, "--input")
    else:
        default = JobSettings.embedded_default()
        chosen = default.inputs
        if identities is None:
            common.identities = default.identities
    settings = JobSettings(
        **common_fields(common),
        inputs=chosen,
        output=output,
        alert_format="ocsf" if alert_format == "ocsf" else "json",
    )
    try:
        for source in settings.inputs:
            check_source(source)
        response = prepare_response(respond_mode, settings.rules_dir)
        with RunProgress(console, err_console, None if quiet else print_alert) as progress:
            result = run_files(settings, progress)
    except (UnknownSourceError, ValueError) as exc:
        raise fail(str(exc)) from exc
    except KeyboardInterrupt:
        err_console.print("[bold yellow]interrupted[/] before the job started: nothing written")
        raise typer.Exit(code=130) from None

    if not quiet:
        # Those the job decided at the end of its input (absence rules), not yet printed.
        for alert in result.alerts:
            if alert["alert_id"] not in progress.told:
                print_alert(alert)
    for line in summary_lines(result):
        console.print(line)
    skipped = skipped_summary(result.staged)
    if skipped:
        console.print(skipped, markup=False)
    console.print(f"alerts: {result.output}")
    console.print(f"dead letters: {result.dead_letter_path}")
    if result.counts.late:
        console.print(f"late events: {result.late_path}")
    if result.pending:
        console.print(f"pending: {result.pending_path}")
    if result.interrupted:
        err_console.print(
            "[bold yellow]interrupted[/]: the job was cancelled before the end of its input; "
            "what it had found is written above, and no response action ran"
        )
        raise typer.Exit(code=130)
    respond_after_run(result, response)  # after the alerts are written: never in their way


def summary_lines(result: RunResult) -> list[str]:
    """The run's summary, every figure counted by the job (``seamwatch.jobs.local.Counts``);
    a line more if they do not add up to the records read."""
    counts = result.counts
    staged = ", ".join(
        f"{s.source} {s.records_read} records from {s.files} file{'s' if s.files != 1 else ''}"
        for s in result.staged
    )
    n_empty = result.empty_containers
    empty = f" ({n_empty} empty container{'s' if n_empty > 1 else ''})" if n_empty else ""
    late = f"[bold yellow]{counts.late} late[/]" if counts.late else "0 late"
    idle = result.idle_rules
    idle_note = f" ({len(idle)} cannot match these inputs)" if idle else ""
    pending = f", [bold yellow]{len(result.pending)} pending[/]" if result.pending else ""
    lines = [
        f"read {staged}{empty}; {counts.normalized} normalized ({counts.on_time} matched, "
        f"{counts.not_needed} not needed by any rule, {late}), "
        f"{counts.dead_lettered} dead-lettered; {len(result.rules)} rules{idle_note}; "
        f"[bold]{len(result.alerts)} alerts[/]{pending} in {result.seconds:.1f}s"
    ]
    if result.interrupted:
        lines[0] += " [bold yellow](interrupted: counted up to the stop)[/]"
    if idle:
        lines.append(escape(idle_rules_text(idle)))
    missing = result.records_in - counts.normalized - counts.dead_lettered
    if missing and not result.interrupted:
        lines.append(
            f"[bold red]{missing} records read are not accounted for[/] (records in "
            f"{result.records_in} != normalized {counts.normalized} + dead-lettered "
            f"{counts.dead_lettered})"
        )
    return lines


@rules_app.command("compile")
def rules_compile(
    rule: Annotated[str | None, typer.Option(help="Only this rule id.")] = None,
    rules: Annotated[Path, typer.Option(help="Directory of rule YAML files.")] = DEFAULT_RULES_DIR,
) -> None:
    """Print the Flink SQL each rule compiles to."""
    loaded = load_rules(rules)
    chosen = [r for r in loaded if rule is None or r.id == rule]
    if not chosen:
        raise fail(f"no rule with id {rule!r} in {rules}")
    for item in chosen:
        console.print(f"-- {item.id}: {item.title}", markup=False)
        console.print(compile_rule(item) + ";\n", markup=False)


@rules_app.command("test")
def rules_test(
    rules: Annotated[Path, typer.Option(help="Directory of rule YAML files.")] = DEFAULT_RULES_DIR,
    rule: Annotated[str | None, typer.Option(help="Only this rule's tests.")] = None,
) -> None:
    """Replay every rule's tests in event time through the real job; exit 1 on a failure."""
    try:
        with RunProgress(console, err_console, what="rule tests") as progress:
            report = run_rule_tests(rules, only=rule, listener=progress)
    except KeyboardInterrupt:
        err_console.print("[bold yellow]interrupted[/] before the job started")
        raise typer.Exit(code=130) from None
    if report.interrupted:
        err_console.print("[bold yellow]interrupted[/]: the rule tests did not finish")
        raise typer.Exit(code=130)
    if not report.cases:
        raise fail("no rule tests found")
    for rule_id, cases in report.by_rule().items():
        verdict = "[green]PASS[/]" if all(c.passed for c in cases) else "[bold red]FAIL[/]"
        console.print(f"{verdict} {rule_id} ({len(cases)} cases)")
        for case in cases:
            if not case.passed:
                expected = f"expected {case.expected} alert(s)"
                if case.expected_entity:
                    expected += f" for {case.expected_entity}"
                if case.expected_matches is not None:
                    expected += f" counting {case.expected_matches} matches"
                if case.expected_context is not None:
                    expected += f" with {case.expected_context} authentication(s) of context"
                got = f"got {case.got}" + (f" for {', '.join(case.entities)}" if case.got else "")
                got += f" counting {case.matches} matches" if case.got else ""
                if case.expected_context is not None and case.got:
                    got += f" with context {', '.join(map(str, case.contexts))}"
                console.print(f"    {case.case}: {expected}, {got}", markup=False)
    if report.dead_letters:
        console.print(f"{len(report.dead_letters)} test records were dead-lettered:")
        for dead in report.dead_letters[:10]:
            console.print(terminal_safe(f"    {dead['raw_ref']}: {dead['reason']}"), markup=False)
    failed = sum(1 for c in report.cases if not c.passed)
    console.print(f"{len(report.cases) - failed} passed, {failed} failed")
    if failed or report.dead_letters:
        raise typer.Exit(code=1)


@rules_app.command("check")
def rules_check(
    rules: Annotated[Path, typer.Option(help="Directory of rule YAML files.")] = DEFAULT_RULES_DIR,
) -> None:
    """Load and validate every rule, and have Flink plan the SQL each compiles to (no job
    starts); exit 2 with file, line and reason on the first error."""
    located = load_located_rules(rules)
    check_rules_sql(located)
    for item, _ in located:
        console.print(f"ok  {item.id}  ({len(item.steps)} steps, within {item.within}s)")


kafka_commands.register(app)
# ``report``, ``verdict`` and ``rules health`` live in ``seamwatch.cli.analyst``.
analyst.register(app, rules_app)


@identities_app.command("check")
def identities_check(
    path: Annotated[Path, typer.Argument(help="Identity graph, YAML or CSV.")],
) -> None:
    """Validate an identity graph file; exit 2 with file, line and reason on the first error."""
    graph = load_identity_file(path)
    kinds: dict[str, int] = {}
    for entity in graph.entities.values():
        kinds[entity.type] = kinds.get(entity.type, 0) + 1
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    console.print(f"ok  {len(graph.entities)} entities ({summary}), {len(graph.index)} identifiers")


@identities_app.command("coverage")
def identities_coverage(
    inputs: Annotated[
        list[str] | None,
        typer.Option("--input", "-i", help="SOURCE=PATH, as for `run`. Default: examples/."),
    ] = None,
    identities: Annotated[Path | None, typer.Option(help="Identity graph (YAML or CSV).")] = None,
    top: Annotated[int, typer.Option(min=0, help="How many unresolved identifiers to list.")] = 10,
) -> None:
    """Share of events resolved by each method, and the top unresolved identifiers."""
    settings = (
        JobSettings(inputs=parse_pairs(inputs, "--input"), identities=identities)
        if inputs
        else JobSettings.embedded_default()
    )
    if inputs is None and identities is not None:
        settings.identities = identities
    try:
        for source in settings.inputs:
            check_source(source)
        graph = load_identity_file(settings.identities) if settings.identities else IdentityGraph()
        coverage = measure(settings.inputs, graph)
    except UnknownSourceError as exc:
        raise fail(str(exc)) from exc

    table = Table(title=f"Identity resolution of {coverage.events:,} events")
    table.add_column("method")
    for source in sorted(coverage.by_source):
        table.add_column(source, justify="right")
    table.add_column("all", justify="right")
    table.add_column("share", justify="right")
    for method in METHODS:
        cells = [str(coverage.by_source[s][method]) for s in sorted(coverage.by_source)]
        table.add_row(
            method, *cells, str(coverage.by_method[method]), f"{coverage.share(method):.1%}"
        )
    console.print(table)
    types = ", ".join(f"{t} {n:,}" for t, n in coverage.entity_types.most_common())
    console.print(f"entity types: {types}; dead-lettered records: {coverage.dead_letters}")
    if top and coverage.unresolved:
        console.print(f"top unresolved identifiers ({len(coverage.unresolved)} distinct):")
        for ident, count in coverage.unresolved.most_common(top):
            console.print(f"  {count:>7,}  {terminal_safe(ident)}", markup=False)
    split = coverage.split_okta_users
    if split:
        console.print(
            f"Okta users seen as several entities ({len(split)}; a renamed login: list the "
            "okta_user_id in the identity file):"
        )
        for okta_id, entities in list(split.items())[: top or None]:
            console.print(terminal_safe(f"  {okta_id}: {', '.join(entities)}"), markup=False)


# ``seamwatch submit`` (Flink session cluster) lives in ``seamwatch.cli.deploy``.
deploy.register(app)


if __name__ == "__main__":
    app()
