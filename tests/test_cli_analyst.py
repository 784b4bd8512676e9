"""``seamwatch verdict``, ``seamwatch rules health`` and ``seamwatch report`` as an analyst uses
them, on alert files the job's own alert assembly produced."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
from typer.testing import CliRunner

from seamwatch.cli.app import app
from seamwatch.triage.verdicts import load_verdicts
from tests.triage_alerts import Ev, make_alert

runner = CliRunner()
RULE = "okta-new-country-saml-access-key"  # a bundled rule: health shows its title's rule too
DAY = 86_400_000


def _write(path: Path, alerts: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(a) + b"\n" for a in alerts))
    return path


def _recent(n: int, days_ago: float = 1) -> list[dict[str, Any]]:
    now = int(time.time() * 1000)
    alerts = []
    for i in range(n):
        alert = make_alert(
            f"user{i}-{days_ago}", [Ev("okta", i, "user.session.start")], rule_id=RULE
        )
        alert["detected_at"] = now - int(days_ago * DAY)
        alerts.append(alert)
    return alerts


def test_verdicts_then_health_warns_about_a_rule_analysts_mostly_dismiss(tmp_path: Path) -> None:
    alerts = _recent(12)
    old = _recent(3, days_ago=40)
    file = _write(tmp_path / "alerts.jsonl", alerts + old)
    store = tmp_path / "verdicts.jsonl"
    kinds = ["confirmed", "confirmed"] + ["benign"] * 9 + ["duplicate"]
    for alert, kind in zip(alerts, kinds, strict=True):
        result = runner.invoke(
            app,
            [
                "verdict",
                alert["alert_id"][:10],
                kind,
                "--alerts",
                str(file),
                "--verdicts",
                str(store),
                "--note",
                "checked with the user",
            ],
        )
        assert result.exit_code == 0, result.output
        assert alert["alert_id"] in result.output
    for alert in old:  # outside the period: not counted
        runner.invoke(
            app,
            [
                "verdict",
                alert["alert_id"],
                "benign",
                "--alerts",
                str(file),
                "--verdicts",
                str(store),
            ],
        )
    latest = load_verdicts(store).latest
    assert latest[alerts[0]["alert_id"]].rule_id == RULE
    assert latest[alerts[0]["alert_id"]].note == "checked with the user"

    result = runner.invoke(
        app,
        ["rules", "health", "--alerts", str(file), "--verdicts", str(store), "--since", "30d"],
        env={"COLUMNS": "200"},  # the catalog's longest rule ids and every column on one line
    )
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if RULE in line and "│" in line)
    assert [cell.strip() for cell in row.split("│")[2:8]] == ["12", "12", "2", "9", "1", "18%"]
    assert f"warning: {RULE} confirms 18% of 11 decided alerts, below 30%" in result.output
    assert "cloudtrail-logging-disabled" in result.output  # silent rules are listed too

    result = runner.invoke(
        app,
        ["rules", "health", "--alerts", str(file), "--verdicts", str(store), "--threshold", "15%"],
    )
    assert "warning" not in result.output


def test_a_changed_mind_is_the_verdict_that_counts(tmp_path: Path) -> None:
    alert = _recent(1)[0]
    file = _write(tmp_path / "alerts.jsonl", [alert])
    store = tmp_path / "v.jsonl"
    for kind in ("benign", "confirmed"):
        runner.invoke(
            app,
            ["verdict", alert["alert_id"], kind, "--alerts", str(file), "--verdicts", str(store)],
        )
    assert len(store.read_text().splitlines()) == 2
    assert load_verdicts(store).latest[alert["alert_id"]].verdict == "confirmed"


def test_verdict_refuses_unknown_ids_and_bad_verdicts(tmp_path: Path) -> None:
    alerts = _recent(2)
    file = _write(tmp_path / "alerts.jsonl", alerts)
    store = tmp_path / "v.jsonl"
    args = ["--alerts", str(file), "--verdicts", str(store)]
    result = runner.invoke(app, ["verdict", "0123456789abcdef", "benign", *args])
    assert result.exit_code == 2 and "--no-check" in result.output
    result = runner.invoke(app, ["verdict", alerts[0]["alert_id"], "maybe", *args])
    assert result.exit_code == 2 and "confirmed, benign, duplicate" in result.output
    assert not store.exists()
    result = runner.invoke(app, ["verdict", "0123456789abcdef", "benign", "--no-check", *args])
    assert result.exit_code == 0
    assert list(load_verdicts(store).latest) == ["0123456789abcdef"]


def test_report_writes_one_page_with_the_alerts_and_their_verdicts(tmp_path: Path) -> None:
    alerts = _recent(2)
    file = _write(tmp_path / "alerts.jsonl", alerts)
    store = tmp_path / "v.jsonl"
    runner.invoke(
        app,
        [
            "verdict",
            alerts[1]["alert_id"],
            "duplicate",
            "--alerts",
            str(file),
            "--verdicts",
            str(store),
        ],
    )
    out = tmp_path / "report"
    result = runner.invoke(app, ["report", str(file), "--out", str(out), "--verdicts", str(store)])
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text()
    assert page.count("<article class='alert") == 2
    assert page.count("verdict verdict-duplicate") == 1
    assert page.count("verdict verdict-none") == 1
    assert f"data-rule-id='{RULE}'" in page

    result = runner.invoke(app, ["report", str(tmp_path / "nothing.jsonl"), "--out", str(out)])
    assert result.exit_code == 2 and "no such alerts file" in result.output


def test_the_warning_is_in_colour_on_a_terminal(tmp_path: Path) -> None:
    """What an analyst's terminal shows (rich honours FORCE_COLOR as it would a tty)."""
    import os
    import subprocess
    import sys

    alerts = _recent(10)
    file = _write(tmp_path / "alerts.jsonl", alerts)
    store = tmp_path / "v.jsonl"
    for i, alert in enumerate(alerts):
        runner.invoke(
            app,
            [
                "verdict",
                alert["alert_id"],
                "confirmed" if i < 2 else "benign",
                "--alerts",
                str(file),
                "--verdicts",
                str(store),
            ],
        )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "seamwatch.cli",
            "rules",
            "health",
            "--alerts",
            str(file),
            "--verdicts",
            str(store),
        ],
        env={**os.environ, "FORCE_COLOR": "1", "COLUMNS": "160"},
        capture_output=True,
        text=True,
        check=True,
    )
    red = "\x1b[1;31m"
    warned = [line for line in done.stdout.splitlines() if "warning" in line]
    assert len(warned) == 1 and warned[0].startswith(red) and RULE in warned[0]
    row = next(line for line in done.stdout.splitlines() if RULE in line and "│" in line)
    assert red in row
    quiet = next(line for line in done.stdout.splitlines() if "s3-staging" in line)
    assert red not in quiet
