"""Every command's ``--help`` fits 80 columns and names what each option takes in words
(``SOURCE=PATH``, ``DURATION``, ``FILE``), not in Python types (``<list[str]>``)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from typer.testing import CliRunner

from seamwatch.cli.app import app

runner = CliRunner()
# An option line: "  -i, --input SOURCE=PATH   help..." (the value's name after the option).
OPTION = re.compile(r"^\s{2}(?:-\w, )?(--[\w-]+)(?: / --[\w-]+)?(?: (\S+))?")


def _helps(path: list[str]) -> Iterator[tuple[list[str], str]]:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    yield path, result.output
    commands = re.search(r"\nCommands:\n(.*)", result.output, re.S)
    if commands:
        for line in commands.group(1).splitlines():
            name = line.split()[0] if line.strip() else ""
            if name:
                yield from _helps([*path, name])


def test_every_help_fits_80_columns_and_names_its_values() -> None:
    helps = list(_helps([]))
    names = {" ".join(path) for path, _ in helps}
    assert {"run", "rules test", "rules check", "replay", "alerts tail", "submit"} <= names
    for path, text in helps:
        where = " ".join(["seamwatch", *path])
        wide = [line for line in text.splitlines() if len(line) > 80]
        assert wide == [], f"{where} --help: {wide[:2]}"
        for line in text.splitlines():
            found = OPTION.match(line)
            if found and found.group(2):
                value = found.group(2)
                assert not value.startswith("<"), f"{where} {found.group(1)} takes {value}"


def test_the_values_are_named_in_words() -> None:
    text = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "80"}).output
    assert "--input SOURCE=PATH" in text
    assert "--watermark SOURCE=DURATION" in text
    assert "--kafka HOST:PORT" in text
    assert "--rules DIR" in text
