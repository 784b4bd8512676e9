"""Attack scenarios for the end-to-end tests, built from the project's own record factories.

Each scenario is about one person, so several can share one job run: the rules group by entity,
and a scenario that must not alert sits beside the one that must.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from seamwatch.sample.factories import (
    Geo,
    Issued,
    Person,
    ct_assume_role_with_saml,
    ct_call,
    ct_create_access_key,
    okta_session_start,
    okta_user_id,
)

ACCOUNT = "111122223333"
ROLE = "PlatformAdmin"
DAY0 = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)
ATTACK_AT = DAY0 + timedelta(days=1)

HOME = Geo("Denver", "Colorado", "United States", "80202", 39.74, -104.99, ("73.14.20.8",), -7)
ABROAD = Geo("Bucharest", "Bucuresti", "Romania", "010011", 44.43, 26.10, ("5.2.128.10",), 2)


def person(key: str) -> Person:
    first, last = key.split(".")
    return Person(
        key=key,
        display_name=f"{first.title()} {last.title()}",
        email=f"{key}@example.com",
        okta_id=okta_user_id(key),
        home=HOME,
        roles=(ROLE,),
    )


@dataclass
class Scenario:
    """Raw records of one or more people, and what the analyst must see."""

    okta: list[dict[str, Any]] = field(default_factory=list)
    cloudtrail: list[dict[str, Any]] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    # entity id -> the event ids of the expected alert, in order
    expected: dict[str, tuple[str, str, str]] = field(default_factory=dict)

    def identities(self) -> dict[str, Any]:
        return {
            "entities": [
                {
                    "id": p.key,
                    "type": p.kind,
                    "name": p.display_name,
                    "identifiers": [
                        {"kind": "email", "value": p.email},
                        {"kind": "okta_user_id", "value": p.okta_id},
                    ],
                }
                for p in self.people
            ]
        }


@dataclass(frozen=True)
class FieldSteps:
    """The three events the field rule matches: Okta login, AssumeRoleWithSAML, CreateAccessKey."""

    login: dict[str, Any]
    issued: Issued
    created: dict[str, Any]

    @property
    def ids(self) -> tuple[str, str, str]:
        """The event ids an alert on these steps lists, in order."""
        return (self.login["uuid"], self.issued.record["eventID"], self.created["eventID"])


def field_steps(
    who: Person,
    at: datetime,
    rng: random.Random,
    *,
    login_geo: Geo = ABROAD,
    assume_ip: str | None = None,
    assume_after: timedelta = timedelta(seconds=101),
    key_after: timedelta = timedelta(minutes=9),
) -> FieldSteps:
    """Login at ``at`` from ``login_geo``; the role assumed ``assume_after`` later (from the
    login IP unless ``assume_ip``); an access key created with the issued key ``key_after`` the
    login, from the login IP."""
    login_ip = login_geo.ips[0]
    login = okta_session_start(who, at, login_ip, login_geo, rng=rng)
    issued = ct_assume_role_with_saml(
        who, at + assume_after, assume_ip or login_ip, ACCOUNT, ROLE, rng=rng
    )
    created = ct_create_access_key(
        who, at + key_after, login_ip, ACCOUNT, ROLE, issued.access_key_id, "svc-backup", rng=rng
    )
    return FieldSteps(login, issued, created)


def field_attack(
    scenario: Scenario,
    key: str,
    *,
    login_geo: Geo = ABROAD,
    assume_ip: str | None = None,
    key_after: timedelta = timedelta(minutes=9),
    expect_alert: bool = True,
    seed: int = 1,
) -> None:
    """A day of history at home, then: Okta login, AssumeRoleWithSAML, recon, CreateAccessKey.

    The defaults are the field attack; each negative case changes one thing.
    """
    rng = random.Random(seed)
    who = person(key)
    scenario.people.append(who)
    scenario.okta.append(okta_session_start(who, DAY0, HOME.ips[0], HOME, rng=rng))
    steps = field_steps(
        who, ATTACK_AT, rng, login_geo=login_geo, assume_ip=assume_ip, key_after=key_after
    )
    recon = ct_call(
        who,
        ATTACK_AT + timedelta(minutes=4),
        login_geo.ips[0],
        "sts.amazonaws.com",
        "GetCallerIdentity",
        ACCOUNT,
        ROLE,
        steps.issued.access_key_id,
        rng=rng,
    )
    scenario.okta.append(steps.login)
    scenario.cloudtrail += [steps.issued.record, recon, steps.created]
    if expect_alert:
        scenario.expected[key] = steps.ids


ARBITRARY_SESSION = "botocore-session-1700000000"


def rename_session(record: dict[str, Any], session_name: str) -> dict[str, Any]:
    """The same call, signed by a role session with another name (an SDK default, say)."""
    identity = record["userIdentity"]
    role_id, _, _ = identity["principalId"].partition(":")
    prefix, _, _ = identity["arn"].rpartition("/")
    identity["principalId"] = f"{role_id}:{session_name}"
    identity["arn"] = f"{prefix}/{session_name}"
    return record


def key_only_attack(scenario: Scenario, key: str, *, seed: int) -> Issued:
    """The field attack where the later calls carry an arbitrary session name.

    Only the access key issued by AssumeRoleWithSAML ties CreateAccessKey to the person.
    """
    rng = random.Random(seed)
    who = person(key)
    scenario.people.append(who)
    scenario.okta.append(okta_session_start(who, DAY0, HOME.ips[0], HOME, rng=rng))
    steps = field_steps(
        who, ATTACK_AT, rng, assume_after=timedelta(seconds=95), key_after=timedelta(minutes=7)
    )
    rename_session(steps.created, ARBITRARY_SESSION)
    scenario.okta.append(steps.login)
    scenario.cloudtrail += [steps.issued.record, steps.created]
    scenario.expected[key] = steps.ids
    return steps.issued


def chained_use_an_hour_later(
    scenario: Scenario, key: str, issued: Issued, *, ip: str, seed: int
) -> tuple[str, str]:
    """An hour later, from another IP: AssumeRole signed by the issued key (role chaining,
    arbitrary session name), then CreateAccessKey signed by the chained session's key.

    Returns the two event ids.
    """
    rng = random.Random(seed)
    who = next(p for p in scenario.people if p.key == key)
    at = ATTACK_AT + timedelta(hours=1)
    chained_key = "ASIA" + "".join(
        rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16)
    )
    assume = ct_call(
        who,
        at,
        ip,
        "sts.amazonaws.com",
        "AssumeRole",
        ACCOUNT,
        ROLE,
        issued.access_key_id,
        request_parameters={
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/BreakGlass",
            "roleSessionName": ARBITRARY_SESSION,
        },
        response_elements={
            "credentials": {
                "accessKeyId": chained_key,
                "sessionToken": "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ",
                "expiration": "Mar 4, 2026, 12:30:00 PM",
            },
            "assumedRoleUser": {
                "assumedRoleId": f"AROAEXAMPLEBREAKGLASS:{ARBITRARY_SESSION}",
                "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/BreakGlass/{ARBITRARY_SESSION}",
            },
        },
        session_name=ARBITRARY_SESSION,
        rng=rng,
    )
    created = ct_create_access_key(
        who,
        at + timedelta(minutes=3),
        ip,
        ACCOUNT,
        "BreakGlass",
        chained_key,
        "svc-ci-deploy",
        rng=rng,
    )
    rename_session(created, ARBITRARY_SESSION)
    scenario.cloudtrail += [assume, created]
    return assume["eventID"], created["eventID"]
