"""Repo-wide policy for the shipped catalog, then its tests replayed through the real job."""

from __future__ import annotations

import re

import pytest

from seamwatch.jobs.rule_tests import run_rule_tests
from seamwatch.jobs.settings import DEFAULT_RULES_DIR, DEFAULT_WATERMARK_SECONDS
from seamwatch.rules.rulebook import load_rules

RULES = load_rules(DEFAULT_RULES_DIR)


def test_catalog_policy() -> None:
    """Collect every violation, then fail once with the list."""
    problems = []
    for rule in RULES:
        if not any(t.expect > 0 for t in rule.tests):
            problems.append(f"{rule.id}: no positive test")
        if not any(t.expect == 0 for t in rule.tests):
            problems.append(f"{rule.id}: no negative test")
        if not re.search(r"\S", rule.description):
            problems.append(f"{rule.id}: no description")
        absent = rule.absent_step
        lateness = max(DEFAULT_WATERMARK_SECONDS.values())
        if absent is not None and absent.within is not None and absent.within < lateness:
            problems.append(f"{rule.id}: absence window shorter than the allowed lateness")
    assert problems == []


def test_catalog_covers_the_starter_techniques() -> None:
    techniques = {t for rule in RULES for t in rule.techniques}
    for expected in (
        "T1078.004",
        "T1550.004",
        "T1098",
        "T1562.008",
        "T1530",
        "T1537",
        "T1621",
        "T1556.006",
    ):
        assert expected in techniques


@pytest.mark.flink
def test_every_rule_test_passes_through_the_real_job() -> None:
    report = run_rule_tests(DEFAULT_RULES_DIR)
    failed = [c for c in report.cases if not c.passed]
    assert failed == []
    assert report.dead_letters == []
    assert {c.rule_id for c in report.cases} == {r.id for r in RULES}
