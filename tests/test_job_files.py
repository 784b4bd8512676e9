"""The job carries its own files: what the code reads at run time travels with the package.

Every deployment path gets the package, and nothing else of the checkout, onto the task
managers: ``seamwatch submit`` ships a zip of ``seamwatch/``, the container image installs the
package (``pip install .``: only package data besides the code). So every data file of the
package must be package data, and the code must find it through :mod:`importlib.resources`
wherever the package was loaded from, a zip included.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from seamwatch.cli.deploy import build_code_archive

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "seamwatch"
SCHEMAS = ("alert", "event", "identity_mapping")


def test_every_data_file_of_the_package_is_package_data() -> None:
    globs = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["seamwatch"]
    data = [
        p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    ]
    assert {f"schemas/{name}.avsc" for name in SCHEMAS} <= set(data)
    missing = [f for f in data if not any(fnmatch.fnmatch(f, g) for g in globs)]
    assert missing == [], f"not installed with the package (pyproject package-data): {missing}"


def test_the_submitted_archive_carries_the_schemas(tmp_path: Path) -> None:
    archive = build_code_archive(tmp_path / "seamwatch-job.zip")
    with zipfile.ZipFile(archive) as zf:
        names = set(zf.namelist())
    for name in SCHEMAS:
        assert f"seamwatch/schemas/{name}.avsc" in names


def test_avro_records_round_trip_with_the_package_imported_from_the_archive(
    tmp_path: Path,
) -> None:
    """The codec as a task manager runs it: ``seamwatch`` imported from the shipped zip (by
    zipimport), no checkout anywhere on the path or in the working directory."""
    archive = build_code_archive(tmp_path / "seamwatch-job.zip")
    program = "\n".join(
        [
            "import seamwatch, seamwatch.kafka.codec as codec",
            f"assert seamwatch.__file__.startswith({str(archive)!r}), seamwatch.__file__",
            "entity = {'id': 'ava.stone', 'type': 'human', 'name': 'Ava Stone',",
            "          'identifiers': [{'kind': 'email', 'value': 'ava@example.com'}]}",
            "key, text = codec.decode_mapping(b'ava.stone', codec.encode_mapping(entity))",
            "assert key == 'ava.stone' and 'ava@example.com' in text, text",
            f"print(sorted(codec.schema(n)['name'] for n in {SCHEMAS!r}))",
        ]
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(archive)
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "io.seamwatch.Alert" in done.stdout


def test_the_codec_outlives_the_directory_its_package_was_unpacked_to(tmp_path: Path) -> None:
    """As a thread-mode task manager after a failover: the interpreter keeps the modules the
    first attempt imported, and Flink has deleted the directory it unpacked them to."""
    unpacked = tmp_path / "python-files" / "seamwatch-job"
    with zipfile.ZipFile(build_code_archive(tmp_path / "seamwatch-job.zip")) as zf:
        zf.extractall(unpacked)
    program = "\n".join(
        [
            "import shutil, seamwatch, seamwatch.kafka.codec as codec",
            f"assert seamwatch.__file__.startswith({str(unpacked)!r}), seamwatch.__file__",
            f"shutil.rmtree({str(unpacked)!r})",
            "entity = {'id': 'ava.stone', 'type': 'human', 'name': None, 'identifiers': []}",
            "key, text = codec.decode_mapping(b'ava.stone', codec.encode_mapping(entity))",
            "assert key == 'ava.stone', key",
            "print(codec.schema('alert')['name'])",
        ]
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(unpacked)
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "io.seamwatch.Alert" in done.stdout
