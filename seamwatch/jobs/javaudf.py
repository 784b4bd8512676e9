"""The job's own Java functions: built once from the package's sources into a cached jar.

The per-event work that SQL cannot express exactly runs in the JVM as a Java function
(``seamwatch/java/``: the behaviour baseline's ``BaselineFlags``; ``RawNotNeeded``, which
drops records read as text that no rule needs before the Python step; ``WatermarkTime``, the
time a source table's watermark follows; ``RecentList``, a rule's authentication context).
There is no Maven step: the sources are compiled with the JDK's ``javac`` against the PyFlink
wheel's own Flink jars, the first time a job needs them, into ``$SEAMWATCH_CACHE_DIR``
(default ``~/.cache/seamwatch``) under a name that carries a digest of the sources and of the
Flink version, so an edited source or another Flink builds anew and concurrent jobs never see
a half-written jar. ``$SEAMWATCH_UDF_JAR`` names a prebuilt jar instead (a container image
without a JDK: ``python -m seamwatch.jobs.javaudf OUT.jar`` builds one). The job registers
each function with ``CREATE TEMPORARY SYSTEM FUNCTION ... USING JAR`` (:func:`register`): the
planner loads the class from the jar, and the client ships the jar with the job to whatever
cluster runs it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

from seamwatch.errors import SeamwatchError
from seamwatch.rules.compiler import RECENT_LIST_FUNCTION
from seamwatch.sources.timeguard import WATERMARK_TIME_FUNCTION

#: The Java sources, shipped in the package.
JAVA_DIR = Path(__file__).resolve().parent.parent / "java"
#: A prebuilt jar to use instead of building one.
JAR_ENV = "SEAMWATCH_UDF_JAR"
CACHE_ENV = "SEAMWATCH_CACHE_DIR"


class JavaBuildError(SeamwatchError):
    """The Java functions could not be built (no JDK, or a compile error)."""


def java_sources() -> list[Path]:
    """The ``.java`` files of the package, in a stable order."""
    return sorted(JAVA_DIR.rglob("*.java"))


def _flink_lib() -> Path:
    import pyflink  # deferred: a heavy import, only needed to build

    return Path(pyflink.__file__).resolve().parent / "lib"


def _digest() -> str:
    digest = hashlib.sha256(version("apache-flink").encode())
    for source in java_sources():
        digest.update(source.relative_to(JAVA_DIR).as_posix().encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def _tool(name: str) -> str:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / name).is_file():
        return str(Path(home) / "bin" / name)
    found = shutil.which(name)
    if found is None:
        raise JavaBuildError(
            f"`{name}` not found (JAVA_HOME or PATH): building Seamwatch's Java functions needs "
            f"a JDK 17; or set {JAR_ENV} to a jar built by `python -m seamwatch.jobs.javaudf`"
        )
    return found


def _run(name: str, command: list[str]) -> None:
    """Run a JDK tool; its failure is a :class:`JavaBuildError` with the tool's output."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise JavaBuildError(f"{name} failed:\n{done.stdout}{done.stderr}")


def build_jar(out: Path) -> Path:
    """Compile the package's Java sources into the jar ``out`` (written atomically)."""
    sources = java_sources()
    if not sources:
        raise JavaBuildError(f"no Java sources under {JAVA_DIR}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="seamwatch-javac-") as tmp:
        classes = Path(tmp) / "classes"
        compile_cmd = [
            _tool("javac"),
            "--release",
            "17",
            "-nowarn",
            "-cp",
            str(_flink_lib() / "*"),
            "-d",
            str(classes),
            *map(str, sources),
        ]
        _run("javac", compile_cmd)
        partial = Path(tmp) / "udf.jar"
        _run("jar", [_tool("jar"), "cf", str(partial), "-C", str(classes), "."])
        staged = out.with_name(f".{out.name}.{os.getpid()}")
        shutil.copyfile(partial, staged)
        staged.replace(out)
    return out


def udf_jar() -> Path:
    """The jar of the Java functions: ``$SEAMWATCH_UDF_JAR``, else the cached build (built now
    if missing)."""
    prebuilt = os.environ.get(JAR_ENV)
    if prebuilt:
        path = Path(prebuilt).expanduser()
        if not path.is_file():
            raise JavaBuildError(f"{JAR_ENV}={prebuilt}: no such file")
        return path
    cache = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "seamwatch")
    jar = cache / f"seamwatch-udf-{_digest()}.jar"
    if not jar.is_file():
        build_jar(jar)
    return jar


def register(t_env: Any, name: str, java_class: str) -> None:
    """Register ``name`` as the Java function ``java_class`` of the jar, shipped with the job."""
    jar = udf_jar().resolve().as_uri()
    t_env.execute_sql(
        f"CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS {name} AS '{java_class}'"
        f" LANGUAGE JAVA USING JAR '{jar}'"
    )


def register_watermark_time(t_env: Any) -> None:
    """Register ``WatermarkTime``, which the watermark column of every CloudTrail and Okta table
    and of the staged Entra ID and Windows tables names
    (:func:`seamwatch.sources.timeguard.watermark_time_sql`): call before their DDL."""
    register(t_env, WATERMARK_TIME_FUNCTION, "io.seamwatch.udf.WatermarkTime")


def register_recent_list(t_env: Any) -> None:
    """Register ``RecentList``, which the SQL of a rule with a ``context`` calls
    (:data:`seamwatch.rules.compiler.RECENT_LIST_FUNCTION`): call before planning the rules."""
    register(t_env, RECENT_LIST_FUNCTION, "io.seamwatch.udf.RecentList")


def main(argv: list[str] | None = None) -> int:
    """``python -m seamwatch.jobs.javaudf OUT.jar``: build the jar (for an image without a JDK)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m seamwatch.jobs.javaudf OUT.jar", file=sys.stderr)
        return 2
    print(build_jar(Path(args[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
