"""Behaviour baselines end to end: impossible travel and "new for this person", in event time.

``wes.denver`` logs in from Denver every morning for a week, then from Denver again, and ten
minutes later from Bucharest, from where the field attack follows: impossible travel, a new
country, and the field-rule alert. ``rae.abroad`` has the same week at home and then a week of
sign-ins from Bucharest, so the same attack login from Bucharest is not a new country.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import orjson
import pytest
import yaml

from seamwatch.jobs.local import RunResult, run_files
from seamwatch.jobs.settings import DEFAULT_RULES_DIR, JobSettings
from seamwatch.sample.factories import okta_session_start
from tests.scenarios import ABROAD, ATTACK_AT, HOME, Scenario, field_attack, person

pytestmark = pytest.mark.flink

RULE = "okta-new-country-saml-access-key"


def _week(scenario: Scenario, key: str, days: range, geo: Any, seed: int) -> None:
    rng = random.Random(seed)
    who = person(key)
    for day in days:
        at = ATTACK_AT - timedelta(days=day, hours=1)
        scenario.okta.append(okta_session_start(who, at, geo.ips[0], geo, rng=rng))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Scenario]:
    tmp = tmp_path_factory.mktemp("baseline")
    scenario = Scenario()
    _week(scenario, "wes.denver", range(8, 1, -1), HOME, seed=1)
    field_attack(scenario, "wes.denver", seed=2)
    # The local login ten minutes before the one from Bucharest.
    local = okta_session_start(
        person("wes.denver"),
        ATTACK_AT - timedelta(minutes=10),
        HOME.ips[0],
        HOME,
        rng=random.Random(3),
    )
    scenario.okta.append(local)
    _week(scenario, "rae.abroad", range(16, 9, -1), HOME, seed=4)
    _week(scenario, "rae.abroad", range(8, 1, -1), ABROAD, seed=5)
    field_attack(scenario, "rae.abroad", expect_alert=False, seed=6)

    (tmp / "identities.yaml").write_text(yaml.safe_dump(scenario.identities()))
    okta = tmp / "okta.jsonl"
    ordered = sorted(scenario.okta, key=lambda r: r["published"])
    okta.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in ordered))
    ct = tmp / "cloudtrail.jsonl"
    ordered_ct = sorted(scenario.cloudtrail, key=lambda r: r["eventTime"])
    ct.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in ordered_ct))
    settings = JobSettings(
        inputs={"okta": [str(okta)], "cloudtrail": [str(ct)]},
        rules_dir=DEFAULT_RULES_DIR,
        identities=tmp / "identities.yaml",
        output=tmp / "out" / "alerts.jsonl",
    )
    settings.baseline = settings.baseline.model_copy(update={"learning_days": 7})
    return run_files(settings), scenario


def test_login_from_another_continent_ten_minutes_later_is_impossible_travel(
    run: tuple[RunResult, Scenario],
) -> None:
    result, scenario = run
    alerts = [
        a for a in result.alerts if a["rule_id"] == RULE and a["entity"]["id"] == "wes.denver"
    ]
    assert len(alerts) == 1
    login = alerts[0]["events"][0]
    assert login["event_id"] == scenario.expected["wes.denver"][0]
    assert (login["country"], login["new_country"], login["impossible_travel"]) == (
        "Romania",
        True,
        True,
    )
    assert login["travel_speed_kmh"] > 1000


def test_a_country_with_a_week_of_history_is_not_new(run: tuple[RunResult, Scenario]) -> None:
    result, _ = run
    assert [a["rule_id"] for a in result.alerts if a["entity"]["id"] == "rae.abroad"] == []
