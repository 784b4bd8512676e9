"""Compile a rule to one Flink SQL ``MATCH_RECOGNIZE`` statement.

Shape of the generated SQL (``seamwatch rules compile`` prints it)::

    SELECT '<rule id>' AS rule_id, group_key, events FROM (
      SELECT * FROM <view> WHERE (<step 0>) OR (<step 1>) ...   -- only events a step can match
    ) MATCH_RECOGNIZE (
      PARTITION BY <group_by> ORDER BY rowtime
      MEASURES <group_by> ... JSON_ARRAY(<one JSON object per step>) AS events
      ONE ROW PER MATCH AFTER MATCH SKIP PAST LAST ROW
      PATTERN (S0 F0*? S1 F1*? S2) WITHIN INTERVAL '0 00:15:00' DAY TO SECOND
      DEFINE S0 AS <step 0>, S1 AS <step 1> AND S1.src_ip = S0.src_ip, ...
    )

Flink's CEP concatenation is strict, so the reluctant fillers ``Fi*?`` let other events of the
same group stand between two steps. Every rule yields the same three columns, so all rules can
be unioned into one alert stream. Values from rule files are quoted here and field names were
checked against the event schema when the rule loaded.
"""

from __future__ import annotations

from seamwatch.jobs.rulebook import FIELD_TYPES, Rule, Step

# Event fields copied into each matched event of an alert.
ALERT_EVENT_FIELDS = (
    "event_id",
    "source",
    "event_time",
    "action",
    "outcome",
    "principal",
    "principal_type",
    "src_ip",
    "src_host",
    "country",
    "city",
    "user_agent",
    "access_key_id",
    "role_arn",
    "target_user",
    "entity_id",
    "entity_type",
    "resolved_by",
    "resolved_via",
    "confidence",
    "new_country",
    "raw_ref",
)


def sql_literal(value: str | bool | int | float) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + value.replace("'", "''") + "'"


def sql_interval(seconds: int) -> str:
    """A day-to-second interval literal (Flink refuses ``INTERVAL '900' SECOND``)."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"INTERVAL '{days} {hours:02d}:{minutes:02d}:{secs:02d}' DAY TO SECOND"


def _predicate(step: Step, var: str | None) -> str:
    """The step's own conditions; ``var`` qualifies columns inside DEFINE."""
    prefix = f"{var}." if var else ""
    parts: list[str] = []
    if step.source:
        sources = ", ".join(sql_literal(s) for s in step.source)
        parts.append(f"{prefix}source IN ({sources})")
    for field, value in step.where.items():
        column = f"{prefix}{field}"
        if isinstance(value, list):
            parts.append(f"{column} IN ({', '.join(sql_literal(v) for v in value)})")
        elif FIELD_TYPES[field] == "BOOLEAN":
            parts.append(f"{column} IS {sql_literal(value)}")
        else:
            parts.append(f"{column} = {sql_literal(value)}")
    return " AND ".join(parts) if parts else "TRUE"


def _event_json(step: Step, var: str) -> str:
    pairs = [f"'step' VALUE {sql_literal(step.name)}"]
    pairs += [f"'{field}' VALUE {var}.{field}" for field in ALERT_EVENT_FIELDS]
    return "JSON_OBJECT(" + ", ".join(pairs) + ")"


def compile_rule(rule: Rule, view: str = "events") -> str:
    """The rule's ``SELECT`` statement over ``view`` (a table with a ``rowtime`` attribute)."""
    names = {step.name: f"S{i}" for i, step in enumerate(rule.steps)}
    prefilter = " OR ".join(f"({_predicate(step, None)})" for step in rule.steps)

    pattern: list[str] = []
    defines: list[str] = []
    for i, step in enumerate(rule.steps):
        var = names[step.name]
        if i:
            pattern.append(f"F{i - 1}*?")
        pattern.append(var)
        conditions = [_predicate(step, var)]
        for field, other in step.same.items():
            conditions.append(f"{var}.{field} = {names[other]}.{field}")
        for field, other in step.differ.items():
            conditions.append(f"{var}.{field} <> {names[other]}.{field}")
        if step.max_gap is not None:
            previous = f"S{i - 1}"
            conditions.append(f"{var}.event_time - {previous}.event_time <= {step.max_gap * 1000}")
        defines.append(f"    {var} AS " + "\n      AND ".join(conditions))

    events = ",\n        ".join(_event_json(step, names[step.name]) for step in rule.steps)
    group = rule.group_by
    return (
        f"SELECT {sql_literal(rule.id)} AS rule_id, CAST({group} AS STRING) AS group_key, "
        f"events\n"
        f"FROM (\n  SELECT * FROM {view}\n  WHERE {prefilter}\n)\n"
        f"MATCH_RECOGNIZE (\n"
        f"  PARTITION BY {group}\n"
        f"  ORDER BY rowtime\n"
        f"  MEASURES\n"
        f"    JSON_ARRAY(\n        {events}\n    ) AS events\n"
        f"  ONE ROW PER MATCH\n"
        f"  AFTER MATCH SKIP PAST LAST ROW\n"
        f"  PATTERN ({' '.join(pattern)}) WITHIN {sql_interval(rule.within)}\n"
        f"  DEFINE\n" + ",\n".join(defines) + "\n)"
    )


def compile_catalog(rules: list[Rule], view: str = "events") -> str:
    """All rules as one ``UNION ALL`` statement: one alert stream for the whole catalog."""
    return "\nUNION ALL\n".join(f"({compile_rule(rule, view)})" for rule in rules)
