"""``seamwatch coverage``: the ATT&CK technique x data-source matrix of the loaded rules.

Prints the covered techniques with rich and writes ``coverage.md``,
``coverage-navigator.json`` (an ATT&CK Navigator layer) and ``coverage.html`` (a
self-contained heatmap). Reads the committed ATT&CK data only; nothing is fetched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from seamwatch.jobs.settings import DEFAULT_RULES_DIR
from seamwatch.rules.coverage import (
    COLORS,
    MARKS,
    CoverageReport,
    compute_coverage,
    render_html,
    render_markdown,
    render_navigator,
)
from seamwatch.rules.rulebook import load_rules
from seamwatch.udfs.attack_data import load_attack_data

DEFAULT_OUT_DIR = Path("seamwatch-out/coverage")
OUTPUT_FILES = ("coverage.md", "coverage-navigator.json", "coverage.html")

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _table(report: CoverageReport, *, covered_only: bool) -> Table:
    table = Table(
        title=f"ATT&CK {report.attack.attack_version} coverage of {len(report.rules)} rules",
        show_lines=False,
    )
    table.add_column("tactic")
    table.add_column("technique")
    table.add_column("name")
    for source in report.sources:
        table.add_column(source, justify="center")
    table.add_column("status")
    table.add_column("rules")
    for tactic, rows in report.by_tactic(covered_only=covered_only):
        for i, row in enumerate(rows):
            cells = []
            for source in report.sources:
                status = row.cell(source)
                cells.append(f"[{COLORS[status]}]{MARKS[status]}[/]" if status else "")
            table.add_row(
                tactic.name if i == 0 else "",
                row.id,
                row.technique.name,
                *cells,
                f"[{COLORS[row.status]}]{row.status}[/]",
                ", ".join(row.rule_ids),
                end_section=i == len(rows) - 1,
            )
    return table


def write_outputs(report: CoverageReport, out_dir: Path) -> list[Path]:
    """Write the Markdown matrix, the Navigator layer and the HTML heatmap into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    texts = (render_markdown(report), render_navigator(report), render_html(report))
    paths = []
    for name, text in zip(OUTPUT_FILES, texts, strict=True):
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def coverage_command(
    rules: Annotated[Path, typer.Option(help="Directory of rule YAML files.")] = DEFAULT_RULES_DIR,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Where to write coverage.md, coverage-navigator.json and coverage.html "
            f"(default: {DEFAULT_OUT_DIR}/).",
        ),
    ] = None,
    show_all: Annotated[
        bool,
        typer.Option("--all", help="Also print the in-scope techniques no rule covers."),
    ] = False,
    strict: Annotated[
        bool,
        typer.Option(help="Exit 1 when a rule names an unknown, revoked or deprecated technique."),
    ] = False,
) -> None:
    """ATT&CK coverage of the rules: technique x data source, multi- vs single-source."""
    loaded = load_rules(rules)
    report = compute_coverage(loaded, load_attack_data())
    console.print(_table(report, covered_only=not show_all))
    for warning in report.warnings:
        err_console.print(f"[yellow]warning:[/] {escape(str(warning))}")
    console.print(report.summary())
    paths = write_outputs(report, out_dir if out_dir is not None else DEFAULT_OUT_DIR)
    console.print("wrote " + ", ".join(str(p) for p in paths), markup=False)
    if strict and report.warnings:
        raise typer.Exit(code=1)


__all__ = ["DEFAULT_OUT_DIR", "OUTPUT_FILES", "coverage_command", "write_outputs"]
