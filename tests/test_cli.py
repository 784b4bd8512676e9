"""The command line as a user meets it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from seamwatch.cli.app import app
from seamwatch.jobs.settings import DEFAULT_RULES_DIR, EXAMPLES_DIR
from seamwatch.sample.scenario import build_sample

runner = CliRunner()
RULE = "okta-new-country-saml-access-key"


def _within_line() -> int:
    text = (DEFAULT_RULES_DIR / "okta_new_country_saml_access_key.yaml").read_text()
    return text.splitlines().index("within: 15m") + 1


def _bad_rules(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    good = (DEFAULT_RULES_DIR / "okta_new_country_saml_access_key.yaml").read_text()
    (rules / "a.yaml").write_text(good)
    (rules / "b.yaml").write_text(good.replace("within: 15m", "within: a while"))
    return rules


def test_rules_check_refuses_a_bad_catalog_with_file_and_line(tmp_path: Path) -> None:
    rules = _bad_rules(tmp_path)
    result = runner.invoke(app, ["rules", "check", "--rules", str(rules)])
    assert result.exit_code == 2
    assert f"{rules / 'b.yaml'}:{_within_line()}:" in result.output
    assert "'a while' is not a duration" in result.output


def test_run_refuses_a_bad_rule_before_starting_flink(tmp_path: Path) -> None:
    rules = _bad_rules(tmp_path)
    result = runner.invoke(app, ["run", "--rules", str(rules), "--output", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert f"b.yaml:{_within_line()}" in result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "syslog=x.log"], "unknown log source 'syslog'"),
        (["--input", "okta"], "write SOURCE=VALUE"),
        (["--input", "okta=/does/not/exist/*.jsonl"], "/does/not/exist"),
        (["--watermark", "cloudtrail=soon"], "'soon' is not a duration"),
    ],
)
def test_run_refuses_bad_arguments_clearly(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["run", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_rules_compile_prints_the_sql_of_one_rule() -> None:
    result = runner.invoke(app, ["rules", "compile", "--rule", "okta-new-country-saml-access-key"])
    assert result.exit_code == 0
    assert "MATCH_RECOGNIZE" in result.output
    assert "WITHIN INTERVAL '0 00:15:00' DAY TO SECOND" in result.output


@pytest.mark.flink
def test_default_run_finds_the_attack_woven_into_the_examples(tmp_path: Path) -> None:
    """``seamwatch run`` with no input flags: bundled logs, identities and rules."""
    output = tmp_path / "alerts.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "seamwatch.cli", "run", "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    sample = build_sample()
    truth, hybrid = sample.attack, sample.hybrid
    assert hybrid is not None
    alerts = {
        a["rule_id"]: a for a in (orjson.loads(line) for line in output.read_bytes().splitlines())
    }
    # The first attack is caught by the field rule and by the broader account-manipulation
    # rule, with the alert ids the demo has always shown; the second, on one person across the
    # four sources, by a Windows -> Entra rule and an Okta -> AWS rule. Nobody in the benign
    # background alerts.
    golden, reused = (
        "golden-saml-key-theft-then-entra-app-credentials",
        ("okta-session-reused-from-another-country"),
    )
    assert sorted(alerts) == [golden, "okta-anomalous-login-iam-persistence", RULE, reused]
    assert alerts[RULE]["alert_id"] == "14426430a86220b5aeeb8cf0a72268ed"
    assert alerts["okta-anomalous-login-iam-persistence"]["alert_id"] == (
        "864823a13fbb95ddc27148bc63dd472f"
    )
    assert tuple(e["event_id"] for e in alerts[RULE]["events"]) == truth.event_ids
    first = (RULE, "okta-anomalous-login-iam-persistence")
    assert {alerts[rule]["entity"]["id"] for rule in first} == {truth.entity}
    assert {alerts[rule]["entity"]["id"] for rule in (golden, reused)} == {hybrid.entity}
    assert [(e["source"], e["event_id"]) for e in alerts[golden]["events"]] == [
        ("windows", hybrid.key_read),
        ("entra", hybrid.app_secret),
    ]
    assert [(e["source"], e["event_id"]) for e in alerts[reused]["events"]] == [
        ("okta", hybrid.okta_session),
        ("cloudtrail", hybrid.assume_role),
    ]
    # The Windows event names the domain controller that logged the key read.
    assert alerts[golden]["events"][0]["host"] == "dc01.corp.example.com"
    assert f"entity {truth.entity} (Dana Whitfield)" in done.stdout
    assert f"entity {hybrid.entity} (Felix Wagner)" in done.stdout
    assert "user.session.start" in done.stdout and "CreateAccessKey" in done.stdout
    assert "0 dead-lettered" in done.stdout
    assert EXAMPLES_DIR.is_dir()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize(
    "args",
    [
        ["alerts", "tail", "--timeout", "5"],
        ["replay", "--input", f"okta={EXAMPLES_DIR / 'okta'}"],
    ],
)
def test_kafka_tools_fail_fast_when_no_broker_answers(args: list[str]) -> None:
    """One clear line and a non-zero exit, not librdkafka's retry log and exit 0 (after the
    wait $SEAMWATCH_BROKER_TIMEOUT sets)."""
    bootstrap = f"127.0.0.1:{_closed_port()}"
    done = subprocess.run(
        [sys.executable, "-m", "seamwatch.cli", *args, "--kafka", bootstrap],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "SEAMWATCH_BROKER_TIMEOUT": "1.5"},
    )
    assert done.returncode != 0
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines[:5]
    assert f"no Kafka broker answered at {bootstrap} within 1.5s" in lines[0]


@pytest.mark.parametrize("value", ["soon", "0", "-3", "7200"])
def test_a_broker_timeout_that_is_not_seconds_is_refused(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEAMWATCH_BROKER_TIMEOUT", value)
    result = runner.invoke(app, ["alerts", "tail", "--kafka", "127.0.0.1:1", "--timeout", "5"])
    assert result.exit_code == 2
    assert f"$SEAMWATCH_BROKER_TIMEOUT={value!r}" in result.output


def test_version_comes_from_the_package_metadata() -> None:
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"seamwatch {version('seamwatch')}\n"


def test_another_python_gets_one_line_not_a_traceback() -> None:
    """The entry point checks the version before it imports the CLI (and PyFlink)."""
    script = (
        "import sys\n"
        "sys.version_info = (3, 12, 4, 'final', 0)\n"
        "from seamwatch.__main__ import main\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    print('imported' if 'seamwatch.cli' in sys.modules else 'not imported')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert done.stdout == "not imported\n"
    assert done.stderr == (
        f"error: seamwatch needs Python 3.11 (PyFlink 2.2 runs on it); {sys.executable} is "
        "Python 3.12.4\n"
    )


def test_the_package_ships_its_type_information() -> None:
    import tomllib

    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text())
    assert (root / "seamwatch" / "py.typed").is_file()
    assert "py.typed" in project["tool"]["setuptools"]["package-data"]["seamwatch"]
    assert project["project"]["scripts"]["seamwatch"] == "seamwatch.__main__:main"


def test_submit_resumes_a_savepoint_with_unmapped_state_only_when_asked() -> None:
    """A savepoint of another SQL graph is refused by Flink unless the user accepts losing the
    state that maps to no operator; the submit line says so only when asked."""
    from seamwatch.cli.deploy import SubmitOptions, flink_run_command

    def command(savepoint: str | None, allow: bool) -> list[str]:
        options = SubmitOptions(
            mode="files",
            inputs=["okta=/in"],
            output=Path("/out"),
            from_savepoint=savepoint,
            allow_non_restored_state=allow,
        )
        return flink_run_command(options)

    plain = command("file:///sp/1", False)
    assert plain[plain.index("-s") + 1] == "file:///sp/1"
    assert "--allowNonRestoredState" not in plain
    allowed = command("file:///sp/1", True)
    assert allowed.index("--allowNonRestoredState") < allowed.index("-pym")
    fresh = command(None, True)
    assert "-s" not in fresh and "--allowNonRestoredState" not in fresh
