"""Per-rule health: alerts, verdicts, the escalation-to-confirmed ratio, time to detect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from seamwatch.triage.alertfile import AlertFileError, read_alerts
from seamwatch.triage.health import format_duration, rule_health
from seamwatch.triage.verdicts import Verdict, make_verdict
from tests.triage_alerts import Ev, make_alert

DAY = 86_400_000


def _alerts(rule_id: str, n: int, *, detect_after_s: int = 30) -> list[dict[str, Any]]:
    return [
        make_alert(
            f"user{i}",
            [Ev("okta", i, "user.session.start")],
            rule_id=rule_id,
            detect_after_s=detect_after_s,
        )
        for i in range(n)
    ]


def _verdicts(alerts: list[dict[str, Any]], kinds: list[str]) -> dict[str, Verdict]:
    return {
        a["alert_id"]: make_verdict(a["alert_id"], kind, recorded_at=a["detected_at"])
        for a, kind in zip(alerts, kinds, strict=False)
    }


def test_a_noisy_rule_is_flagged_once_it_has_ten_decided_verdicts() -> None:
    noisy = _alerts("noisy", 12, detect_after_s=40)
    good = _alerts("good", 10, detect_after_s=20)
    verdicts = {
        **_verdicts(noisy, ["confirmed"] * 2 + ["benign"] * 8 + ["duplicate"] * 2),
        **_verdicts(good, ["confirmed"] * 4 + ["benign"] * 6),
    }
    report = rule_health(noisy + good, verdicts)
    rows = {r.rule_id: r for r in report.rules}
    assert (rows["noisy"].alerts, rows["noisy"].verdicts, rows["noisy"].duplicate) == (12, 12, 2)
    assert rows["noisy"].ratio == pytest.approx(0.2)  # duplicates are not in the ratio
    assert rows["noisy"].below_threshold
    assert rows["good"].ratio == pytest.approx(0.4)
    assert not rows["good"].below_threshold
    assert rows["noisy"].median_ttd_ms == 40_000 and rows["good"].median_ttd_ms == 20_000


def test_too_few_decided_verdicts_do_not_judge_a_rule_and_the_threshold_is_configurable() -> None:
    alerts = _alerts("young", 11)
    verdicts = _verdicts(alerts, ["benign"] * 9 + ["duplicate"] * 2)
    assert not rule_health(alerts, verdicts).rules[0].below_threshold
    verdicts = _verdicts(alerts, ["confirmed"] * 4 + ["benign"] * 6)
    assert not rule_health(alerts, verdicts).rules[0].below_threshold
    assert rule_health(alerts, verdicts, threshold=0.5).rules[0].below_threshold
    assert (
        rule_health(alerts[:3], _verdicts(alerts, ["benign"] * 3), min_verdicts=3)
        .rules[0]
        .below_threshold
    )


def test_the_period_drops_older_alerts_and_silent_rules_still_show() -> None:
    alerts = _alerts("r", 3)
    since = alerts[1]["detected_at"]
    report = rule_health(
        alerts,
        _verdicts(alerts, ["benign"] * 3),
        since_ms=since,
        rule_titles={"quiet": "A rule that raised nothing"},
    )
    rows = {r.rule_id: r for r in report.rules}
    assert rows["r"].alerts == 2 and rows["r"].benign == 2
    assert rows["quiet"].alerts == 0 and rows["quiet"].ratio is None
    assert rows["quiet"].median_ttd_ms is None


def test_verdicts_of_alerts_missing_from_the_files_count_for_their_recorded_rule() -> None:
    alerts = _alerts("r", 1)
    gone = make_verdict("0" * 32, "confirmed", recorded_at=alerts[0]["detected_at"], rule_id="r")
    lost = make_verdict("f" * 32, "benign", recorded_at=alerts[0]["detected_at"])
    report = rule_health(alerts, {gone.alert_id: gone, lost.alert_id: lost})
    assert report.rules[0].confirmed == 1 and report.rules[0].alerts == 1
    assert report.orphan_verdicts == 1


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (None, "-"),
        (250, "250ms"),
        (754_000, "12m 34s"),
        (900_000, "15m"),
        (3_600_000, "1h"),
        (270 * DAY + 19 * 3_600_000 + 5_000, "270d 19h"),
        (-2_000, "-2s"),
    ],
)
def test_durations_read_like_an_analyst_writes_them(ms: int | None, text: str) -> None:
    assert format_duration(ms) == text


def test_alert_files_keep_the_last_record_of_an_id_and_skip_dead_letters(tmp_path: Path) -> None:
    first = _alerts("r", 2)
    updated = dict(first[0], match_count=3)
    (tmp_path / "alerts.jsonl").write_bytes(
        b"".join(orjson.dumps(a) + b"\n" for a in [first[0], first[1], updated]) + b"{broken\n"
    )
    (tmp_path / "alerts.dead-letter.jsonl").write_bytes(
        orjson.dumps({"alert_id": "x", "rule_id": "dead"}) + b"\n"
    )
    (tmp_path / "verdicts.jsonl").write_bytes(
        orjson.dumps({"alert_id": "x", "rule_id": "r", "verdict": "benign"}) + b"\n"
    )
    (tmp_path / "other.jsonl").write_bytes(
        orjson.dumps({"alert_id": "y", "rule_id": "r", "verdict": "benign"}) + b"\n"
    )
    found = read_alerts([tmp_path])
    assert [a["match_count"] for a in found.alerts] == [1, 3]
    assert [p.name for p in found.files] == ["alerts.jsonl", "other.jsonl"]
    assert len(found.skipped) == 2 and "alerts.jsonl:4" in found.skipped[0]
    assert "other.jsonl:1: not an alert record" in found.skipped[1]
    with pytest.raises(AlertFileError, match="no such alerts file"):
        read_alerts([tmp_path / "missing.jsonl"])
