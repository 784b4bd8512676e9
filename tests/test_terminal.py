"""Printed timelines cannot be forged by log content; the JSON keeps every value exactly."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from seamwatch.cli.output import console, print_alert
from seamwatch.udfs.alerts import timeline
from seamwatch.udfs.terminal import terminal_safe

# What one record did to the terminal: clear the screen, print a green ALL CLEAR line.
FORGED_NAME = "mallory\x1b[2J\x1b[H\x1b[32mALL CLEAR\x1b[0m\r\n\u202eevil\x00"
FORGED_IP = "203.0.113.9\r\n    2026-03-04T10:00:00Z  okta       user.session.end"


def _alert() -> dict[str, Any]:
    event = {
        "event_time": 1772618400000,
        "source": "cloudtrail",
        "action": "CreateAccessKey\x1b]0;pwned\x07",
        "src_ip": FORGED_IP,
        "src_host": None,
        "country": "Atlantis\u2066",
        "new_country": True,
    }
    return {
        "alert_id": "a1",
        "rule_id": "r1",
        "title": "Title",
        "severity": "high",
        "techniques": ["T1078"],
        "entity": {
            "id": "email:mallory@example.com",
            "name": FORGED_NAME,
            "type": "human",
            "resolved_by": "static",
            "confidence": 1.0,
        },
        "window_seconds": 900,
        "first_event_time": 1772618400000,
        "last_event_time": 1772618400000,
        "events": [event],
    }


UNSAFE = ["\x1b", "\x00", "\r", "\n", "\u202e", "\u2066", "\x07"]


def test_the_timeline_escapes_controls_bidi_and_line_breaks() -> None:
    alert = _alert()
    before = orjson.dumps(alert)
    lines = timeline(alert)
    assert len(lines) == 5  # header, rule, entity, window, one event: no forged lines
    for line in lines:
        assert not any(char in line for char in UNSAFE), line
    entity_line = lines[2]
    assert "mallory\\x1b[2J\\x1b[H\\x1b[32mALL CLEAR\\x1b[0m\\r\\n\\u202eevil\\x00" in entity_line
    assert "203.0.113.9\\r\\n" in lines[4] and "Atlantis\\u2066" in lines[4]
    # The alert itself, as the JSON output writes it, is untouched.
    assert orjson.dumps(alert) == before
    assert orjson.loads(before)["entity"]["name"] == FORGED_NAME


def test_the_printed_alert_holds_no_terminal_control() -> None:
    with console.capture() as captured:
        print_alert(_alert())
    text = captured.get()
    assert "\x1b" not in text and "\u202e" not in text and "\x00" not in text and "\r" not in text
    assert text.count("\n") == 6  # five lines and the blank one after them
    assert "ALL CLEAR" in text  # shown, as the inert text it is


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("plain dana@corp.example", "plain dana@corp.example"),
        ("DOMAIN\\user", "DOMAIN\\user"),
        ("Zoë 日本", "Zoë 日本"),
        ("tab\there", "tab\\there"),
        ("\x7f\x9b", "\\x7f\\x9b"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("line\u2028sep", "line\\u2028sep"),
        (42, "42"),
    ],
)
def test_terminal_safe(value: object, shown: str) -> None:
    assert terminal_safe(value) == shown


def test_the_original_alert_is_not_mutated_by_printing() -> None:
    alert = _alert()
    kept = copy.deepcopy(alert)
    with console.capture():
        print_alert(alert)
    assert alert == kept
