"""A real Apache Kafka broker (KRaft, one combined broker + controller node) for tests.

The broker's jars come from ``tests/broker/pom.xml`` through Maven (``make jars`` copies them to
``.jars/broker``, once). :class:`KafkaBroker` picks two free loopback ports, formats a KRaft log
directory in a temporary directory, starts ``kafka.Kafka`` in its own process group, waits until
the broker answers metadata requests and, on :meth:`stop`, kills the whole group and removes the
directory. Its log is kept in the temporary directory and shown when start-up fails.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from seamwatch.kafka.config import KafkaTopics
from tests import markers

REPO_ROOT = Path(__file__).resolve().parents[1]
BROKER_JARS = REPO_ROOT / ".jars" / "broker"
BROKER_POM = REPO_ROOT / "tests" / "broker" / "pom.xml"
# Large enough for the 5 MB record of the dead-letter test, with room for a batch header.
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


class BrokerError(RuntimeError):
    pass


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def broker_classpath(jars_dir: Path = BROKER_JARS) -> str:
    """The broker's classpath; fetches the jars with Maven if they are not cached yet."""
    if not any(jars_dir.glob("kafka_2.13-*.jar")):
        jars_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "mvn",
                "-q",
                "-f",
                str(BROKER_POM),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={jars_dir}",
            ],
            check=True,
        )
    return os.pathsep.join(str(p) for p in sorted(jars_dir.glob("*.jar")))


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _cluster_id() -> str:
    """A random KRaft cluster id (16 bytes, URL-safe base64). One that starts with ``-`` would
    be read by ``kafka-storage format`` as an option (1 start in 64 failed so), so none does."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


class KafkaBroker:
    """One KRaft node on loopback. Use as a context manager or call start/stop."""

    def __init__(self, jars_dir: Path = BROKER_JARS, heap: str = "512m") -> None:
        self.jars_dir = jars_dir
        self.heap = heap
        self.port = 0
        self.controller_port = 0
        self.workdir: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "broker.log"

    def log_tail(self, lines: int = 80) -> str:
        """The end of the broker's log, for failure messages."""
        if self.workdir is None or not self.log_path.exists():
            return "(no broker log)"
        text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def _properties(self, log_dir: Path) -> str:
        return "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                f"listeners=PLAINTEXT://127.0.0.1:{self.port},"
                f"CONTROLLER://127.0.0.1:{self.controller_port}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                f"log.dirs={log_dir}",
                "num.partitions=1",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "transaction.state.log.num.partitions=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "transaction.max.timeout.ms=900000",
                f"message.max.bytes={MAX_MESSAGE_BYTES}",
                f"replica.fetch.max.bytes={MAX_MESSAGE_BYTES}",
                "auto.create.topics.enable=false",
                "",
            ]
        )

    def _java(self, main: str, *args: str) -> list[str]:
        return [
            "java",
            f"-Xmx{self.heap}",
            "-XX:+UseSerialGC",
            "-Djava.awt.headless=true",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
            "-Dorg.slf4j.simpleLogger.log.kafka.server.KafkaRaftServer=info",
            "-cp",
            broker_classpath(self.jars_dir),
            main,
            *args,
        ]

    def start(self, timeout: float = 60.0) -> KafkaBroker:
        markers.require("kafka", "a Kafka broker")
        self.workdir = Path(tempfile.mkdtemp(prefix="seamwatch-kafka-"))
        self.port, self.controller_port = free_port(), free_port()
        while self.controller_port == self.port:
            self.controller_port = free_port()
        config = self.workdir / "server.properties"
        config.write_text(self._properties(self.workdir / "data"), encoding="utf-8")
        cluster_id = _cluster_id()
        formatted = subprocess.run(
            self._java("kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config)),
            capture_output=True,
            text=True,
        )
        if formatted.returncode != 0:
            self._cleanup()
            raise BrokerError(f"kafka-storage format failed:\n{formatted.stdout}{formatted.stderr}")
        self._launch(timeout)
        return self

    def _launch(self, timeout: float) -> None:
        """Start ``kafka.Kafka`` on the formatted directory and wait until it answers."""
        assert self.workdir is not None
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self._java("kafka.Kafka", str(self.workdir / "server.properties")),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_ready(timeout)
        except BaseException:
            tail = self.log_tail()
            self.stop()
            raise BrokerError(f"Kafka broker did not become ready; its log ends:\n{tail}") from None

    def restart(self, down: Callable[[], None] | None = None, timeout: float = 60.0) -> None:
        """Stop the broker (SIGTERM, its data kept), call ``down`` while it is down, start it
        again on the same ports and data."""
        self._terminate()
        if down is not None:
            down()
        self._launch(timeout)

    def _wait_ready(self, timeout: float) -> None:
        from confluent_kafka.admin import AdminClient

        deadline = time.monotonic() + timeout
        # First the listener (a plain connect, so the client does not log refusals), then a
        # metadata round trip that names the broker.
        while not _accepts(self.port):
            if self.process is not None and self.process.poll() is not None:
                raise BrokerError(f"broker exited with code {self.process.returncode}")
            if time.monotonic() > deadline:
                raise BrokerError(f"{self.bootstrap} not listening after {timeout:.0f}s")
            time.sleep(0.3)
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        while time.monotonic() < deadline:
            if admin.list_topics(timeout=5).brokers:
                return
            time.sleep(0.3)
        raise BrokerError(f"no metadata from {self.bootstrap} after {timeout:.0f}s")

    def stop(self) -> None:
        """Kill the broker's process group and remove its directory."""
        self._terminate()
        self._cleanup()

    def _terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
        self.process = None

    def _cleanup(self) -> None:
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> KafkaBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def unique_topics(tag: str) -> KafkaTopics:
    """Every topic of a run under a fresh prefix (``<tag><6 hex>.okta``, ...), so that the jobs
    and tests sharing one broker never read each other's records."""
    prefix = f"{tag}{uuid.uuid4().hex[:6]}"
    return KafkaTopics(
        okta=f"{prefix}.okta",
        cloudtrail=f"{prefix}.cloudtrail",
        identities=f"{prefix}.identities",
        alerts=f"{prefix}.alerts",
        dead_letters=f"{prefix}.dead-letters",
        late_events=f"{prefix}.late-events",
        entra=f"{prefix}.entra",
        windows=f"{prefix}.windows",
    )
