"""What every command of the CLI prints with: the consoles, errors, alerts, SOURCE=VALUE pairs.

Apart from :mod:`seamwatch.cli.app` so that the command modules (``kafka``, ...) and the
application that registers them share it without importing each other.
"""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from seamwatch.errors import SeamwatchError
from seamwatch.udfs.alerts import timeline
from seamwatch.udfs.terminal import terminal_safe

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

_SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}


def fail(message: str) -> typer.Exit:
    """Print ``message`` as an error; the ``typer.Exit`` (code 2) for the caller to raise."""
    err_console.print(f"[bold red]error:[/] {escape(terminal_safe(message))}")
    return typer.Exit(code=2)


# What each option's value is, as ``--help`` shows it (by the option's parameter name), for
# every command: one spelling per kind of value. tests/test_cli_help.py fails on an option
# left out of this table.
METAVARS: dict[str, str] = {
    # Inputs, rules, identities, outputs: files and directories.
    "inputs": "SOURCE=PATH",
    "input": "SOURCE=PATH",
    "rules": "DIR",
    "identities": "FILE",
    "output": "FILE",
    "out": "DIR",
    "out_dir": "DIR",
    "alerts": "FILE",
    "verdicts": "FILE",
    "store": "FILE",
    "log": "FILE",
    "properties": "FILE",
    "geo_city": "MMDB",
    "geo_asn": "MMDB",
    "jar": "JAR",
    "python": "PYTHON",
    "checkpoint_dir": "URI",
    "from_savepoint": "URI",
    # Time.
    "watermark": "SOURCE=DURATION",
    "idle_timeout": "[SOURCE=]DURATION",
    "max_ahead_of_clock": "DURATION",
    "max_ahead_of_next": "DURATION",
    "checkpoint_interval": "DURATION",
    "since": "DURATION",
    "timeout": "SECONDS",
    "learning_days": "DAYS",
    # Kafka.
    "kafka": "HOST:PORT",
    "kafka_sources": "SOURCE",
    "schema_registry": "URL",
    "group": "GROUP",
    "okta_topic": "TOPIC",
    "cloudtrail_topic": "TOPIC",
    "entra_topic": "TOPIC",
    "windows_topic": "TOPIC",
    "identity_topic": "TOPIC",
    "alert_topic": "TOPIC",
    "dead_letter_topic": "TOPIC",
    "late_topic": "TOPIC",
    "verdict_topic": "TOPIC",
    "partitions": "N",
    "replication": "N",
    "rate": "PER_SECOND",
    # Choices and the rest.
    "alert_format": "FORMAT",
    "respond_mode": "dry-run|live",
    "state_backend": "rocksdb|hashmap",
    "python_mode": "thread|process",
    "parallelism": "N",
    "top": "N",
    "min_verdicts": "N",
    "threshold": "RATIO",
    "rule": "RULE_ID",
    "analyst": "NAME",
    "note": "TEXT",
}


def _name_values(command: Any) -> None:
    """Give every option of ``command`` (and of its subcommands) its :data:`METAVARS` name."""
    for param in getattr(command, "params", ()):
        if not getattr(param, "is_flag", False) and param.name in METAVARS:
            param.metavar = METAVARS[param.name]
    for sub in getattr(command, "commands", {}).values():
        _name_values(sub)


class CommandGroup(TyperGroup):
    """The ``seamwatch`` command group: the one place a :class:`SeamwatchError` from any
    command (a bad rule or identity file, an input that names no file, a broker that does not
    answer...) becomes one plain ``error:`` line and exit code 2, never a traceback; and where
    every option's value gets its name in the help (:data:`METAVARS`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _name_values(self)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except SeamwatchError as exc:
            raise fail(str(exc)) from exc


def parse_pairs(values: list[str], what: str) -> dict[str, list[str]]:
    """``["okta=a", "okta=b", "cloudtrail=c"]`` -> ``{"okta": ["a", "b"], "cloudtrail": ["c"]}``."""
    pairs: dict[str, list[str]] = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name or not rest:
            raise fail(f"{what} {value!r}: write SOURCE=VALUE, e.g. okta=logs/okta.jsonl")
        pairs.setdefault(name.strip(), []).append(rest)
    return pairs


def print_alert(alert: dict[str, Any]) -> None:
    """The alert as its timeline, the title line in the severity's colour."""
    lines = timeline(alert)
    style = _SEVERITY_STYLE.get(alert["severity"], "bold")
    console.print(lines[0], style=style, markup=False)
    for line in lines[1:]:
        console.print(line, markup=False)
    console.print()


def print_finding(finding: dict[str, Any]) -> None:
    """An OCSF finding as one line of JSON, every non-ASCII and control character escaped (a
    finding's text comes from the logs)."""
    console.print(json.dumps(finding, ensure_ascii=True), markup=False, highlight=False)
