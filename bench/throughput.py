"""End-to-end throughput of the Seamwatch job against the floor of its runtime.

Generates N realistic records (CloudTrail 1-3 KB, Okta 2-4 KB; benign background with the field
attack woven in), then in the same run measures:

- floor: a Flink SQL job that only reads the same files as JSON into a blackhole sink;
- seamwatch: the full job over the same files (staging, normalize, resolve, baseline, every
  loaded rule, alert assembly), with the alerts it found against the attacks injected;
- with ``--every-rule``, the same job again with empty Entra ID and Windows inputs beside
  the corpus, so that every rule of the catalog runs (on the corpus alone, the rules that need
  Entra ID or Windows events cannot match and are not run: ``seamwatch.rules.runnable``);
- with ``--single-rule``, the same job again with only the field rule loaded, so the cost of
  the whole catalog can be read against it;
- with ``--cluster``, the job on the wheel's standalone cluster with two task managers of one
  slot each (each with its own Python interpreter), replaying the staged corpus at parallelism
  1 and then 2 (``seamwatch.jobs.cluster replay``), so scale-out can be read off;
- with ``--stages``, the job cut after each stage of its data path into a blackhole (staging;
  reading the fields in SQL; + the Python step; + the link hops; + the baseline flags; the
  whole job), each stage added in turn, so the next bottleneck is visible.

Prints the rates and their ratios. Usage::

    python bench/throughput.py [--events 1000000] [--attacks 20] [--rules DIR]
                               [--parallelism 1] [--every-rule] [--single-rule] [--stages]
                               [--cluster]
                               [--python-mode thread|process]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from seamwatch.jobs.local import RunResult, load_inputs, needed_actions, run_files
from seamwatch.jobs.pipeline import attach_staged, create_event_views
from seamwatch.jobs.runtime import create_environments
from seamwatch.jobs.settings import (
    DEFAULT_RULES_DIR,
    PYTHON_MODES,
    REPO_ROOT,
    JobSettings,
    PythonMode,
)
from seamwatch.rules.runnable import split_runnable
from seamwatch.sample.stream import BenchCorpus, write_bench_corpus
from seamwatch.sources.staging import (
    RAW_KEY,
    REF_KEY,
    StagedSource,
    field_column,
    stage_inputs,
)
from seamwatch.udfs.hotrow import OUTPUT_FIELDS
from seamwatch.udfs.records import EVENT_FIELDS
from seamwatch.udfs.sqlfields import SOURCE_FIELDS

OUT_DIR = REPO_ROOT / "bench" / "out"
FIELD_RULE_FILE = "okta_new_country_saml_access_key.yaml"


def floor_seconds(paths: list[Path], parallelism: int) -> float:
    """Seconds for Flink SQL to read ``paths`` as JSON lines into a blackhole."""
    _, t_env = create_environments(parallelism)
    for i, path in enumerate(paths):
        t_env.execute_sql(
            f"CREATE TEMPORARY TABLE floor_src_{i} (eventType STRING, eventName STRING, "
            f"published STRING, eventTime STRING) WITH ('connector' = 'filesystem', "
            f"'path' = '{path}', 'format' = 'json', 'json.ignore-parse-errors' = 'true')"
        )
    t_env.execute_sql(
        "CREATE TEMPORARY TABLE floor_sink (a STRING, b STRING, c STRING, d STRING) "
        "WITH ('connector' = 'blackhole')"
    )
    union = " UNION ALL ".join(f"SELECT * FROM floor_src_{i}" for i in range(len(paths)))
    started = time.monotonic()
    t_env.execute_sql(f"INSERT INTO floor_sink {union}").wait()
    return time.monotonic() - started


STAGES = (
    "read the fields (SQL)",
    "+ normalize and resolve (Python)",
    "+ link hops (SQL)",
    "+ baseline flags (SQL), second hop",
)


def _blackhole(t_env: object, name: str, columns: list[tuple[str, str]]) -> None:
    declared = ", ".join(f"`{column}` {sql_type}" for column, sql_type in columns)
    t_env.execute_sql(  # type: ignore[attr-defined]
        f"CREATE TEMPORARY TABLE {name} ({declared}) WITH ('connector' = 'blackhole')"
    ).wait()


def _stage_seconds(
    stage: int, settings: JobSettings, staged: list[StagedSource], parallelism: int
) -> float:
    """Seconds for the job cut after ``stage`` (an index of STAGES) into a blackhole."""
    rules, graph = load_inputs(settings)
    rules, _ = split_runnable(rules, settings.inputs)  # as the job runs them
    _, t_env = create_environments(parallelism, settings.python_mode)
    tables = attach_staged(t_env, staged, settings.watermark_seconds)
    statements = t_env.create_statement_set()
    if stage == 0:
        for source, table in tables.items():
            fields = SOURCE_FIELDS[source]
            columns = [(REF_KEY, "STRING"), (RAW_KEY, "STRING")]
            columns += [(field_column(i), f.column_type) for i, f in enumerate(fields)]
            _blackhole(t_env, f"bh_{source}", columns)
            names = ", ".join(f"`{column}`" for column, _ in columns)
            statements.add_insert_sql(f"INSERT INTO bh_{source} SELECT {names} FROM {table.name}")
    else:
        views = create_event_views(t_env, tables, graph, rules, settings.baseline)
        view, columns = {
            1: (views.normalized, list(OUTPUT_FIELDS)),
            2: (views.linked, list(OUTPUT_FIELDS)),
            3: (views.events, list(EVENT_FIELDS)),
        }[stage]
        _blackhole(t_env, "bh_stage", columns)
        names = ", ".join(f"`{column}`" for column, _ in columns)
        statements.add_insert_sql(f"INSERT INTO bh_stage SELECT {names} FROM {view}")
    started = time.monotonic()
    statements.execute().wait()
    return time.monotonic() - started


def stage_table(
    corpus: BenchCorpus, rules: Path, parallelism: int, python_mode: PythonMode
) -> None:
    """Print the per-stage table: each stage of the data path added in turn."""
    settings = corpus_settings(corpus, rules, parallelism, Path(tempfile.gettempdir()), python_mode)
    with tempfile.TemporaryDirectory(prefix="seamwatch-bench-stage-") as tmp:
        # Staged as a run stages: records no rule needs as brief lines.
        needed = needed_actions(split_runnable(load_inputs(settings)[0], settings.inputs)[0])
        started = time.monotonic()
        staged = stage_inputs(settings.inputs, Path(tmp), needed=needed)
        staging = time.monotonic() - started
        rows = [("staging (client: expand, classify, write JSON lines)", staging)]
        for stage, name in enumerate(STAGES):
            rows.append((name, _stage_seconds(stage, settings, staged, parallelism)))
    result, _ = run_job(corpus, rules, parallelism, python_mode)
    rows.append(
        (f"+ {_rules_run(result)}, absence steps, alerts (the whole job)", result.job_seconds)
    )
    print("| stage (cumulative, job start included) | seconds | events/s |")
    print("| --- | --- | --- |")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.1f} | {corpus.records / seconds:,.0f} |", flush=True)


def _committed_lines(directory: Path) -> int:
    return sum(
        len(path.read_bytes().splitlines())
        for path in directory.rglob("*.jsonl")
        if not path.name.startswith(".")
    )


def print_state_sizes(cluster: Any, job_id: str, people: int) -> None:
    """The job's state as its largest completed checkpoint measured it, per operator chain."""
    history = cluster.rest(f"/jobs/{job_id}/checkpoints").get("history", [])
    done = [c for c in history if c.get("status") == "COMPLETED"]
    if not done:
        print("state: no completed checkpoint", flush=True)
        return
    largest = max(done, key=lambda c: c.get("state_size", 0))
    details = cluster.rest(f"/jobs/{job_id}/checkpoints/details/{largest['id']}")
    names = {v["id"]: v["name"] for v in cluster.rest(f"/jobs/{job_id}")["vertices"]}
    total = largest.get("state_size", 0)
    print(
        f"state at checkpoint {largest['id']} (the largest, heap backend): {total / 1e6:,.1f} MB, "
        f"{total / max(people, 1) / 1e3:,.1f} KB per person of the corpus ({people})",
        flush=True,
    )
    tasks = sorted(details["tasks"].items(), key=lambda kv: -kv[1].get("state_size", 0))
    for vertex, task in tasks[:6]:
        size = task.get("state_size", 0)
        print(f"  {size / 1e6:8.2f} MB  {names.get(vertex, vertex)[:110]}", flush=True)


def cluster_scale_out(
    corpus: BenchCorpus, rules: Path, python_mode: PythonMode = "thread"
) -> dict[int, float]:
    """Events/s of the replay job at parallelism 1 and 2 on 2 task managers x 1 slot."""
    from seamwatch.cli.deploy import build_code_archive

    sys.path.insert(0, str(REPO_ROOT))  # the test helper that starts the cluster
    from tests.flink_cluster import standalone_cluster

    rates: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="seamwatch-bench-cluster-") as tmp:
        root = Path(tmp)
        settings = corpus_settings(corpus, rules, 1, root)
        archive = build_code_archive(root / "seamwatch-job.zip")
        for parallelism in (1, 2):
            # One staged file per source reader (see stage_inputs).
            staged = stage_inputs(settings.inputs, root / f"staged-{parallelism}", parallelism)
            output = root / f"out-{parallelism}"
            with standalone_cluster(root / f"cluster-{parallelism}", taskmanagers=2, slots=1) as c:
                args = ["replay", "--rules", str(rules), "--parallelism", str(parallelism)]
                args += ["--python-mode", python_mode]
                args += ["--identities", str(corpus.identities_path), "--output", str(output)]
                args += ["--state-backend", "hashmap", "--checkpoint-interval", "10s"]
                # On a filesystem: the job manager's memory refuses checkpoints over 5 MB.
                args += ["--checkpoint-dir", (root / f"checkpoints-{parallelism}").as_uri()]
                for item in staged:
                    args += ["--staged", f"{item.source}={item.path}"]
                started = time.monotonic()
                c.flink(
                    "run",
                    "-pyclientexec",
                    sys.executable,
                    "-pyexec",
                    sys.executable,
                    "-pyfs",
                    str(archive),
                    "-pym",
                    "seamwatch.jobs.cluster",
                    *args,
                    timeout=3600,
                )
                wall = time.monotonic() - started
                (job,) = c.rest("/jobs/overview")["jobs"]
                seconds = job["duration"] / 1000
                if parallelism == 1:
                    print_state_sizes(c, job["jid"], corpus.people)
            records = sum(item.records for item in staged)
            rates[parallelism] = records / seconds
            print(
                f"cluster, parallelism {parallelism} (2 task managers x 1 slot): job "
                f"{seconds:.1f}s = {rates[parallelism]:,.0f} events/s (flink run {wall:.1f}s, "
                f"{job['state']}); alerts {_committed_lines(output / 'alerts')}",
                flush=True,
            )
    print(f"cluster scale-out: parallelism 2 = {rates[2] / rates[1]:.2f} x parallelism 1")
    return rates


def _rules_run(result: RunResult) -> str:
    """How many of the loaded rules the job ran: ``19 rules``, or ``10 of 19 rules``."""
    loaded = len(result.rules)
    if not result.idle_rules:
        return f"{loaded} rules"
    return f"{loaded - len(result.idle_rules)} of {loaded} rules"


def corpus_settings(
    corpus: BenchCorpus,
    rules: Path,
    parallelism: int,
    out_dir: Path,
    python_mode: PythonMode = JobSettings.python_mode,
    every_rule: bool = False,
) -> JobSettings:
    """The bench's job settings; ``every_rule`` adds empty Entra ID and Windows inputs (in
    ``out_dir``), so that no rule is left out for want of their events."""
    inputs = {"okta": [str(corpus.okta_path)], "cloudtrail": [str(corpus.cloudtrail_path)]}
    if every_rule:
        for source in ("entra", "windows"):
            empty = out_dir / f"empty-{source}.jsonl"
            empty.parent.mkdir(parents=True, exist_ok=True)
            empty.write_bytes(b"")
            inputs[source] = [str(empty)]
    return JobSettings(
        python_mode=python_mode,
        inputs=inputs,
        rules_dir=rules,
        identities=corpus.identities_path,
        output=out_dir / "alerts.jsonl",
        parallelism=parallelism,
    )


def run_job(
    corpus: BenchCorpus,
    rules: Path,
    parallelism: int,
    python_mode: PythonMode,
    every_rule: bool = False,
) -> tuple[RunResult, float]:
    """The full job over the corpus; the result and the seconds including staging."""
    with tempfile.TemporaryDirectory(prefix="seamwatch-bench-") as tmp:
        settings = corpus_settings(corpus, rules, parallelism, Path(tmp), python_mode, every_rule)
        started = time.monotonic()
        result = run_files(settings)
        return result, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--attacks", type=int, default=20)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--rules", type=Path, default=DEFAULT_RULES_DIR)
    parser.add_argument("--parallelism", type=int, default=1)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument(
        "--every-rule",
        action="store_true",
        help="also run with empty Entra ID and Windows inputs, so that every rule runs",
    )
    parser.add_argument(
        "--single-rule", action="store_true", help="also run with only the field rule loaded"
    )
    parser.add_argument(
        "--stages", action="store_true", help="print the per-stage table (see the docstring)"
    )
    parser.add_argument(
        "--cluster", action="store_true", help="also measure scale-out on a standalone cluster"
    )
    parser.add_argument(
        "--python-mode",
        choices=PYTHON_MODES,
        default=JobSettings.python_mode,
        help="where the job's Python functions run (default: a file run's own)",
    )
    parser.add_argument(
        "--cluster-python-mode",
        choices=PYTHON_MODES,
        default="thread",
        help="where the cluster job's Python step runs (default: the cluster entry point's)",
    )
    args = parser.parse_args(argv)

    corpus_dir = args.out / f"corpus-{args.events}-{args.attacks}-{args.seed}"
    started = time.monotonic()
    corpus = write_bench_corpus(corpus_dir, args.events, args.attacks, args.seed)
    generated = time.monotonic() - started
    paths = [corpus.okta_path, corpus.cloudtrail_path]
    total_bytes = sum(p.stat().st_size for p in paths)
    print(
        f"corpus: {corpus.records:,} records, {total_bytes / 1e6:,.0f} MB, "
        f"{args.attacks} attacks injected ({generated:.1f}s to generate)",
        flush=True,
    )

    floor = floor_seconds(paths, args.parallelism)
    floor_rate = corpus.records / floor
    print(
        f"floor (Flink SQL JSON -> blackhole): {floor:.1f}s, {floor_rate:,.0f} events/s", flush=True
    )

    if args.stages:
        stage_table(corpus, args.rules, args.parallelism, args.python_mode)
    if args.cluster:
        cluster_scale_out(corpus, args.rules, args.cluster_python_mode)
    results = {"catalog": run_job(corpus, args.rules, args.parallelism, args.python_mode)}
    if args.every_rule:
        results["every rule"] = run_job(
            corpus, args.rules, args.parallelism, args.python_mode, every_rule=True
        )
    if args.single_rule:
        with tempfile.TemporaryDirectory(prefix="seamwatch-bench-rule-") as tmp:
            single = Path(tmp)
            shutil.copy(args.rules / FIELD_RULE_FILE, single / FIELD_RULE_FILE)
            results["single"] = run_job(corpus, single, args.parallelism, args.python_mode)
    injected = {truth.entity for truth in corpus.attacks}
    for name, (result, total) in results.items():
        job_rate = result.records_in / result.job_seconds
        total_rate = result.records_in / total
        detected = {a["entity"]["id"] for a in result.alerts}
        print(
            f"seamwatch, {name} ({_rules_run(result)}, Python in {args.python_mode} mode): "
            f"job {result.job_seconds:.1f}s = "
            f"{job_rate:,.0f} events/s ({job_rate / floor_rate:.2f} of the floor); with "
            f"staging {total:.1f}s = {total_rate:,.0f} events/s ({total_rate / floor_rate:.2f}); "
            f"alerts {len(result.alerts)}, attacked entities found {len(detected & injected)} "
            f"of {len(injected)}; dead letters {len(result.dead_letters)}",
            flush=True,
        )
    result, total = results["catalog"]
    job_rate = result.records_in / result.job_seconds
    total_rate = result.records_in / total
    if "single" in results:
        single_result, _ = results["single"]
        single_rate = single_result.records_in / single_result.job_seconds
        print(f"catalog cost: {1 - job_rate / single_rate:.0%} of the single-rule throughput")
    print(
        json.dumps(
            {
                "events": result.records_in,
                "bytes": total_bytes,
                "rules": len(result.rules),
                "rules_run": len(result.rules) - len(result.idle_rules),
                "parallelism": args.parallelism,
                "python_mode": args.python_mode,
                "floor_events_per_s": round(floor_rate),
                "job_events_per_s": round(job_rate),
                "end_to_end_events_per_s": round(total_rate),
                "ratio_job": round(job_rate / floor_rate, 3),
                "ratio_end_to_end": round(total_rate / floor_rate, 3),
                "alerts": len(result.alerts),
                "attacks": args.attacks,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
