"""The package's import structure: no cycles, and imports inside functions only to defer.

Both rules are read from the source with :mod:`ast`; nothing of ``seamwatch`` is imported
except to find where the package lies, and nothing starts Flink.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import seamwatch

PACKAGE_DIR = Path(seamwatch.__file__).resolve().parent

# Modules an import inside a function may name, each with what deferring it buys. Everything
# else is imported at the top of its module.
DEFERRED_MODULES = {
    "pyflink": "PyFlink starts the JVM gateway; it is imported only after "
    "jobs.runtime.prepare_process_environment, and never by CLI commands without Flink",
    "seamwatch.jobs.pipeline": "imports pyflink at its top (see above)",
    "confluent_kafka": "librdkafka, loaded only by commands and jobs that talk to Kafka",
    "boto3": "about 80 ms to import, needed only when a response action calls AWS",
    "botocore": "comes with boto3 (see above)",
}
# Single places allowed to defer something else, with the reason.
DEFERRED_AT = {
    ("__main__.py", "seamwatch.cli.app"): "the Python version check runs before any import",
}


def module_name(path: Path) -> str:
    """``.../seamwatch/jobs/local.py`` -> ``seamwatch.jobs.local`` (a package by its name)."""
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def package_modules() -> dict[str, Path]:
    """Every module of the package by its dotted name."""
    return {module_name(p): p for p in sorted(PACKAGE_DIR.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def module_level_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """The imports that run when the module is imported: its top-level statements, and those
    under a top-level ``if`` or ``try``, but not under ``if TYPE_CHECKING:`` (never run)."""
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and not _is_type_checking(node):
            pending.extend([*node.body, *node.orelse])
        elif isinstance(node, ast.Try):
            pending.extend([*node.body, *node.orelse, *node.finalbody])
            pending.extend(s for h in node.handlers for s in h.body)


def imported_names(node: ast.Import | ast.ImportFrom, importer: str) -> list[str]:
    """Dotted names an import statement may load: ``from a import b`` is ``a`` or ``a.b``."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:  # relative: resolved against the importing module's package
        package = importer.split(".")
        if not PACKAGE_DIR.joinpath(*package[1:], "__init__.py").exists():
            package = package[:-1]
        anchor = ".".join(package[: len(package) - node.level + 1])
        base = f"{anchor}.{base}" if base else anchor
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules its module-level imports load."""
    modules = package_modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in module_level_imports(ast.parse(path.read_text(), str(path))):
            for imported in imported_names(node, name):
                while imported and imported not in modules:  # a name defined in a module
                    imported = imported.rpartition(".")[0]
                if imported and imported != name:
                    targets.add(imported)
        graph[name] = targets
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as ``[a, b, ..., a]``, or None (depth-first, modules in name order)."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for nxt in sorted(graph[node]):
            if nxt in on_path:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in done:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        on_path.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done:
            found = visit(start)
            if found:
                return found
    return None


def function_level_imports() -> Iterator[tuple[Path, int, str]]:
    """(file, line, module) of every import that is not at the top level of its module."""
    for path in package_modules().values():
        tree = ast.parse(path.read_text(), str(path))
        top = {id(node) for node in module_level_imports(tree)}
        top |= {  # under ``if TYPE_CHECKING:``: at module level too, it only never runs
            id(inner)
            for node in tree.body
            if isinstance(node, ast.If) and _is_type_checking(node)
            for inner in ast.walk(node)
        }
        for node in ast.walk(tree):
            if id(node) in top:
                continue
            if isinstance(node, ast.Import):
                yield from ((path, node.lineno, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                yield path, node.lineno, imported_names(node, module_name(path))[0]


def _deferral_allowed(path: Path, imported: str) -> bool:
    if (path.relative_to(PACKAGE_DIR).as_posix(), imported) in DEFERRED_AT:
        return True
    return any(imported == m or imported.startswith(m + ".") for m in DEFERRED_MODULES)


def test_the_graph_sees_imports() -> None:
    graph = import_graph()
    assert "seamwatch.cli.kafka" in graph["seamwatch.cli.app"]
    assert "seamwatch.kafka.config" in graph["seamwatch.kafka.tools"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]


def test_no_import_cycles() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_imports_inside_functions_only_defer_heavy_modules() -> None:
    offending = [
        f"{path.relative_to(PACKAGE_DIR.parent)}:{line}: {imported}"
        for path, line, imported in function_level_imports()
        if not _deferral_allowed(path, imported)
    ]
    assert not offending, (
        "imports inside functions (move them to the top of the module, or add the module to "
        "DEFERRED_MODULES with the reason):\n" + "\n".join(offending)
    )


def test_the_cli_loads_without_pyflink_or_librdkafka() -> None:
    code = (
        "import sys\n"
        "import seamwatch.cli.app\n"
        "print(sorted(m for m in ('pyflink', 'confluent_kafka', 'boto3') if m in sys.modules))\n"
    )
    path = os.pathsep.join(filter(None, [str(PACKAGE_DIR.parent), os.environ.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": path},  # this checkout's package, wherever run from
    )
    assert result.stdout.strip() == "[]"


def wing(module: str) -> str:
    """``seamwatch.jobs.local`` -> ``seamwatch.jobs``; a top-level module is its own wing."""
    return ".".join(module.split(".")[:2])


def test_no_import_cycles_between_wings() -> None:
    """The wings (sources, udfs, rules, kafka, jobs, cli, ...) form layers: no wing imports
    one that imports it back, through any of their modules."""
    graph: dict[str, set[str]] = {}
    for module, imported in import_graph().items():
        graph.setdefault(wing(module), set()).update(
            wing(other) for other in imported if wing(other) != wing(module)
        )
    cycle = find_cycle(graph)
    assert cycle is None, "wings import each other: " + " -> ".join(cycle or [])
