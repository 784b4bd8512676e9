"""The HTML report without a browser: lanes from the data, order, escaping, self-containment."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from typing import Any

from seamwatch.triage.health import rule_health
from seamwatch.triage.report_html import lanes, render_report, technique_url, timeline_events
from seamwatch.triage.verdicts import make_verdict
from tests.triage_alerts import Ev, make_alert

HOSTILE = "<script>console.error('pwned')</script><img src=x onerror=alert(1)>\"'"


class Elements(HTMLParser):
    """Every start tag with its attributes, and the page's text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> Elements:
    parser = Elements()
    parser.feed(page)
    return parser


def _page(alerts: list[dict[str, Any]], **verdicts: str) -> str:
    decided = {
        a["alert_id"]: make_verdict(a["alert_id"], verdicts[a["group_key"]], recorded_at=1)
        for a in alerts
        if a["group_key"] in verdicts
    }
    return render_report(alerts, decided, rule_health(alerts, decided), generated_at_ms=0)


def test_lanes_come_from_the_sources_in_the_alert_in_order_of_first_appearance() -> None:
    alert = make_alert(
        "ana",
        [
            Ev("github", 0, "repo.clone"),
            Ev("okta", 60, "user.session.start"),
            Ev("cloudtrail", 120, "CreateAccessKey"),
            Ev("github", 180, "repo.delete"),
        ],
    )
    assert lanes(timeline_events(alert)) == ["github", "okta", "cloudtrail"]
    tags = _parse(_page([alert])).tags
    assert [a["data-source"] for t, a in tags if t == "g" and "lane" in (a["class"] or "")] == [
        "github",
        "okta",
        "cloudtrail",
    ]


def test_context_events_come_first_faded_and_events_are_in_time_order() -> None:
    alert = make_alert(
        "ana",
        [
            Ev("okta", 600, "user.session.start", flags=("new_country",)),
            Ev("cloudtrail", 660, "StopLogging"),
        ],
        context=[Ev("okta", 0, "user.authentication.sso"), Ev("okta", 300, "user.session.start")],
    )
    events = [
        a
        for t, a in _parse(_page([alert])).tags
        if t == "g" and "event" in (a["class"] or "").split()
    ]
    assert [a["class"] for a in events] == [
        "event context",
        "event context",
        "event matched",
        "event matched",
    ]
    times = [int(a["data-time"] or 0) for a in events]
    assert times == sorted(times) and len(set(times)) == 4


def test_log_text_is_escaped_everywhere_it_is_shown() -> None:
    alert = make_alert(
        HOSTILE,
        [
            Ev(
                "okta" + HOSTILE,
                0,
                HOSTILE,
                src_ip=HOSTILE,
                country=HOSTILE,
                extra={"user_agent": HOSTILE, "device": HOSTILE},
            )
        ],
    )
    page = _page([alert])
    parsed = _parse(page)
    assert [t for t, _ in parsed.tags if t in ("script", "img")] == ["script"]
    assert all(not k.startswith("on") for _, attrs in parsed.tags for k in attrs)
    assert sum(HOSTILE in text for text in parsed.text) >= 5
    assert "<script>console.error" not in page


def test_the_page_fetches_nothing_and_its_policy_allows_only_its_own_style_and_script() -> None:
    alert = make_alert(
        "ana", [Ev("okta", 0, "user.session.start")], techniques=("T1078.004", "bad")
    )
    page = _page([alert])
    tags = _parse(page).tags
    assert not [a for t, a in tags if t in ("link", "img", "iframe", "object", "embed")]
    assert not [a for t, a in tags if t == "script" and "src" in a]
    links = [a["href"] for t, a in tags if t == "a"]
    assert links == ["https://attack.mitre.org/techniques/T1078/004/"]
    policy = next(a["content"] for t, a in tags if t == "meta" and a.get("http-equiv"))
    assert policy is not None and policy.startswith("default-src 'none'")
    for block in ("style", "script"):
        body = re.search(rf"<{block}>(.*?)</{block}>", page, re.S)
        assert body is not None
        digest = base64.b64encode(hashlib.sha256(body.group(1).encode()).digest()).decode()
        assert f"{block}-src 'sha256-{digest}'" in policy


def test_alerts_newest_first_with_their_verdicts_and_the_rule_table() -> None:
    old = make_alert("old", [Ev("okta", 0, "user.session.start")], rule_id="r1")
    new = make_alert("new", [Ev("okta", 5000, "user.session.start")], rule_id="r2")
    tags = _parse(_page([old, new], old="benign")).tags
    articles = [a["data-alert-id"] for t, a in tags if t == "article"]
    assert articles == [new["alert_id"], old["alert_id"]]
    verdicts = [a["class"] for t, a in tags if t == "span" and "verdict " in (a["class"] or "")]
    assert verdicts == ["verdict verdict-none", "verdict verdict-benign"]
    assert [a["data-rule-id"] for t, a in tags if t == "tr" and "data-rule-id" in a] == ["r1", "r2"]


def test_technique_links_only_for_attack_ids() -> None:
    assert technique_url("T1098") == "https://attack.mitre.org/techniques/T1098/"
    assert technique_url("T1098.001") == "https://attack.mitre.org/techniques/T1098/001/"
    assert technique_url("javascript:alert(1)") is None


def test_a_counted_step_is_drawn_as_one_run_from_its_first_to_its_last_event() -> None:
    push = {"count": 7}
    alert = make_alert(
        "ana",
        [
            Ev("okta", 0, "user.mfa.okta_verify.deny_push", step="pushes", extra=push),
            Ev("okta", 240, "user.mfa.okta_verify.deny_push", step="pushes", extra=push),
            Ev("okta", 300, "user.authentication.auth_via_mfa", step="accepted"),
        ],
    )
    page = _page([alert])
    runs = [a for t, a in _parse(page).tags if t == "g" and a.get("class") == "run"]
    assert [(a["data-step"], a["data-count"]) for a in runs] == [("pushes", "7")]
    assert "pushes: 7 events" in page
    assert page.count("(7 events)") == 2
