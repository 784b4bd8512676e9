"""Rules a job cannot match with the sources it reads are left out (seamwatch.rules.runnable)."""

from __future__ import annotations

from typing import Any

from seamwatch.jobs.local import needed_actions
from seamwatch.jobs.settings import DEFAULT_RULES_DIR
from seamwatch.rules.rulebook import Rule, load_rules
from seamwatch.rules.runnable import idle_rules_text, missing_sources, split_runnable


def _rule(rule_id: str, *steps: dict[str, Any]) -> Rule:
    return Rule.model_validate(
        {
            "id": rule_id,
            "title": rule_id,
            "techniques": ["T1078"],
            "severity": "high",
            "within": "1h",
            "steps": list(steps),
        }
    )


AD_THEN_AWS = _rule(
    "ad-then-aws",
    {"name": "ad", "source": "windows", "where": {"action": "logon"}},
    {"name": "aws", "source": "cloudtrail", "where": {"action": "ConsoleLogin"}},
)
SPRAY = _rule(
    "spray",
    {"name": "fail", "source": ["okta", "entra"], "where": {"outcome": "failure"}},
    {"name": "win", "source": ["okta", "entra"], "where": {"outcome": "success"}},
)
NO_SSO_BEFORE = _rule(
    "console-without-sso",
    {"name": "sso", "source": "okta", "absent": True, "within": "15m"},
    {"name": "console", "source": "cloudtrail", "where": {"action": "ConsoleLogin"}},
)
ANY_SOURCE = _rule("anything", {"name": "any", "where": {"outcome": "failure"}})


def test_a_rule_missing_a_present_steps_source_is_not_run_and_says_which() -> None:
    runnable, idle = split_runnable([AD_THEN_AWS, SPRAY], {"okta", "cloudtrail"})
    assert [rule.id for rule in runnable] == ["spray"]
    assert idle == {"ad-then-aws": ("windows",)}
    text = idle_rules_text(idle)
    assert text.startswith("1 rule cannot match")
    assert "ad-then-aws (no windows input)" in text


def test_any_one_of_a_steps_sources_is_enough() -> None:
    assert missing_sources(SPRAY, {"entra"}) == ()
    assert missing_sources(SPRAY, {"okta"}) == ()
    assert missing_sources(SPRAY, {"cloudtrail", "windows"}) == ("entra", "okta")


def test_an_absent_steps_source_is_not_needed() -> None:
    # Without Okta the SSO is absent every time: the rule runs and alerts on each console login.
    assert missing_sources(NO_SSO_BEFORE, {"cloudtrail"}) == ()
    assert missing_sources(NO_SSO_BEFORE, {"okta"}) == ("cloudtrail",)


def test_a_step_of_any_source_is_filled_by_whatever_is_read() -> None:
    assert missing_sources(ANY_SOURCE, {"windows"}) == ()
    assert missing_sources(ANY_SOURCE, set()) == ("any",)


def test_when_no_rule_can_match_all_run_and_all_are_named() -> None:
    runnable, idle = split_runnable([AD_THEN_AWS, SPRAY], {"cloudtrail"})
    assert [rule.id for rule in runnable] == ["ad-then-aws", "spray"]
    assert set(idle) == {"ad-then-aws", "spray"}


def test_the_bundled_catalog_on_okta_and_cloudtrail_keeps_every_rule_they_can_fill() -> None:
    rules = load_rules(DEFAULT_RULES_DIR)
    runnable, idle = split_runnable(rules, ["okta", "cloudtrail"])
    assert len(runnable) + len(idle) == len(rules) and runnable and idle
    for rule in rules:
        sources = {s for step in rule.present_steps for s in step.source or ()}
        can = all(
            step.source is None or {"okta", "cloudtrail"} & set(step.source)
            for step in rule.present_steps
        )
        assert (rule in runnable) == can, (rule.id, sources)
    # With every source read, every rule runs.
    assert split_runnable(rules, ["okta", "cloudtrail", "entra", "windows"]) == (rules, {})


def _cloudtrail_actions(rules: list[Rule]) -> set[str]:
    """The CloudTrail actions the present steps of ``rules`` name."""
    named: set[str] = set()
    for rule in rules:
        for step in rule.present_steps:
            if step.source and "cloudtrail" in step.source:
                actions = step.where.get("action", [])
                named.update(map(str, actions if isinstance(actions, list) else [actions]))
    return named


def test_actions_only_idle_rules_name_stay_out_of_python() -> None:
    rules = load_rules(DEFAULT_RULES_DIR)
    runnable, idle = split_runnable(rules, ["okta", "cloudtrail"])
    idle_only = _cloudtrail_actions([r for r in rules if r.id in idle]) - _cloudtrail_actions(
        runnable
    )
    needed = needed_actions(runnable)["cloudtrail"].exact
    assert idle_only and idle_only <= needed_actions(rules)["cloudtrail"].exact
    # Still needed when the links or the baseline take them (CreateAccessKey, AssumeRole...).
    left_out = needed_actions(rules)["cloudtrail"].exact - needed
    assert left_out and left_out <= idle_only
    assert _cloudtrail_actions(runnable) <= needed
