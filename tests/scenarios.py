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
ABROAD = Geo("Bucharest", "Bucuresti", "Romania", "010011", 44.43, 26.10, ("185.220.101.34",), 2)


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
    home_ip = HOME.ips[0]
    scenario.okta.append(okta_session_start(who, DAY0, home_ip, HOME, rng=rng))
    login_ip = login_geo.ips[0]
    login = okta_session_start(who, ATTACK_AT, login_ip, login_geo, rng=rng)
    issued = ct_assume_role_with_saml(
        who, ATTACK_AT + timedelta(seconds=101), assume_ip or login_ip, ACCOUNT, ROLE, rng=rng
    )
    recon = ct_call(
        who,
        ATTACK_AT + timedelta(minutes=4),
        login_ip,
        "sts.amazonaws.com",
        "GetCallerIdentity",
        ACCOUNT,
        ROLE,
        issued.access_key_id,
        rng=rng,
    )
    created = ct_create_access_key(
        who,
        ATTACK_AT + key_after,
        login_ip,
        ACCOUNT,
        ROLE,
        issued.access_key_id,
        "svc-backup",
        rng=rng,
    )
    scenario.okta.append(login)
    scenario.cloudtrail += [issued.record, recon, created]
    if expect_alert:
        scenario.expected[key] = (login["uuid"], issued.record["eventID"], created["eventID"])
