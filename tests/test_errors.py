"""One error hierarchy: every error a user can act on is a SeamwatchError, shown as one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from seamwatch.cli.app import app
from seamwatch.cli.output import CommandGroup
from seamwatch.errors import SeamwatchError
from seamwatch.kafka.identity_topic import IdentityTopicError
from seamwatch.kafka.schema_registry import SchemaRegistryError
from seamwatch.kafka.tools import BrokerUnreachable
from seamwatch.sources.input_check import WrongSourceError
from seamwatch.sources.inputs import InputError, expand_paths
from seamwatch.triage.alertfile import AlertFileError
from seamwatch.triage.verdict_topic import VerdictTopicError
from seamwatch.triage.verdicts import VerdictError
from seamwatch.udfs.geo import GeoDatabaseError
from seamwatch.yamlfile import ConfigError

runner = CliRunner()


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (ConfigError, ValueError),
        (InputError, Exception),
        (WrongSourceError, InputError),
        (IdentityTopicError, RuntimeError),
        (BrokerUnreachable, RuntimeError),
        (SchemaRegistryError, RuntimeError),
        (GeoDatabaseError, ValueError),
        (VerdictError, ValueError),
        (AlertFileError, ValueError),
        (VerdictTopicError, RuntimeError),
    ],
)
def test_user_facing_errors_are_seamwatch_errors_and_keep_their_base(
    error: type[Exception], builtin: type[Exception]
) -> None:
    assert issubclass(error, SeamwatchError)
    assert issubclass(error, builtin)  # `except ValueError` elsewhere still catches it


def test_an_error_in_a_file_says_where() -> None:
    assert str(SeamwatchError("bad")) == "bad"
    located = SeamwatchError("bad", path=Path("rules/a.yaml"), line=3)
    assert (str(located), located.path, located.line, located.reason) == (
        "rules/a.yaml:3: bad",
        "rules/a.yaml",
        3,
        "bad",
    )
    assert str(SeamwatchError("bad", path="x.csv")) == "x.csv: bad"
    config = ConfigError("rules/a.yaml", 7, "'a while' is not a duration")
    assert str(config) == "rules/a.yaml:7: 'a while' is not a duration"
    assert (config.path, config.line, config.reason) == (
        "rules/a.yaml",
        7,
        "'a while' is not a duration",
    )
    with pytest.raises(InputError, match="no such file or directory"):
        expand_paths("/does/not/exist.jsonl")


def test_the_command_group_prints_one_line_and_exits_2() -> None:
    group = typer.Typer(cls=CommandGroup, pretty_exceptions_enable=False)

    @group.command()
    def broken() -> None:
        raise GeoDatabaseError("--geo-city x.mmdb: not a readable MaxMind database", path="x")

    @group.command()
    def other() -> None:
        raise RuntimeError("a bug")

    result = runner.invoke(group, ["broken"])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "error: x: --geo-city x.mmdb: not a readable MaxMind database"
    ]
    # Anything else is a bug and keeps its traceback.
    assert isinstance(runner.invoke(group, ["other"]).exception, RuntimeError)


def test_a_bad_identity_file_is_one_line_from_the_cli(tmp_path: Path) -> None:
    bad = tmp_path / "identities.yaml"
    bad.write_text("entities:\n  - id: a\n    type: robot\n")
    result = runner.invoke(app, ["identities", "check", str(bad)])
    assert result.exit_code == 2
    (line,) = result.output.splitlines()
    assert line.startswith(f"error: {bad}:")
    assert "Traceback" not in result.output
