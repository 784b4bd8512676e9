"""``seamwatch submit``: run the job on a Flink session cluster with ``flink run``.

The command builds one ``flink run`` line and runs it (or only prints it with ``--dry-run``)::

    flink run --detached -pyclientexec PY -pyexec PY -pyfs seamwatch.zip \\
        [-s SAVEPOINT] [-Dpipeline.jars=...] -pym seamwatch.jobs.cluster MODE ARGS...

``-pyfs`` ships this package as a zip (``seamwatch/`` at its root): Flink puts a shipped zip
on ``PYTHONPATH`` as it is, while a shipped directory is added as the directory itself, which
would not make ``import seamwatch`` work. The Python executables must have ``apache-flink`` and
this package's dependencies installed on every node (in a venv, the task managers must also be
started with that venv's site-packages on ``PYTHONPATH``; see docs/deploy.md).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import typer

from seamwatch.jobs.cluster import STATE_BACKENDS
from seamwatch.jobs.settings import (
    DEFAULT_RULES_DIR,
    PYTHON_MODES,
    REPO_ROOT,
    idle_timeouts_from,
    watermarks_from,
)
from seamwatch.rules.rulebook import parse_duration
from seamwatch.sources.staging import check_source

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # seamwatch/
DEFAULT_ARCHIVE = REPO_ROOT / "build" / "seamwatch-job.zip"
# Fixed timestamp for archive members, so the same code gives the same zip.
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def flink_home() -> Path:
    """``$FLINK_HOME``, else the distribution inside the apache-flink wheel."""
    if os.environ.get("FLINK_HOME"):
        return Path(os.environ["FLINK_HOME"])
    # Deferred: PyFlink is loaded only when its wheel has to be found (no FLINK_HOME).
    import pyflink

    return Path(pyflink.__file__).resolve().parent


def build_code_archive(target: Path = DEFAULT_ARCHIVE) -> Path:
    """Zip this package (``seamwatch/...``, no caches) for ``-pyfs``; deterministic bytes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    files = sorted(
        p for p in PACKAGE_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )
    tmp = target.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            info = zipfile.ZipInfo(str(path.relative_to(PACKAGE_DIR.parent)), _ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
    tmp.replace(target)
    return target


@dataclass
class SubmitOptions:
    """Everything ``seamwatch submit`` puts on the ``flink run`` line."""

    mode: Literal["files", "kafka"] = "files"
    inputs: list[str] = field(default_factory=list)  # SOURCE=DIRECTORY (files mode)
    output: Path | None = None  # files mode
    bootstrap: str | None = None  # kafka mode
    alert_format: str | None = None  # files: json (default) or ocsf; kafka: avro (default)...
    schema_registry: str | None = None  # kafka mode: Avro alerts framed for this registry
    rules: Path = DEFAULT_RULES_DIR
    identities: Path | None = None
    parallelism: int = 1
    checkpoint_interval: str = "60s"
    state_backend: str = "rocksdb"
    checkpoint_dir: str | None = None
    watermarks: list[str] = field(default_factory=list)  # SOURCE=DURATION
    idle_timeouts: list[str] = field(default_factory=list)  # [SOURCE=]DURATION
    max_ahead_of_clock: str | None = None  # DURATION (the cluster's default: 5m)
    learning_days: float | None = None  # the cluster's default: 1
    python_mode: str | None = None  # thread or process (the cluster's default: thread)
    sources: list[str] = field(default_factory=list)  # kafka mode: the log topics read
    geo_city: Path | None = None  # MaxMind City database on the cluster's nodes
    geo_asn: Path | None = None  # MaxMind ASN database on the cluster's nodes
    from_savepoint: str | None = None
    # Resume although some of the savepoint's state maps to no operator of this job graph
    # (flink run --allowNonRestoredState): a release or rule catalog that changed the SQL graph.
    allow_non_restored_state: bool = False
    python: str = sys.executable  # on the cluster's nodes (-pyexec)
    client_python: str = sys.executable  # where flink run runs (-pyclientexec)
    jars: list[Path] = field(default_factory=list)
    archive: Path = DEFAULT_ARCHIVE
    flink: Path | None = None
    extra_flink_options: list[str] = field(default_factory=list)


def _absolute(path: Path) -> str:
    return str(path.expanduser().resolve())


def _absolute_pair(value: str) -> str:
    name, sep, rest = value.partition("=")
    if not sep or not name or not rest:
        raise ValueError(f"{value!r}: write SOURCE=DIRECTORY")
    return f"{name}={_absolute(Path(rest))}"


def job_arguments(options: SubmitOptions) -> list[str]:
    """The arguments of ``seamwatch.jobs.cluster`` (paths made absolute for the cluster)."""
    args = [options.mode, "--rules", _absolute(options.rules)]
    if options.identities is not None:
        args += ["--identities", _absolute(options.identities)]
    args += [
        "--parallelism",
        str(options.parallelism),
        "--checkpoint-interval",
        options.checkpoint_interval,
        "--state-backend",
        options.state_backend,
    ]
    if options.checkpoint_dir:
        args += ["--checkpoint-dir", options.checkpoint_dir]
    for value in options.watermarks:
        args += ["--watermark", value]
    for value in options.idle_timeouts:
        args += ["--idle-timeout", value]
    if options.max_ahead_of_clock is not None:
        args += ["--max-ahead-of-clock", options.max_ahead_of_clock]
    if options.learning_days is not None:
        args += ["--learning-days", f"{options.learning_days:g}"]
    if options.python_mode is not None:
        args += ["--python-mode", options.python_mode]
    if options.alert_format is not None:
        args += ["--alert-format", options.alert_format]
    if options.geo_city is not None:
        args += ["--geo-city", _absolute(options.geo_city)]
    if options.geo_asn is not None:
        args += ["--geo-asn", _absolute(options.geo_asn)]
    if options.mode == "files":
        if not options.inputs or options.output is None:
            raise ValueError("files mode needs --input SOURCE=DIRECTORY and --output DIRECTORY")
        for value in options.inputs:
            args += ["--input", _absolute_pair(value)]
        args += ["--output", _absolute(options.output)]
    else:
        if not options.bootstrap:
            raise ValueError("kafka mode needs --kafka HOST:PORT")
        args += ["--kafka", options.bootstrap]
        for source in options.sources:
            args += ["--source", source]
        if options.schema_registry:
            args += ["--schema-registry", options.schema_registry]
    return args


def flink_run_command(options: SubmitOptions) -> list[str]:
    """The exact ``flink run`` line (the archive must exist: see :func:`build_code_archive`)."""
    flink = options.flink or flink_home() / "bin" / "flink"
    command = [str(flink), "run", "--detached"]
    if options.from_savepoint:
        command += ["-s", options.from_savepoint]
        if options.allow_non_restored_state:
            command.append("--allowNonRestoredState")
    if options.jars:
        uris = ";".join(j.expanduser().resolve().as_uri() for j in options.jars)
        command.append(f"-Dpipeline.jars={uris}")
    command += options.extra_flink_options
    command += [
        "-pyclientexec",
        options.client_python,
        "-pyexec",
        options.python,
        "-pyfs",
        _absolute(options.archive),
        "-pym",
        "seamwatch.jobs.cluster",
    ]
    return command + job_arguments(options)


def register(app: typer.Typer) -> None:
    """Add ``submit`` to the ``seamwatch`` command line."""
    app.command("submit")(submit)


def submit(
    inputs: Annotated[
        list[str] | None,
        typer.Option("--input", "-i", help="files mode: SOURCE=DIRECTORY watched for new files."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="files mode: directory for alert and dead-letter files.")
    ] = None,
    kafka: Annotated[
        str | None, typer.Option(help="Kafka mode: bootstrap servers (instead of --input).")
    ] = None,
    identities: Annotated[Path | None, typer.Option(help="Identity graph YAML.")] = None,
    rules: Annotated[Path, typer.Option(help="Directory of rule YAML files.")] = DEFAULT_RULES_DIR,
    parallelism: Annotated[int, typer.Option(min=1, help="Flink parallelism.")] = 1,
    checkpoint_interval: Annotated[
        str, typer.Option(help="Checkpoint interval, e.g. 30s or 2m.")
    ] = "60s",
    state_backend: Annotated[
        str, typer.Option(help=f"State backend: {' or '.join(STATE_BACKENDS)}.")
    ] = "rocksdb",
    checkpoint_dir: Annotated[
        str | None, typer.Option(help="Durable checkpoint URI, e.g. s3://bucket/seamwatch/cp.")
    ] = None,
    watermark: Annotated[
        list[str] | None,
        typer.Option(help="SOURCE=DURATION watermark bound, e.g. cloudtrail=20m."),
    ] = None,
    idle_timeout: Annotated[
        list[str] | None,
        typer.Option(
            help="[SOURCE=]DURATION a quiet source stops holding back event time after, "
            "e.g. entra=20m."
        ),
    ] = None,
    kafka_sources: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            help="Kafka mode: a log topic to read (okta, cloudtrail, entra, windows); repeat. "
            "Default: okta and cloudtrail.",
        ),
    ] = None,
    max_ahead_of_clock: Annotated[
        str | None,
        typer.Option(
            help="An event time further ahead of the task managers' clock is dead-lettered "
            "(default 5m).",
        ),
    ] = None,
    learning_days: Annotated[
        float | None,
        typer.Option(
            min=0, help="Days of history before the baseline flags anything as new (default 1)."
        ),
    ] = None,
    python_mode: Annotated[
        str | None,
        typer.Option(
            help="Where the Python step runs: thread (in each task's thread, the default) or "
            "process (a Python process beside each task manager).",
        ),
    ] = None,
    geo_city: Annotated[
        Path | None,
        typer.Option("--geo-city", help="MaxMind City database (.mmdb) the cluster's nodes read."),
    ] = None,
    geo_asn: Annotated[
        Path | None,
        typer.Option("--geo-asn", help="MaxMind ASN database (.mmdb) the cluster's nodes read."),
    ] = None,
    from_savepoint: Annotated[
        str | None, typer.Option(help="Resume from this savepoint (flink run -s).")
    ] = None,
    allow_non_restored_state: Annotated[
        bool,
        typer.Option(
            help="With --from-savepoint: resume although some of its state maps to no operator"
            " of this job graph (a release or rule catalog that changed the SQL); that state"
            " is dropped (flink run --allowNonRestoredState)."
        ),
    ] = False,
    python: Annotated[
        str, typer.Option(help="Python executable on the cluster's nodes (-pyexec).")
    ] = sys.executable,
    jar: Annotated[
        list[Path] | None, typer.Option(help="Extra jar for the job (pipeline.jars); repeat.")
    ] = None,
    alert_format: Annotated[
        str | None,
        typer.Option(
            help="Alert encoding (docs/alerts.md): files mode json (default) or ocsf; "
            "Kafka mode avro (default), json or ocsf."
        ),
    ] = None,
    schema_registry: Annotated[
        str | None,
        typer.Option(
            help="Kafka mode: schema registry URL; Avro alerts in the Confluent wire format "
            "(docs/alerts.md; credentials from SEAMWATCH_SCHEMA_REGISTRY_* on the cluster)."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only print the flink run line.")
    ] = False,
) -> None:
    """Submit the job to a running Flink session cluster (flink run; see docs/deploy.md)."""
    allowed = ("avro", "json", "ocsf") if kafka else ("json", "ocsf")
    if alert_format is not None and alert_format not in allowed:
        raise typer.BadParameter(f"--alert-format {alert_format!r}: use {' or '.join(allowed)}")
    if schema_registry is not None and (not kafka or alert_format not in (None, "avro")):
        raise typer.BadParameter(
            "--schema-registry frames Avro alerts on Kafka: use it with --kafka and avro alerts"
        )
    if python_mode is not None and python_mode not in PYTHON_MODES:
        raise typer.BadParameter(f"--python-mode {python_mode!r}: use {' or '.join(PYTHON_MODES)}")
    if state_backend not in STATE_BACKENDS:
        raise typer.BadParameter(f"{state_backend!r}: use {' or '.join(STATE_BACKENDS)}")
    try:
        parse_duration(checkpoint_interval)
        # Refused here, not by the cluster's planner.
        watermarks_from(watermark or [])
        idle_timeouts_from(idle_timeout or [])
        if max_ahead_of_clock is not None:
            parse_duration(max_ahead_of_clock)
        if kafka_sources and not kafka:
            raise ValueError("--source chooses the Kafka topics read: use it with --kafka")
        for source in kafka_sources or []:
            check_source(source)
        options = SubmitOptions(
            mode="kafka" if kafka else "files",
            inputs=inputs or [],
            output=output,
            bootstrap=kafka,
            rules=rules,
            identities=identities,
            parallelism=parallelism,
            checkpoint_interval=checkpoint_interval,
            state_backend=state_backend,
            checkpoint_dir=checkpoint_dir,
            watermarks=watermark or [],
            idle_timeouts=idle_timeout or [],
            max_ahead_of_clock=max_ahead_of_clock,
            learning_days=learning_days,
            python_mode=python_mode,
            sources=kafka_sources or [],
            geo_city=geo_city,
            geo_asn=geo_asn,
            from_savepoint=from_savepoint,
            allow_non_restored_state=allow_non_restored_state,
            python=python,
            jars=jar or [],
            alert_format=alert_format,
            schema_registry=schema_registry,
        )
        command = flink_run_command(options)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(shlex.join(command))
    if dry_run:
        return
    build_code_archive(options.archive)
    result = subprocess.run(command, check=False)
    raise typer.Exit(result.returncode)
