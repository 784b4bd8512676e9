"""Identity resolution end to end: links learned from issued keys, in and out of order.

One mini-cluster run. ``kai.nakamura`` is the field attack in which CreateAccessKey is signed
by a role session with an arbitrary name: only the key AssumeRoleWithSAML issued ties it to
him; an hour later the same key is used from another IP for role chaining and the chained
key creates another access key. ``lea.varga`` is the same attack with the CloudTrail records
reversed, so the key is used before the call that issued it arrives.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import yaml

from seamwatch.jobs.local import RunResult, run_files
from seamwatch.jobs.settings import DEFAULT_RULES_DIR, JobSettings
from tests.scenarios import (
    ARBITRARY_SESSION,
    Scenario,
    chained_use_an_hour_later,
    key_only_attack,
)

pytestmark = pytest.mark.flink

FIELD_RULE = "okta-new-country-saml-access-key"
CHAIN_RULE = """\
id: test-role-chaining-key-creation
title: Role chaining, then an access key created by the chained session
techniques: [T1098.001]
severity: medium
within: 10m
steps:
  - name: chain
    source: cloudtrail
    where: {action: AssumeRole, outcome: success}
  - name: create_key
    source: cloudtrail
    where: {action: CreateAccessKey, outcome: success}
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Scenario, tuple[str, str]]:
    tmp = tmp_path_factory.mktemp("links")
    scenario = Scenario()
    issued = key_only_attack(scenario, "kai.nakamura", seed=11)
    chained = chained_use_an_hour_later(
        scenario, "kai.nakamura", issued, ip="203.0.113.50", seed=12
    )
    in_order = list(scenario.cloudtrail)
    key_only_attack(scenario, "lea.varga", seed=13)
    lea = [r for r in scenario.cloudtrail if r not in in_order]
    # Lea's calls arrive reversed (the key is used before the call that issued it arrives),
    # within the watermark bound: before Kai's calls of an hour later.
    hour_later = [r for r in in_order if r["eventID"] in chained]
    first = sorted((r for r in in_order if r not in hour_later), key=lambda r: r["eventTime"])
    cloudtrail = first + list(reversed(lea)) + hour_later
    rules = tmp / "rules"
    rules.mkdir()
    field_rule = DEFAULT_RULES_DIR / "okta_new_country_saml_access_key.yaml"
    (rules / field_rule.name).write_text(field_rule.read_text())
    (rules / "chain.yaml").write_text(CHAIN_RULE)
    (tmp / "identities.yaml").write_text(yaml.safe_dump(scenario.identities()))
    okta = tmp / "okta.jsonl"
    okta.write_bytes(
        b"".join(
            orjson.dumps(r) + b"\n" for r in sorted(scenario.okta, key=lambda r: r["published"])
        )
    )
    ct = tmp / "cloudtrail.jsonl"
    ct.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in cloudtrail))
    settings = JobSettings(
        inputs={"okta": [str(okta)], "cloudtrail": [str(ct)]},
        rules_dir=rules,
        identities=tmp / "identities.yaml",
        output=tmp / "out" / "alerts.jsonl",
    )
    return run_files(settings), scenario, chained


def _alert(result: RunResult, rule: str, entity: str) -> dict[str, Any]:
    found = [a for a in result.alerts if a["rule_id"] == rule and a["entity"]["id"] == entity]
    assert len(found) == 1, [(a["rule_id"], a["entity"]["id"]) for a in result.alerts]
    return found[0]


def test_key_issued_by_saml_login_ties_an_arbitrary_session_to_the_person(
    run: tuple[RunResult, Scenario, tuple[str, str]],
) -> None:
    result, scenario, _ = run
    alert = _alert(result, FIELD_RULE, "kai.nakamura")
    assert tuple(e["event_id"] for e in alert["events"]) == scenario.expected["kai.nakamura"]
    create = alert["events"][2]
    assert create["principal"].endswith(f"/{ARBITRARY_SESSION}")
    assert create["resolved_by"] == "learned"
    assert create["resolved_via"] == f"aws_access_key:{create['access_key_id']}"
    assert create["access_key_id"].startswith("ASIA")
    # The alert carries its weakest link.
    assert alert["entity"]["resolved_by"] == "learned"
    assert alert["entity"]["confidence"] < 0.9


def test_chained_key_used_from_another_ip_an_hour_later_is_still_the_person(
    run: tuple[RunResult, Scenario, tuple[str, str]],
) -> None:
    result, _, chained = run
    alert = _alert(result, "test-role-chaining-key-creation", "kai.nakamura")
    assert tuple(e["event_id"] for e in alert["events"]) == chained
    assert {e["src_ip"] for e in alert["events"]} == {"203.0.113.50"}
    assert [e["resolved_by"] for e in alert["events"]] == ["learned", "learned"]


def test_key_used_before_its_issuing_call_arrives_still_resolves(
    run: tuple[RunResult, Scenario, tuple[str, str]],
) -> None:
    result, scenario, _ = run
    alert = _alert(result, FIELD_RULE, "lea.varga")
    assert tuple(e["event_id"] for e in alert["events"]) == scenario.expected["lea.varga"]
    assert alert["events"][2]["resolved_by"] == "learned"


def test_nobody_else_alerts(run: tuple[RunResult, Scenario, tuple[str, str]]) -> None:
    result, _, _ = run
    assert sorted((a["rule_id"], a["entity"]["id"]) for a in result.alerts) == [
        (FIELD_RULE, "kai.nakamura"),
        (FIELD_RULE, "lea.varga"),
        ("test-role-chaining-key-creation", "kai.nakamura"),
    ]
    assert result.dead_letters == []
