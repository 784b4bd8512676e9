"""A real schema registry (Apicurio Registry, in-memory storage) on loopback for tests.

The registry's released distribution comes from ``tests/registry/pom.xml`` through Maven
(``make jars`` unpacks it to ``.jars/registry``, once). :class:`ApicurioRegistry` picks a free
loopback port, starts ``java -jar apicurio-registry-app-<version>-runner.jar`` in its own
process group, waits until the Confluent-compatible API (``/apis/ccompat/v7``) answers and, on
:meth:`stop`, kills the group and removes its temporary directory (log included; the log's end
is shown when start-up fails).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests import markers
from tests.kafka_broker import REPO_ROOT, free_port

REGISTRY_DIR = REPO_ROOT / ".jars" / "registry"
REGISTRY_POM = REPO_ROOT / "tests" / "registry" / "pom.xml"
CCOMPAT_PATH = "/apis/ccompat/v7"


class RegistryError(RuntimeError):
    pass


def registry_jar(directory: Path = REGISTRY_DIR) -> Path:
    """The registry's runner jar; unpacks the distribution with Maven if it is not there yet."""
    jars = sorted(directory.glob("apicurio-registry-app-*-runner.jar"))
    if not jars:
        # A partial directory would keep Maven's marker and be skipped: start it afresh.
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        subprocess.run(
            [
                "mvn",
                "-q",
                "-f",
                str(REGISTRY_POM),
                "dependency:unpack",
                f"-DoutputDirectory={directory}",
            ],
            check=True,
        )
        jars = sorted(directory.glob("apicurio-registry-app-*-runner.jar"))
    if not jars:
        raise RegistryError(f"no apicurio-registry-app-*-runner.jar in {directory}")
    return jars[-1]


class ApicurioRegistry:
    """One registry on loopback. Use as a context manager or call start/stop."""

    def __init__(self, directory: Path = REGISTRY_DIR, heap: str = "384m") -> None:
        self.directory = directory
        self.heap = heap
        self.port = 0
        self.workdir: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The Confluent-compatible API's base URL (what a Confluent client is given)."""
        return f"http://127.0.0.1:{self.port}{CCOMPAT_PATH}"

    @property
    def log_path(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "registry.log"

    def log_tail(self, lines: int = 60) -> str:
        if self.workdir is None or not self.log_path.exists():
            return "(no registry log)"
        text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def start(self, timeout: float = 180.0) -> ApicurioRegistry:
        markers.require("kafka", "the schema registry")
        jar = registry_jar(self.directory)
        self.workdir = Path(tempfile.mkdtemp(prefix="seamwatch-registry-"))
        self.port = free_port()
        command = [
            "java",
            f"-Xmx{self.heap}",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",  # starts faster; the tests send a handful of requests
            f"-Djava.io.tmpdir={self.workdir}",
            "-Dquarkus.http.host=127.0.0.1",
            f"-Dquarkus.http.port={self.port}",
            "-Dquarkus.log.level=WARN",
            "-jar",
            str(jar),
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_ready(timeout)
        except BaseException:
            tail = self.log_tail()
            self.stop()
            raise RegistryError(f"the registry did not start; its log ends:\n{tail}") from None
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RegistryError(f"registry exited with code {self.process.returncode}")
            with (
                contextlib.suppress(urllib.error.URLError, OSError),
                urllib.request.urlopen(f"{self.url}/subjects", timeout=2) as response,
            ):
                if response.status == 200:
                    return
            time.sleep(0.5)
        raise RegistryError(f"{self.url} did not answer within {timeout:.0f}s")

    def stop(self) -> None:
        """Kill the registry's process group and remove its directory."""
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)
        self.process = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> ApicurioRegistry:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
