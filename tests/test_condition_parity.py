"""The Python condition and the compiled SQL predicate of every rule step accept the same events.

A step's own condition (its ``source`` and ``where``) exists twice: as
:class:`seamwatch.udfs.conditions.StepCondition`, which decides in the Python step which
normalized events the job keeps at all, and as the SQL the compiler writes
(``compiler._predicate``: the rules' pre-filters, their ``DEFINE`` clauses and the absent
steps' candidate queries). A disagreement loses events silently (Python drops one SQL would
match) or keeps some for nothing. This test generates, for every step of every rule in
``rules/``, events that test each clause: each allowed value, and near misses of it (the other
case, the value with a character added or removed, with a space before or after, the empty
string, NULL; ``true``/``false``/NULL for a flag; every source and a misspelt one), evaluates
the Python condition on each, and runs every step's compiled predicate over the same rows in
one Flink job (a ``UNION ALL`` of one ``SELECT ... WHERE <predicate>`` per step over a table
with the events view's columns and types, :data:`~seamwatch.udfs.records.EVENT_FIELDS`). The
sets of row indices each step accepts must be identical.

``same`` / ``differ`` compare two steps' events: they are not part of a step's own condition
on either side (the compiler writes them into ``DEFINE`` as ``S1.src_ip = S0.src_ip``, the
absence check applies them in :func:`seamwatch.udfs.absence._fits`), so they are not compared
here.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from seamwatch.rules.compiler import _predicate
from seamwatch.rules.rulebook import FIELD_TYPES, Rule, Step, load_rules
from seamwatch.sqltext import sql_literal
from seamwatch.udfs.conditions import Scalar, StepCondition
from seamwatch.udfs.records import EVENT_FIELDS

pytestmark = pytest.mark.flink

RULES = Path(__file__).resolve().parents[1] / "rules"
SOURCES = ("okta", "cloudtrail", "entra", "windows")
_DATATYPES = {"STRING": "STRING", "BIGINT": "BIGINT", "DOUBLE": "DOUBLE", "BOOLEAN": "BOOLEAN"}


def _near_misses(value: Scalar) -> list[Scalar | None]:
    """The value and values that almost are it, of the same type, and NULL."""
    if isinstance(value, bool):
        return [True, False, None]
    if isinstance(value, int | float):
        return [value, value + 1, value - 1, 0, None]
    other_case = value.swapcase() if value.swapcase() != value else value.upper() + "a"
    return [
        value,
        other_case,
        value + "x",  # the value is a prefix of it
        value[:-1],  # it is a prefix of the value
        " " + value,
        value + " ",
        "",
        None,
    ]


def _steps(rules: list[Rule]) -> list[tuple[str, Step]]:
    return [(f"{rule.id}/{step.name}", step) for rule in rules for step in rule.steps]


def _rows(steps: list[tuple[str, Step]]) -> list[dict[str, Any]]:
    """Events around every step's condition: one that meets it, then each clause varied alone."""
    rows: list[dict[str, Any]] = [dict.fromkeys(FIELD_TYPES)]  # all NULL
    for _, step in steps:
        base: dict[str, Any] = dict.fromkeys(FIELD_TYPES)
        base["source"] = step.source[0] if step.source else "okta"
        for field, value in step.where.items():
            base[field] = value[0] if isinstance(value, list) else value
        rows.append(base)
        for source in (*SOURCES, "Okta", "", None):
            rows.append({**base, "source": source})
        for field, value in step.where.items():
            for allowed in value if isinstance(value, list) else [value]:
                rows += [{**base, field: near} for near in _near_misses(allowed)]
    unique = {tuple(row.items()): row for row in rows}
    return list(unique.values())


def _python_accepts(
    steps: list[tuple[str, Step]], rows: list[dict[str, Any]]
) -> dict[str, set[int]]:
    accepted: dict[str, set[int]] = {}
    for label, step in steps:
        condition = StepCondition.of(step.source, step.where)
        accepted[label] = {i for i, row in enumerate(rows) if condition.matches(row)}
    return accepted


def _sql_accepts(steps: list[tuple[str, Step]], rows: list[dict[str, Any]]) -> dict[str, set[int]]:
    from pyflink.table import DataTypes

    from seamwatch.jobs.runtime import create_environments

    _, t_env = create_environments(1, "thread")
    names = ["idx", *(name for name, _ in EVENT_FIELDS)]
    row_type = DataTypes.ROW(
        [DataTypes.FIELD("idx", DataTypes.INT())]
        + [
            DataTypes.FIELD(name, getattr(DataTypes, _DATATYPES[sql_type])())
            for name, sql_type in EVENT_FIELDS
        ]
    )
    table = t_env.from_elements(
        [(i, *(row[name] for name in names[1:])) for i, row in enumerate(rows)], row_type
    )
    t_env.create_temporary_view("parity_events", table)
    query = "\nUNION ALL\n".join(
        f"SELECT {sql_literal(label)} AS step, idx FROM parity_events WHERE {_predicate(step)}"
        for label, step in steps
    )
    accepted: dict[str, set[int]] = defaultdict(set)
    with t_env.sql_query(query).execute().collect() as results:
        for row in results:
            accepted[row[0]].add(row[1])
    return accepted


def _describe(row: dict[str, Any], step: Step) -> str:
    shown = ["source", *step.where]
    return ", ".join(f"{name}={row[name]!r}" for name in shown)


def test_every_steps_python_condition_and_sql_predicate_accept_the_same_events() -> None:
    steps = _steps(load_rules(RULES))
    rows = _rows(steps)
    python = _python_accepts(steps, rows)
    sql = _sql_accepts(steps, rows)

    differences = [
        f"{label}: {'SQL only' if i in sql[label] else 'Python only'}: {_describe(rows[i], step)}"
        for label, step in steps
        for i in sorted(python[label] ^ sql[label])
    ]
    assert differences == []
    # Not vacuous: every kind of step is here, and each accepts some rows and refuses others.
    assert any(step.absent for _, step in steps) and any(step.count for _, step in steps)
    assert {type(v) for _, s in steps for v in s.where.values()} >= {str, bool, list}
    for label, _ in steps:
        assert 0 < len(python[label]) < len(rows), label
