"""Entry point for file input on a local mini-cluster (``seamwatch run``).

Stages the user's files, attaches them as per-source SQL tables, runs the pipeline, and
collects alerts, dead letters, late events, pending absence decisions and the job's counts
back to the client, which writes them as JSON lines: alerts to the output file, the others
next to it. Nothing read is lost, and the job counts it all: records in = events normalized
+ records dead-lettered, and normalized = on time and needed by a rule + not needed by any
rule + late (:class:`Counts`).
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from seamwatch.jobs.runtime import create_environments
from seamwatch.jobs.settings import CommonSettings, JobSettings
from seamwatch.rules.relevance import Relevance
from seamwatch.rules.rulebook import Rule, load_rules
from seamwatch.rules.runnable import split_runnable
from seamwatch.sources.staging import (
    BackgroundStaging,
    NeededActions,
    StagedSource,
    StagingPlan,
    plan_staging,
)
from seamwatch.udfs.absence import settle_at_end
from seamwatch.udfs.geo import check_databases
from seamwatch.udfs.hotrow import EVENT_ROW
from seamwatch.udfs.identity import IdentityGraph, load_identity_file
from seamwatch.udfs.ocsf import finding_json
from seamwatch.udfs.sqlfields import SOURCE_FIELDS


@dataclass
class Counts:
    """What the job counted, from the rows it emitted (nothing here is a difference)."""

    on_time: int = 0  # events a rule or the baseline needs, on time: matched against rules
    not_needed: int = 0  # events no rule and no baseline needs (on time or late)
    late: int = 0  # events a rule needs, behind their source's watermark: not matched
    dead_lettered: int = 0
    last_event_time: int | None = None  # the latest event time among on-time events

    @property
    def normalized(self) -> int:
        return self.on_time + self.not_needed + self.late

    def add_window(self, row: dict[str, Any]) -> None:
        """One on-time count row of the job (:func:`seamwatch.jobs.pipeline.counts_sql`)."""
        if row["kind"] == EVENT_ROW:
            self.on_time += int(row["events"])
        else:
            self.not_needed += int(row["events"])
        last = row["last_event_time"]
        if last is not None and (self.last_event_time is None or last > self.last_event_time):
            self.last_event_time = int(last)

    def add_late(self, row: dict[str, Any]) -> None:
        if row["needed"]:
            self.late += 1
        else:
            self.not_needed += 1


@dataclass
class RunResult:
    """What one run produced."""

    alerts: list[dict[str, Any]]
    dead_letters: list[dict[str, Any]]
    staged: list[StagedSource]
    rules: list[Rule]
    output: Path
    dead_letter_path: Path
    seconds: float = 0.0  # the whole run: staging (beside Flink's start), the job, the output
    # The job's own part: Flink's start, planning and the run, less any wait for staging.
    job_seconds: float = 0.0
    late_events: list[dict[str, Any]] = field(default_factory=list)  # needed events only
    pending: list[dict[str, Any]] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)
    late_path: Path | None = None
    pending_path: Path | None = None
    # Stopped before the end of its input (Ctrl-C): what the job had emitted is written, the
    # rest was never read.
    interrupted: bool = False
    # Loaded rules not run, by id: the sources of a present step they miss in the inputs
    # (seamwatch.rules.runnable).
    idle_rules: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def records_in(self) -> int:
        """Records read: staged for the job plus dead-lettered while staging."""
        return sum(s.records_read for s in self.staged)

    @property
    def empty_containers(self) -> int:
        return sum(s.empty_containers for s in self.staged)


class RunListener:
    """Told what a run does while it runs; every method does nothing here. A command line
    subclasses it to show progress (``seamwatch run``, ``seamwatch rules test``)."""

    def staged(self, source: StagedSource) -> None:
        """One source's files are staged for the job."""

    def job_started(self) -> None:
        """The job is submitted to the mini-cluster and its results are being collected."""

    def counted(self, counts: Counts) -> None:
        """The job's counts grew (events counted, dead letters)."""

    def alert_found(self, alert: dict[str, Any]) -> None:
        """An alert, the first time the job emits its id (a re-emit with a raised match count
        replaces it in the output, and is not told again)."""


def load_inputs(settings: CommonSettings) -> tuple[list[Rule], IdentityGraph]:
    """Rules and identity graph, validated before anything starts (all or nothing)."""
    rules = load_rules(settings.rules_dir)
    return rules, load_identities(settings)


def load_identities(settings: CommonSettings) -> IdentityGraph:
    """The identity graph of ``settings.identities`` (empty without a file)."""
    return load_identity_file(settings.identities) if settings.identities else IdentityGraph()


def needed_actions(rules: list[Rule]) -> dict[str, NeededActions]:
    """Per source whose fields the job reads in SQL, the actions ``rules`` (and the baseline)
    may need: staging writes the others as brief lines (:class:`NeededActions`)."""
    relevance = Relevance(rules)
    needed = {}
    for source in SOURCE_FIELDS:
        actions = NeededActions.of(relevance.actions(source))
        if actions is not None:
            needed[source] = actions
    return needed


def run_files(settings: JobSettings, listener: RunListener | None = None) -> RunResult:
    """Run the job over files and collect the results (blocks until the input is consumed).

    Ctrl-C (``KeyboardInterrupt``) while the job runs cancels it and writes what it had
    emitted (``RunResult.interrupted``); while staging, nothing is written and it propagates.
    """
    listener = listener or RunListener()
    rules, graph = load_inputs(settings)
    check_databases(settings.geo)
    # Rules a present step of which no input can fill are not run (nor wanted in staging).
    runnable, idle = split_runnable(rules, settings.inputs)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="seamwatch-stage-") as tmp:
        # The sources are staged in processes of their own while Flink starts and the job is
        # planned here; the job runs once they are all staged (its file sources list their
        # files when they start).
        plan = plan_staging(settings.inputs, Path(tmp))
        needed = needed_actions(runnable)
        with BackgroundStaging(
            plan, settings.parallelism, settings.future_bounds, needed=needed
        ) as staging:
            out = _execute(settings, plan, staging, runnable, graph, listener)
        staged = out.staged
        seconds = time.monotonic() - started
    settled, pending = settle_at_end(out.decided_at_end, out.counts.last_event_time)
    # Dead letters staging decided (damaged files, times too far ahead, ...) come first.
    rejected = [d for s in staged for d in s.rejected]
    out.counts.dead_lettered += len(rejected)
    dead = rejected + out.dead
    unique = {a["alert_id"]: a for a in [*out.alerts, *settled]}
    ordered = sorted(unique.values(), key=lambda a: (a["first_event_time"], a["alert_id"]))
    settings.output.parent.mkdir(parents=True, exist_ok=True)
    if settings.alert_format == "ocsf":
        settings.output.write_bytes(
            b"".join(finding_json(orjson.dumps(a).decode()).encode() + b"\n" for a in ordered)
        )
    else:
        _write_jsonl(settings.output, ordered)
    _write_jsonl(settings.dead_letter_path, dead)
    late = sorted(out.late, key=lambda e: (e["event_time"], e["raw_ref"]))
    _write_jsonl(settings.late_events_path, late)
    _write_jsonl(settings.pending_path, pending)
    return RunResult(
        alerts=ordered,
        dead_letters=dead,
        staged=staged,
        rules=rules,
        output=settings.output,
        dead_letter_path=settings.dead_letter_path,
        seconds=seconds,
        job_seconds=seconds - out.staging_wait,
        late_events=late,
        pending=pending,
        counts=out.counts,
        late_path=settings.late_events_path,
        pending_path=settings.pending_path,
        interrupted=out.interrupted,
        idle_rules=idle,
    )


@dataclass
class _Collected:
    alerts: list[dict[str, Any]] = field(default_factory=list)
    dead: list[dict[str, Any]] = field(default_factory=list)
    late: list[dict[str, Any]] = field(default_factory=list)  # events a rule needs
    decided_at_end: list[dict[str, Any]] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)
    interrupted: bool = False
    staged: list[StagedSource] = field(default_factory=list)
    staging_wait: float = 0.0  # seconds the planned job waited for staging to finish


def _execute(
    settings: JobSettings,
    plan: StagingPlan,
    staging: BackgroundStaging,
    rules: list[Rule],
    graph: IdentityGraph,
    listener: RunListener,
) -> _Collected:
    _env, t_env = create_environments(settings.parallelism, settings.python_mode)
    # Deferred: PyFlink (pipeline imports it at its top) only once create_environments has
    # prepared the process, and never for the CLI's other commands.
    from pyflink.common import Types

    from seamwatch.jobs.pipeline import attach_staged, build_pipeline

    clock = settings.future_bounds.clock_seconds
    tables = attach_staged(t_env, plan.placeholders(), settings.watermark_seconds, clock)
    outputs = build_pipeline(t_env, tables, graph, rules, settings, counts=True)
    assert outputs.counts is not None
    # One collect for all outputs: dead letters, late events and counts are tagged with a
    # leading letter; alerts and the absence decisions the end forced (a "closes_at" key) are
    # bare JSON objects. (A second Python map behind the alert assembly would be fused into it
    # by PyFlink's operator chaining and clash with its uid.)
    collected = outputs.alerts.union(
        outputs.pending,
        outputs.dead_letters.map(lambda text: "D" + text, output_type=Types.STRING()),
        outputs.late_events.map(lambda text: "L" + text, output_type=Types.STRING()),
        outputs.counts.map(lambda text: "N" + text, output_type=Types.STRING()),
    )
    waited = time.monotonic()
    out = _Collected(staged=staging.result(listener.staged))
    out.staging_wait = time.monotonic() - waited
    told: set[str] = set()
    root = logging.getLogger()
    root.addFilter(_drop_interrupt)
    try:
        # Leaving the block closes the result iterator, which cancels a job still running.
        with collected.execute_and_collect("seamwatch") as results:
            listener.job_started()
            for text in results:
                _collect(text, out, told, listener)
    except KeyboardInterrupt:
        out.interrupted = True
    finally:
        root.removeFilter(_drop_interrupt)
    return out


def _drop_interrupt(record: logging.LogRecord) -> bool:
    """Keeps py4j's traceback of a Ctrl-C that arrived while it waited for the JVM (logged on
    the root logger) off the terminal: the run reports the interruption itself."""
    return not (record.exc_info and record.exc_info[0] is KeyboardInterrupt)


def _collect(text: str, out: _Collected, told: set[str], listener: RunListener) -> None:
    """One collected row into ``out``, by its tag (see :func:`_execute`)."""
    tag = text[:1]
    if tag == "D":
        out.dead.append(orjson.loads(text[1:]))
        out.counts.dead_lettered += 1
        listener.counted(out.counts)
    elif tag == "L":
        late = orjson.loads(text[1:])
        out.counts.add_late(late)
        if late["needed"]:
            out.late.append(late)
        listener.counted(out.counts)
    elif tag == "N":
        out.counts.add_window(orjson.loads(text[1:]))
        listener.counted(out.counts)
    else:
        item = orjson.loads(text)
        if "closes_at" in item:
            out.decided_at_end.append(item)
        else:
            out.alerts.append(item)
            if item["alert_id"] not in told:
                told.add(item["alert_id"])
                listener.alert_found(item)


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    with path.open("wb") as out:
        for record in records:
            out.write(orjson.dumps(record) + b"\n")
