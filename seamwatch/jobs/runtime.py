"""The Flink environments, configured the way the Python functions need them.

Thread mode runs the Python functions inside the JVM through pemja, one call per row on the
task's thread. Process mode runs them beside the JVM, fed a bundle of rows at a time over gRPC
(on a local mini-cluster started from Python, in this process: PyFlink's loopback worker).
File runs use process mode (:class:`~seamwatch.jobs.settings.JobSettings`); Kafka and cluster
jobs thread mode. Embedded Python must find this package and pemja: the job sets
``python.executable`` to this interpreter and ``PYTHONPATH`` to its site-packages and the
project root *before* the JVM gateway starts, which is why :func:`create_environments` must be
the first Flink call of a process.
"""

from __future__ import annotations

import os
import site
import sys
import sysconfig
from typing import Any

from seamwatch.jobs.settings import REPO_ROOT, PythonMode


def python_path() -> str:
    """Site-packages of this interpreter, the other directories on its path (those a ``.pth``
    file or the user site added; not the standard library, which the embedded interpreter has)
    and the project root, as a ``PYTHONPATH`` value.

    The embedded interpreter reads no ``.pth`` file of a venv: what this process found through
    one must be spelled out for it."""
    stdlib = {sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")}
    on_path = [
        entry
        for entry in sys.path
        if entry
        and os.path.isabs(entry)
        and os.path.isdir(entry)
        and not any(entry == lib or entry.startswith(lib + os.sep) for lib in stdlib)
    ]
    paths = [*site.getsitepackages(), *on_path, str(REPO_ROOT)]
    existing = os.environ.get("PYTHONPATH")
    if existing:
        paths.append(existing)
    return os.pathsep.join(dict.fromkeys(paths))


# JVM options of the local JVM PyFlink starts (the mini-cluster of `seamwatch run`), unless
# $JVM_ARGS says otherwise. The parallel collector: on the 300k-record bench corpus, 2 cores,
# the whole run took 51.0-53.5 s with it against 59.2-60.0 s with the default G1 (whose
# concurrent marking and write barriers compete with the job for the two cores); the serial
# collector 59.1 s, C1 only (-XX:TieredStopAtLevel=1) 58.3 s. Less inlining by the C2 compiler
# (-XX:FreqInlineSize=100, the JDK's default 325 bytecodes; -XX:InlineSmallCode=1000, default
# 2500): a bounded run spends a quarter of its CPU compiling the job's generated classes, and
# smaller compilations finish sooner. Whole runs of the 300k corpus took 57.3 s and 60.7 s with
# the first against 63.7-67.9 s without, and 51.5 s, 52.9 s with both against 53.6-55.4 s with
# the first alone (C2 only, -XX:-TieredCompilation, 71.2 s; -XX:MaxInlineLevel=6 no gain). A
# cluster's task managers take their JVM options from the cluster's configuration
# (env.java.opts.taskmanager); a job that runs for days amortizes the compilations, so the
# cluster keeps the JDK's defaults.
LOCAL_JVM_ARGS = "-XX:+UseParallelGC -XX:FreqInlineSize=100 -XX:InlineSmallCode=1000"


def prepare_process_environment() -> None:
    """Export what the JVM and its embedded Python need; call before any pyflink import."""
    os.environ["PYTHONPATH"] = python_path()
    # PyFlink's loopback worker (a process-mode job on a local mini-cluster) marks the process
    # that hosts it so that a function's code never starts a gateway. A process started from
    # that one afterwards (a test running the CLI) inherits the mark and would refuse to start
    # its own gateway: this is never a function's process, so the mark is dropped.
    os.environ.pop("PYFLINK_GATEWAY_DISABLED", None)
    os.environ.setdefault("PYFLINK_CLIENT_EXECUTABLE", sys.executable)
    os.environ.setdefault("JVM_ARGS", LOCAL_JVM_ARGS)
    # gRPC (PyFlink loads it) logs at info level when a process forks beside its threads, as
    # staging's workers do in a long-lived process; errors still show.
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")


def create_environments(
    parallelism: int = 1,
    python_mode: PythonMode = "thread",
    extra: dict[str, str] | None = None,
) -> tuple[Any, Any]:
    """A streaming ``StreamExecutionEnvironment`` and its ``StreamTableEnvironment``."""
    prepare_process_environment()
    # Deferred: PyFlink is imported only once the process environment is prepared (above).
    from pyflink.common import Configuration
    from pyflink.datastream import StreamExecutionEnvironment
    from pyflink.table import StreamTableEnvironment

    conf = Configuration()
    conf.set_string("python.execution-mode", python_mode)
    conf.set_string("python.executable", sys.executable)
    conf.set_string("python.client.executable", sys.executable)
    conf.set_string("table.local-time-zone", "UTC")
    conf.set_string("pipeline.name", "seamwatch")
    # The Python functions are small; bundling more records per call amortises the crossing.
    conf.set_string("python.fn-execution.bundle.size", "10000")
    # Chained operators hand each row on without a deep copy. Without this, every row is
    # copied (strings included) once per chained reader: the events view feeds one filter per
    # rule, so the copies grew with the catalog and were the JVM's largest cost. Safe here:
    # the SQL runtime's operators do not keep input rows, and the Python operators convert
    # each row into Python objects before they keep anything.
    conf.set_string("pipeline.object-reuse", "true")
    for key, value in (extra or {}).items():
        conf.set_string(key, value)
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.set_parallelism(parallelism)
    t_env = StreamTableEnvironment.create(env)
    t_env.get_config().set("table.local-time-zone", "UTC")
    return env, t_env
