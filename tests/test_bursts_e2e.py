"""A burst of one rule's counted events through the real job: a password spray from one address.

Every failed sign-in could start a partial match of a rule whose first step is counted, and
each partial match is evaluated on every row after it: a spray of a few hundred failures from
one address once held the matcher for minutes (the job went blind during the attack it
should report). The compiled rule now holds a run's partial matches to its breaks and
half-windows (``seamwatch.rules.compiler``), and the run goes on while failures come: the
alert counts them all.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from seamwatch.jobs.local import RunResult, run_files
from seamwatch.jobs.settings import DEFAULT_RULES_DIR, JobSettings

pytestmark = pytest.mark.flink

SPRAY = "idp-password-spray-then-success"
BURST_IP = "45.155.205.7"  # 1,200 failures in 40 minutes, then a success
SLOW_IP = "185.156.73.54"  # a failure every 30 s for 90 minutes (longer than the window)
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # on a half-hour of the epoch
BURST = 1_200


def _okta(uid: str, at: datetime, ip: str, user: str, failed: bool) -> dict[str, Any]:
    return {
        "uuid": uid,
        "published": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "eventType": "user.session.start",
        "version": "0",
        "severity": "WARN" if failed else "INFO",
        "displayMessage": "User login to Okta",
        "actor": {"id": f"00u{user}", "type": "User", "alternateId": f"{user}@example.com"},
        "client": {
            "userAgent": {"rawUserAgent": "python-requests/2.31.0"},
            "ipAddress": ip,
            "geographicalContext": {"country": "Netherlands", "city": "Amsterdam"},
        },
        "outcome": (
            {"result": "FAILURE", "reason": "INVALID_CREDENTIALS"}
            if failed
            else {"result": "SUCCESS", "reason": None}
        ),
    }


def _records() -> list[dict[str, Any]]:
    records = [
        _okta(f"burst-{i:05d}", START + timedelta(seconds=2 * i), BURST_IP, f"u{i % 300}", True)
        for i in range(BURST)
    ]
    records.append(_okta("burst-success", START + timedelta(minutes=41), BURST_IP, "u7", False))
    # 181 failures, 08:00:00 to 09:30:00, then a success at 09:30:30.
    records += [
        _okta(f"slow-{i:03d}", START + timedelta(seconds=30 * i), SLOW_IP, f"v{i % 40}", True)
        for i in range(181)
    ]
    records.append(
        _okta("slow-success", START + timedelta(minutes=90, seconds=30), SLOW_IP, "v3", False)
    )
    records.sort(key=lambda record: str(record["published"]))
    return records


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    tmp = tmp_path_factory.mktemp("bursts")
    okta = tmp / "okta.jsonl"
    okta.write_bytes(b"".join(orjson.dumps(record) + b"\n" for record in _records()))
    return run_files(
        JobSettings(
            inputs={"okta": [str(okta)]},
            rules_dir=DEFAULT_RULES_DIR,
            output=tmp / "out" / "alerts.jsonl",
        )
    )


def _spray(result: RunResult, ip: str) -> list[dict[str, Any]]:
    found = [a for a in result.alerts if a["rule_id"] == SPRAY and a["group_key"] == ip]
    assert len(found) == 1, [(a["rule_id"], a["group_key"]) for a in result.alerts]
    events: list[dict[str, Any]] = found[0]["events"]
    return events


def test_a_spray_of_a_thousand_failures_is_one_alert_counting_them_all(
    result: RunResult,
) -> None:
    first, last, success = _spray(result, BURST_IP)
    assert (first["event_id"], last["event_id"]) == ("burst-00000", f"burst-{BURST - 1:05d}")
    assert first["count"] == last["count"] == BURST
    assert success["event_id"] == "burst-success" and success["outcome"] == "success"


def test_a_spray_longer_than_the_window_counts_from_the_latest_half_window_inside_it(
    result: RunResult,
) -> None:
    # The window is an hour: the success at 09:30:30 reaches back to 08:30:30. The run may
    # start at its first failure and at each half hour (08:30, 09:00, 09:30); the earliest
    # start inside the window is 09:00:00, and the run goes on to the last failure.
    first, last, success = _spray(result, SLOW_IP)
    assert first["event_id"] == "slow-120" and first["event_time"] == int(
        (START + timedelta(minutes=60)).timestamp() * 1000
    )
    assert last["event_id"] == "slow-180"
    assert first["count"] == 61
    assert success["event_id"] == "slow-success"


def test_every_record_of_the_bursts_is_read_on_time(result: RunResult) -> None:
    assert result.records_in == BURST + 1 + 181 + 1
    assert result.dead_letters == [] and result.late_events == []
