"""``rules check``'s last check: Flink plans the SQL each rule compiles to, no job started.

Loading a rule (:mod:`seamwatch.rules.rulebook`) refuses what the rule model knows to be wrong,
including what Flink is known to refuse (a window longer than a SQL interval holds). This
check asks Flink itself: each rule's statements (its ``MATCH_RECOGNIZE``, and the absence
candidates when the keyed check decides its absent step) are explained by a table environment
against a table with the events view's schema (the event fields with the flags, then a
``rowtime`` with a watermark, as :func:`seamwatch.jobs.pipeline.create_event_views` makes it).
Explaining parses, validates and optimizes the plan, which is where the job's own start would
fail; it reads no data. It costs a JVM start and about a second per rule.
"""

from __future__ import annotations

from typing import Any

from seamwatch.jobs.javaudf import register_recent_list
from seamwatch.jobs.runtime import create_environments
from seamwatch.rules.compiler import compile_absence_candidates, compile_rule
from seamwatch.rules.rulebook import Rule
from seamwatch.udfs.records import EVENT_FIELDS
from seamwatch.yamlfile import Locator

CHECK_VIEW = "events"


def events_table_ddl(name: str = CHECK_VIEW) -> str:
    """A table with the events view's columns, rowtime and watermark (no data is read)."""
    columns = [f"`{field}` {sql_type}" for field, sql_type in EVENT_FIELDS]
    return (
        f"CREATE TEMPORARY TABLE {name} (\n  "
        + ",\n  ".join(columns)
        + ",\n  rowtime AS TO_TIMESTAMP_LTZ(event_time, 3),\n"
        "  WATERMARK FOR rowtime AS rowtime\n"
        ") WITH ('connector' = 'datagen')"
    )


def rule_statements(rule: Rule, view: str = CHECK_VIEW) -> list[str]:
    """The statements the job runs for ``rule`` (each as it is inside the decisions query)."""
    statements = [compile_rule(rule, view)]
    candidates = compile_absence_candidates([rule], view)
    if candidates is not None:
        statements.append(candidates)
    return statements


def flink_reason(exc: BaseException) -> str:
    """Flink's own message, on one line (not the Java stack): the top exception's (the
    planner's "SQL validation failed. From line ...: <reason>"), else the last cause's."""
    java = getattr(exc, "java_exception", None)
    text = str(java) if java is not None else ""
    text = "\n".join([text, str(exc)])
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    causes = [line.split("Caused by:", 1)[1] for line in lines if line.startswith("Caused by:")]
    messages = [line[1:] for line in lines if line.startswith(": ")]
    exceptions = [line for line in lines if "Exception: " in line and not line.startswith("at ")]
    if messages:
        chosen = messages[0].strip()
    elif causes:
        chosen = causes[-1].strip()
    else:
        chosen = (exceptions or lines or [""])[0]
    # "org.apache.calcite...ContextException: From line 1 ...: Column ..." -> the message
    head, sep, rest = chosen.partition(": ")
    if sep and "." in head and " " not in head:
        chosen = rest
    return chosen[:500]


def check_rules_sql(located: list[tuple[Rule, Locator]], t_env: Any | None = None) -> None:
    """Have Flink plan every rule's SQL; the first it refuses raises
    :class:`~seamwatch.yamlfile.ConfigError` naming the rule file, the line of its steps and
    Flink's reason."""
    if not located:
        return
    if t_env is None:
        _env, t_env = create_environments()
    t_env.execute_sql(events_table_ddl()).wait()
    register_recent_list(t_env)
    for rule, locator in located:
        try:
            statements = rule_statements(rule)
        except ValueError as exc:
            raise locator.error(("steps",), f"cannot compile the rule: {exc}") from exc
        for statement in statements:
            try:
                t_env.explain_sql(statement)
            except Exception as exc:  # Flink's errors come as py4j / pyflink exceptions
                raise locator.error(
                    ("steps",), f"Flink refuses the SQL this rule compiles to: {flink_reason(exc)}"
                ) from exc


__all__ = ["check_rules_sql", "events_table_ddl", "flink_reason", "rule_statements"]
