"""``seamwatch run --respond``: the rules' response actions, after the alerts are written.

The job emits and writes every alert first; only then are the actions run here on the client,
bounded (see :mod:`seamwatch.respond.runner`), so a receiver that is down or slow can neither
lose an alert nor hold the job. Results go to the response log next to the alert output.
"""

from __future__ import annotations

from pathlib import Path

from seamwatch.cli_output import console, err_console
from seamwatch.jobs.local import RunResult
from seamwatch.jobs.rulebook import load_rules
from seamwatch.respond.runner import (
    MODES,
    ResponseConfig,
    readiness,
    respond,
    response_log_path,
    summarize,
    write_log,
)


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
        style = {"failed": "bold red", "done": "green"}.get(item.status, "")
        console.print(
            f"respond {item.status:<8} {item.action:<26} alert {item.alert_id}  {item.reason}",
            style=style,
            markup=False,
        )
    console.print(f"responses ({config.mode}): {summarize(results)}; log: {path}")
    return path
