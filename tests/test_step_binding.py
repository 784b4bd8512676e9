"""Which event a rule's step binds, end to end on a real Flink mini-cluster.

A step binds the earliest qualifying event after the previous step (docs/rules.md). The case
that matters: Okta login, then ``AssumeRoleWithSAML`` (the federation from Okta into AWS, the
event that proves the seam), then a chained ``AssumeRole`` that the same step would also accept,
then ``CreateAccessKey``. The alert must show the federation, not the chained call.
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
from seamwatch.sample.factories import ct_call, okta_session_start
from tests.scenarios import ACCOUNT, ATTACK_AT, DAY0, HOME, ROLE, Scenario, field_steps, person

pytestmark = pytest.mark.flink

RULE = "okta-new-country-saml-access-key"


def _chained_assume_role(scenario: Scenario, key: str, *, seed: int) -> dict[str, str]:
    """Login 15:00 from abroad, AssumeRoleWithSAML 15:01:41, AssumeRole chained from the issued
    key 15:05 (same IP, so the rule's second step accepts it too), CreateAccessKey 15:09."""
    rng = random.Random(seed)
    who = person(key)
    scenario.people.append(who)
    scenario.okta.append(okta_session_start(who, DAY0, HOME.ips[0], HOME, rng=rng))
    steps = field_steps(who, ATTACK_AT, rng)
    login_ip = steps.login["client"]["ipAddress"]
    chained = ct_call(
        who,
        ATTACK_AT + timedelta(minutes=5),
        login_ip,
        "sts.amazonaws.com",
        "AssumeRole",
        ACCOUNT,
        ROLE,
        steps.issued.access_key_id,
        request_parameters={
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/BreakGlass",
            "roleSessionName": who.email,
        },
        response_elements={
            "credentials": {"accessKeyId": "ASIACHAINEDKEY" + str(seed).zfill(6)},
            "assumedRoleUser": {
                "assumedRoleId": f"AROAEXAMPLEBREAKGLASS:{who.email}",
                "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/BreakGlass/{who.email}",
            },
        },
        rng=rng,
    )
    scenario.okta.append(steps.login)
    scenario.cloudtrail += [steps.issued.record, chained, steps.created]
    return {
        "login": steps.login["uuid"],
        "saml": steps.issued.record["eventID"],
        "chained": chained["eventID"],
        "created": steps.created["eventID"],
    }


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("binding")
    scenario = Scenario()
    ids = _chained_assume_role(scenario, "nora.chain", seed=11)
    okta = tmp / "okta.jsonl"
    okta.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in scenario.okta))
    cloudtrail = tmp / "cloudtrail.jsonl"
    records = sorted(scenario.cloudtrail, key=lambda r: r["eventTime"])
    cloudtrail.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    identities = tmp / "identities.yaml"
    identities.write_text(yaml.safe_dump(scenario.identities()))
    settings = JobSettings(
        inputs={"okta": [str(okta)], "cloudtrail": [str(cloudtrail)]},
        rules_dir=DEFAULT_RULES_DIR,
        identities=identities,
        output=tmp / "out" / "alerts.jsonl",
    )
    return run_files(settings), ids


def _field_alerts(result: RunResult) -> list[dict[str, Any]]:
    return [a for a in result.alerts if a["rule_id"] == RULE]


def test_the_step_binds_the_federation_not_the_later_chained_call(
    run: tuple[RunResult, dict[str, str]],
) -> None:
    result, ids = run
    (alert,) = _field_alerts(result)
    assert alert["entity"]["id"] == "nora.chain"
    steps = [(e["step"], e["action"], e["event_id"]) for e in alert["events"]]
    assert steps == [
        ("okta_login", "user.session.start", ids["login"]),
        ("assume_role", "AssumeRoleWithSAML", ids["saml"]),
        ("create_key", "CreateAccessKey", ids["created"]),
    ]
    assert ids["chained"] not in {e["event_id"] for e in alert["events"]}
