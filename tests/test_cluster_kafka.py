"""The Kafka job on a real standalone Flink cluster, submitted with ``seamwatch submit --kafka``.

What a user of a session cluster sees: the job is submitted as the CLI submits it (the package
shipped as a zip, Avro alerts by default), reads a real broker and writes its alerts in Kafka
transactions. Each test has its own broker (the default topic names then never collide) and the
module shares one cluster whose task managers the tests start themselves, so that one test can
kill a task manager by the PID it started and start another. Alerts are read as a downstream
consumer reads them: ``isolation.level=read_committed``, Avro decoded with the package's schema.

The crash tests split the field attack across the crash: the sign-in and AssumeRoleWithSAML
before it, CreateAccessKey after the recovery. A malformed record after each part is a marker:
its dead letter, once committed, proves that the records before it were read and that a
checkpoint completed after them (the sinks commit on checkpoints).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from seamwatch.jobs.kafka_job import JOB_JARS_DIR
from seamwatch.kafka.client import librdkafka_config
from seamwatch.kafka.codec import decode_alert
from seamwatch.kafka.config import KafkaTopics
from seamwatch.kafka.tools import ReplayRecord, consume, create_topics, produce
from tests.flink_cluster import SessionCluster, standalone_cluster, wait_for
from tests.kafka_broker import KafkaBroker
from tests.scenarios import Scenario, field_attack
from tests.test_session_cluster import PERSISTENCE_RULE, RULE, _event_ids, _ticks

pytestmark = [pytest.mark.flink, pytest.mark.cluster, pytest.mark.kafka]

REPO = Path(__file__).resolve().parents[1]
TOPICS = KafkaTopics()
SLOTS = 2
# The two rules the field attack fires for ava.stone (test_session_cluster has the same).
EXPECTED = [(PERSISTENCE_RULE, "ava.stone"), (RULE, "ava.stone")]
CLUSTER_CONFIG = {
    # A killed task manager is noticed when two heartbeat RPCs to it fail (connection refused):
    # about 2 s with a 1 s interval. The timeout, for one that hangs, stays generous: a task
    # manager starting the job's Python on a loaded machine can pause for seconds, and a
    # timeout then means one more failover.
    "heartbeat.interval": 1000,
    "heartbeat.timeout": 20000,
    # The cluster itself restarts no job: the job must bring its own restart strategy.
    "restart-strategy.type": "none",
}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SessionCluster]:
    """A job manager; each test starts the task managers it needs."""
    root = tmp_path_factory.mktemp("flink-kafka-cluster")
    with standalone_cluster(root, taskmanagers=0, slots=SLOTS, config=CLUSTER_CONFIG) as session:
        # The task managers must not find this checkout on their path: the job's code, its
        # schemas included, comes only from what ``submit`` ships (as on a real cluster).
        session.env["PYTHONPATH"] = os.pathsep.join(
            p
            for p in session.env["PYTHONPATH"].split(os.pathsep)
            if p and Path(p).resolve() != REPO
        )
        yield session


@pytest.fixture
def taskmanager(cluster: SessionCluster) -> Iterator[subprocess.Popen[bytes]]:
    """One task manager started by the test (it registers while the broker starts and the job
    is submitted); it and any the test adds are killed afterwards."""
    first = len(cluster.started)
    process = cluster.start_taskmanager()
    try:
        yield process
    finally:
        for started in cluster.started[first:]:
            if started.poll() is None:
                started.kill()
                started.wait(timeout=30)


@pytest.fixture
def broker() -> Iterator[KafkaBroker]:
    """A broker of the test's own, with the job's default topics."""
    with KafkaBroker() as kafka:
        create_topics(librdkafka_config(kafka.bootstrap, {}), TOPICS)
        yield kafka


@pytest.fixture
def job(
    cluster: SessionCluster,
    taskmanager: subprocess.Popen[bytes],
    broker: KafkaBroker,
    tmp_path: Path,
) -> Iterator[str]:
    """``seamwatch submit --kafka`` (default alert format: Avro); cancelled at the end.

    The rules and the identity graph are copies, removed once the job runs: they are read at
    submission and travel inside the job, so neither the tasks nor a recovery read them again.
    """
    submitted = tmp_path / "submitted"
    shutil.copytree(REPO / "rules", submitted / "rules")
    identities = submitted / "identities.yaml"
    identities.write_text(yaml.safe_dump(_scenario().identities()))
    args = [
        "--kafka",
        broker.bootstrap,
        "--identities",
        str(identities),
        "--rules",
        str(submitted / "rules"),
        "--checkpoint-interval",
        "1s",
        "--state-backend",
        "hashmap",
        "--checkpoint-dir",
        (tmp_path / "checkpoints").as_uri(),
        "--watermark",
        "okta=1m",
        "--watermark",
        "cloudtrail=1m",
    ]
    for jar in sorted(JOB_JARS_DIR.glob("*.jar")):
        args += ["--jar", str(jar)]
    job_id = _submit(cluster, *args)
    try:
        cluster.wait_running(job_id, timeout=180)
        shutil.rmtree(submitted)
        yield job_id
    finally:
        cluster.cancel(job_id)


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


def _scenario() -> Scenario:
    """ava.stone signs in from abroad and mints a key (the field attack); the same identities
    for every test (the identity graph is read at submission)."""
    scenario = Scenario()
    field_attack(scenario, "ava.stone", seed=1)
    return scenario


def _conf(broker: KafkaBroker) -> dict[str, Any]:
    return librdkafka_config(broker.bootstrap, {})


def _produce(broker: KafkaBroker, source: str, values: list[bytes]) -> None:
    produce(_conf(broker), TOPICS.sources(), [ReplayRecord(source, v, None) for v in values])


def _json(records: list[dict[str, Any]]) -> list[bytes]:
    return [orjson.dumps(r) for r in records]


def _read(broker: KafkaBroker, topic: str, count: int, timeout: float = 150) -> list[bytes]:
    """The first ``count`` committed record values of ``topic`` (fails after ``timeout``)."""
    values: list[bytes] = []
    for message in consume(_conf(broker), topic, timeout=timeout):
        values.append(bytes(message.value()))
        if len(values) >= count:
            break
    assert len(values) >= count, f"{topic}: {len(values)} committed records, expected {count}"
    return values


def _read_all(broker: KafkaBroker, topic: str) -> list[bytes]:
    """Every committed record value of ``topic`` right now (the read stops when it is idle)."""
    return [bytes(m.value()) for m in consume(_conf(broker), topic, timeout=60, idle_stop=3)]


def _alerts(values: list[bytes]) -> list[dict[str, Any]]:
    return [decode_alert(v, "avro") for v in values]


def _first_half(scenario: Scenario) -> tuple[list[bytes], list[bytes]]:
    """Okta: the sign-in history and the sign-in from abroad; CloudTrail: AssumeRoleWithSAML
    and a read call. A malformed record closes each (see the module docstring)."""
    history_login, login = scenario.okta
    assumed, recon, _created = scenario.cloudtrail
    return (
        [*_json([history_login, login]), b"{not json"],
        [*_json([assumed, recon]), b"{not json"],
    )


def _second_half(scenario: Scenario) -> tuple[list[bytes], list[bytes]]:
    """CreateAccessKey, then one later event per source (event time moves past the attack)."""
    created = scenario.cloudtrail[2]
    okta_tick, cloudtrail_tick = _ticks(2)
    return [okta_tick], [*_json([created]), cloudtrail_tick]


def _send(broker: KafkaBroker, okta: list[bytes], cloudtrail: list[bytes]) -> None:
    _produce(broker, "okta", okta)
    _produce(broker, "cloudtrail", cloudtrail)


def _check_exactly_once(broker: KafkaBroker, scenario: Scenario, dead_letters: int) -> None:
    """Wait for the alerts; then commit one more marker, so that every transaction of the
    checkpoints before it is committed too, and read everything: each alert exactly once."""
    _alerts(_read(broker, TOPICS.alerts, len(EXPECTED)))
    _produce(broker, "okta", [b"{final marker"])
    _read(broker, TOPICS.dead_letters, dead_letters + 1)
    alerts = _alerts(_read_all(broker, TOPICS.alerts))
    assert sorted((a["rule_id"], a["entity"]["id"]) for a in alerts) == EXPECTED, [
        (a["rule_id"], a["alert_id"]) for a in alerts
    ]
    field = next(a for a in alerts if a["rule_id"] == RULE)
    assert _event_ids(field) == scenario.expected["ava.stone"]
    assert [e["action"] for e in field["events"]] == [
        "user.session.start",
        "AssumeRoleWithSAML",
        "CreateAccessKey",
    ]
    assert field["events"][0]["country"] == "Romania"
    dead = [orjson.loads(v) for v in _read_all(broker, TOPICS.dead_letters)]
    assert len(dead) == dead_letters + 1, dead  # no marker read twice either


# --- tests -------------------------------------------------------------------------------------


def test_killed_taskmanager_loses_and_repeats_no_alert(
    job: str,
    cluster: SessionCluster,
    taskmanager: subprocess.Popen[bytes],
    broker: KafkaBroker,
) -> None:
    """SIGKILL the task manager that runs the job, mid-attack; a second one (started before, so
    that recovery does not wait for a JVM to start) takes over from the last checkpoint."""
    scenario = _scenario()
    cluster.start_taskmanager()
    _send(broker, *_first_half(scenario))
    _read(broker, TOPICS.dead_letters, 2)  # the first half is read and checkpointed
    cluster.wait_taskmanagers(2)

    taskmanager.send_signal(signal.SIGKILL)
    taskmanager.wait(timeout=30)
    wait_for("the job to fail over", lambda: cluster.failovers(job) or None, 90, step=0.5)
    _send(broker, *_second_half(scenario))

    _check_exactly_once(broker, scenario, dead_letters=2)


def test_broker_restart_loses_and_repeats_no_alert(
    job: str, cluster: SessionCluster, broker: KafkaBroker
) -> None:
    """Stop the broker mid-attack (its data kept) and start it again: the job recovers."""
    scenario = _scenario()
    _send(broker, *_first_half(scenario))
    _read(broker, TOPICS.dead_letters, 2)
    failed = _failed_checkpoints(cluster, job)

    def while_down() -> None:
        # The outage is real for the job: a checkpoint failed (the sinks cannot flush) or the
        # job failed over.
        wait_for(
            "the job to notice the broker is down",
            lambda: True if _noticed_outage(cluster, job, failed) else None,
            90,
            step=0.5,
        )

    broker.restart(while_down)
    _send(broker, *_second_half(scenario))

    _check_exactly_once(broker, scenario, dead_letters=2)


def _failed_checkpoints(cluster: SessionCluster, job_id: str) -> int:
    failed: int = cluster.rest(f"/jobs/{job_id}/checkpoints")["counts"]["failed"]
    return failed


def _noticed_outage(cluster: SessionCluster, job_id: str, failed_before: int) -> bool:
    """A checkpoint failed, or the job failed over, since the broker went down."""
    return bool(cluster.failovers(job_id) or _failed_checkpoints(cluster, job_id) > failed_before)
