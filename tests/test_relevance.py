"""The early drop of events no rule can use never drops one a rule could match."""

from __future__ import annotations

from seamwatch.jobs.settings import DEFAULT_RULES_DIR
from seamwatch.rules.relevance import Relevance
from seamwatch.rules.rulebook import load_rules
from seamwatch.udfs.records import Event


def _event(source: str, action: str, outcome: str = "success", **fields: object) -> Event:
    event = Event("e", source, 0, action, outcome, "f:1")  # type: ignore[arg-type]
    for name, value in fields.items():
        setattr(event, name, value)
    return event


RELEVANCE = Relevance(load_rules(DEFAULT_RULES_DIR))


def test_steps_of_the_field_rule_are_kept() -> None:
    assert RELEVANCE.wants(_event("cloudtrail", "CreateAccessKey"))
    assert RELEVANCE.wants(_event("cloudtrail", "AssumeRole"))
    # new_country is only known after the baseline: a successful Okta session start is kept.
    assert RELEVANCE.wants(_event("okta", "user.session.start"))


def test_events_no_step_can_match_are_dropped() -> None:
    assert not RELEVANCE.wants(_event("cloudtrail", "DescribeInstances"))
    assert not RELEVANCE.wants(_event("cloudtrail", "CreateAccessKey", outcome="failure"))
    assert not RELEVANCE.wants(_event("okta", "CreateAccessKey"))


def test_authentications_and_issued_keys_are_always_kept() -> None:
    assert RELEVANCE.wants(_event("okta", "user.authentication.sso"))
    assert RELEVANCE.wants(_event("okta", "user.mfa.okta_verify.deny_push", "failure"))
    assert RELEVANCE.wants(_event("cloudtrail", "ConsoleLogin", "failure"))
    assert RELEVANCE.wants(_event("cloudtrail", "ListBuckets", issued_access_key="ASIAX"))
    assert not RELEVANCE.wants(_event("okta", "user.account.update_profile", country="Ireland"))


def test_the_actions_a_source_table_keeps_cover_every_step_and_the_baseline() -> None:
    relevance = Relevance(load_rules(DEFAULT_RULES_DIR))
    cloudtrail = relevance.actions("cloudtrail")
    okta = relevance.actions("okta")
    assert cloudtrail is not None and okta is not None
    assert {"CreateAccessKey", "ConsoleLogin", "GetObject", "StopLogging"} <= cloudtrail[0]
    assert "DescribeInstances" not in cloudtrail[0]
    assert "user.mfa." in okta[1] and "user.mfa.factor.deactivate" in okta[0]
