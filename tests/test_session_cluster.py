"""The job on a real standalone Flink session cluster, submitted with ``seamwatch submit``.

One cluster (the one the apache-flink wheel ships, on free loopback ports, with its own
configuration, log and pid directories in tmp) serves the module. The job watches one
directory per source; the tests drop JSON-lines files in them and read the alert files the job
writes, as a user of ``seamwatch submit`` would. Every test cancels its jobs, and the cluster
is stopped and its process group killed at the end whatever happened.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import orjson
import pytest
import yaml

from seamwatch.sample.factories import ct_call, okta_session_start
from tests.scenarios import ACCOUNT, ATTACK_AT, HOME, ROLE, Scenario, field_attack, person

pytestmark = [pytest.mark.flink, pytest.mark.cluster]

RULE = "okta-new-country-saml-access-key"
PERSISTENCE_RULE = "okta-anomalous-login-iam-persistence"
REPO = Path(__file__).resolve().parents[1]
T = TypeVar("T")


def _pyflink_home() -> Path:
    import pyflink

    return Path(pyflink.__file__).resolve().parent


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _wait_for(what: str, probe: Callable[[], T | None], timeout: float, step: float = 1.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value is not None:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


@dataclass
class SessionCluster:
    home: Path
    rest_url: str
    env: dict[str, str]
    log_dir: Path

    def flink(self, *args: str, timeout: float = 120) -> str:
        """Run the wheel's ``flink`` CLI against this cluster; fails with its output."""
        done = subprocess.run(
            [str(self.home / "bin" / "flink"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, f"flink {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def submit(self, *args: str) -> str:
        """``seamwatch submit ARGS``; returns the job id it printed."""
        done = subprocess.run(
            [sys.executable, "-m", "seamwatch.cli", "submit", *args],
            env=self.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        found = re.search(r"JobID ([0-9a-f]{32})", done.stdout)
        assert done.returncode == 0 and found, f"submit failed:\n{done.stdout}\n{done.stderr}"
        return found.group(1)

    def rest(self, path: str) -> Any:
        with urllib.request.urlopen(self.rest_url + path, timeout=5) as response:
            return orjson.loads(response.read())

    def cancel(self, job_id: str) -> None:
        state = self.rest(f"/jobs/{job_id}")["state"]
        if state in ("RUNNING", "RESTARTING", "CREATED", "INITIALIZING"):
            self.flink("cancel", job_id)

    def wait_running(self, job_id: str) -> None:
        def running() -> bool | None:
            job = self.rest(f"/jobs/{job_id}")
            assert job["state"] not in ("FAILED", "CANCELED"), job["state"]
            tasks = [v["status"] for v in job["vertices"]]
            return True if all(t in ("RUNNING", "FINISHED") for t in tasks) else None

        _wait_for(f"job {job_id} running", running, 90)


def _write_config(conf: Path, ports: list[int], pid_dir: Path) -> None:
    shipped = yaml.safe_load((_pyflink_home() / "conf" / "config.yaml").read_text())
    rest, jm_rpc, tm_rpc, tm_data, blob = ports
    python = sys.executable
    config = {
        "env.java.opts.all": shipped["env"]["java"]["opts"]["all"],
        "env.pid.dir": str(pid_dir),
        "jobmanager.rpc.address": "127.0.0.1",
        "jobmanager.rpc.port": jm_rpc,
        "jobmanager.bind-host": "127.0.0.1",
        "jobmanager.memory.process.size": "1024m",
        "taskmanager.host": "127.0.0.1",
        "taskmanager.bind-host": "127.0.0.1",
        "taskmanager.rpc.port": tm_rpc,
        "taskmanager.data.port": tm_data,
        "taskmanager.numberOfTaskSlots": 2,
        "taskmanager.memory.process.size": "2048m",
        "blob.server.port": blob,
        "rest.address": "127.0.0.1",
        "rest.bind-address": "127.0.0.1",
        "rest.port": rest,
        "python.executable": python,
        "python.client.executable": python,
    }
    (conf / "config.yaml").write_text(yaml.safe_dump(config))
    (conf / "workers").write_text("localhost\n")
    (conf / "masters").write_text(f"localhost:{rest}\n")
    for name in ("log4j.properties", "log4j-cli.properties", "log4j-console.properties"):
        (conf / name).write_bytes((_pyflink_home() / "conf" / name).read_bytes())


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SessionCluster]:
    """The wheel's standalone session cluster: 1 task manager, 2 slots, loopback only.

    ``flink-python`` goes into the cluster's lib directory (a copy of the wheel's ``lib/`` made
    of links): loaded once by the cluster, the embedded-Python library (pemja) survives job
    restarts and resubmissions, which a per-job class loader does not. The task manager gets
    the venv's site-packages on ``PYTHONPATH`` (thread mode needs pemja there).
    """
    home = _pyflink_home()
    root = tmp_path_factory.mktemp("flink-session")
    conf, log, pid, lib = (root / n for n in ("conf", "log", "pid", "lib"))
    for d in (conf, log, pid, lib):
        d.mkdir()
    for jar in (home / "lib").glob("*.jar"):
        (lib / jar.name).symlink_to(jar)
    for jar in (home / "opt").glob("flink-python-*.jar"):
        (lib / jar.name).symlink_to(jar)
    ports = _free_ports(5)
    _write_config(conf, ports, pid)
    import site

    env = {
        **os.environ,
        "FLINK_CONF_DIR": str(conf),
        "FLINK_LOG_DIR": str(log),
        "FLINK_LIB_DIR": str(lib),
        "PYTHONPATH": os.pathsep.join(
            [
                *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep)),
                *site.getsitepackages(),
            ]
        ),
    }
    env.pop("FLINK_HOME", None)
    starter = subprocess.Popen(
        [str(home / "bin" / "start-cluster.sh")],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    group = starter.pid
    session = SessionCluster(home, f"http://127.0.0.1:{ports[0]}", env, log)
    try:
        starter.wait(timeout=60)

        def ready() -> bool | None:
            try:
                overview = session.rest("/overview")
            except OSError:
                return None
            return True if overview["slots-total"] == 2 else None

        _wait_for("the session cluster's REST API and task manager", ready, 90)
        yield session
    finally:
        subprocess.run(
            [str(home / "bin" / "stop-cluster.sh")],
            env=env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)  # daemons left behind by a failed stop


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

    job = cluster.submit(
        *_submit_args(inputs, output, _identities(tmp_path, scenario), "--state-backend", "hashmap")
    )
    try:
        alerts = _wait_for(
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
    assert all(e["raw_ref"].startswith(str(inputs)) for e in alerts[0]["events"])
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

    first = cluster.submit(*args)
    try:
        _wait_for(
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

    second = cluster.submit(*args, "--from-savepoint", savepoint.group(1))
    try:
        cluster.wait_running(second)
        okta_tick, cloudtrail_tick = _ticks(2)
        _write_jsonl(
            inputs / "cloudtrail", "2-cloudtrail.jsonl", [*_records([created]), cloudtrail_tick]
        )
        _write_jsonl(inputs / "okta", "2-okta.jsonl", [okta_tick])
        alerts = _wait_for(
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
