"""One name per option across the entry points: ``seamwatch run``, ``seamwatch submit``, the
cluster program (``seamwatch.jobs.cluster``, what the manifests run) and docs/deploy.md."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import yaml
from typer.testing import CliRunner

from seamwatch.cli.app import app
from seamwatch.jobs.cluster import argument_parser

REPO = Path(__file__).resolve().parents[1]
# Options of the cluster program that `seamwatch submit` does not take, and why.
CLUSTER_ONLY = {
    "--staged": "replay mode reads directories submit staged itself (from --input)",
    "--monitor-interval": "how often files mode lists its directories; submit keeps the default",
    "--jars-dir": "the image's jar directory; submit ships jars by --jar (pipeline.jars)",
}
# Old spellings the cluster program still reads, so that earlier manifests keep working.
ALIASES = {"--bootstrap": "--kafka"}


def _cli_options(command: str) -> set[str]:
    text = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"}).output
    return set(re.findall(r"^\s+(?:-\w, )?(--[a-z][a-z-]*)", text, re.M))


def _cluster_options() -> set[str]:
    names: set[str] = set()
    parser = argument_parser()
    for action in parser._actions:  # the subcommands' own parsers
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                for option in sub._actions:
                    names.update(s for s in option.option_strings if s.startswith("--"))
    return names - {"--help"}


def test_the_cluster_program_and_submit_name_every_option_alike() -> None:
    cluster = _cluster_options() - set(ALIASES)
    submit = _cli_options("submit")
    assert cluster - set(CLUSTER_ONLY) <= submit, sorted(cluster - set(CLUSTER_ONLY) - submit)
    assert set(ALIASES.values()) <= cluster


def test_run_and_submit_share_the_names_of_what_both_take() -> None:
    run, submit = _cli_options("run"), _cli_options("submit")
    shared = {
        "--input",
        "--output",
        "--identities",
        "--rules",
        "--parallelism",
        "--watermark",
        "--idle-timeout",
        "--source",
        "--geo-city",
        "--geo-asn",
        "--kafka",
        "--alert-format",
        "--schema-registry",
    }
    assert shared <= run & submit, sorted(shared - (run & submit))


def test_the_manifests_and_the_deploy_guide_use_those_names() -> None:
    cluster = _cluster_options() - set(ALIASES)
    for path in sorted((REPO / "deploy" / "k8s").rglob("flinkdeployment.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            args = doc["spec"]["job"].get("args", []) if doc and "spec" in doc else []
            named = {a for a in args if a.startswith("--")}
            assert named <= cluster, (path.relative_to(REPO), sorted(named - cluster))
    guide = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    table = re.findall(r"^\| `(--[a-z-]+)", guide, re.M)
    assert table and set(table) <= _cli_options("submit") | cluster, table
