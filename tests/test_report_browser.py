"""The HTML report in headless Chromium: it renders without console errors (so without a
blocked fetch either: the page's policy turns any into one), lanes and events are in the DOM in
order, hostile log text stays text, and a screenshot is kept in build/test-artifacts/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from seamwatch.triage.health import rule_health
from seamwatch.triage.report_html import render_report
from seamwatch.triage.verdicts import make_verdict
from tests.headless import find_chromium, render
from tests.triage_alerts import Ev, make_alert

ARTIFACTS = Path(__file__).resolve().parents[1] / "build" / "test-artifacts"
HOSTILE = "<script>console.error('pwned')</script><img src=x onerror=\"console.error('pwned')\">"


@pytest.fixture(scope="module")
def chromium() -> Iterator[str]:
    found = find_chromium()
    if found is None:
        pytest.skip(
            "no Chromium on PATH (Debian: apt-get install chromium, or `make browser`; "
            "or set SEAMWATCH_CHROMIUM): the report's browser test needs one"
        )
    yield found


class Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def of(self, tag: str, cls: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and cls in (a.get("class") or "").split()]


def test_console_messages_and_blocked_fetches_are_seen(chromium: str, tmp_path: Path) -> None:
    """The harness itself: a page that logs an error or tries a fetch is caught."""
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta http-equiv='Content-Security-Policy' "
        "content=\"default-src 'none'; script-src 'unsafe-inline'\"></head><body>"
        "<img src='https://example.invalid/x.png'><script>console.error('caught')</script>"
        "</body></html>"
    )
    console = render(chromium, page, tmp_path / "bad.png").console
    assert any("caught" in line for line in console)
    assert any("Content Security Policy" in line for line in console)


def test_the_report_renders_in_chromium_in_order_without_console_errors(
    chromium: str, tmp_path: Path
) -> None:
    logging_off = make_alert(
        "ana.ortiz",
        [
            Ev("okta", 1500, "user.session.start", flags=("new_country", "new_ip")),
            Ev("cloudtrail", 1620, "StopLogging", extra={"user_agent": HOSTILE}),
        ],
        rule_id="cloudtrail-logging-disabled",
        context=[
            Ev("okta", 0, "user.authentication.sso", country="Spain"),
            Ev("okta", 900, "user.session.start", src_ip="198.51.100.4"),
        ],
        within=600,
    )
    keys = make_alert(
        HOSTILE,
        [
            Ev("okta", 0, "user.session.start", flags=("new_country",)),
            Ev("cloudtrail", 60, "AssumeRoleWithSAML", flags=("new_role",)),
            Ev("github", 200, HOSTILE, src_ip=HOSTILE),
            Ev("cloudtrail", 500, "CreateAccessKey"),
        ],
        rule_id="new-country-keys",
    )
    verdicts = {keys["alert_id"]: make_verdict(keys["alert_id"], "confirmed", recorded_at=1)}
    page = tmp_path / "report.html"
    page.write_text(
        render_report(
            [keys, logging_off],
            verdicts,
            rule_health([keys, logging_off], verdicts),
            generated_at_ms=0,
        ),
        encoding="utf-8",
    )
    shot = render(chromium, page, tmp_path / "report.png")

    assert shot.console == []
    dom = Dom()
    dom.feed(shot.dom)
    assert [t for t, _ in dom.tags].count("script") == 1
    assert not [a for t, a in dom.tags if t == "img"]
    articles = dom.of("article", "alert")
    assert [a["data-alert-id"] for a in articles] == [logging_off["alert_id"], keys["alert_id"]]
    # Lanes and events of each alert, in document order, as the browser built them.
    per_alert: list[tuple[list[str | None], list[tuple[str | None, str | None]]]] = []
    for tag, attrs in dom.tags:
        if tag == "article":
            per_alert.append(([], []))
        elif tag == "g" and "lane" in (attrs.get("class") or "").split():
            per_alert[-1][0].append(attrs["data-source"])
        elif tag == "g" and "event" in (attrs.get("class") or "").split():
            per_alert[-1][1].append((attrs["data-source"], attrs["class"]))
    assert per_alert == [
        (
            ["okta", "cloudtrail"],
            [
                ("okta", "event context"),
                ("okta", "event context"),
                ("okta", "event matched"),
                ("cloudtrail", "event matched"),
            ],
        ),
        (
            ["okta", "cloudtrail", "github"],
            [
                ("okta", "event matched"),
                ("cloudtrail", "event matched"),
                ("github", "event matched"),
                ("cloudtrail", "event matched"),
            ],
        ),
    ]
    times = [int(a["data-time"] or 0) for a in dom.of("g", "event")]
    assert times[:4] == sorted(times[:4]) and times[4:] == sorted(times[4:])
    assert [a["class"] for a in dom.of("span", "verdict")] == [
        "verdict verdict-none",
        "verdict verdict-confirmed",
    ]
    assert shot.screenshot.stat().st_size > 10_000
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot.screenshot, ARTIFACTS / "report-timeline.png")
    shutil.copy(page, ARTIFACTS / "report-timeline.html")
