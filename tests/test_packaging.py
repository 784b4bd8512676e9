"""The wheel carries what a run needs: built, installed into a fresh venv and run from outside
the checkout, ``seamwatch rules check`` and ``seamwatch run`` work on the bundled catalog and
sample logs (package data of ``seamwatch.bundled``)."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import orjson
import pytest

from seamwatch.bundled import examples_dir, rules_dir
from seamwatch.sample.scenario import build_sample

REPO = Path(__file__).resolve().parents[1]


def _pyproject() -> dict[str, object]:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_package_directory_is_listed_for_the_wheel() -> None:
    """``pyproject.toml`` lists the packages (no discovery, for the bundled mapping): a new
    package directory left off the list would be missing from the wheel."""
    setuptools = _pyproject()["tool"]["setuptools"]  # type: ignore[index]
    listed = set(setuptools["packages"])
    mapped = setuptools["package-dir"]
    on_disk = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "seamwatch").rglob("__init__.py")
    }
    assert listed == on_disk | set(mapped)
    assert {mapped[name] for name in mapped} == {"rules", "examples"}


def test_in_a_checkout_the_bundled_directories_are_the_checkouts_own() -> None:
    assert rules_dir() == REPO / "rules"
    assert examples_dir() == REPO / "examples"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
    )
    [built] = out.glob("seamwatch-*.whl")
    return built


def test_the_wheel_holds_every_rule_and_sample_log(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for top, package in ((REPO / "rules", "rules"), (REPO / "examples", "examples")):
        for path in top.rglob("*"):
            if path.is_file():
                inside = f"seamwatch/bundled/{package}/{path.relative_to(top).as_posix()}"
                assert inside in names, f"{path.relative_to(REPO)} is not in the wheel"
    assert "seamwatch/py.typed" in names
    assert "seamwatch/schemas/alert.avsc" in names
    # The Java functions' sources: the installed job builds its jar from them.
    for source in (REPO / "seamwatch" / "java").rglob("*.java"):
        assert source.relative_to(REPO).as_posix() in names


@pytest.mark.flink
def test_the_installed_wheel_runs_alone(wheel: Path, tmp_path: Path) -> None:
    """A fresh venv with the wheel (its dependencies from this venv's site-packages, by a
    ``.pth`` path) checks the bundled rules and runs the bundled sample from a directory with
    no checkout in it."""
    # Nothing of the checkout on the path (its seamwatch.egg-info would count as installed).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env)
    python = venv / "bin" / "python"
    target = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        ).stdout.strip()
    )
    # Installed before the dependencies are visible: pip would otherwise take the checkout's
    # editable seamwatch for this one, already installed.
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
        env=env,
    )
    # Plain path lines only: this venv's own .pth files (the editable install of the checkout)
    # are not processed, so the only seamwatch the fresh venv sees is the wheel's.
    (target / "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")
    work = tmp_path / "elsewhere"
    work.mkdir()
    seamwatch = str(venv / "bin" / "seamwatch")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [seamwatch, *args], cwd=work, env=env, capture_output=True, text=True, check=False
        )

    where = subprocess.run(
        [str(python), "-c", "import seamwatch; print(seamwatch.__file__)"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(target), where

    checked = run("rules", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    passed = [line for line in checked.stdout.splitlines() if line.startswith("ok ")]
    assert len(passed) == len(list((REPO / "rules").glob("*.yaml")))

    done = run("run", "--quiet", "--output", "out/alerts.jsonl")
    assert done.returncode == 0, done.stdout + done.stderr
    alerts = [
        orjson.loads(line) for line in (work / "out" / "alerts.jsonl").read_bytes().splitlines()
    ]
    attack = build_sample().attack
    matched = [a for a in alerts if tuple(e["event_id"] for e in a["events"]) == attack.event_ids]
    assert [a["entity"]["id"] for a in matched] == [attack.entity]
    assert {a["entity"]["id"] for a in alerts} == {attack.entity, "felix.wagner"}
