"""The rule language: what loads, and what is refused with file, line and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from seamwatch.jobs.settings import DEFAULT_RULES_DIR
from seamwatch.rules.rulebook import load_rule, load_rules, parse_duration
from seamwatch.yamlfile import ConfigError

GOOD = """\
id: demo-rule
title: Demo
techniques: [T1078.004]
severity: high
within: 15m
steps:
  - name: login
    source: okta
    where: {action: user.session.start, new_country: true}
  - name: assume
    source: [cloudtrail]
    where:
      action: [AssumeRoleWithSAML, AssumeRole]
    same: {src_ip: login}
    max_gap: 5m
"""


def _write(tmp_path: Path, text: str, name: str = "rule.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_good_rule_loads(tmp_path: Path) -> None:
    rule = load_rule(_write(tmp_path, GOOD))
    assert rule.within == 900
    assert [s.name for s in rule.steps] == ["login", "assume"]
    assert rule.steps[0].source == ["okta"]
    assert rule.steps[1].max_gap == 300
    assert rule.group_by == "entity_id"


def test_shipped_rules_load() -> None:
    rules = load_rules(DEFAULT_RULES_DIR)
    assert "okta-new-country-saml-access-key" in {r.id for r in rules}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("15m", 900), ("90s", 90), ("12h", 43200), ("2d", 172800), (" 5m ", 300)],
)
def test_durations(text: str, expected: int) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["15", "15 minutes", "0m", "-5m", "m", True])
def test_bad_durations_are_refused_with_their_text(text: object) -> None:
    with pytest.raises(ValueError, match=r"duration|positive"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("old", "new", "line", "reason"),
    [
        ("within: 15m", "within: 15 minutes", 5, "not a duration"),
        ("severity: high", "severity: severe", 4, "severity"),
        ("techniques: [T1078.004]", "techniques: [TA0001]", 3, "techniques"),
        (
            "where: {action: user.session.start, new_country: true}",
            "where: {actoin: user.session.start}",
            9,
            "unknown event field 'actoin'",
        ),
        (
            "where: {action: user.session.start, new_country: true}",
            "where: {new_country: 'yes'}",
            9,
            "does not fit the field's type BOOLEAN",
        ),
        ("same: {src_ip: login}", "same: {src_ip: later}", 14, "'later' is not an earlier step"),
        ("max_gap: 5m", "max_gap: 20m", 15, "longer than the rule's window"),
        ("within: 15m", "within: 15m\ncontext: 2d", 6, "context longer than a day"),
        ("within: 15m", "within: 15m\ncontext: an hour", 6, "not a duration"),
        ("within: 15m", "within: 15m\ngroup_by: new_country", 6, "cannot group by 'new_country'"),
        ("within: 15m", "within: 15m\ngroup_by: latitude", 6, "a DOUBLE field"),
        ("  - name: assume", "  - name: login", 10, "used twice"),
        ("title: Demo\n", "title: Demo\ncolour: red\n", 3, "colour"),
        ("steps:", "steps:\nsteps:", 7, "duplicate key 'steps'"),
    ],
)
def test_bad_rule_is_refused_with_file_line_and_reason(
    tmp_path: Path, old: str, new: str, line: int, reason: str
) -> None:
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError) as caught:
        load_rule(path)
    assert caught.value.path == str(path)
    assert reason in caught.value.reason
    assert caught.value.line == line


def test_a_bad_file_refuses_the_whole_catalog(tmp_path: Path) -> None:
    _write(tmp_path, GOOD, "a.yaml")
    _write(tmp_path, GOOD.replace("id: demo-rule", "id: other").replace("15m", "soon"), "b.yaml")
    with pytest.raises(ConfigError) as caught:
        load_rules(tmp_path)
    assert caught.value.path.endswith("b.yaml")


def test_duplicate_rule_ids_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, GOOD, "a.yaml")
    _write(tmp_path, GOOD, "b.yaml")
    with pytest.raises(ConfigError, match="already used"):
        load_rules(tmp_path)


def test_empty_rules_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no rule files"):
        load_rules(tmp_path)


MIDDLE_ABSENT = """\
id: middle-absent
title: Key read, then a federation with no AD FS sign-in before it
techniques: [T1606.002]
severity: high
within: 1d
steps:
  - {name: theft, source: windows, where: {action: adfs_dkm_key_read}}
  - name: adfs
    source: windows
    absent: true
    within: 10m
    where: {action: adfs_sign_in}
  - {name: federation, source: cloudtrail, where: {action: AssumeRoleWithSAML}}
"""


def test_an_absent_step_between_two_steps_loads_without_comparisons(tmp_path: Path) -> None:
    rule = load_rule(_write(tmp_path, MIDDLE_ABSENT))
    assert rule.absent_step is rule.steps[1]
    assert [s.name for s in rule.present_steps] == ["theft", "federation"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("    within: 10m\n", "    within: 10m\n    same: {src_ip: theft}\n"),
        ("    within: 10m\n", "    within: 10m\n    differ: {host: theft}\n"),
        ("within: 1d\n", "within: 1d\ncontext: 1h\n"),
    ],
)
def test_an_absent_step_between_two_steps_is_refused_with_comparisons_or_context(
    tmp_path: Path, old: str, new: str
) -> None:
    text = MIDDLE_ABSENT.replace(old, new, 1)
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_rule(path)
    assert "between two steps takes no same or differ" in caught.value.reason
    assert caught.value.line == text.splitlines().index("    absent: true") + 1
