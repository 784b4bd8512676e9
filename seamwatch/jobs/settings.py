"""Job settings: one object the CLI, the tests and the benchmark fill in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args

from seamwatch.bundled import examples_dir, rules_dir
from seamwatch.rules.rulebook import parse_duration, parse_watermark
from seamwatch.sources.staging import check_source
from seamwatch.sources.timeguard import FutureBounds
from seamwatch.udfs.behaviour import BaselineConfig
from seamwatch.udfs.geo import BUNDLED, GeoDatabases

# The checkout's top (in an installed wheel, the site-packages directory): where make puts the
# job's jars (.jars/) and the deploy archive (build/).
REPO_ROOT = Path(__file__).resolve().parents[2]
# The bundled sample logs and rule catalog: the checkout's examples/ and rules/, or the
# installed wheel's package data (seamwatch.bundled).
EXAMPLES_DIR = examples_dir()
DEFAULT_RULES_DIR = rules_dir()

# Event-time watermark bound per source: how far behind the newest event seen an event may
# arrive and still be matched. CloudTrail reaches S3 5-15 minutes after the call and files are
# not in time order; the Okta System Log API is polled in order.
# Entra ID diagnostic-settings exports (Event Hub, storage) arrive minutes late, sign-in logs
# later than audit logs: 15 minutes like CloudTrail, three times Okta's (raise it with
# --watermark entra=30m if yours lag more; the absence rules' windows must stay at least as
# long). Windows events shipped by Winlogbeat / NXLog arrive within seconds, but hosts'
# files interleave.
DEFAULT_WATERMARK_SECONDS: dict[str, int] = {
    "okta": 300,
    "cloudtrail": 900,
    "entra": 900,
    "windows": 300,
}

# How long a source (a Kafka partition) must be quiet before it stops holding back event time.
# Longer than the source's normal gap between deliveries: while one source is idle the others'
# watermark rules alone, and when it resumes, its records behind that watermark are late (and
# dropped by the matcher). CloudTrail arrives in bursts about every 5 minutes, minutes behind;
# the Okta System Log is a near real-time stream. Entra ID diagnostic settings deliver to Event
# Hub in batches minutes apart, like CloudTrail; Winlogbeat and NXLog ship each host's Security
# log within seconds, like Okta.
DEFAULT_IDLE_TIMEOUT_SECONDS: dict[str, int] = {
    "okta": 60,
    "cloudtrail": 900,
    "entra": 900,
    "windows": 60,
}
# The log topics a Kafka run reads unless told otherwise (--source). A topic the job reads but
# nobody feeds holds event time back for its idle timeout at every start, so Entra ID and
# Windows are read when asked for.
DEFAULT_KAFKA_SOURCES: tuple[str, ...] = ("okta", "cloudtrail")

# Baseline defaults for this job: one day of history before "new" flags, so a short log export
# (and the bundled four days of examples) already yields them. In production raise it
# (--learning-days 7 or more) to cut the first-week noise of people whose habits are unknown.
DEFAULT_LEARNING_DAYS = 1.0

# Where a job's Python functions run (seamwatch.jobs.runtime.create_environments).
PythonMode = Literal["thread", "process"]
PYTHON_MODES: tuple[PythonMode, ...] = get_args(PythonMode)


@dataclass(kw_only=True)
class CommonSettings:
    """What every entry point takes, under the same option names: ``seamwatch run`` (files or
    ``--kafka``), ``seamwatch submit``, the cluster program (``seamwatch.jobs.cluster``) and
    the Kubernetes manifests (docs/deploy.md; tests/test_option_names.py checks the names).
    Each entry point's settings extend it with their input and output. Paths are resolved by
    the caller."""

    rules_dir: Path = DEFAULT_RULES_DIR  # --rules
    identities: Path | None = None  # --identities
    parallelism: int = 1  # --parallelism
    # Where the Python functions run (seamwatch.jobs.runtime): "thread" (embedded in the
    # task's thread) or "process" (beside the JVM, fed in bundles). File runs override it.
    python_mode: PythonMode = "thread"
    # --watermark SOURCE=DURATION: how late a source's events may arrive and still match.
    watermark_seconds: dict[str, int] = field(
        default_factory=lambda: dict(DEFAULT_WATERMARK_SECONDS)
    )
    # --idle-timeout [SOURCE=]DURATION: how long a quiet source (a Kafka partition, a watched
    # directory) holds event time back.
    idle_timeout_seconds: dict[str, float] = field(
        default_factory=lambda: {k: float(v) for k, v in DEFAULT_IDLE_TIMEOUT_SECONDS.items()}
    )
    # --max-ahead-of-clock / --max-ahead-of-next: how far ahead (of the clock, of the records
    # after it) an event may be and still move a watermark; further ahead, it is dead-lettered
    # (seamwatch.sources.timeguard).
    future_bounds: FutureBounds = field(default_factory=FutureBounds)
    # --learning-days and the other baseline settings (docs/baselines.md).
    baseline: BaselineConfig = field(
        default_factory=lambda: BaselineConfig(learning_days=DEFAULT_LEARNING_DAYS)
    )
    geo: GeoDatabases = BUNDLED  # --geo-city / --geo-asn (MaxMind databases); bundled default

    def watermark_bound(self, source: str) -> int:
        """The source's watermark bound in seconds (its default if the settings omit it)."""
        return self.watermark_seconds.get(source, DEFAULT_WATERMARK_SECONDS[source])

    def idle_timeout(self, source: str) -> float:
        """Seconds a source may be quiet before event time moves on without it."""
        return self.idle_timeout_seconds.get(source, DEFAULT_IDLE_TIMEOUT_SECONDS[source])


@dataclass(kw_only=True)
class JobSettings(CommonSettings):
    """A run over log files on a local mini-cluster (``seamwatch run``)."""

    inputs: dict[str, list[str]]  # source -> list of path specs (file, directory or glob)
    output: Path = Path("seamwatch-out/alerts.jsonl")
    # A file run's Python functions run in process mode: the 1M-record bench's job took
    # 125.2 s against 179.8 s in thread mode, with the same alerts. Embedded, each call began
    # with the caches the JVM's work on the row before had evicted; beside the JVM, the
    # Python worker takes a bundle of rows at a time (docs/architecture.md, eleventh session).
    python_mode: PythonMode = "process"
    alert_format: Literal["json", "ocsf"] = "json"  # of the alert file (docs/alerts.md)

    @property
    def dead_letter_path(self) -> Path:
        """The dead-letter file, next to the alert output."""
        return self.output.with_name(self.output.stem + ".dead-letter.jsonl")

    @property
    def late_events_path(self) -> Path:
        """The late events a rule needed (behind their source's watermark), next to the
        alert output."""
        return self.output.with_name(self.output.stem + ".late-events.jsonl")

    @property
    def pending_path(self) -> Path:
        """Absence decisions still open when the bounded input ended, next to the alerts."""
        return self.output.with_name(self.output.stem + ".pending.jsonl")

    @classmethod
    def embedded_default(cls) -> JobSettings:
        """The bundled sample logs, identity file and rules (``seamwatch run`` with no flags)."""
        return cls(
            inputs={
                "okta": [str(EXAMPLES_DIR / "okta")],
                "cloudtrail": [str(EXAMPLES_DIR / "cloudtrail")],
                "entra": [str(EXAMPLES_DIR / "entra")],
                "windows": [str(EXAMPLES_DIR / "windows")],
            },
            identities=EXAMPLES_DIR / "identities.yaml",
        )


def watermarks_from(values: Iterable[str]) -> dict[str, int]:
    """``--watermark SOURCE=DURATION`` values over the defaults: the bound per source."""
    bounds = dict(DEFAULT_WATERMARK_SECONDS)
    for value in values:
        name, sep, duration = value.partition("=")
        if not sep or not name.strip() or not duration.strip():
            raise ValueError(f"--watermark {value!r}: write SOURCE=DURATION, e.g. cloudtrail=20m")
        bounds[check_source(name.strip())] = parse_watermark(duration)
    return bounds


def idle_timeouts_from(values: Iterable[str]) -> dict[str, float]:
    """``--idle-timeout [SOURCE=]DURATION`` values over the defaults: a bare ``DURATION`` is
    every source's (the last one given), ``SOURCE=DURATION`` one source's, whatever the
    order."""
    timeouts = {k: float(v) for k, v in DEFAULT_IDLE_TIMEOUT_SECONDS.items()}
    by_source: dict[str, float] = {}
    for value in values:
        name, sep, duration = value.partition("=")
        if sep:
            by_source[check_source(name.strip())] = float(parse_duration(duration))
        else:
            timeouts = dict.fromkeys(timeouts, float(parse_duration(value)))
    return timeouts | by_source


def common_fields(settings: CommonSettings) -> dict[str, Any]:
    """The :class:`CommonSettings` fields of ``settings``, to build another entry point's
    settings from them: ``KafkaSettings(**common_fields(common), bootstrap=...)``."""
    return {f.name: getattr(settings, f.name) for f in fields(CommonSettings)}
