"""The Kubernetes manifests and the image, checked without a cluster or a container engine.

Base and overlays are rendered with kustomize (``make tools`` builds it into ``.tools/bin``)
and every FlinkDeployment is validated against the Operator's CRD schema (``openAPIV3Schema``)
with ``jsonschema``. The CRDs come from the Operator's released API jar through Maven
(``make crds`` -> ``.crds/``); where that has not been fetched, the reference copy of release
1.15.0 in ``../shared/k8s-crds/`` is used, and the comparison between the two is skipped.
"""

from __future__ import annotations

import fnmatch
import itertools
import posixpath
import re
import shutil
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
K8S = REPO / "deploy" / "k8s"
DOCKERFILE = REPO / "deploy" / "Dockerfile"
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


@dataclass
class Image:
    """What deploy/Dockerfile puts in the image, read from its instructions (no engine here).

    ``files`` maps each path the ``COPY`` instructions create to the repository file it comes
    from; ``copied_dirs`` are the destinations of directory sources (``.jars/job/`` may be
    absent before ``make jars``); ``installs`` holds, for each ``pip install .``, its working
    directory and the image's files at that point.
    """

    base: str
    files: dict[str, Path] = field(default_factory=dict)
    copied_dirs: set[str] = field(default_factory=set)
    installs: list[tuple[str, frozenset[str]]] = field(default_factory=list)


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments left out."""
    found = []
    for line in re.sub(r"\\\n", " ", text).splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def _ignored(relative: str) -> bool:
    ignore = REPO / ".dockerignore"
    if not ignore.is_file():
        return False
    patterns = [p.strip().rstrip("/") for p in ignore.read_text().splitlines()]
    return any(
        fnmatch.fnmatch(relative, p) or relative.startswith(p + "/")
        for p in patterns
        if p and not p.startswith("#")
    )


def _image() -> Image:
    workdir = "/"
    image: Image | None = None
    for word, rest in _instructions(DOCKERFILE.read_text()):
        if word == "FROM":
            image = Image(base=rest)
            continue
        assert image is not None, "the Dockerfile must start FROM an image"
        if word == "WORKDIR":
            workdir = posixpath.normpath(posixpath.join(workdir, rest))
        elif word == "COPY":
            parts = [p for p in rest.split() if not p.startswith("--chown")]
            assert not any(p.startswith("--") for p in parts), f"unexpected COPY flag: {rest}"
            *sources, dest = parts
            into_dir = dest.endswith("/") or len(sources) > 1
            dest = posixpath.normpath(posixpath.join(workdir, dest))
            for source in sources:
                origin = REPO / source
                if source.endswith("/") or origin.is_dir():
                    image.copied_dirs.add(dest)
                    for path in sorted(origin.rglob("*")) if origin.is_dir() else []:
                        relative = path.relative_to(REPO).as_posix()
                        if path.is_file() and not _ignored(relative):
                            inner = path.relative_to(origin).as_posix()
                            image.files[posixpath.join(dest, inner)] = path
                else:
                    assert origin.is_file() and not _ignored(source), f"COPY of missing {source}"
                    target = posixpath.join(dest, origin.name) if into_dir else dest
                    image.files[target] = origin
        elif word == "RUN" and re.search(r"\bpip install\b[^&;|]*\s\.(\s|$)", rest):
            image.installs.append((workdir, frozenset(image.files)))
    assert image is not None
    return image


def _base_manifests() -> list[dict[str, Any]]:
    """The base's own YAML documents, parsed (no kustomize needed)."""
    docs: list[dict[str, Any]] = []
    for name in ("flinkdeployment.yaml", "responder.yaml"):
        docs.extend(d for d in yaml.safe_load_all((K8S / "base" / name).read_text()) if d)
    return docs


def _pod_specs(doc: dict[str, Any]) -> list[dict[str, Any]]:
    if doc["kind"] == "FlinkDeployment":
        return [doc["spec"]["podTemplate"]["spec"]]
    if doc["kind"] == "Deployment":
        return [doc["spec"]["template"]["spec"]]
    return []


def test_the_image_installs_the_whole_package_with_its_schemas() -> None:
    image = _image()
    pin = _flink_pin()
    assert image.base == f"flink:{pin}-java17"
    # One `pip install .`, run where pyproject.toml, the README it names and every file of the
    # package have been copied: a file copied after it, or not at all, is not installed.
    ((workdir, present),) = image.installs
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    needed = ["pyproject.toml", project["project"]["readme"]]
    # The package, and the directories pyproject maps into it (rules/, examples/).
    setuptools = project["tool"]["setuptools"]
    roots = ["seamwatch", *setuptools["package-dir"].values()]
    package = sorted(
        path.relative_to(REPO).as_posix()
        for root in roots
        for path in (REPO / root).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )
    schemas = [f for f in package if f.startswith("seamwatch/schemas/")]
    assert {"seamwatch/schemas/event.avsc", "seamwatch/schemas/alert.avsc"} <= set(schemas)
    missing = [f for f in needed + package if posixpath.join(workdir, f) not in present]
    assert missing == [], f"not in the image when the package is installed: {missing}"
    # `pip install .` (not editable) installs the files that are not Python only as package
    # data: every one of them must match a package-data pattern.
    patterns = setuptools["package-data"]["seamwatch"]
    data = [f.removeprefix("seamwatch/") for f in package if f.startswith("seamwatch/")]
    unshipped = [
        f
        for f in data
        if not f.endswith(".py") and not any(fnmatch.fnmatch(f, p) for p in patterns)
    ]
    assert unshipped == [], f"left out of the installed package: {unshipped}"


def test_the_manifests_use_the_image_and_what_it_holds() -> None:
    image = _image()
    pin = _flink_pin()
    docs = _base_manifests()
    deployment = _deployment(docs)
    tag = f"seamwatch:{pin}-java17"
    assert deployment["spec"]["image"] == tag
    containers = [c for doc in docs for pod in _pod_specs(doc) for c in pod["containers"]]
    assert all(c.get("image", tag) == tag for c in containers)
    # The job module is installed; the jars directory is one the image fills.
    args = _args(deployment)
    job_args = deployment["spec"]["job"]["args"]
    module = job_args[job_args.index("-pym") + 1]
    ((workdir, present),) = image.installs
    assert posixpath.join(workdir, module.replace(".", "/") + ".py") in present
    (jars_dir,) = args["--jars-dir"]
    assert posixpath.normpath(jars_dir) in image.copied_dirs
    assert (REPO / "deploy" / "jars" / "pom.xml").is_file()  # the one list of those jars
    # jarURI names the PyFlink driver in opt/; the image also puts it in lib/ (see the
    # Dockerfile for why).
    jar = f"/opt/flink/opt/flink-python-{pin}.jar"
    assert deployment["spec"]["job"]["jarURI"] == "local://" + jar
    runs = [rest for word, rest in _instructions(DOCKERFILE.read_text()) if word == "RUN"]
    assert any(re.search(rf"\bcp {re.escape(jar)} /opt/flink/lib/(\s|$)", r) for r in runs)
    # Rules and identities are read from the mounted ConfigMaps.
    mounts = [
        m["mountPath"]
        for pod in _pod_specs(deployment)
        for m in pod["containers"][0]["volumeMounts"]
    ]
    for option in ("--rules", "--identities"):
        (path,) = args[option]
        assert any(path == m or path.startswith(m + "/") for m in mounts), (option, path)
    # Commands other containers run are console scripts the package installs.
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    commands = [c["command"][0] for c in containers if "command" in c]
    assert commands and all(command in scripts for command in commands)


def test_every_profile_runs_the_image_of_the_pinned_flink(rendered: list[dict[str, Any]]) -> None:
    tag = f"seamwatch:{_flink_pin()}-java17"
    containers = [c for doc in rendered for pod in _pod_specs(doc) for c in pod["containers"]]
    assert _deployment(rendered)["spec"]["image"] == tag
    assert containers and all(c.get("image", tag) == tag for c in containers)


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
