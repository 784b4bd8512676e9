"""What ``seamwatch run`` and ``seamwatch rules test`` show while the job runs.

Milestones (each source staged, the job started) are lines on standard error; each alert is
printed on standard output when the job emits it, not at the end; on a terminal a spinner line
keeps the running counts (events counted, dead letters, alerts) and disappears at the end.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.status import Status

from seamwatch.jobs.local import Counts, RunListener
from seamwatch.sources.staging import StagedSource


class RunProgress(RunListener):
    """A :class:`~seamwatch.jobs.local.RunListener` for the terminal; use it as a context
    manager around the run. ``print_alert`` prints an alert when it is found (None: not at
    all, as with ``--quiet``)."""

    def __init__(
        self,
        console: Console,
        err_console: Console,
        print_alert: Any = None,
        what: str = "job",
    ) -> None:
        self._console = console
        self._err = err_console
        self._print_alert = print_alert
        self._what = what
        self._status: Status = console.status(f"staging the {what}'s input", spinner="dots")
        self._started = time.monotonic()
        self._alerts = 0
        self._counts = Counts()
        self.told: set[str] = set()  # ids of the alerts printed while the job ran

    def __enter__(self) -> RunProgress:
        self._status.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._status.stop()

    def staged(self, source: StagedSource) -> None:
        files = f"{source.files} file{'s' if source.files != 1 else ''}"
        rejected = f", {len(source.rejected)} dead-lettered" if source.rejected else ""
        self._err.print(
            f"staged {source.source}: {source.records} records from {files}{rejected}",
            markup=False,
        )

    def job_started(self) -> None:
        self._err.print(f"{self._what} started on a local Flink mini-cluster", markup=False)
        self._started = time.monotonic()
        self._update()

    def counted(self, counts: Counts) -> None:
        self._counts = counts
        self._update()

    def alert_found(self, alert: dict[str, Any]) -> None:
        self._alerts += 1
        self.told.add(alert["alert_id"])
        if self._print_alert is not None:
            self._print_alert(alert)
        self._update()

    def _update(self) -> None:
        seconds = time.monotonic() - self._started
        counts = self._counts
        self._status.update(
            f"{self._what} running {seconds:.0f}s: {counts.normalized} events counted, "
            f"{counts.dead_lettered} dead-lettered, {self._alerts} alerts"
        )
