"""Building the job's Java functions (``seamwatch.jobs.javaudf``): javac against the PyFlink
wheel's jars, cached by a digest of the sources, or a prebuilt jar named by the environment."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from seamwatch.jobs import javaudf
from seamwatch.jobs.javaudf import JavaBuildError, build_jar, udf_jar


def test_the_jar_holds_the_baseline_function(tmp_path: Path) -> None:
    jar = build_jar(tmp_path / "out" / "udf.jar")
    names = set(zipfile.ZipFile(jar).namelist())
    assert "io/seamwatch/udf/BaselineFlags.class" in names
    assert "io/seamwatch/udf/BaselineFlags$State.class" in names
    assert list(jar.parent.iterdir()) == [jar]  # no partial file left beside it


def test_the_cached_jar_is_built_once_and_named_by_its_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(javaudf.JAR_ENV, raising=False)
    monkeypatch.setenv(javaudf.CACHE_ENV, str(tmp_path))
    first = udf_jar()
    assert first.parent == tmp_path and first.is_file()
    built_at = first.stat().st_mtime_ns
    assert udf_jar() == first and first.stat().st_mtime_ns == built_at

    # Another source (here: a copy with one more comment) builds a jar of another name.
    java = tmp_path / "java"
    for source in javaudf.java_sources():
        target = java / source.relative_to(javaudf.JAVA_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source.read_text(encoding="utf-8") + "// edited\n", encoding="utf-8")
    monkeypatch.setattr(javaudf, "JAVA_DIR", java)
    second = udf_jar()
    assert second != first and second.is_file()


def test_a_prebuilt_jar_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prebuilt = tmp_path / "prebuilt.jar"
    prebuilt.write_bytes(b"PK")
    monkeypatch.setenv(javaudf.JAR_ENV, str(prebuilt))
    assert udf_jar() == prebuilt
    monkeypatch.setenv(javaudf.JAR_ENV, str(tmp_path / "missing.jar"))
    with pytest.raises(JavaBuildError, match=r"missing\.jar: no such file"):
        udf_jar()


def test_without_a_jdk_the_error_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(JavaBuildError, match=r"`javac` not found.*SEAMWATCH_UDF_JAR"):
        build_jar(tmp_path / "udf.jar")


def test_a_compile_error_is_reported_with_javac_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "java" / "Broken.java"
    broken.parent.mkdir()
    broken.write_text("class Broken { int x = ; }\n", encoding="utf-8")
    monkeypatch.setattr(javaudf, "JAVA_DIR", broken.parent)
    with pytest.raises(JavaBuildError, match=r"javac failed:(.|\n)*Broken\.java"):
        build_jar(tmp_path / "udf.jar")
    assert not (tmp_path / "udf.jar").exists()
