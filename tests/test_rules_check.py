"""``rules check`` refuses what ``run`` would refuse, with file, line and reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from seamwatch.cli.app import app
from seamwatch.jobs.rule_sql import check_rules_sql
from seamwatch.jobs.settings import DEFAULT_RULES_DIR
from seamwatch.rules.rulebook import load_located_rules, load_rules, parse_watermark
from seamwatch.yamlfile import ConfigError

runner = CliRunner()
FIELD_RULE = DEFAULT_RULES_DIR / "okta_new_country_saml_access_key.yaml"


def _catalog(tmp_path: Path, text: str | bytes) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    target = rules / "a.yaml"
    if isinstance(text, bytes):
        target.write_bytes(text)
    else:
        target.write_text(text)
    return rules


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_a_window_flink_cannot_hold_is_refused_at_load_with_its_line(tmp_path: Path) -> None:
    text = FIELD_RULE.read_text().replace("within: 15m", "within: 100d")
    rules = _catalog(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_rules(rules)
    assert caught.value.line == _line_of(text, "within: 100d")
    assert "99 days" in caught.value.reason
    result = runner.invoke(app, ["rules", "check", "--rules", str(rules)])
    assert result.exit_code == 2
    assert f"{rules / 'a.yaml'}:{_line_of(text, 'within: 100d')}:" in result.output
    assert "Traceback" not in result.output


def test_the_longest_window_flink_holds_loads(tmp_path: Path) -> None:
    text = FIELD_RULE.read_text().replace("within: 15m", "within: 99d")
    (rule,) = load_rules(_catalog(tmp_path, text))
    assert rule.within == 99 * 86400


def test_a_watermark_flink_cannot_hold_is_refused_before_the_job_starts(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="99 days"):
        parse_watermark("100d")
    assert parse_watermark("99d") == 99 * 86400
    result = runner.invoke(
        app,
        ["run", "--watermark", "cloudtrail=100d", "--output", str(tmp_path / "a.jsonl")],
    )
    assert result.exit_code == 2
    assert "watermark bound '100d'" in result.output and "99 days" in result.output
    assert not (tmp_path / "a.jsonl").exists()
    submitted = runner.invoke(app, ["submit", "--watermark", "cloudtrail=100d", "--dry-run"])
    assert submitted.exit_code == 2 and "99 days" in submitted.output


def test_a_rule_file_that_is_not_utf8_is_refused_with_its_line(tmp_path: Path) -> None:
    text = FIELD_RULE.read_bytes().replace(b"title: Okta", b"title: \xff\xfeOkta", 1)
    assert b"\xff" in text
    rules = _catalog(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_rules(rules)
    expected = text[: text.index(b"\xff")].count(b"\n") + 1
    assert caught.value.line == expected
    assert "not UTF-8" in caught.value.reason
    result = runner.invoke(app, ["rules", "check", "--rules", str(rules)])
    assert result.exit_code == 2
    assert f"{rules / 'a.yaml'}:{expected}: not UTF-8" in result.output
    assert "Traceback" not in result.output


@pytest.mark.flink
def test_flink_plans_every_shipped_rule_and_refuses_what_it_cannot_plan(tmp_path: Path) -> None:
    located = load_located_rules(DEFAULT_RULES_DIR)
    check_rules_sql(located)  # the shipped catalog plans
    # A rule the model would refuse, built past its validation: Flink itself must refuse it.
    rule, locator = located[0]
    step = rule.steps[0].model_copy(update={"where": {"no_such_field": ["x"]}})
    broken = rule.model_copy(update={"steps": [step, *rule.steps[1:]]})
    with pytest.raises(ConfigError) as caught:
        check_rules_sql([(broken, locator)])
    assert caught.value.path == str(locator.path)
    assert caught.value.line == locator.line_of(("steps",))
    # Calcite's own words (for an unknown column inside MATCH_RECOGNIZE: "Cycle detected during
    # type-checking"), on one line, not a Java stack.
    assert caught.value.reason.startswith("Flink refuses the SQL this rule compiles to: ")
    assert len(caught.value.reason) > 50 and "\n" not in caught.value.reason
    assert "\tat " not in caught.value.reason
