"""A step's condition in Python reads as its SQL predicate does."""

from __future__ import annotations

from typing import Any

from seamwatch.udfs.conditions import StepCondition

SSO_TO_AWS = StepCondition.of(
    ["okta"],
    {
        "action": "user.authentication.sso",
        "app": ["AWS Account Federation", "AWS IAM Identity Center"],
        "new_country": False,
    },
)


def _values(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "source": "okta",
        "action": "user.authentication.sso",
        "app": "AWS Account Federation",
        "new_country": False,
    }
    values.update(overrides)
    return values


def test_every_field_must_hold_an_allowed_value() -> None:
    assert SSO_TO_AWS.matches(_values())
    assert SSO_TO_AWS.matches(_values(app="AWS IAM Identity Center"))
    assert not SSO_TO_AWS.matches(_values(app="Slack"))
    assert not SSO_TO_AWS.matches(_values(action="user.session.start"))
    assert not SSO_TO_AWS.matches(_values(new_country=True))


def test_null_matches_nothing_as_in_sql() -> None:
    # `app IN (...)` and `new_country IS FALSE` are both false on NULL.
    assert not SSO_TO_AWS.matches(_values(app=None))
    assert not SSO_TO_AWS.matches(_values(new_country=None))


def test_sources_restrict_and_none_means_any() -> None:
    assert not SSO_TO_AWS.matches(_values(source="cloudtrail"))
    anywhere = StepCondition.of(None, {"action": "user.authentication.sso"})
    assert anywhere.sources is None
    assert anywhere.matches(_values(source="cloudtrail"))


def test_skipped_fields_are_left_out() -> None:
    early = StepCondition.of(["okta"], {"action": "x", "new_country": True}, skip={"new_country"})
    assert early.fields == frozenset({"action"})
    assert early.matches({"source": "okta", "action": "x"})
