"""Late events and absence at the end of a bounded input, through the real job.

One run on a mini-cluster holds three people:

- ``ava.late``: the field attack, but its CloudTrail records come at the end of the CloudTrail
  file, behind 40 minutes of other CloudTrail records (more than the 15-minute bound). They
  cannot be matched: they must be written to the late-events output, counted and summarized,
  not silently dropped.
- ``bea.pending``: an MFA factor deactivated, then only an hour of input. The rule's absent
  step waits 12 hours: it is pending when the input ends, never an alert.
- ``cal.closed``: an MFA factor deactivated 12 hours before an instant the input's events
  reach, but after the last watermark the job saw before the input ended: an alert.
"""

from __future__ import annotations

import copy
import random
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from seamwatch.cli.app import summary_lines
from seamwatch.jobs.local import RunResult, run_files
from seamwatch.jobs.settings import DEFAULT_RULES_DIR, JobSettings
from seamwatch.rules.runnable import idle_rules_text
from seamwatch.sample.factories import ct_call, okta_session_start
from tests.scenarios import ACCOUNT, ATTACK_AT, DAY0, HOME, ROLE, Scenario, field_attack, person

pytestmark = pytest.mark.flink

FIELD_RULE = "okta-new-country-saml-access-key"
MFA_RULE = "okta-mfa-factor-removed-not-restored"
# Enough CloudTrail records after the late ones' time that the source's periodic watermark
# (every 200 ms) has passed them before they are read, with a wide margin: the filler is
# staged as brief lines (no rule needs it), which Flink reads at a few hundred thousand a
# second, and with 60,000 of them one CI run found the late records on time.
FILLER = 200_000
FILLER_FROM = ATTACK_AT + timedelta(minutes=30)
FILLER_TO = ATTACK_AT + timedelta(minutes=40)
INPUT_ENDS = ATTACK_AT + timedelta(hours=1)


def _ms(at: Any) -> int:
    return int(at.timestamp() * 1000)


def _deactivate(who: str, at: Any, rng: random.Random) -> dict[str, Any]:
    record = okta_session_start(person(who), at, HOME.ips[0], HOME, rng=rng)
    record["eventType"] = "user.mfa.factor.deactivate"
    return record


def _build(tmp: Path) -> tuple[Scenario, dict[str, Any], Path, Path]:
    scenario = Scenario()
    field_attack(scenario, "ava.late", seed=11)
    rng = random.Random(12)
    bea, cal = person("bea.pending"), person("cal.closed")
    scenario.people += [bea, cal]
    removed_bea = _deactivate(bea.key, ATTACK_AT, rng)
    # Closes at FILLER_TO - 10m + 12h - 12h: after the last CloudTrail watermark (FILLER_TO -
    # 15m), before the input's last event.
    removed_cal = _deactivate(cal.key, FILLER_TO - timedelta(minutes=10, hours=12), rng)
    last = okta_session_start(bea, INPUT_ENDS, HOME.ips[0], HOME, rng=rng)
    okta = sorted(
        [*scenario.okta, removed_bea, removed_cal, last], key=lambda r: str(r["published"])
    )

    # The late person's CloudTrail records go last, behind the filler.
    late = list(scenario.cloudtrail)
    clock = person("tim.filler")
    template = ct_call(
        clock, FILLER_FROM, HOME.ips[0], "ec2.amazonaws.com", "DescribeInstances", ACCOUNT, ROLE,
        "ASIAFILLERFILLER0001", rng=rng,
    )  # fmt: skip
    step = (FILLER_TO - FILLER_FROM) / FILLER
    filler_lines = []
    for i in range(FILLER):
        record = copy.copy(template)
        record["eventTime"] = (FILLER_FROM + step * i).strftime("%Y-%m-%dT%H:%M:%SZ")
        record["eventID"] = str(uuid.UUID(int=i + 1))
        filler_lines.append(orjson.dumps(record))
    okta_path = tmp / "okta.jsonl"
    okta_path.write_bytes(b"\n".join(orjson.dumps(r) for r in okta) + b"\n")
    ct_path = tmp / "cloudtrail.jsonl"
    ct_path.write_bytes(b"\n".join([*filler_lines, *(orjson.dumps(r) for r in late)]) + b"\n")
    ids = {
        "late": {r["eventID"] for r in late},
        "removed_bea": removed_bea["uuid"],
        "removed_bea_at": _ms(ATTACK_AT),
        "last_at": _ms(INPUT_ENDS),
    }
    return scenario, ids, okta_path, ct_path


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("late")
    scenario, ids, okta, cloudtrail = _build(tmp)
    identities = tmp / "identities.yaml"
    identities.write_text(yaml.safe_dump(scenario.identities()))
    settings = JobSettings(
        inputs={"okta": [str(okta)], "cloudtrail": [str(cloudtrail)]},
        rules_dir=DEFAULT_RULES_DIR,
        identities=identities,
        output=tmp / "out" / "alerts.jsonl",
    )
    return run_files(settings), ids


def _alerts(result: RunResult, rule: str) -> dict[str, list[dict[str, Any]]]:
    by_entity: dict[str, list[dict[str, Any]]] = {}
    for alert in result.alerts:
        if alert["rule_id"] == rule:
            by_entity.setdefault(alert["entity"]["id"], []).append(alert)
    return by_entity


def test_late_events_are_written_with_how_late_they_were(
    run: tuple[RunResult, dict[str, Any]],
) -> None:
    result, ids = run
    assert "ava.late" not in _alerts(result, FIELD_RULE)  # late: not matched
    late = {e["event_id"]: e for e in result.late_events}
    # AssumeRoleWithSAML and CreateAccessKey are needed by rules; both were late.
    needed = {e for e in ids["late"] if e in late}
    assert len(needed) >= 2
    for event_id in needed:
        event = late[event_id]
        assert event["source"] == "cloudtrail" and event["entity_id"] == "ava.late"
        assert event["behind_watermark_ms"] == event["watermark"] - event["event_time"] > 0
        assert event["raw_ref"].endswith(tuple(f":{n}" for n in range(FILLER + 1, FILLER + 5)))
    assert result.late_path is not None
    written = [orjson.loads(line) for line in result.late_path.read_bytes().splitlines()]
    assert {e["event_id"] for e in written} == set(late)


def test_every_figure_of_the_summary_is_counted_and_they_add_up(
    run: tuple[RunResult, dict[str, Any]],
) -> None:
    result, _ = run
    counts = result.counts
    assert counts.late == len(result.late_events) >= 2
    assert counts.not_needed >= FILLER  # the filler calls are no rule's business
    assert counts.on_time > 0 and counts.dead_lettered == 0
    assert result.records_in == counts.normalized + counts.dead_lettered
    line = summary_lines(result)[0]
    assert f"{counts.normalized} normalized" in line
    assert f"{counts.late} late" in line
    lines = summary_lines(result)
    assert not any("not accounted for" in line for line in lines)
    # Okta and CloudTrail only: the rules that need Windows or Entra ID events are named.
    assert "cannot match these inputs" in line
    assert lines[1:] == [idle_rules_text(result.idle_rules)]


def test_absence_not_over_when_the_input_ends_is_pending_not_an_alert(
    run: tuple[RunResult, dict[str, Any]],
) -> None:
    result, ids = run
    assert "bea.pending" not in _alerts(result, MFA_RULE)
    (pending,) = [p for p in result.pending if p["alert"]["entity"]["id"] == "bea.pending"]
    assert pending["alert"]["rule_id"] == MFA_RULE
    assert pending["closes_at"] == ids["removed_bea_at"] + 12 * 3600 * 1000
    assert pending["input_ends_at"] == ids["last_at"]
    assert [e["event_id"] for e in pending["alert"]["events"]] == [ids["removed_bea"]]
    assert result.pending_path is not None
    assert len(result.pending_path.read_bytes().splitlines()) == len(result.pending)
    assert "1 pending" in summary_lines(result)[0]


def test_absence_whose_window_the_input_passed_still_alerts(
    run: tuple[RunResult, dict[str, Any]],
) -> None:
    result, _ = run
    assert len(_alerts(result, MFA_RULE).get("cal.closed", [])) == 1
    assert all(p["alert"]["entity"]["id"] != "cal.closed" for p in result.pending)


def test_history_is_not_late(run: tuple[RunResult, dict[str, Any]]) -> None:
    result, _ = run
    assert not [e for e in result.late_events if e["event_time"] < _ms(DAY0 + timedelta(hours=1))]
