"""The job on a real standalone Flink session cluster, submitted with ``seamwatch submit``.

One cluster (the one the apache-flink wheel ships, on free loopback ports, with its own
configuration, log and pid directories in tmp) serves the module. The job watches one
directory per source; the tests drop JSON-lines files in them and read the alert files the job
writes, as a user of ``seamwatch submit`` would. Every test cancels its jobs, and the cluster
is stopped and its process group killed at the end whatever happened.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from seamwatch.sample.factories import ct_call, okta_session_start
from tests.flink_cluster import SessionCluster, standalone_cluster, wait_for
from tests.scenarios import ACCOUNT, ATTACK_AT, HOME, ROLE, Scenario, field_attack, person

pytestmark = [pytest.mark.flink, pytest.mark.cluster]

RULE = "okta-new-country-saml-access-key"
PERSISTENCE_RULE = "okta-anomalous-login-iam-persistence"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SessionCluster]:
    """The wheel's standalone session cluster: 1 task manager, 2 slots, loopback only."""
    with standalone_cluster(tmp_path_factory.mktemp("flink-session")) as session:
        yield session


def _submit(session: SessionCluster, *args: str) -> str:
    """``seamwatch submit ARGS``; returns the job id it printed."""
    done = subprocess.run(
        [sys.executable, "-m", "seamwatch.cli", "submit", *args],
        env=session.env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    found = re.search(r"JobID ([0-9a-f]{32})", done.stdout)
    assert done.returncode == 0 and found, f"submit failed:\n{done.stdout}\n{done.stderr}"
    return found.group(1)


# --- input and output files -------------------------------------------------------------------


def _write_jsonl(directory: Path, name: str, lines: list[bytes]) -> None:
    """Write under a hidden name, then rename: the watching source never sees half a file."""
    directory.mkdir(parents=True, exist_ok=True)
    hidden = directory / f".{name}"
    hidden.write_bytes(b"".join(line + b"\n" for line in lines))
    hidden.rename(directory / name)


def _records(records: list[dict[str, Any]]) -> list[bytes]:
    return [orjson.dumps(r) for r in records]


def _ticks(hours: int) -> tuple[bytes, bytes]:
    """One later, benign event per source (Okta, CloudTrail): moves event time past the attack.

    Each goes at the end of a file that holds the source's last attack records: files found in
    one directory scan are read in no fixed order, and a tick read first would make the attack
    records late.
    """
    rng = random.Random(hours)
    who = person("tick.tock")
    at = ATTACK_AT + timedelta(hours=hours)
    ip = HOME.ips[0]
    okta = okta_session_start(who, at, ip, HOME, rng=rng)
    call = ct_call(
        who, at, ip, "sts.amazonaws.com", "GetCallerIdentity", ACCOUNT, ROLE, "ASIATICK", rng=rng
    )
    return orjson.dumps(okta), orjson.dumps(call)


def _committed(directory: Path) -> list[dict[str, Any]]:
    """Records in the part files a checkpoint has committed (in-progress files are hidden)."""
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.rglob("*.jsonl")):
        if not path.name.startswith("."):
            found += [orjson.loads(line) for line in path.read_bytes().splitlines() if line]
    return found


def _submit_args(inputs: Path, output: Path, identities: Path, *extra: str) -> tuple[str, ...]:
    return (
        "--input",
        f"okta={inputs / 'okta'}",
        "--input",
        f"cloudtrail={inputs / 'cloudtrail'}",
        "--output",
        str(output),
        "--identities",
        str(identities),
        "--rules",
        str(REPO / "rules"),
        "--checkpoint-interval",
        "2s",
        *extra,
    )


def _identities(tmp: Path, scenario: Scenario) -> Path:
    path = tmp / "identities.yaml"
    path.write_text(yaml.safe_dump(scenario.identities()))
    return path


def _event_ids(alert: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(e["event_id"]) for e in alert["events"])


# --- tests -------------------------------------------------------------------------------------


def test_submitted_job_alerts_on_the_field_attack(cluster: SessionCluster, tmp_path: Path) -> None:
    scenario = Scenario()
    field_attack(scenario, "ava.stone", seed=1)
    field_attack(scenario, "hal.home", login_geo=HOME, expect_alert=False, seed=4)
    inputs, output = tmp_path / "in", tmp_path / "out"
    okta_tick, cloudtrail_tick = _ticks(2)
    _write_jsonl(inputs / "okta", "okta.jsonl", [*_records(scenario.okta), okta_tick])
    _write_jsonl(
        inputs / "cloudtrail", "cloudtrail.jsonl", [*_records(scenario.cloudtrail), cloudtrail_tick]
    )

    job = _submit(
        cluster,
        *_submit_args(
            inputs, output, _identities(tmp_path, scenario), "--state-backend", "hashmap"
        ),
    )
    try:
        alerts = wait_for(
            "the alert file", lambda: _committed(output / "alerts") or None, 120, step=2
        )
        time.sleep(5)  # two more checkpoints: a duplicate would be committed by now
        alerts = _committed(output / "alerts")
    finally:
        cluster.cancel(job)

    # The field rule, and the broader account-manipulation rule on the same login and key;
    # nothing for hal.home, who signs in from home.
    assert sorted((a["rule_id"], a["entity"]["id"]) for a in alerts) == [
        (PERSISTENCE_RULE, "ava.stone"),
        (RULE, "ava.stone"),
    ]
    alerts = [a for a in alerts if a["rule_id"] == RULE]
    assert _event_ids(alerts[0]) == scenario.expected["ava.stone"]
    assert [e["action"] for e in alerts[0]["events"]] == [
        "user.session.start",
        "AssumeRoleWithSAML",
        "CreateAccessKey",
    ]
    assert alerts[0]["events"][0]["country"] == "Romania"
    # Relative to the watched directory (the input root), not the machine's absolute path.
    assert [e["raw_ref"] for e in alerts[0]["events"]] == [
        "okta.jsonl",
        "cloudtrail.jsonl",
        "cloudtrail.jsonl",
    ]
    assert _committed(output / "dead-letters") == []


def test_alert_survives_stop_with_savepoint_mid_sequence(
    cluster: SessionCluster, tmp_path: Path
) -> None:
    """Login and AssumeRoleWithSAML before the savepoint, CreateAccessKey after: one alert."""
    scenario = Scenario()
    field_attack(scenario, "ava.stone", seed=1)
    history_login, login = scenario.okta
    assumed, recon, created = scenario.cloudtrail
    inputs, output = tmp_path / "in", tmp_path / "out"
    identities = _identities(tmp_path, scenario)
    checkpoints, savepoints = tmp_path / "checkpoints", tmp_path / "savepoints"
    args = _submit_args(
        inputs,
        output,
        identities,
        "--state-backend",
        "rocksdb",
        "--checkpoint-dir",
        checkpoints.as_uri(),
    )
    # A malformed last line per file: its dead letter proves the lines before it were read.
    _write_jsonl(inputs / "okta", "1-okta.jsonl", [*_records([history_login, login]), b"{not json"])
    _write_jsonl(
        inputs / "cloudtrail", "1-cloudtrail.jsonl", [*_records([assumed, recon]), b"{not json"]
    )

    first = _submit(cluster, *args)
    try:
        wait_for(
            "both files consumed (their dead letters committed)",
            lambda: True if len(_committed(output / "dead-letters")) == 2 else None,
            120,
            step=2,
        )
        assert _committed(output / "alerts") == []  # the sequence is not complete yet
        stopped = cluster.flink("stop", "--savepointPath", savepoints.as_uri(), first)
    finally:
        cluster.cancel(first)
    savepoint = re.search(r"Savepoint completed\. Path: (\S+)", stopped)
    assert savepoint, stopped

    second = _submit(cluster, *args, "--from-savepoint", savepoint.group(1))
    try:
        cluster.wait_running(second)
        okta_tick, cloudtrail_tick = _ticks(2)
        _write_jsonl(
            inputs / "cloudtrail", "2-cloudtrail.jsonl", [*_records([created]), cloudtrail_tick]
        )
        _write_jsonl(inputs / "okta", "2-okta.jsonl", [okta_tick])
        alerts = wait_for(
            "the alert after the resume", lambda: _committed(output / "alerts") or None, 120, step=2
        )
        time.sleep(5)
        alerts = _committed(output / "alerts")
        dead = _committed(output / "dead-letters")
    finally:
        cluster.cancel(second)

    assert sorted(a["rule_id"] for a in alerts) == [PERSISTENCE_RULE, RULE], alerts  # once each
    alert = next(a for a in alerts if a["rule_id"] == RULE)
    assert alert["entity"]["id"] == "ava.stone"
    assert _event_ids(alert) == scenario.expected["ava.stone"]
    assert [e["action"] for e in alert["events"]] == [
        "user.session.start",
        "AssumeRoleWithSAML",
        "CreateAccessKey",
    ]
    # The first files were not read again after the resume.
    assert len(dead) == 2
