"""Compile a rule to one Flink SQL ``MATCH_RECOGNIZE`` statement.

Shape of the generated SQL (``seamwatch rules compile`` prints it)::

    SELECT '<rule id>' AS rule_id, group_key, events FROM (
      SELECT * FROM <view> WHERE (<step 0>) OR (<step 1>) ...   -- only events a step can match
    ) MATCH_RECOGNIZE (
      PARTITION BY <group_by> ORDER BY rowtime
      MEASURES <group_by> ... JSON_ARRAY(<one JSON object per step>) AS events
      ONE ROW PER MATCH AFTER MATCH SKIP PAST LAST ROW
      PATTERN (S0 F0*? S1 F1*? S2) WITHIN INTERVAL '0 00:15:00' DAY TO SECOND
      DEFINE S0 AS <step 0>, F0 AS NOT COALESCE(<step 1 on F0>, FALSE),
             S1 AS <step 1> AND S1.src_ip = S0.src_ip, ...
    )

A rule with ``context`` first gives each of its own events an ``auth_context`` column: the
group's authentication events among its last rows up to that event (one JSON object each,
joined by commas), aggregated by an event-time ``OVER`` window with the Java aggregate
``RecentList`` (:data:`RECENT_LIST_FUNCTION`: what ``LISTAGG`` over the last rows gives, built
only for the rows that read it; a row count bounds its state and string, the alert assembly
keeps those inside the context period). Only the rule's own events then go on to the
``MATCH_RECOGNIZE``, whose first step carries the column into the alert.

Flink's CEP concatenation is strict, so the reluctant fillers ``Fi*?`` let other events of the
same group stand between two steps. A filler accepts only events the next step would not, so a
step binds the earliest qualifying event after the previous one (as EQL sequences do; without
it, two bindings complete at the same event and Flink emits either). A counted next step keeps
an unconditional filler. Every rule yields the same three columns, so all rules can
be unioned into one alert stream. Values from rule files are quoted here and field names were
checked against the event schema when the rule loaded.
"""

from __future__ import annotations

from seamwatch.rules.relevance import (
    AWS_AUTHENTICATIONS,
    ENTRA_AUTHENTICATIONS,
    OKTA_AUTHENTICATION_PREFIXES,
)
from seamwatch.rules.rulebook import FIELD_TYPES, Rule, Step
from seamwatch.sqltext import sql_interval, sql_literal
from seamwatch.udfs.alerts import CONTEXT_EVENT_KEYS, CONTEXT_KEY, MAX_CONTEXT_EVENTS

#: The SQL name of the Java aggregate ``io.seamwatch.udf.RecentList`` that rules with a
#: ``context`` call (registered by :func:`seamwatch.jobs.javaudf.register_recent_list`).
RECENT_LIST_FUNCTION = "seamwatch_recent_list"

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
    "new_ip",
    "new_asn",
    "new_device",
    "new_role",
    "impossible_travel",
    "travel_speed_kmh",
    "asn",
    "as_org",
    "device",
    "geo_source",
    "raw_ref",
    "account_id",
    "region",
    "service",
    "error_code",
    # Entra ID and Windows detail that is a column of the event row (records.EVENT_FIELDS); the
    # rest of their detail (auth method, conditional access, ...) is not carried by the job.
    "host",
    "logon_type",
    "ticket_encryption",
    "target_group",
    "risk_level",
    "arrived_at",
)


def _predicate(step: Step) -> str:
    """The step's own conditions, on the row's columns (unqualified)."""
    parts: list[str] = []
    if step.source:
        sources = ", ".join(sql_literal(s) for s in step.source)
        parts.append(f"source IN ({sources})")
    for field, value in step.where.items():
        if isinstance(value, list):
            parts.append(f"{field} IN ({', '.join(sql_literal(v) for v in value)})")
        elif FIELD_TYPES[field] == "BOOLEAN":
            parts.append(f"{field} IS {sql_literal(value)}")
        else:
            parts.append(f"{field} = {sql_literal(value)}")
    return " AND ".join(parts) if parts else "TRUE"


def _event_json(step: Step, var: str, context: bool = False) -> list[str]:
    """JSON object(s) of a matched step: one event, or the first and last of a counted step
    (its run's first row is bound to ``C<i>``, the others to ``S<i>``, see
    :func:`compile_rule`).

    ``context``: the first event also carries the rule's authentication context (a string of
    comma-separated JSON objects, see :func:`authentication_sql`).
    """
    fields = (*ALERT_EVENT_FIELDS, CONTEXT_KEY) if context else ALERT_EVENT_FIELDS
    head = [f"'step' VALUE {sql_literal(step.name)}"]
    if step.count is None:
        return [_json_object(head, [(f, f"{var}.{f}") for f in fields])]
    head.append(f"'count' VALUE CAST(COUNT({var}.event_id) + 1 AS BIGINT)")
    first = _run_start_var(var)
    return [
        _json_object(head, [(f, f"{first}.{f}") for f in fields]),
        _json_object(head, [(f, f"LAST({var}.{f})") for f in ALERT_EVENT_FIELDS]),
    ]


def _json_object(head: list[str], values: list[tuple[str, str]]) -> str:
    """``JSON_OBJECT`` of the ``head`` pairs, then each ``(key, expression)`` of ``values``."""
    pairs = [*head, *(f"'{key}' VALUE {expression}" for key, expression in values)]
    return "JSON_OBJECT(" + ", ".join(pairs) + ")"


def _run_start_var(var: str) -> str:
    """The pattern variable of a counted step's first row (``S2`` -> ``C2``)."""
    return "C" + var[1:]


# Whether a row may start the run of a counted first step (:func:`_with_run_starts`).
RUN_START_COLUMN = "run_start_0"


def _with_run_starts(rule: Rule, rows: str) -> str:
    """``rows`` (the rule's input) with a :data:`RUN_START_COLUMN` when the rule's first step
    is counted: every row it accepts would start a partial match (a later counted step's runs
    start only inside a match of the steps before it).

    The first step's run may start only at a row that follows one the step does not accept
    (its own conditions, the previous row of the group in the rule's input), or at the first
    row of a new half-window (``within / 2`` of event time) while a run goes on. Any row
    could start a run before; then a burst of ``n`` accepted rows held ``n`` partial matches,
    each evaluated on every row: an attacker's password spray from one address, a few
    thousand sign-ins, stalled the matcher for minutes. Now a run holds at most three. What
    it gives up: in a run longer than the window, the alert's first row is the first one of
    the earliest half-window still inside the window, not necessarily the earliest row inside
    it, and fewer than ``count`` rows since then is no match.
    """
    if rule.present_steps[0].count is None:
        return rows
    half = rule.within * 1000 // 2
    accepted = f"CASE WHEN {_predicate(rule.present_steps[0])} THEN TRUE ELSE FALSE END"
    column = (
        f"COALESCE(NOT LAG({accepted}) OVER w, TRUE)"
        f" OR event_time / {half} <> LAG(event_time) OVER w / {half}"
        f" AS {RUN_START_COLUMN}"
    )
    return (
        f"  SELECT *, {column}\n"
        f"  FROM (\n{rows}\n  )\n"
        f"  WINDOW w AS (PARTITION BY {rule.group_by} ORDER BY rowtime)"
    )


def authentication_sql() -> str:
    """SQL condition for an authentication event (the ones the behaviour baseline learns from,
    :func:`seamwatch.rules.relevance.is_authentication`)."""
    for prefix in OKTA_AUTHENTICATION_PREFIXES:
        if "%" in prefix or "_" in prefix:
            raise ValueError(f"prefix {prefix!r} holds a LIKE wildcard")
    okta = " OR ".join(
        f"action LIKE {sql_literal(prefix + '%')}" for prefix in OKTA_AUTHENTICATION_PREFIXES
    )
    aws = ", ".join(sql_literal(action) for action in sorted(AWS_AUTHENTICATIONS))
    entra = ", ".join(sql_literal(action) for action in sorted(ENTRA_AUTHENTICATIONS))
    return (
        f"(source = 'okta' AND ({okta})) OR (source = 'cloudtrail' AND action IN ({aws}))"
        f" OR (source = 'entra' AND action IN ({entra}))"
    )


ABSENT_BEFORE = "absent_before"


def absence_in_sql(rule: Rule) -> bool:
    """Whether the rule's absent step is decided in its own SQL, not by the keyed check.

    True for an absent *first* step ("no such event in the window before the sequence") whose
    constraints compare it only with the first present step, and only for equality
    (``same``), on a rule without a ``context``, and for an absent step *between* two present
    steps ("no such event in the window before the next step"; it compares no fields, the rule
    has no ``context``): then the latest such event before each row of the group (with the same
    compared fields) is an event-time ``OVER`` aggregate, and the present step after the absent
    one requires it to be missing or older than the window. It is exact in event
    time (the window sorts rows by their time as the watermark passes them, so an absent-step
    event that arrives late but within the bound still counts) and sends no candidate into
    Python. Every other absent step goes to :class:`seamwatch.jobs.operators.MatchesToAlerts`.
    """
    step = rule.absent_step
    if step is None or step.differ or rule.context is not None:
        return False
    if step is rule.steps[-1]:
        return False
    if step is not rule.steps[0]:
        return not step.same
    first = rule.present_steps[0].name
    return all(other == first for other in step.same.values())


def _checked_before(rule: Rule) -> int | None:
    """The present step (its index among the present steps) that requires no absent-step event
    in the window before it, when the rule's SQL decides the absence."""
    if not absence_in_sql(rule):
        return None
    step = rule.absent_step
    assert step is not None
    # The present step that follows the absent one has the absent step's own index.
    return next(i for i, candidate in enumerate(rule.steps) if candidate is step)


def _absent_before_input(rule: Rule, view: str, prefilter: str) -> str:
    step = rule.absent_step
    assert step is not None
    absent = _predicate(step)
    partition = ", ".join([rule.group_by, *sorted(step.same)])
    return (
        f"  SELECT * FROM (\n"
        f"    SELECT *, LAST_VALUE(CASE WHEN {absent} THEN event_time END) OVER (\n"
        f"      PARTITION BY {partition} ORDER BY rowtime\n"
        f"      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW\n"
        f"    ) AS {ABSENT_BEFORE}\n"
        f"    FROM {view}\n"
        f"    WHERE ({prefilter}) OR ({absent})\n"
        f"  )\n"
        f"  WHERE {prefilter}"
    )


def _rule_input(rule: Rule, view: str, prefilter: str) -> str:
    """The rows the rule's ``MATCH_RECOGNIZE`` reads: its own events, with their context."""
    if absence_in_sql(rule):
        return _absent_before_input(rule, view, prefilter)
    if rule.context is None:
        return f"  SELECT * FROM {view}\n  WHERE {prefilter}"
    auth = authentication_sql()
    entry = ", ".join(f"'{field}' VALUE {field}" for field in CONTEXT_EVENT_KEYS)
    listed = f"CASE WHEN {auth} THEN JSON_OBJECT({entry}) END"
    # The current row and the MAX_CONTEXT_EVENTS before it; the list only for the rule's events.
    call = f"{RECENT_LIST_FUNCTION}({MAX_CONTEXT_EVENTS + 1}, {listed}, {prefilter})"
    return (
        f"  SELECT * FROM (\n"
        f"    SELECT *, {call} OVER (\n"
        f"      PARTITION BY {rule.group_by} ORDER BY rowtime\n"
        f"      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW\n"
        f"    ) AS {CONTEXT_KEY}\n"
        f"    FROM {view}\n"
        f"    WHERE ({prefilter}) OR {auth}\n"
        f"  )\n"
        f"  WHERE {prefilter}"
    )


def _step_conditions(rule: Rule, i: int) -> list[str]:
    """What present step ``i`` requires of the row being matched (by ``S<i>``, or by the
    filler before or after it when asking whether the row is one the step accepts).

    The row's own columns are named without a pattern variable: Flink reads an unqualified
    column of ``DEFINE`` from the row itself, but ``S<i>.x`` (even in ``S<i>``'s own
    definition) from the events of the partial match, extracted from the matcher's shared
    buffer on every evaluation, for every partial match. Only the comparisons with earlier
    steps (``same``, ``differ``, ``max_gap``) name an earlier step's row.
    """
    steps = rule.present_steps
    names = {step.name: f"S{n}" for n, step in enumerate(steps)}
    step = steps[i]
    conditions = [_predicate(step)]
    for field, other in step.same.items():
        conditions.append(f"{field} = {names[other]}.{field}")
    for field, other in step.differ.items():
        conditions.append(f"{field} <> {names[other]}.{field}")
    if step.max_gap is not None:
        conditions.append(f"event_time - S{i - 1}.event_time <= {step.max_gap * 1000}")
    if i == _checked_before(rule):
        absent = rule.absent_step
        assert absent is not None
        window = absent.within
        assert window is not None
        conditions.append(
            f"({ABSENT_BEFORE} IS NULL OR event_time - {ABSENT_BEFORE} > {window * 1000})"
        )
    return conditions


def _filler(rule: Rule, i: int) -> str | None:
    """The DEFINE of ``F<i-1>``, the events passed over between present steps ``i - 1`` and
    ``i`` (None: any event).

    - Earliest binding: an event step ``i`` accepts cannot be passed over (unless step ``i`` is
      counted: its run may start later).
    - A counted step ``i - 1`` runs as long as its events come: an event it accepts cannot be
      passed over either, so its run is every event it accepts in a row. Without this, each run
      of ``n`` accepted events could end after any of them (one partial match per way to
      split the run into the count and the filler), and a burst of them (a password spray
      from one address) made the matcher's work grow with the square of the burst per
      starting event: 200 failed sign-ins held one task for minutes.
    """
    var = f"F{i - 1}"
    refused: list[str] = []
    if rule.present_steps[i].count is None:
        refused.append("\n        AND ".join(_step_conditions(rule, i)))
    if rule.present_steps[i - 1].count is not None:
        refused.append("\n        AND ".join(_step_conditions(rule, i - 1)))
    if not refused:
        return None
    either = "\n        OR ".join(f"COALESCE({condition}, FALSE)" for condition in refused)
    return f"    {var} AS NOT (\n        {either})"


def compile_rule(rule: Rule, view: str = "events") -> str:
    """The rule's ``SELECT`` statement over ``view`` (a table with a ``rowtime`` attribute).

    For a rule with an absent step this matches the present steps only; the absence is
    decided in this statement when :func:`absence_in_sql` says so, else afterwards, in event
    time, by the job (see :func:`compile_absence_candidates`).
    """
    steps = rule.present_steps
    names = {step.name: f"S{i}" for i, step in enumerate(steps)}
    prefilter = " OR ".join(f"({_predicate(step)})" for step in steps)

    pattern: list[str] = []
    defines: list[str] = []
    for i, step in enumerate(steps):
        var = names[step.name]
        if i:
            pattern.append(f"F{i - 1}*?")
            if filler := _filler(rule, i):
                defines.append(filler)
        conditions = _step_conditions(rule, i)
        if step.count:
            first = _run_start_var(var)
            pattern.append(f"{first} {var}{{{step.count - 1},}}?")
            starts = [*conditions, *([RUN_START_COLUMN] if i == 0 else [])]
            defines.append(f"    {first} AS " + "\n      AND ".join(starts))
        else:
            pattern.append(var)
        defines.append(f"    {var} AS " + "\n      AND ".join(conditions))

    events = ",\n        ".join(
        obj
        for i, step in enumerate(steps)
        for obj in _event_json(step, names[step.name], context=i == 0 and rule.context is not None)
    )
    group = rule.group_by
    return (
        f"SELECT {sql_literal(rule.id)} AS rule_id, CAST({group} AS STRING) AS group_key, "
        f"events\n"
        f"FROM (\n{_with_run_starts(rule, _rule_input(rule, view, prefilter))}\n)\n"
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


def _union(statements: list[str]) -> str:
    return "\nUNION ALL\n".join(f"({statement})" for statement in statements)


def compile_catalog(rules: list[Rule], view: str = "events") -> str:
    """All rules whose matches are alerts as they are (no absent step, or one decided in SQL)
    as one ``UNION ALL``: one match stream for them all."""
    return _union([compile_rule(rule, view) for rule in rules if not _checked_later(rule)])


def _checked_later(rule: Rule) -> bool:
    """A rule whose matches still wait for the keyed absence check."""
    return rule.absent_step is not None and not absence_in_sql(rule)


def compile_absence_catalog(rules: list[Rule], view: str = "events") -> str | None:
    """The present-step matches of the rules with absent steps, as one ``UNION ALL``.

    Their absent steps' events are selected by :func:`compile_absence_candidates`.
    """
    chosen = [rule for rule in rules if _checked_later(rule)]
    if not chosen:
        return None
    return _union([compile_rule(rule, view) for rule in chosen])


def compile_absence_candidates(rules: list[Rule], view: str = "events") -> str | None:
    """Events that fill the absent steps, for the absence check: ``rule_id, group_key,
    event_time, event`` (``event``: the step name, the event id and the fields the step's
    ``same``/``differ`` constraints compare, as JSON), one ``UNION ALL``. The group key is the
    rule's ``group_by`` field as text, as the rule's ``MATCH_RECOGNIZE`` keys its matches.
    """
    statements = []
    for rule in rules:
        step = rule.absent_step
        if step is None or not _checked_later(rule):
            continue
        compared = sorted({*step.same, *step.differ})
        pairs = [f"'step' VALUE {sql_literal(step.name)}", "'event_id' VALUE event_id"]
        pairs += [f"'{name}' VALUE {name}" for name in compared]
        event = "JSON_OBJECT(" + ", ".join(pairs) + " NULL ON NULL)"
        statements.append(
            f"SELECT {sql_literal(rule.id)} AS rule_id, "
            f"CAST({rule.group_by} AS STRING) AS group_key, event_time, {event} AS event\n"
            f"FROM {view}\nWHERE {_predicate(step)}"
        )
    return _union(statements) if statements else None


# The kinds of row of the decisions query (the first column): a match of a rule whose matches
# are alerts, a present-step match waiting for its absence check, an absent step's event.
MATCH = "M"
PRESENT = "P"
CANDIDATE = "C"


def compile_decisions(rules: list[Rule], view: str = "events") -> str:
    """Everything the keyed Python step after the matchers needs, as one query (so the events
    view is computed once for all of it): ``kind, rule_id, group_key, payload, event_time``.

    ``M``: the matches of rules whose matches are alerts as they are (no absent step, or one
    decided in their SQL); ``P``: the present-step matches of the other rules with an absent
    step; ``C``: the events that fill those absent steps (``payload`` is the candidate,
    ``event_time`` its time). See :class:`seamwatch.jobs.operators.MatchesToAlerts`.
    """
    parts = []
    if any(not _checked_later(rule) for rule in rules):
        parts.append(
            f"SELECT '{MATCH}' AS kind, rule_id, group_key, events AS payload, "
            f"CAST(NULL AS BIGINT) AS event_time FROM (\n{compile_catalog(rules, view)}\n)"
        )
    present = compile_absence_catalog(rules, view)
    candidates = compile_absence_candidates(rules, view)
    if present is not None and candidates is not None:
        parts.append(
            f"SELECT '{PRESENT}' AS kind, rule_id, group_key, events AS payload, "
            f"CAST(NULL AS BIGINT) AS event_time FROM (\n{present}\n)"
        )
        parts.append(
            f"SELECT '{CANDIDATE}' AS kind, rule_id, group_key, event AS payload, event_time "
            f"FROM (\n{candidates}\n)"
        )
    return "\nUNION ALL\n".join(parts)
