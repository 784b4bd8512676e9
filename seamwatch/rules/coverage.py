"""ATT&CK coverage of a rule catalogue (``seamwatch coverage``), as plain functions.

For each technique the loaded rules name, :func:`compute_coverage` works out which data sources
those rules read and whether any of them is *multi-source*; every technique in Seamwatch's
cloud and identity scope (:mod:`seamwatch.udfs.attack_data`) that no rule names is *not covered*.

- A step's ``source`` list says which sources it reads; a step without ``source`` reads any
  loaded source (:data:`seamwatch.rules.rulebook.SOURCES`).
- A rule is multi-source when no single source can feed all of its steps (the steps' source
  sets have no source in common): it only fires by correlating two or more sources. Every
  other rule is single-source, even one whose unsourced step could match either source.
- A technique is ``multi-source`` if at least one rule naming it is multi-source,
  ``single-source`` if it is named only by single-source rules, ``not-covered`` if it is in
  scope and no rule names it.

A technique id that is not in the ATT&CK data, or that ATT&CK revoked or deprecated, is
reported as a :class:`CoverageWarning` with the rule id. Renderers: :func:`render_markdown`,
:func:`navigator_layer`, :func:`render_html`.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from seamwatch.rules.rulebook import SOURCES, Rule
from seamwatch.udfs.attack_data import (
    SCOPE_PLATFORMS,
    AttackData,
    Tactic,
    Technique,
    technique_sort_key,
)

Status = Literal["multi-source", "single-source", "not-covered"]
STATUSES: tuple[Status, ...] = ("multi-source", "single-source", "not-covered")

SCORES: dict[Status, int] = {"multi-source": 2, "single-source": 1, "not-covered": 0}
COLORS: dict[Status, str] = {
    "multi-source": "#31a354",
    "single-source": "#fdae61",
    "not-covered": "#e6e6e6",
}
TEXT_COLORS: dict[Status, str] = {
    "multi-source": "#ffffff",
    "single-source": "#222222",
    "not-covered": "#555555",
}
MEANINGS: dict[Status, str] = {
    "multi-source": "named by at least one rule that correlates two or more data sources",
    "single-source": "named only by rules that read a single data source",
    "not-covered": "in the cloud / identity scope, named by no rule",
}
MARKS: dict[Status, str] = {"multi-source": "●", "single-source": "◐", "not-covered": "·"}
NAVIGATOR_VERSION = "5.1.0"
LAYER_VERSION = "4.5"


@dataclass(frozen=True)
class RuleSources:
    """The data sources one rule reads and whether it is multi-source."""

    rule_id: str
    sources: tuple[str, ...]
    multi_source: bool


@dataclass(frozen=True)
class TechniqueCoverage:
    """One technique's row: its status, the sources its rules read and the rule ids."""

    technique: Technique
    status: Status
    sources: tuple[str, ...] = ()
    multi_sources: tuple[str, ...] = ()  # sources read by its multi-source rules
    rule_ids: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """The ATT&CK id, ``T1078.004``."""
        return self.technique.id

    def cell(self, source: str) -> Status | None:
        """The status of one technique/source cell: which kind of rule reads that source."""
        if source in self.multi_sources:
            return "multi-source"
        if source in self.sources:
            return "single-source"
        return None


@dataclass(frozen=True)
class CoverageWarning:
    """A rule names a technique that is not in the ATT&CK data, or that is revoked/deprecated."""

    rule_id: str
    technique_id: str
    reason: str

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.technique_id} {self.reason}"


@dataclass(frozen=True)
class CoverageReport:
    """Coverage of a rule catalogue against the ATT&CK data."""

    attack: AttackData
    sources: tuple[str, ...]
    techniques: tuple[TechniqueCoverage, ...]  # sorted by technique id
    rules: tuple[RuleSources, ...] = ()
    warnings: tuple[CoverageWarning, ...] = field(default_factory=tuple)

    def by_status(self, status: Status) -> list[TechniqueCoverage]:
        """The techniques with one status, by id."""
        return [t for t in self.techniques if t.status == status]

    def counts(self) -> dict[Status, int]:
        """How many techniques have each status."""
        return {status: len(self.by_status(status)) for status in STATUSES}

    def covered(self) -> list[TechniqueCoverage]:
        """Techniques named by at least one rule, by id."""
        return [t for t in self.techniques if t.status != "not-covered"]

    def by_tactic(
        self, *, covered_only: bool = False
    ) -> list[tuple[Tactic, list[TechniqueCoverage]]]:
        """Rows grouped by tactic in ATT&CK order; a technique appears under each of its tactics.

        Tactics with no row are left out.
        """
        rows = self.covered() if covered_only else list(self.techniques)
        groups: list[tuple[Tactic, list[TechniqueCoverage]]] = []
        for tactic in self.attack.tactics:
            members = [row for row in rows if tactic.shortname in row.technique.tactics]
            if members:
                groups.append((tactic, members))
        return groups

    def summary(self) -> str:
        """``N techniques covered by multi-source rules, M by single-source only, K ...``."""
        counts = self.counts()
        return (
            f"{counts['multi-source']} techniques covered by multi-source rules, "
            f"{counts['single-source']} by single-source rules only, "
            f"{counts['not-covered']} in scope not covered"
        )


def rule_sources(rule: Rule, sources: Sequence[str] = SOURCES) -> RuleSources:
    """The sources a rule's steps read (an unsourced step reads all of ``sources``)."""
    step_sets = [set(step.source) if step.source else set(sources) for step in rule.steps]
    read = set().union(*step_sets)
    common = set(sources).intersection(*step_sets)
    return RuleSources(
        rule_id=rule.id,
        sources=tuple(s for s in sources if s in read),
        multi_source=not common,
    )


def compute_coverage(
    rules: Iterable[Rule], attack: AttackData, sources: Sequence[str] = SOURCES
) -> CoverageReport:
    """Coverage of ``rules``: every in-scope technique plus every current technique a rule names.

    A technique id that is unknown, revoked or deprecated gives a warning, not a row.
    """
    sources = tuple(sources)
    rule_list = list(rules)
    per_rule = {rule.id: rule_sources(rule, sources) for rule in rule_list}
    naming: dict[str, list[str]] = {}
    warnings: list[CoverageWarning] = []
    for rule in rule_list:
        for technique_id in dict.fromkeys(rule.techniques):
            technique = attack.techniques.get(technique_id)
            if technique is None:
                warnings.append(
                    CoverageWarning(
                        rule.id,
                        technique_id,
                        f"is not an ATT&CK Enterprise technique (ATT&CK {attack.attack_version})",
                    )
                )
                continue
            if technique.revoked:
                instead = f"; use {technique.revoked_by}" if technique.revoked_by else ""
                warnings.append(
                    CoverageWarning(
                        rule.id, technique_id, f"({technique.name}) is revoked in ATT&CK{instead}"
                    )
                )
                continue
            if technique.deprecated:
                warnings.append(
                    CoverageWarning(
                        rule.id, technique_id, f"({technique.name}) is deprecated in ATT&CK"
                    )
                )
                continue
            naming.setdefault(technique_id, []).append(rule.id)

    ids = set(naming) | {t.id for t in attack.scope()}
    rows: list[TechniqueCoverage] = []
    for technique_id in sorted(ids, key=technique_sort_key):
        technique = attack.techniques[technique_id]
        rule_ids = tuple(sorted(naming.get(technique_id, [])))
        if not rule_ids:
            rows.append(TechniqueCoverage(technique, "not-covered"))
            continue
        read = {s for r in rule_ids for s in per_rule[r].sources}
        multi = {s for r in rule_ids if per_rule[r].multi_source for s in per_rule[r].sources}
        rows.append(
            TechniqueCoverage(
                technique,
                "multi-source" if multi else "single-source",
                sources=tuple(s for s in sources if s in read),
                multi_sources=tuple(s for s in sources if s in multi),
                rule_ids=rule_ids,
            )
        )
    return CoverageReport(
        attack=attack,
        sources=sources,
        techniques=tuple(rows),
        rules=tuple(per_rule[r.id] for r in rule_list),
        warnings=tuple(warnings),
    )


# -- Markdown ------------------------------------------------------------------------------


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def _provenance(report: CoverageReport) -> str:
    source = report.attack.source
    return (
        f"ATT&CK Enterprise {report.attack.attack_version}, from the package "
        f"{source.get('package', '?')} {source.get('package_version', '?')} "
        f"({source.get('copyright', '')})"
    ).replace(" ()", "")


def render_markdown(report: CoverageReport) -> str:
    """The technique x data-source matrix as Markdown, grouped by tactic, with a legend."""
    lines = [
        "# Seamwatch ATT&CK coverage",
        "",
        _md(_provenance(report)) + ".",
        f"Rules: {len(report.rules)}. {report.summary()}.",
        "",
        "Legend:",
        "",
    ]
    lines += [f"- {MARKS[s]} **{s}**: {MEANINGS[s]}" for s in STATUSES]
    lines += [
        "",
        "A source cell shows the best kind of rule that reads that source for the technique; "
        "a technique appears under each of its tactics.",
        "",
    ]
    header = ["Technique", "Name", *report.sources, "Status", "Rules"]
    for tactic, rows in report.by_tactic():
        lines += [f"## {tactic.name} ({tactic.id})", ""]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join(["---"] * len(header)) + "|")
        for row in rows:
            cells = []
            for source in report.sources:
                status = row.cell(source)
                cells.append(MARKS[status] if status else "")
            lines.append(
                "| "
                + " | ".join(
                    [
                        row.id,
                        _md(row.technique.name),
                        *cells,
                        f"{MARKS[row.status]} {row.status}",
                        ", ".join(row.rule_ids),
                    ]
                )
                + " |"
            )
        lines.append("")
    if report.warnings:
        lines += ["## Warnings", ""]
        lines += [f"- `{w.rule_id}`: {w.technique_id} {_md(w.reason)}" for w in report.warnings]
        lines.append("")
    return "\n".join(lines)


# -- ATT&CK Navigator layer ----------------------------------------------------------------


def _comment(row: TechniqueCoverage) -> str:
    if not row.rule_ids:
        return "not covered by any rule"
    return f"{row.status}; sources: {', '.join(row.sources)}; rules: {', '.join(row.rule_ids)}"


def navigator_layer(report: CoverageReport, name: str = "Seamwatch coverage") -> dict[str, Any]:
    """An ATT&CK Navigator layer (format 4.5) colouring techniques by coverage status."""
    techniques: list[dict[str, Any]] = []
    shown_parents = {
        row.technique.parent_id
        for row in report.techniques
        if row.technique.parent_id and row.status != "not-covered"
    }
    for row in report.techniques:
        entry: dict[str, Any] = {
            "techniqueID": row.id,
            "score": SCORES[row.status],
            "color": COLORS[row.status],
            "comment": _comment(row),
            "enabled": True,
            "metadata": [{"name": "rules", "value": ", ".join(row.rule_ids)}]
            if row.rule_ids
            else [],
            "showSubtechniques": row.id in shown_parents,
        }
        techniques.append(entry)
    present = {row.id for row in report.techniques}
    for parent in sorted(shown_parents - present, key=technique_sort_key):
        techniques.append({"techniqueID": parent, "enabled": True, "showSubtechniques": True})
    # The scope's platforms, plus those of any covered technique outside the scope, so that
    # the Navigator hides nothing a rule covers.
    platforms = {p for t in report.attack.scope() for p in t.platforms} & set(SCOPE_PLATFORMS)
    platforms |= {
        p for row in report.covered() if not row.technique.in_scope for p in row.technique.platforms
    }
    return {
        "name": name,
        "versions": {
            "attack": report.attack.attack_major,
            "navigator": NAVIGATOR_VERSION,
            "layer": LAYER_VERSION,
        },
        "domain": "enterprise-attack",
        "description": f"Generated by `seamwatch coverage`. {report.summary()}. "
        f"{_provenance(report)}.",
        "filters": {"platforms": sorted(platforms, key=str.lower)},
        "sorting": 0,
        "layout": {
            "layout": "side",
            "aggregateFunction": "max",
            "showID": True,
            "showName": True,
            "showAggregateScores": False,
            "countUnscored": False,
            "expandedSubtechniques": "annotated",
        },
        "hideDisabled": False,
        "techniques": techniques,
        "gradient": {
            "colors": [COLORS["not-covered"], COLORS["single-source"], COLORS["multi-source"]],
            "minValue": 0,
            "maxValue": 2,
        },
        "legendItems": [{"label": s, "color": COLORS[s]} for s in STATUSES],
        "metadata": [
            {"name": "generated_by", "value": "seamwatch coverage"},
            {"name": "attack_version", "value": report.attack.attack_version},
            {"name": "sources", "value": ", ".join(report.sources)},
        ],
        "showTacticRowBackground": False,
        "selectTechniquesAcrossTactics": True,
        "selectSubtechniquesWithParent": False,
        "selectVisibleTechniques": False,
    }


def render_navigator(report: CoverageReport) -> str:
    """The Navigator layer as JSON text."""
    return json.dumps(navigator_layer(report), indent=2, ensure_ascii=False) + "\n"


# -- HTML heatmap --------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
p.meta { color: #555; margin-top: 0; }
.legend span { display: inline-block; padding: 0.2em 0.6em; margin-right: 0.5em;
  border-radius: 3px; font-size: 0.9em; }
.matrix { display: flex; gap: 6px; align-items: flex-start; overflow-x: auto;
  padding-bottom: 1em; }
.tactic { min-width: 150px; max-width: 190px; flex: 1 0 150px; }
.tactic h2 { font-size: 0.85em; margin: 0 0 4px 0; padding: 4px; background: #333;
  color: #fff; border-radius: 3px; }
.tactic h2 small { display: block; font-weight: normal; color: #ccc; }
.cell { font-size: 0.75em; padding: 4px; margin-bottom: 3px; border-radius: 3px;
  border: 1px solid rgba(0,0,0,0.08); cursor: default; }
.cell.sub { margin-left: 10px; }
.cell b { display: block; }
.cell i { display: block; font-style: normal; font-size: 0.9em; opacity: 0.85; }
ul.warnings li { color: #8a4b00; }
"""


def render_html(report: CoverageReport) -> str:
    """A self-contained HTML heatmap: one column per tactic, a coloured cell per technique.

    Inline CSS only: no script, no external stylesheet, font, image or link.
    """
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        "<title>Seamwatch ATT&amp;CK coverage</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<h1>Seamwatch ATT&amp;CK coverage</h1>",
        f'<p class="meta">{e(_provenance(report))}. Rules: {len(report.rules)}. '
        f"{e(report.summary())}. Data sources: {e(', '.join(report.sources))}.</p>",
        '<p class="legend">',
    ]
    for status in STATUSES:
        out.append(
            f'<span style="background:{COLORS[status]};color:{TEXT_COLORS[status]}" '
            f'title="{e(MEANINGS[status])}">{e(status)}</span>'
        )
    out += ["</p>", '<div class="matrix">']
    for tactic, rows in report.by_tactic():
        out.append('<section class="tactic">')
        out.append(f"<h2>{e(tactic.name)}<small>{e(tactic.id)} · {len(rows)}</small></h2>")
        for row in rows:
            tip = f"{row.id} {row.technique.name}\n{row.status}"
            if row.rule_ids:
                tip += f"\nsources: {', '.join(row.sources)}\nrules: {', '.join(row.rule_ids)}"
            classes = "cell sub" if row.technique.is_subtechnique else "cell"
            detail = f"<i>{e(', '.join(row.sources))}</i>" if row.sources else ""
            out.append(
                f'<div class="{classes}" style="background:{COLORS[row.status]};'
                f'color:{TEXT_COLORS[row.status]}" title="{e(tip)}">'
                f"<b>{e(row.id)}</b>{e(row.technique.name)}{detail}</div>"
            )
        out.append("</section>")
    out.append("</div>")
    if report.warnings:
        out.append("<h2>Warnings</h2>")
        out.append('<ul class="warnings">')
        out += [f"<li>{e(str(w))}</li>" for w in report.warnings]
        out.append("</ul>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


__all__ = [
    "COLORS",
    "MARKS",
    "MEANINGS",
    "SCORES",
    "STATUSES",
    "CoverageReport",
    "CoverageWarning",
    "RuleSources",
    "Status",
    "TechniqueCoverage",
    "compute_coverage",
    "navigator_layer",
    "render_html",
    "render_markdown",
    "render_navigator",
    "rule_sources",
]
