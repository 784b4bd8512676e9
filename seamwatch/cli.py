"""The ``seamwatch`` command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from seamwatch.jobs.rulebook import load_rules, parse_duration
from seamwatch.jobs.settings import DEFAULT_RULES_DIR, JobSettings
from seamwatch.yamlfile import ConfigError

app = typer.Typer(
    help="Seamwatch: correlate AWS CloudTrail with identity logs on Apache Flink.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
rules_app = typer.Typer(help="Inspect and check detection rules.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

_SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code=2)


def parse_pairs(values: list[str], what: str) -> dict[str, list[str]]:
    """``["okta=a", "okta=b", "cloudtrail=c"]`` -> ``{"okta": ["a", "b"], "cloudtrail": ["c"]}``."""
    pairs: dict[str, list[str]] = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name or not rest:
            raise _fail(f"{what} {value!r}: write SOURCE=VALUE, e.g. okta=logs/okta.jsonl")
        pairs.setdefault(name.strip(), []).append(rest)
    return pairs


def print_alert(alert: dict[str, Any]) -> None:
    from seamwatch.udfs.alerts import timeline

    lines = timeline(alert)
    style = _SEVERITY_STYLE.get(alert["severity"], "bold")
    console.print(lines[0], style=style, markup=False)
    for line in lines[1:]:
        console.print(line, markup=False)
    console.print()


@app.command()
def run(
    inputs: Annotated[
        list[str] | None,
        typer.Option(
            "--input",
            "-i",
            help="SOURCE=PATH (okta or cloudtrail; a file, directory or glob of .json, "
            ".jsonl or .gz). Repeat per source or path. Default: the bundled examples/.",
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
    parallelism: Annotated[int, typer.Option(min=1, help="Flink parallelism.")] = 1,
    quiet: Annotated[bool, typer.Option(help="Do not print the alert timelines.")] = False,
) -> None:
    """Run the correlation job on a local Flink mini-cluster over log files."""
    from seamwatch.jobs.inputs import InputError
    from seamwatch.jobs.local import run_files
    from seamwatch.jobs.sources import UnknownSourceError, check_source

    if inputs:
        settings = JobSettings(inputs=parse_pairs(inputs, "--input"), identities=identities)
    else:
        settings = JobSettings.embedded_default()
        if identities is not None:
            settings.identities = identities
    settings.rules_dir = rules
    settings.output = output
    settings.parallelism = parallelism
    try:
        for source in settings.inputs:
            check_source(source)
        for source, values in parse_pairs(watermark or [], "--watermark").items():
            settings.watermark_seconds[check_source(source)] = parse_duration(values[-1])
        result = run_files(settings)
    except (ConfigError, InputError, UnknownSourceError, ValueError) as exc:
        raise _fail(str(exc)) from exc

    if not quiet:
        for alert in result.alerts:
            print_alert(alert)
    staged = ", ".join(
        f"{s.source} {s.records} records from {s.files} files" for s in result.staged
    )
    dead = len(result.dead_letters)
    console.print(
        f"read {staged}; {result.records_in - dead} normalized, {dead} dead-lettered; "
        f"{len(result.rules)} rules; [bold]{len(result.alerts)} alerts[/] "
        f"in {result.seconds:.1f}s"
    )
    console.print(f"alerts: {result.output}")
    console.print(f"dead letters: {result.dead_letter_path}")


@rules_app.command("compile")
def rules_compile(
    rule: Annotated[str | None, typer.Option(help="Only this rule id.")] = None,
    rules: Annotated[Path, typer.Option(help="Directory of rule YAML files.")] = DEFAULT_RULES_DIR,
) -> None:
    """Print the Flink SQL each rule compiles to."""
    from seamwatch.jobs.compiler import compile_rule

    try:
        loaded = load_rules(rules)
    except ConfigError as exc:
        raise _fail(str(exc)) from exc
    chosen = [r for r in loaded if rule is None or r.id == rule]
    if not chosen:
        raise _fail(f"no rule with id {rule!r} in {rules}")
    for item in chosen:
        console.print(f"-- {item.id}: {item.title}", markup=False)
        console.print(compile_rule(item) + ";\n", markup=False)


@rules_app.command("check")
def rules_check(
    rules: Annotated[Path, typer.Option(help="Directory of rule YAML files.")] = DEFAULT_RULES_DIR,
) -> None:
    """Load and validate every rule; exit 2 with file, line and reason on the first error."""
    try:
        loaded = load_rules(rules)
    except ConfigError as exc:
        raise _fail(str(exc)) from exc
    for item in loaded:
        console.print(f"ok  {item.id}  ({len(item.steps)} steps, within {item.within}s)")


if __name__ == "__main__":
    app()
