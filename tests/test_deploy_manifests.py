"""The Kubernetes manifests and the image, checked without a cluster or a container engine.

Base and overlays are rendered with kustomize (``make tools`` builds it into ``.tools/bin``)
and every FlinkDeployment is validated against the Operator's CRD schema (``openAPIV3Schema``)
with ``jsonschema``. The CRDs come from the Operator's released API jar through Maven
(``make crds`` -> ``.crds/``); where that has not been fetched, the reference copy of release
1.15.0 in ``../shared/k8s-crds/`` is used, and the comparison between the two is skipped.
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
K8S = REPO / "deploy" / "k8s"
PROFILES = ["base", "overlays/dev", "overlays/prod"]
MAVEN_CRDS = REPO / ".crds" / "META-INF" / "fabric8"
SHARED_CRDS = REPO.parent / "shared" / "k8s-crds"
CRD_FILES = {
    "FlinkDeployment": "flinkdeployments.flink.apache.org-v1.yml",
    "FlinkSessionJob": "flinksessionjobs.flink.apache.org-v1.yml",
}


def _flink_pin() -> str:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = [d.split("==")[1] for d in deps if d.startswith("apache-flink==")]
    assert pins, "apache-flink must be pinned with == in pyproject.toml"
    return str(pins[0])


def _kustomize() -> Path:
    for candidate in (REPO / ".tools" / "bin" / "kustomize", shutil.which("kustomize")):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    pytest.skip("kustomize not found: run `make tools` (go install from the Go module proxy)")


def _render(profile: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [
            str(_kustomize()),
            "build",
            "--load-restrictor",
            "LoadRestrictionsNone",
            str(K8S / profile),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def _crd(kind: str) -> tuple[dict[str, Any], Path]:
    for directory in (MAVEN_CRDS, SHARED_CRDS):
        path = directory / CRD_FILES[kind]
        if path.is_file():
            return yaml.safe_load(path.read_text()), path
    pytest.skip(f"no CRD for {kind}: run `make crds` (or provide ../shared/k8s-crds/)")


def _schema(crd: dict[str, Any], api_version: str) -> dict[str, Any]:
    version = api_version.split("/")[1]
    for item in crd["spec"]["versions"]:
        if item["name"] == version:
            return dict(item["schema"]["openAPIV3Schema"])
    raise AssertionError(f"the CRD has no version {version}")


@pytest.fixture(scope="module", params=PROFILES)
def rendered(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return _render(str(request.param))


def _deployment(docs: list[dict[str, Any]]) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == "FlinkDeployment"]
    assert len(found) == 1
    return found[0]


def _args(deployment: dict[str, Any]) -> dict[str, list[str]]:
    """``--name value`` pairs of the job's arguments (repeated names keep every value)."""
    args = deployment["spec"]["job"]["args"]
    pairs: dict[str, list[str]] = {}
    for name, value in itertools.pairwise(args):
        if name.startswith("--"):
            pairs.setdefault(name, []).append(value)
    return pairs


def test_every_custom_resource_matches_the_operator_schema(rendered: list[dict[str, Any]]) -> None:
    checked = 0
    for doc in rendered:
        if doc["kind"] in CRD_FILES:
            crd, _ = _crd(doc["kind"])
            jsonschema.validate(doc, _schema(crd, doc["apiVersion"]))
            checked += 1
    assert checked >= 1


def test_the_schema_check_catches_a_wrong_field(rendered: list[dict[str, Any]]) -> None:
    deployment = _deployment(rendered)
    crd, _ = _crd("FlinkDeployment")
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["job"]["upgradeMode"] = "keep-going"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, _schema(crd, broken["apiVersion"]))


def test_application_mode_python_job_upgraded_through_savepoints(
    rendered: list[dict[str, Any]],
) -> None:
    spec = _deployment(rendered)["spec"]
    pin = _flink_pin()
    assert spec["flinkVersion"] == "v" + "_".join(pin.split(".")[:2])
    assert spec["image"].endswith(f":{pin}-java17")
    job = spec["job"]
    assert job["jarURI"] == f"local:///opt/flink/opt/flink-python-{pin}.jar"
    assert job["entryClass"] == "org.apache.flink.client.python.PythonDriver"
    assert job["upgradeMode"] == "savepoint"
    assert job["args"][job["args"].index("-pym") + 1] == "seamwatch.jobs.cluster"
    conf = spec["flinkConfiguration"]
    assert conf["state.backend.type"] == "rocksdb"
    assert conf["execution.checkpointing.incremental"] == "true"
    assert conf["high-availability.type"] == "kubernetes"
    for key in (
        "execution.checkpointing.dir",
        "execution.checkpointing.savepoint-dir",
        "high-availability.storageDir",
    ):
        assert re.match(r"^(s3|gs|abfss?|hdfs|file)://", conf[key]), (key, conf[key])


def test_tuning_names_agree_between_job_arguments_and_flink_configuration(
    rendered: list[dict[str, Any]],
) -> None:
    deployment = _deployment(rendered)
    spec, args = deployment["spec"], _args(deployment)
    assert args["--parallelism"] == [str(spec["job"]["parallelism"])]
    assert args["--state-backend"] == [spec["flinkConfiguration"]["state.backend.type"]]
    assert args["--checkpoint-interval"] == [
        spec["flinkConfiguration"]["execution.checkpointing.interval"]
    ]
    # Every log topic read has its own watermark bound and idle timeout.
    assert set(args["--source"]) == {"okta", "cloudtrail"}
    assert {w.split("=")[0] for w in args["--watermark"]} == set(args["--source"])
    assert {w.split("=")[0] for w in args["--idle-timeout"]} == set(args["--source"])
    # The job's own parser accepts these arguments (same names as `seamwatch submit`).
    from seamwatch.jobs.cluster import argument_parser

    job_args = spec["job"]["args"]
    parsed = argument_parser().parse_args(job_args[job_args.index("-pym") + 2 :])
    assert parsed.parallelism == spec["job"]["parallelism"]


def test_rules_and_identities_come_from_config_maps(rendered: list[dict[str, Any]]) -> None:
    maps = {d["metadata"]["name"]: d for d in rendered if d["kind"] == "ConfigMap"}
    rules_map = next(m for n, m in maps.items() if n.startswith("seamwatch-rules"))
    for rule in sorted((REPO / "rules").glob("*.yaml")):
        assert rules_map["data"].get(rule.name) == rule.read_text(), f"{rule.name} not shipped"
    assert any(n.startswith("seamwatch-identities") for n in maps)
    pod = _deployment(rendered)["spec"]["podTemplate"]["spec"]
    volumes = {v["name"]: v["configMap"]["name"] for v in pod["volumes"] if "configMap" in v}
    assert set(volumes.values()) <= set(maps)  # generated names (with hash) are referenced
    container = pod["containers"][0]
    assert container["envFrom"][0]["secretRef"]["name"].startswith("seamwatch-kafka")


def test_maven_crds_equal_the_reference_copy() -> None:
    if not MAVEN_CRDS.is_dir():
        pytest.skip("Operator CRDs not fetched: run `make crds` (deploy/crds/pom.xml)")
    if not SHARED_CRDS.is_dir():
        pytest.skip(f"no reference copy at {SHARED_CRDS}")
    for name in CRD_FILES.values():
        ours = yaml.safe_load((MAVEN_CRDS / name).read_text())
        reference = yaml.safe_load((SHARED_CRDS / name).read_text())
        assert ours["spec"] == reference["spec"], name


def test_dockerfile_builds_on_the_pinned_flink_with_the_project() -> None:
    text = (REPO / "deploy" / "Dockerfile").read_text()
    pin = _flink_pin()
    assert re.search(rf"^FROM flink:{re.escape(pin)}-java17$", text, re.M)
    assert f"flink-python-{pin}.jar" in text
    assert "COPY pyproject.toml" in text and "pip install" in text  # the pinned dependencies
    assert "COPY seamwatch/" in text and "COPY rules/" in text
    # `pip install .` installs the schemas only as package data (tests/test_job_files.py).
    package_data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["seamwatch"]
    assert "schemas/*.avsc" in package_data
    # The job jars are the ones deploy/jars/pom.xml resolves (`make jars` -> .jars/job).
    assert "COPY .jars/job/" in text
    assert (REPO / "deploy" / "jars" / "pom.xml").is_file()
    image_tags = {
        _deployment(_render(p))["spec"]["image"].rsplit(":", 1)[1] for p in PROFILES if _kustomize()
    }
    assert image_tags == {f"{pin}-java17"}
    assert f"seamwatch:{pin}-java17" in text


def test_prod_reads_current_geography_from_a_mounted_volume() -> None:
    deployment = _deployment(_render("overlays/prod"))
    args = _args(deployment)
    pod = deployment["spec"]["podTemplate"]["spec"]
    mounts = {m["name"]: m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["geoip"]["persistentVolumeClaim"]["claimName"] == "seamwatch-geoip"
    for option in ("--geo-city", "--geo-asn"):
        (path,) = args[option]
        assert path.startswith(mounts["geoip"] + "/") and path.endswith(".mmdb")
    # The rules and identities mounts of the base are still there.
    assert {"rules", "identities", "geoip"} <= set(mounts)
    from seamwatch.jobs.cluster import argument_parser, settings_from_args

    job_args = deployment["spec"]["job"]["args"]
    parsed = argument_parser().parse_args(job_args[job_args.index("-pym") + 2 :])
    geo = settings_from_args(parsed).geo
    assert (geo.city, geo.asn) == (args["--geo-city"][0], args["--geo-asn"][0])
