"""The apache-flink wheel's own standalone session cluster, on loopback, for tests and benches.

:func:`standalone_cluster` starts a job manager and ``taskmanagers`` task managers (``slots``
each) from the wheel's ``bin/start-cluster.sh``, with their own configuration, log, pid and lib
directories under ``root``, waits until every slot has registered, and stops the cluster (and
kills its process group, whatever happened) on exit.

``flink-python`` goes into the cluster's lib directory (a copy of the wheel's ``lib/`` made of
links): loaded once by the cluster, the embedded-Python library (pemja) survives job restarts
and resubmissions, which a per-job class loader does not. The task managers get the venv's
site-packages on ``PYTHONPATH`` (thread mode needs pemja there).
"""

from __future__ import annotations

import contextlib
import os
import signal
import site
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import orjson
import yaml

from tests import markers

T = TypeVar("T")


def pyflink_home() -> Path:
    import pyflink

    return Path(pyflink.__file__).resolve().parent


def latest_checkpoint(root: Path) -> tuple[int, Path] | None:
    """The latest completed checkpoint under a job's checkpoint directory ``root`` (one folder
    per job below it): its number and folder, None when none has completed."""
    done = [(int(p.parent.name.split("-")[1]), p.parent) for p in root.glob("*/chk-*/_metadata")]
    return max(done) if done else None


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, step: float = 1.0) -> T:
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
    # Task managers started by :meth:`start_taskmanager` (killed on exit whatever happened).
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_taskmanager(self) -> subprocess.Popen[bytes]:
        """One more task manager, in the foreground of its own process group.

        ``taskmanager.sh start-foreground`` execs ``flink-console.sh``, which execs ``java``:
        the returned process *is* the task manager's JVM, so a test can kill it by its PID.
        """
        process = subprocess.Popen(
            [str(self.home / "bin" / "taskmanager.sh"), "start-foreground"],
            env=self.env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.started.append(process)
        return process

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
        if done.returncode != 0:
            raise AssertionError(f"flink {' '.join(args)}:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def rest(self, path: str) -> Any:
        with urllib.request.urlopen(self.rest_url + path, timeout=5) as response:
            return orjson.loads(response.read())

    def cancel(self, job_id: str) -> None:
        state = self.rest(f"/jobs/{job_id}")["state"]
        if state in ("RUNNING", "RESTARTING", "CREATED", "INITIALIZING"):
            self.flink("cancel", job_id)

    def wait_running(self, job_id: str, timeout: float = 90) -> None:
        def running() -> bool | None:
            job = self.rest(f"/jobs/{job_id}")
            assert job["state"] not in ("FAILED", "CANCELED"), job["state"]
            tasks = [v["status"] for v in job["vertices"]]
            return True if all(t in ("RUNNING", "FINISHED") for t in tasks) else None

        wait_for(f"job {job_id} running", running, timeout)

    def wait_taskmanagers(self, count: int, timeout: float = 90) -> None:
        """Until ``count`` task managers are registered with the job manager."""

        def enough() -> bool | None:
            try:
                overview = self.rest("/overview")
            except OSError:
                return None
            return True if overview["taskmanagers"] >= count else None

        wait_for(f"{count} task managers", enough, timeout, step=0.5)

    def failovers(self, job_id: str) -> int:
        """How many failures the job has recovered from, or is recovering from."""
        history = self.rest(f"/jobs/{job_id}/exceptions")["exceptionHistory"]["entries"]
        return len(history)


def _write_config(
    conf: Path,
    ports: list[int],
    pid_dir: Path,
    taskmanagers: int,
    slots: int,
    tm_memory: str,
    extra: dict[str, Any],
) -> None:
    shipped = yaml.safe_load((pyflink_home() / "conf" / "config.yaml").read_text())
    rest, jm_rpc, blob = ports
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
        # Several task managers share the host: each picks free ports of its own.
        "taskmanager.rpc.port": "0",
        "taskmanager.data.port": 0,
        "taskmanager.numberOfTaskSlots": slots,
        "taskmanager.memory.process.size": tm_memory,
        "blob.server.port": blob,
        "rest.address": "127.0.0.1",
        "rest.bind-address": "127.0.0.1",
        "rest.port": rest,
        "python.executable": python,
        "python.client.executable": python,
        **extra,
    }
    (conf / "config.yaml").write_text(yaml.safe_dump(config))
    (conf / "workers").write_text("localhost\n" * taskmanagers)
    (conf / "masters").write_text(f"localhost:{rest}\n")
    for name in ("log4j.properties", "log4j-cli.properties", "log4j-console.properties"):
        (conf / name).write_bytes((pyflink_home() / "conf" / name).read_bytes())


@contextlib.contextmanager
def standalone_cluster(
    root: Path,
    taskmanagers: int = 1,
    slots: int = 2,
    tm_memory: str = "2048m",
    config: dict[str, Any] | None = None,
) -> Iterator[SessionCluster]:
    """A running standalone cluster under ``root`` (see the module docstring).

    ``taskmanagers=0`` starts the job manager alone (add task managers with
    :meth:`SessionCluster.start_taskmanager`); ``config`` adds or overrides configuration keys.
    """
    markers.require("cluster", "the standalone Flink cluster")
    home = pyflink_home()
    conf, log, pid, lib = (root / n for n in ("conf", "log", "pid", "lib"))
    for d in (conf, log, pid, lib):
        d.mkdir(parents=True, exist_ok=True)
    for jar in (home / "lib").glob("*.jar"):
        (lib / jar.name).symlink_to(jar)
    for jar in (home / "opt").glob("flink-python-*.jar"):
        (lib / jar.name).symlink_to(jar)
    ports = free_ports(3)
    _write_config(conf, ports, pid, taskmanagers, slots, tm_memory, config or {})
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
            return True if overview["slots-total"] == taskmanagers * slots else None

        wait_for("the session cluster's REST API and task managers", ready, 90)
        yield session
    finally:
        for process in session.started:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
        subprocess.run(
            [str(home / "bin" / "stop-cluster.sh")],
            env=env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        # stop-cluster.sh stops one task manager per workers line; daemons left behind by a
        # failed stop die with the group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
