"""What every command of the CLI prints with: the consoles, errors, alerts, SOURCE=VALUE pairs.

Apart from :mod:`seamwatch.cli` so that the command modules (``cli_kafka``, ...) and the
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


class CommandGroup(TyperGroup):
    """The ``seamwatch`` command group: the one place a :class:`SeamwatchError` from any
    command (a bad rule or identity file, an input that names no file, a broker that does not
    answer...) becomes one plain ``error:`` line and exit code 2, never a traceback."""

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
