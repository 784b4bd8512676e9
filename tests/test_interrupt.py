"""Ctrl-C on ``seamwatch run``: the job stops, what it had found is written, exit 130.

The alerts are printed while the job runs, each when the job emits it: the test presses
Ctrl-C (SIGINT) once the first one is on the screen, with days of input still unread.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from seamwatch.sample.stream import write_bench_corpus

pytestmark = pytest.mark.flink

ALERT_LINE = re.compile(r"\balert ([0-9a-f]{32})\b")


def _default_sigint() -> None:
    # A shell starts background jobs with SIGINT ignored, and Python keeps an ignored SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_the_job_and_keeps_the_alerts_found(tmp_path: Path) -> None:
    corpus = write_bench_corpus(tmp_path / "corpus", 120_000, attacks=8, seed=5)
    out = tmp_path / "out" / "alerts.jsonl"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "seamwatch.cli",
            "run",
            "--input",
            f"okta={corpus.okta_path}",
            "--input",
            f"cloudtrail={corpus.cloudtrail_path}",
            "--identities",
            str(corpus.identities_path),
            "--max-ahead-of-clock",
            "3650d",
            "--output",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=_default_sigint,
    )
    assert process.stdout is not None and process.stderr is not None
    # Standard error holds a few lines until the end: read once the process is done.
    printed: list[str] = []
    deadline = time.monotonic() + 300
    for line in process.stdout:
        found = ALERT_LINE.search(line)
        if found:
            printed.append(found.group(1))
            break
        assert time.monotonic() < deadline, "no alert printed while the job ran"
    assert printed, "the run ended without printing an alert"
    process.send_signal(signal.SIGINT)
    rest, stderr = process.communicate(timeout=120)

    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert "job started on a local Flink mini-cluster" in stderr
    # Every alert printed before the stop is in the file; the run did not reach the end.
    printed += ALERT_LINE.findall(rest)
    alerts = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert set(printed) <= {a["alert_id"] for a in alerts}
    entities = {a["entity"]["id"] for a in alerts}
    caught = [t for t in corpus.attacks if t.entity in entities]
    assert caught, "the alerts of the first attack are written"
    assert len(caught) < len(corpus.attacks), "every attack alerted: the stop came too late"
    assert "no response action ran" in stderr
