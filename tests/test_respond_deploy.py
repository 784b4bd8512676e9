"""The response consumer's Deployment agrees with the job it follows, in every profile."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from seamwatch.cli.app import app
from seamwatch.jobs.settings import DEFAULT_RULES_DIR
from tests.test_deploy_manifests import PROFILES, _args, _deployment, _render


@pytest.fixture(scope="module", params=PROFILES)
def rendered(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return _render(str(request.param))


def _responder(docs: list[dict[str, Any]]) -> dict[str, Any]:
    [found] = [d for d in docs if d["kind"] == "Deployment"]
    assert found["metadata"]["name"] == "seamwatch-respond"
    return found


def test_the_responder_reads_the_jobs_alert_topic_in_its_format_dry_run(
    rendered: list[dict[str, Any]], tmp_path: Path
) -> None:
    job = _args(_deployment(rendered))
    container = _responder(rendered)["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["seamwatch", "respond"]
    args = dict(zip(container["args"][::2], container["args"][1::2], strict=True))
    assert args["--kafka"] == job["--kafka"][0]
    assert args["--format"] == job.get("--alert-format", ["avro"])[0]
    assert "live" not in container["args"]  # dry-run until a deployment says otherwise
    assert args["--rules"] == "/opt/seamwatch/config/rules"
    # The command line is accepted as written (here with the repository's rules and a local
    # log, stopping at once instead of consuming).
    local = {**args, "--rules": str(DEFAULT_RULES_DIR), "--log": str(tmp_path / "log.jsonl")}
    argv = ["respond", *itertools.chain(*local.items()), "--timeout", "0"]
    result = CliRunner().invoke(app, argv, env={"SEAMWATCH_WEBHOOK_SECRET_FILE": "/none"})
    assert result.exit_code == 0, result.output
    assert f"responding (dry-run) to seamwatch.alerts on {args['--kafka']}" in result.output


def test_the_responder_takes_rules_and_credentials_from_the_cluster(
    rendered: list[dict[str, Any]],
) -> None:
    pod = _responder(rendered)["spec"]["template"]["spec"]
    maps = {d["metadata"]["name"] for d in rendered if d["kind"] == "ConfigMap"}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["rules"]["configMap"]["name"] in maps
    assert volumes["respond"]["secret"] == {"secretName": "seamwatch-respond", "optional": True}
    container = pod["containers"][0]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    env = {e["name"]: e.get("value") for e in container["env"]}
    for name in ("SEAMWATCH_WEBHOOK_SECRET_FILE", "SEAMWATCH_OKTA_TOKEN_FILE"):
        assert env[name].startswith(mounts["respond"] + "/")
    assert container["envFrom"][0]["secretRef"]["name"].startswith("seamwatch-kafka")
