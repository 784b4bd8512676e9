"""Rule -> MATCH_RECOGNIZE: the SQL carries the rule's window, steps and constraints."""

from __future__ import annotations

from pathlib import Path

from seamwatch.jobs.settings import DEFAULT_RULES_DIR
from seamwatch.rules.compiler import (
    RECENT_LIST_FUNCTION,
    compile_absence_catalog,
    compile_catalog,
    compile_rule,
)
from seamwatch.rules.rulebook import Rule, load_rule, load_rules
from seamwatch.sqltext import sql_interval, sql_literal


def _field_rule() -> Rule:
    return load_rule(DEFAULT_RULES_DIR / "okta_new_country_saml_access_key.yaml")


def test_a_filler_refuses_what_the_next_step_accepts_so_steps_bind_earliest() -> None:
    sql = compile_rule(_field_rule())
    f0 = sql[sql.index("F0 AS ") : sql.index("S1 AS ")]
    assert f0.startswith("F0 AS NOT (\n        COALESCE(")
    assert "action IN ('AssumeRoleWithSAML', 'AssumeRole')" in f0
    assert "src_ip = S0.src_ip" in f0
    f1 = sql[sql.index("F1 AS ") : sql.index("S2 AS ")]
    assert "action = 'CreateAccessKey'" in f1


def test_a_define_reads_the_row_itself_and_names_only_earlier_steps() -> None:
    # Flink reads S0.x in a DEFINE from the partial match's events (extracted from the shared
    # buffer on each evaluation); an unqualified column is the row being matched.
    sql = compile_rule(_field_rule())
    defines = sql[sql.index("DEFINE") :]
    assert "S1.src_ip" not in defines and "F0.src_ip" not in defines
    assert "S0.new_country" not in defines
    assert "src_ip = S0.src_ip" in defines


def test_a_counted_middle_step_keeps_an_unconditional_filler(tmp_path: Path) -> None:
    path = tmp_path / "counted.yaml"
    path.write_text(
        "id: counted-middle\ntitle: t\ndescription: d\ntechniques: [T1110]\n"
        "severity: low\nwithin: 1h\nsteps:\n"
        "  - {name: login, source: okta, where: {action: user.session.start}}\n"
        "  - name: denied\n    source: okta\n    count: 3\n"
        "    where: {action: user.mfa.okta_verify.deny_push}\n"
        "  - {name: key, source: cloudtrail, where: {action: CreateAccessKey}}\n"
    )
    sql = compile_rule(load_rule(path))
    # The run starts at C1 (a row after one it does not accept, or a new half-window).
    assert "PATTERN (S0 F0*? C1 S1{2,}? F1*? S2)" in sql
    assert "F0 AS" not in sql
    # The filler after the run refuses the key (earliest binding) and the run's own rows.
    f1 = sql[sql.index("F1 AS ") : sql.index("S2 AS ")]
    assert "action = 'CreateAccessKey'" in f1
    assert "action = 'user.mfa.okta_verify.deny_push'" in f1
    # Only a first step's runs are held to their starts: a later one runs inside a match.
    assert "run_start" not in sql


def test_field_rule_compiles_to_one_match_recognize_with_its_window() -> None:
    sql = compile_rule(_field_rule())
    assert sql.count("MATCH_RECOGNIZE") == 1
    assert "PARTITION BY entity_id" in sql
    assert "ORDER BY rowtime" in sql
    assert "PATTERN (S0 F0*? S1 F1*? S2) WITHIN INTERVAL '0 00:15:00' DAY TO SECOND" in sql
    assert "src_ip = S0.src_ip" in sql
    assert "S0 AS source IN ('okta') AND action = 'user.session.start'" in sql
    assert "new_country IS TRUE" in sql
    s1 = "S1 AS source IN ('cloudtrail') AND action IN ('AssumeRoleWithSAML', 'AssumeRole')"
    assert s1 in sql


def test_prefilter_keeps_only_events_a_step_can_match() -> None:
    sql = compile_rule(_field_rule())
    where = sql.split("WHERE", 1)[1].split(")\nMATCH_RECOGNIZE", 1)[0]
    assert where.count(") OR (") == 2
    assert "action = 'CreateAccessKey'" in where


def test_gap_and_differ_become_define_conditions(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(
        "id: r\ntitle: t\ntechniques: [T1550.004]\nseverity: medium\nwithin: 300s\n"
        "group_by: src_ip\n"
        "steps:\n  - name: a\n    where: {source: okta}\n"
        "  - name: b\n    where: {source: cloudtrail}\n    differ: {country: a}\n    max_gap: 90s\n"
    )
    sql = compile_rule(load_rule(path))
    assert "country <> S0.country" in sql
    assert "event_time - S0.event_time <= 90000" in sql
    assert "PARTITION BY src_ip" in sql
    assert "WITHIN INTERVAL '0 00:05:00' DAY TO SECOND" in sql


def test_literals_are_quoted() -> None:
    assert sql_literal("it's") == "'it''s'"
    assert sql_literal(True) == "TRUE"
    assert sql_literal(3) == "3"
    assert sql_interval(90) == "INTERVAL '0 00:01:30' DAY TO SECOND"
    assert sql_interval(2 * 86400 + 43200) == "INTERVAL '2 12:00:00' DAY TO SECOND"


def test_catalog_is_one_union_of_all_rules_and_absence_rules_are_apart() -> None:
    from seamwatch.rules.compiler import absence_in_sql

    rules = load_rules(DEFAULT_RULES_DIR)
    # Rules whose matches are alerts as they come, and those the keyed check decides.
    plain = [r for r in rules if r.absent_step is None or absence_in_sql(r)]
    absent = [r for r in rules if r.absent_step is not None and not absence_in_sql(r)]
    assert plain and absent
    sql = compile_catalog(rules)
    assert sql.count("MATCH_RECOGNIZE") == len(plain)
    assert sql.count("UNION ALL") == len(plain) - 1
    present = compile_absence_catalog(rules)
    assert present is not None
    assert present.count("MATCH_RECOGNIZE") == len(absent)
    assert compile_absence_catalog(plain) is None


def test_counted_step_is_a_quantifier_with_first_and_last_events(tmp_path: Path) -> None:
    rule = load_rule(DEFAULT_RULES_DIR / "okta_mfa_push_fatigue.yaml")
    sql = compile_rule(rule)
    assert "PATTERN (C0 S0{4,}? F0*? S1)" in sql
    assert "'event_id' VALUE C0.event_id" in sql and "LAST(S0.event_id)" in sql
    assert "COUNT(S0.event_id) + 1" in sql
    # A run starts only after a row the step does not accept, or at a new half-window.
    assert "C0 AS " in sql and "AND run_start_0," in sql
    assert "LAG(event_time) OVER w / 300000 AS run_start_0" in sql  # half of 10 minutes
    f0 = sql[sql.index("F0 AS ") : sql.index("S1 AS ")]
    assert "action = 'user.mfa.okta_verify.deny_push'" in f0


def test_absence_rule_matches_only_its_present_steps() -> None:
    rule = load_rule(DEFAULT_RULES_DIR / "aws_console_login_without_okta_sso.yaml")
    sql = compile_rule(rule)
    assert "PATTERN (S0)" in sql
    # The absent SSO is no pattern variable: it only feeds the window the first step reads.
    define = sql.split("DEFINE", 1)[1]
    assert "ConsoleLogin" in define and "user.authentication.sso" not in define


def test_context_rule_aggregates_the_groups_authentications_of_its_period() -> None:
    rule = load_rule(DEFAULT_RULES_DIR / "cloudtrail_logging_disabled.yaml")
    assert rule.context == 3600
    sql = compile_rule(rule)
    over = sql.split("OVER (", 1)[1].split(") AS auth_context", 1)[0]
    assert "PARTITION BY entity_id ORDER BY rowtime" in over
    # A row bound, not a time range: a service account's thousand role assumptions an hour
    # cannot grow one group's window (the alert keeps those inside the hour). The Java
    # aggregate keeps the last 21 rows (the current one and 20 before it) and lists them only
    # for the rule's own events (tests/test_recent_list.py).
    assert "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW" in over
    call = sql.split(f"{RECENT_LIST_FUNCTION}(", 1)[1].split(" OVER (", 1)[0]
    assert call.startswith("21, CASE WHEN ")
    listed, wanted = call.split(" END, ", 1)
    assert "action LIKE 'user.authentication.%'" in listed
    assert "action IN ('AssumeRole', 'AssumeRoleWithSAML'" in listed
    assert wanted.startswith("(source IN ('cloudtrail') AND action IN ('StopLogging'")
    # Authentications feed the window, but only the rule's own events reach the matcher.
    inner, outer = sql.split(") AS auth_context", 1)[1].split(")\n  WHERE ", 1)
    assert "OR (source = 'okta' AND" in inner
    assert outer.startswith("(source IN ('cloudtrail') AND action IN ('StopLogging'")
    assert "'auth_context' VALUE S0.auth_context" in sql
    assert RECENT_LIST_FUNCTION not in compile_rule(_field_rule())


def test_an_absent_first_step_is_decided_in_the_rules_own_sql() -> None:
    from seamwatch.rules.compiler import absence_in_sql, compile_absence_candidates

    rules = {rule.id: rule for rule in load_rules(DEFAULT_RULES_DIR)}
    console = rules["aws-console-login-without-okta-sso"]
    mfa = rules["okta-mfa-factor-removed-not-restored"]
    assert absence_in_sql(console) and not absence_in_sql(mfa)
    sql = compile_rule(console)
    assert "LAST_VALUE(CASE WHEN source IN ('okta') AND action = 'user.authentication.sso'" in sql
    assert "(absent_before IS NULL OR event_time - absent_before > 900000)" in sql
    candidates = compile_absence_candidates(list(rules.values()))
    assert candidates is not None
    assert console.id not in candidates and mfa.id in candidates


def test_an_absent_middle_step_is_decided_before_the_next_step_in_sql() -> None:
    from seamwatch.rules.compiler import absence_in_sql, compile_absence_candidates

    rules = {rule.id: rule for rule in load_rules(DEFAULT_RULES_DIR)}
    golden = rules["golden-saml-key-theft-then-federation-without-adfs"]
    assert golden.absent_step is golden.steps[1] and absence_in_sql(golden)
    sql = compile_rule(golden)
    assert "PATTERN (S0 F0*? S1) WITHIN INTERVAL '7 00:00:00' DAY TO SECOND" in sql
    assert (
        "LAST_VALUE(CASE WHEN source IN ('windows', 'entra', 'okta') "
        "AND action IN ('adfs_sign_in', 'user.authentication.sso')"
    ) in sql
    # The federation (S1) and the filler before it need no AD FS sign-in in the 15 minutes
    # before; the key theft (S0) does not.
    s0 = sql[sql.index("S0 AS ") : sql.index("F0 AS ")]
    f0 = sql[sql.index("F0 AS ") : sql.index("S1 AS ")]
    s1 = sql[sql.index("S1 AS ") :]
    assert "absent_before" not in s0
    assert "event_time - absent_before > 900000" in f0
    assert "event_time - absent_before > 900000" in s1
    candidates = compile_absence_candidates(list(rules.values()))
    assert candidates is not None and golden.id not in candidates
    assert golden.id in compile_catalog(list(rules.values()))
