"""Entry point on a Flink cluster: what ``flink run -py`` and the Operator's PythonDriver run.

Unlike ``seamwatch run`` (a local mini-cluster that reads its input once and collects the
alerts to the client), this program submits an unbounded job and returns; the job runs until
it is stopped, normally with a savepoint so that partial attack sequences survive an upgrade.

Two input modes:

``files``
    One directory per log source, watched for new JSON-lines files every
    ``--monitor-interval`` (the filesystem connector's ``source.monitor-interval``). Each line
    is one raw record; its pointer back (``raw_ref``) is the file's path relative to the watched
    directory (Flink's filesystem source gives no line number). Files whose names
    start with ``.`` or ``_`` are ignored until renamed, so write a file under such a name and
    rename it when complete. Alerts and dead letters are written as JSON-lines part files under
    ``--output``/``alerts`` and ``--output``/``dead-letters``; a part file becomes visible
    (loses its leading ``.`` and ``.inprogress``) when the checkpoint after it completes.
``replay``
    Files staged by :func:`seamwatch.sources.staging.stage_inputs` (one per source, on storage
    the cluster reads), read once by their fields: a bounded job over historical logs, which
    ends when its input does. Alerts and dead letters are written as in ``files`` mode.
``kafka``
    Delegates to :func:`seamwatch.jobs.kafka_job.build_kafka_job` (Kafka sources and sinks).

The tuning options carry the same names everywhere (this program, ``seamwatch submit``, the
Kubernetes manifests and docs/deploy.md): ``--parallelism``, ``--checkpoint-interval``,
``--state-backend``, ``--checkpoint-dir``, ``--watermark SOURCE=DURATION``, ``--idle-timeout
[SOURCE=]DURATION`` and, in Kafka mode, ``--source SOURCE`` (the log topics read).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from seamwatch.jobs.javaudf import register_watermark_time
from seamwatch.jobs.kafka_job import KafkaSettings, build_kafka_job
from seamwatch.jobs.local import load_inputs
from seamwatch.jobs.runtime import create_environments
from seamwatch.jobs.settings import (
    DEFAULT_KAFKA_SOURCES,
    DEFAULT_LEARNING_DAYS,
    DEFAULT_RULES_DIR,
    PYTHON_MODES,
    CommonSettings,
    common_fields,
    idle_timeouts_from,
    watermarks_from,
)
from seamwatch.kafka.config import load_client_properties
from seamwatch.rules.rulebook import parse_duration
from seamwatch.sources.staging import StagedSource, check_source, payload_time_sql
from seamwatch.sources.timeguard import FutureBounds
from seamwatch.sqltext import sql_interval, sql_literal
from seamwatch.udfs.behaviour import BaselineConfig
from seamwatch.udfs.geo import GeoDatabases
from seamwatch.udfs.ocsf import finding_json

RESTART_STRATEGY = {
    "restart-strategy.type": "exponential-delay",
    "restart-strategy.exponential-delay.initial-backoff": "1 s",
    "restart-strategy.exponential-delay.max-backoff": "30 s",
    "restart-strategy.exponential-delay.backoff-multiplier": "1.5",
}
StateBackend = Literal["hashmap", "rocksdb"]
STATE_BACKENDS: tuple[StateBackend, ...] = ("hashmap", "rocksdb")
JOB_NAME = "seamwatch"


@dataclass(kw_only=True)
class ClusterSettings(CommonSettings):
    """A run on a Flink cluster: the common settings and how the job keeps its state."""

    checkpoint_interval_seconds: int = 60
    state_backend: StateBackend = "rocksdb"
    checkpoint_dir: str | None = None

    def flink_configuration(self) -> dict[str, str]:
        """Flink configuration keys for checkpointing and state (set before the job is built)."""
        conf = {
            "execution.checkpointing.interval": f"{self.checkpoint_interval_seconds}s",
            "execution.checkpointing.mode": "EXACTLY_ONCE",
            "state.backend.type": self.state_backend,
            # A partial sequence must survive a cancel as well as a stop-with-savepoint.
            "execution.checkpointing.externalized-checkpoint-retention": ("RETAIN_ON_CANCELLATION"),
            # A source that is quiet (no new files, an idle partition) must not hold back
            # event time for the others.
            "table.exec.source.idle-timeout": f"{max(self.idle_timeout_seconds.values()):g}s",
            # The job's own recovery, whatever the cluster's default: a lost task manager or a
            # broker outage of any length ends in a restart from the last checkpoint (retried
            # without limit, at most 30 s apart), never in a failed job.
            **RESTART_STRATEGY,
        }
        if self.state_backend == "rocksdb":
            conf["execution.checkpointing.incremental"] = "true"
        if self.checkpoint_dir:
            conf["execution.checkpointing.dir"] = self.checkpoint_dir
        return conf


@dataclass
class FileModeSettings:
    """``files`` mode: watched input directories and an output directory."""

    inputs: dict[str, Path]
    output: Path
    monitor_interval_seconds: int = 5
    alert_format: str = "json"  # or "ocsf": the alert part files hold findings


def watched_table_ddl(
    table: str, source: str, directory: str, watermark_seconds: int, monitor_seconds: int
) -> str:
    """A continuously monitored filesystem table of raw JSON lines, watermarked by payload time."""
    path = directory.replace("'", "''")
    return (
        f"CREATE TEMPORARY TABLE {table} (\n"
        "  line STRING,\n"
        "  file_path STRING NOT NULL METADATA FROM 'file.path' VIRTUAL,\n"
        f"  ts AS {payload_time_sql(check_source(source), 'line', None)},\n"
        f"  WATERMARK FOR ts AS ts - {sql_interval(watermark_seconds)}\n"
        ") WITH (\n"
        "  'connector' = 'filesystem',\n"
        f"  'path' = '{path}',\n"
        "  'format' = 'raw',\n"
        f"  'source.monitor-interval' = '{monitor_seconds}s'\n"
        ")"
    )


def _row_file_sink(directory: Path, prefix: str) -> Any:
    """JSON lines under ``directory``; each checkpoint closes the part files it covers."""
    # pyflink here and below: deferred so that the CLI, which imports this module, starts
    # without loading PyFlink.
    from pyflink.common.serialization import Encoder
    from pyflink.datastream.connectors.file_system import (
        BucketAssigner,
        FileSink,
        OutputFileConfig,
        RollingPolicy,
    )

    return (
        FileSink.for_row_format(str(directory), Encoder.simple_string_encoder())
        .with_bucket_assigner(BucketAssigner.base_path_bucket_assigner())
        .with_rolling_policy(RollingPolicy.on_checkpoint_rolling_policy())
        .with_output_file_config(
            OutputFileConfig.builder().with_part_prefix(prefix).with_part_suffix(".jsonl").build()
        )
        .build()
    )


def _alert_texts(alerts: Any, alert_format: str) -> Any:
    """The alert stream as the alert files hold it: the alert JSON, or its OCSF finding."""
    if alert_format != "ocsf":
        return alerts
    from pyflink.common import Types

    return alerts.map(finding_json, output_type=Types.STRING()).name("alerts as OCSF findings")


def watched_ref_sql(directory: str) -> str:
    """SQL for a watched file's ``raw_ref``: its path relative to the watched directory (the
    input root; Flink's ``file.path`` may carry a scheme such as ``file:``), else the path."""
    prefix = sql_literal(directory.rstrip("/") + "/")
    at = f"POSITION({prefix} IN file_path)"
    length = len(directory.rstrip("/")) + 1
    return f"CASE WHEN {at} > 0 THEN SUBSTRING(file_path FROM {at} + {length}) ELSE file_path END"


def _sink_to_files(outputs: Any, output: Path, alert_format: str) -> None:
    """Alerts, dead letters and the late events a rule needs as part files under ``output``
    (``alerts/``, ``dead-letters/``, ``late-events/``), the same operator ids in both modes."""
    # pipeline imports PyFlink at its top: deferred, as above.
    from seamwatch.jobs.pipeline import needed_late_event

    _alert_texts(outputs.alerts, alert_format).sink_to(
        _row_file_sink(output / "alerts", "alerts")
    ).uid("sink-alerts-files").name("alerts -> files")
    outputs.dead_letters.sink_to(_row_file_sink(output / "dead-letters", "dead-letters")).uid(
        "sink-dead-letters-files"
    ).name("dead letters -> files")
    outputs.late_events.filter(needed_late_event).sink_to(
        _row_file_sink(output / "late-events", "late-events")
    ).uid("sink-late-events-files").name("late events -> files")


def build_file_job(
    env: Any, t_env: Any, settings: ClusterSettings, files: FileModeSettings
) -> None:
    """Attach watched directories and file sinks to the pipeline (the job is not started)."""
    # pipeline imports PyFlink at its top: deferred, as above.
    from seamwatch.jobs.pipeline import SourceTable, build_pipeline

    rules, graph = load_inputs(settings)
    register_watermark_time(t_env)
    tables: dict[str, SourceTable] = {}
    for source, directory in files.inputs.items():
        table = f"{source}_raw"
        t_env.execute_sql(
            watched_table_ddl(
                table,
                source,
                str(directory),
                settings.watermark_seconds[source],
                files.monitor_interval_seconds,
            )
        ).wait()
        tables[source] = SourceTable(
            table, fields=False, ref=watched_ref_sql(str(directory)), text="line"
        )
    outputs = build_pipeline(t_env, tables, graph, rules, settings)
    _sink_to_files(outputs, files.output, files.alert_format)


def build_replay_job(
    env: Any,
    t_env: Any,
    settings: ClusterSettings,
    staged: dict[str, Path],
    output: Path,
    alert_format: str = "json",
) -> None:
    """Attach staged files (read once, by their fields) and file sinks to the pipeline."""
    # pipeline imports PyFlink at its top: deferred, as above.
    from seamwatch.jobs.pipeline import attach_staged, build_pipeline

    rules, graph = load_inputs(settings)
    items = [StagedSource(source, path, records=0, files=1) for source, path in staged.items()]
    tables = attach_staged(t_env, items, settings.watermark_seconds)
    outputs = build_pipeline(t_env, tables, graph, rules, settings)
    _sink_to_files(outputs, output, alert_format)
    # A replay ends: the absence decisions only its end forced are written, not alerted
    # (seamwatch.jobs.operators.MatchesToAlerts.on_timer), each with the time it closes.
    outputs.pending.sink_to(_row_file_sink(output / "pending", "pending")).uid(
        "sink-pending-files"
    ).name("pending absence -> files")


def _duration_seconds(text: str) -> int:
    try:
        return parse_duration(text)
    except Exception as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _checked(parse: Callable[[list[str]], object]) -> Callable[[str], str]:
    """An argparse type: the text itself, once ``parse`` accepts it (its message if not)."""

    def check(text: str) -> str:
        try:
            parse([text])
        except Exception as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc
        return text

    return check


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(f"{text!r}: write SOURCE=VALUE")
    return name.strip(), value


def argument_parser() -> argparse.ArgumentParser:
    """The job's own arguments (after the ``flink run ... -py cluster.py`` options)."""
    parser = argparse.ArgumentParser(
        prog="seamwatch.jobs.cluster",
        description="Submit the Seamwatch job to a Flink cluster (runs until stopped).",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--rules", type=Path, default=DEFAULT_RULES_DIR)
    common.add_argument("--identities", type=Path, default=None)
    common.add_argument("--parallelism", type=int, default=1)
    common.add_argument("--checkpoint-interval", type=_duration_seconds, default=60)
    common.add_argument("--state-backend", choices=STATE_BACKENDS, default="rocksdb")
    common.add_argument(
        "--checkpoint-dir", default=None, help="durable URI, e.g. s3://bucket/seamwatch/cp"
    )
    common.add_argument(
        "--watermark",
        type=_checked(watermarks_from),
        action="append",
        default=[],
        help="SOURCE=DURATION watermark bound, e.g. cloudtrail=20m",
    )
    common.add_argument(
        "--max-ahead-of-clock",
        type=_duration_seconds,
        default=FutureBounds().clock_seconds,
        help="an event time further ahead of the task manager's clock is dead-lettered "
        "(default 5m)",
    )
    common.add_argument(
        "--learning-days",
        type=float,
        default=DEFAULT_LEARNING_DAYS,
        help="days of history before the baseline flags anything as new (default 1)",
    )
    common.add_argument(
        "--geo-city",
        default=None,
        help="MaxMind City database (.mmdb) on the task managers (default: the bundled one)",
    )
    common.add_argument(
        "--geo-asn",
        default=None,
        help="MaxMind ASN database (.mmdb) on the task managers (default: the bundled one)",
    )
    common.add_argument(
        "--python-mode",
        choices=PYTHON_MODES,
        default="thread",
        help="where the Python step runs: in each task's thread (default) or in a Python "
        "process beside each task manager, fed in bundles",
    )
    common.add_argument(
        "--idle-timeout",
        type=_checked(idle_timeouts_from),
        action="append",
        default=[],
        help="[SOURCE=]DURATION a quiet source stops holding back event time after, e.g. "
        "entra=20m; without SOURCE= for every source (default: okta 1m, cloudtrail 15m, "
        "entra 15m, windows 1m)",
    )
    modes = parser.add_subparsers(dest="mode", required=True)
    files = modes.add_parser("files", parents=[common], help="watched directories of JSON lines")
    files.add_argument(
        "--input", type=_pair, action="append", required=True, help="SOURCE=DIRECTORY"
    )
    files.add_argument("--output", type=Path, required=True, help="directory for part files")
    files.add_argument("--monitor-interval", type=_duration_seconds, default=5)
    files.add_argument("--alert-format", choices=("json", "ocsf"), default="json")
    replay = modes.add_parser(
        "replay", parents=[common], help="staged files, read once (a bounded job)"
    )
    replay.add_argument(
        "--staged", type=_pair, action="append", required=True, help="SOURCE=STAGED_DIRECTORY"
    )
    replay.add_argument("--output", type=Path, required=True, help="directory for part files")
    replay.add_argument("--alert-format", choices=("json", "ocsf"), default="json")
    kafka = modes.add_parser(
        "kafka", parents=[common], help="Kafka topics (seamwatch.jobs.kafka_job)"
    )
    kafka.add_argument(
        "--kafka",
        "--bootstrap",  # its name before 0.1.0's options were aligned with the CLI's
        dest="bootstrap",
        required=True,
        help="Kafka bootstrap servers, HOST:PORT[,...]",
    )
    kafka.add_argument(
        "--source",
        action="append",
        default=[],
        help="a log topic to read: okta, cloudtrail, entra or windows; repeat (default: okta "
        "and cloudtrail). A topic read but not fed holds event time back for its idle timeout",
    )
    kafka.add_argument("--alert-format", choices=("avro", "json", "ocsf"), default="avro")
    kafka.add_argument(
        "--schema-registry",
        default=None,
        help="schema registry URL: Avro alerts in the Confluent wire format (docs/alerts.md)",
    )
    kafka.add_argument("--jars-dir", type=Path, default=None, help="directory of the job's jars")
    return parser


def settings_from_args(args: argparse.Namespace) -> ClusterSettings:
    if args.parallelism < 1:
        raise ValueError("--parallelism must be at least 1")
    if args.learning_days < 0:
        raise ValueError("--learning-days cannot be negative")
    return ClusterSettings(
        rules_dir=args.rules,
        identities=args.identities,
        parallelism=args.parallelism,
        checkpoint_interval_seconds=args.checkpoint_interval,
        state_backend=args.state_backend,
        checkpoint_dir=args.checkpoint_dir,
        watermark_seconds=watermarks_from(args.watermark),
        idle_timeout_seconds=idle_timeouts_from(args.idle_timeout),
        future_bounds=FutureBounds(clock_seconds=args.max_ahead_of_clock),
        baseline=BaselineConfig(learning_days=args.learning_days),
        geo=GeoDatabases(city=args.geo_city, asn=args.geo_asn),
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the arguments, build the job and submit it."""
    args = argument_parser().parse_args(argv)
    settings = settings_from_args(args)
    kafka_settings = _kafka_settings(args, settings) if args.mode == "kafka" else None
    conf = dict(kafka_settings.flink_configuration()) if kafka_settings is not None else {}
    # On a cluster, checkpoint storage is the cluster's (or --checkpoint-dir), never the local
    # default directory of a mini-cluster run.
    conf.pop("execution.checkpointing.storage", None)
    conf.pop("execution.checkpointing.dir", None)
    conf.update(settings.flink_configuration())
    env, t_env = create_environments(settings.parallelism, args.python_mode, conf)
    t_env.get_config().set(
        "table.exec.source.idle-timeout", f"{max(settings.idle_timeout_seconds.values()):g}s"
    )
    if kafka_settings is not None:
        build_kafka_job(env, t_env, kafka_settings)
    elif args.mode == "replay":
        staged = {check_source(s): Path(p) for s, p in args.staged}
        build_replay_job(env, t_env, settings, staged, args.output, args.alert_format)
    else:
        files = FileModeSettings(
            inputs={check_source(s): Path(d) for s, d in args.input},
            output=args.output,
            monitor_interval_seconds=args.monitor_interval,
            alert_format=args.alert_format,
        )
        build_file_job(env, t_env, settings, files)
    # Blocks in attached mode; returns at once under ``flink run --detached``; in application
    # mode the cluster runs the job until it is stopped.
    env.execute(JOB_NAME)


def _kafka_settings(args: argparse.Namespace, settings: ClusterSettings) -> KafkaSettings:
    """Kafka mode's settings (``seamwatch.jobs.kafka_job``).

    Client properties (credentials included) come from the environment as the Kafka job reads
    them (``SEAMWATCH_KAFKA_*``, or a properties file named by ``SEAMWATCH_KAFKA_PROPERTIES``);
    on Kubernetes a Secret provides them, and the schema registry's credentials likewise
    (``SEAMWATCH_SCHEMA_REGISTRY_*``, :mod:`seamwatch.kafka.schema_registry`). Checkpointing keys
    come from :class:`ClusterSettings`, which accepts any durable URI (``s3://``, ``gs://``,
    ``file://``).
    """
    extra: dict[str, Any] = {}
    if args.jars_dir is not None:
        extra["jars_dir"] = args.jars_dir
    return KafkaSettings(
        **common_fields(settings),
        bootstrap=args.bootstrap,
        properties=load_client_properties(),
        alert_format=args.alert_format,
        schema_registry=args.schema_registry,
        sources=tuple(check_source(s) for s in args.source) or DEFAULT_KAFKA_SOURCES,
        checkpoint_interval_ms=settings.checkpoint_interval_seconds * 1000,
        **extra,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
