"""The alerts as one self-contained HTML page an analyst reads (``seamwatch report``).

Newest alert first; for each: its verdict, the entity with its identifiers and resolution,
the techniques linked to ATT&CK, and a timeline with one lane per log source found in the
alert (not a fixed list), each event at its time with its action, address, country and flags,
the rule's window drawn behind them and the context events faded. Then the table of events and
the per-rule health table.

Everything that comes from the logs is attacker-controlled text: it goes through
:func:`html.escape` (quotes included) and nowhere else; the only links are ATT&CK URLs built
from ids that match the technique pattern. The page carries its CSS, script and SVG inline and
a Content-Security-Policy that lets only those (by hash) run: it fetches nothing.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from seamwatch.triage.alertfile import as_ms
from seamwatch.triage.health import (
    HealthReport,
    detected_ms,
    format_duration,
    format_ratio,
    time_to_detect_ms,
)
from seamwatch.triage.verdicts import Verdict
from seamwatch.udfs.attack_data import load_attack_data

_TECHNIQUE = re.compile(r"T\d{4}(?:\.\d{3})?")
ATTACK_URL = "https://attack.mitre.org/techniques/"
# Event fields shown as details when present; alerts of other versions may carry more or fewer.
DETAIL_KEYS = (
    "outcome",
    "error_code",
    "principal",
    "account_id",
    "account",
    "region",
    "aws_region",
    "event_source",
    "service",
    "role_arn",
    "access_key_id",
    "target_user",
    "host",
    "logon_type",
    "ticket_encryption",
    "target_group",
    "risk_level",
    "device",
    "as_org",
    "asn_org",
    "asn",
    "city",
    "travel_speed_kmh",
    "user_agent",
    "resolved_by",
    "resolved_via",
    "raw_ref",
)
_LABEL_CHARS = 34

# -- timeline geometry (SVG user units) -----------------------------------------------------
_WIDTH = 1000
_LEFT = 120  # lane names
_RIGHT = 20
_TOP = 28  # window caption
_LANE = 120
_AXIS = 36


def e(value: Any) -> str:
    """Escape for HTML text and quoted attributes; ``None`` is empty."""
    return "" if value is None else html.escape(str(value), quote=True)


def iso_ms(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _clock(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%H:%M:%S")


def technique_url(technique_id: str) -> str | None:
    """``T1078.004`` -> ``https://attack.mitre.org/techniques/T1078/004/``; else ``None``."""
    if not _TECHNIQUE.fullmatch(technique_id):
        return None
    return ATTACK_URL + technique_id.replace(".", "/") + "/"


@lru_cache(maxsize=1)
def _technique_names() -> dict[str, str]:
    try:
        return {tid: t.name for tid, t in load_attack_data().techniques.items()}
    except (OSError, ValueError, KeyError):
        return {}


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """An event of an alert as the timeline places it."""

    event: Mapping[str, Any]
    time: int
    source: str
    context: bool

    @property
    def flags(self) -> list[str]:
        """The event's true booleans (``new_country``, ``impossible_travel``, ...)."""
        return [k for k, v in self.event.items() if v is True]


def timeline_events(alert: Mapping[str, Any]) -> list[TimelineEvent]:
    """Matched and context events of ``alert`` in time order (ties by event id).

    Events without a readable time are left out (they cannot be placed).
    """
    found: list[TimelineEvent] = []
    context = alert.get("context")
    shown = context.get("authentications") if isinstance(context, Mapping) else None
    for events, is_context in ((alert.get("events"), False), (shown, True)):
        for event in events if isinstance(events, list) else []:
            if not isinstance(event, Mapping):
                continue
            time = as_ms(event.get("event_time"))
            if time is not None:
                source = str(event.get("source") or "unknown")
                found.append(TimelineEvent(event, time, source, is_context))
    return sorted(found, key=lambda t: (t.time, str(t.event.get("event_id") or "")))


def lanes(events: Sequence[TimelineEvent]) -> list[str]:
    """One lane per source, in the order each source first appears in time."""
    order: list[str] = []
    for item in events:
        if item.source not in order:
            order.append(item.source)
    return order


def sort_newest_first(alerts: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """By the time of the latest matched event, then detection time, newest first."""

    def key(alert: Mapping[str, Any]) -> tuple[int, int, str]:
        last = as_ms(alert.get("last_match_time")) or as_ms(alert.get("last_event_time")) or 0
        return (last, detected_ms(alert) or 0, str(alert.get("alert_id")))

    return sorted(alerts, key=key, reverse=True)


def render_report(
    alerts: Sequence[Mapping[str, Any]],
    verdicts: Mapping[str, Verdict],
    health: HealthReport,
    *,
    generated_at_ms: int,
    sources: Sequence[str] = (),
) -> str:
    """The whole page as text."""
    ordered = sort_newest_first(alerts)
    body = [
        "<header class='page'><h1>Seamwatch alerts</h1>",
        f"<p>{len(ordered)} alert{'s' if len(ordered) != 1 else ''}"
        f"{' from ' + e(', '.join(sources)) if sources else ''}; "
        f"generated {e(iso_ms(generated_at_ms))}. Times are UTC.</p>",
        "<label class='toggle'><input type='checkbox' id='show-context' checked> "
        "show context events</label></header>",
        "<main>",
    ]
    if not ordered:
        body.append("<p class='empty'>No alerts.</p>")
    body.extend(_alert(alert, verdicts.get(str(alert.get("alert_id")))) for alert in ordered)
    body.append("</main>")
    body.append(_health_table(health))
    style_hash = _csp_hash(_STYLE)
    script_hash = _csp_hash(_SCRIPT)
    csp = (
        "default-src 'none'; img-src data:; "
        f"style-src '{style_hash}'; script-src '{script_hash}'; base-uri 'none'; form-action 'none'"
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            "<html lang='en'><head><meta charset='utf-8'>",
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">',
            "<meta name='viewport' content='width=device-width, initial-scale=1'>",
            "<title>Seamwatch alerts</title>",
            f"<style>{_STYLE}</style></head><body>",
            *body,
            f"<script>{_SCRIPT}</script>",
            "</body></html>",
            "",
        ]
    )


def _csp_hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def _alert(alert: Mapping[str, Any], verdict: Verdict | None) -> str:
    alert_id = str(alert.get("alert_id"))
    severity = str(alert.get("severity") or "unknown").lower()
    sev_class = severity if severity in ("low", "medium", "high", "critical") else "unknown"
    events = timeline_events(alert)
    matches = alert.get("match_count")
    parts = [
        f"<article class='alert sev-{sev_class}' id='alert-{e(alert_id)}' "
        f"data-alert-id='{e(alert_id)}' data-rule-id='{e(alert.get('rule_id'))}'>",
        "<header>",
        f"<span class='sev'>{e(severity.upper())}</span>",
        f"<h2>{e(alert.get('title'))}</h2>",
        _verdict(verdict),
        "</header>",
        "<p class='meta'>",
        f"rule <code>{e(alert.get('rule_id'))}</code> · alert <code>{e(alert_id)}</code>",
        f" · events {e(iso_ms(as_ms(alert.get('first_event_time'))))} → "
        f"{e(iso_ms(as_ms(alert.get('last_event_time'))))}",
        f" · detected {e(iso_ms(detected_ms(alert)))}"
        f" (after {e(format_duration(time_to_detect_ms(alert)))})",
    ]
    if isinstance(matches, int) and matches > 1:
        last = as_ms(alert.get("last_match_time"))
        parts.append(f" · <strong>{matches} matches</strong>, the last at {e(iso_ms(last))}")
    parts.append("</p>")
    if alert.get("description"):
        parts.append(f"<p class='desc'>{e(alert.get('description'))}</p>")
    parts.append(_techniques(alert.get("techniques")))
    parts.append(_entity(alert.get("entity")))
    parts.append(_timeline_svg(alert, events))
    parts.append(_event_table(alert, events))
    parts.append("</article>")
    return "\n".join(parts)


def _verdict(verdict: Verdict | None) -> str:
    if verdict is None:
        return "<span class='verdict verdict-none'>no verdict</span>"
    who = f" by {e(verdict.analyst)}" if verdict.analyst else ""
    note = f": {e(verdict.note)}" if verdict.note else ""
    return (
        f"<span class='verdict verdict-{e(verdict.verdict)}' "
        f"title='{e(iso_ms(verdict.recorded_at))}{who}{note}'>{e(verdict.verdict)}</span>"
        f"<span class='verdict-note'>{e(iso_ms(verdict.recorded_at))}{who}{note}</span>"
    )


def _techniques(techniques: Any) -> str:
    if not isinstance(techniques, list) or not techniques:
        return ""
    names = _technique_names()
    items = []
    for technique in techniques:
        text = str(technique)
        label = e(text) + (f" {e(names[text])}" if text in names else "")
        url = technique_url(text)
        items.append(
            f"<li><a href='{e(url)}' target='_blank' rel='noopener noreferrer'>{label}</a></li>"
            if url
            else f"<li>{label}</li>"
        )
    return f"<ul class='techniques'>{''.join(items)}</ul>"


def _entity(entity: Any) -> str:
    if not isinstance(entity, Mapping):
        return ""
    confidence = entity.get("confidence")
    conf = f" ({confidence:.2f})" if isinstance(confidence, int | float) else ""
    identifiers = [i for i in entity.get("identifiers") or [] if isinstance(i, Mapping)]
    rows = "".join(
        f"<tr><td>{e(ident.get('kind'))}</td><td><code>{e(ident.get('value'))}</code></td></tr>"
        for ident in identifiers
    )
    name = f" <span class='name'>{e(entity.get('name'))}</span>" if entity.get("name") else ""
    return (
        "<section class='entity'>"
        f"<h3>Entity <code>{e(entity.get('id'))}</code>{name}</h3>"
        f"<p>type {e(entity.get('type'))} · resolved by "
        f"<strong>{e(entity.get('resolved_by'))}</strong>{e(conf)}</p>"
        f"<details><summary>{len(identifiers)} identifiers</summary>"
        f"<table class='identifiers'><tbody>{rows}</tbody></table></details>"
        "</section>"
    )


def _short(text: str) -> str:
    return text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…"


def _timeline_svg(alert: Mapping[str, Any], events: Sequence[TimelineEvent]) -> str:
    if not events:
        return "<p class='empty'>No events with a readable time.</p>"
    names = lanes(events)
    first = as_ms(alert.get("first_event_time"))
    window = alert.get("window_seconds")
    if isinstance(window, bool) or not isinstance(window, int):
        window = None
    window_end = first + window * 1000 if first is not None and window is not None else None
    start = min(t.time for t in events)
    end = max([t.time for t in events] + ([window_end] if window_end else []))
    span = max(end - start, 1000)
    start -= span // 30
    end += span // 30
    inner = _WIDTH - _LEFT - _RIGHT
    height = _TOP + _LANE * len(names) + _AXIS

    def x(ms: int) -> float:
        return round(_LEFT + (ms - start) * inner / (end - start), 1)

    out = [
        f"<figure class='timeline'><svg viewBox='0 0 {_WIDTH} {height}' "
        f"xmlns='http://www.w3.org/2000/svg' role='img' "
        f"aria-label='timeline of alert {e(alert.get('alert_id'))}'>"
    ]
    lane_bottom = _TOP + _LANE * len(names)
    context = alert.get("context")
    ctx_seconds = context.get("window_seconds") if isinstance(context, Mapping) else None
    if first is not None and isinstance(ctx_seconds, int) and any(t.context for t in events):
        ctx_start = max(first - ctx_seconds * 1000, start)
        out.append(
            f"<g class='context-window'><rect x='{x(ctx_start)}' y='{_TOP}' "
            f"width='{round(x(first) - x(ctx_start), 1)}' height='{_LANE * len(names)}'/>"
            f"<text x='{x(ctx_start) + 4}' y='{_TOP - 8}'>context "
            f"{e(format_duration(ctx_seconds * 1000))}</text></g>"
        )
    if first is not None and window is not None and window_end is not None:
        out.append(
            f"<g class='window'><rect x='{x(first)}' y='{_TOP}' "
            f"width='{round(x(window_end) - x(first), 1)}' height='{_LANE * len(names)}'/>"
            f"<text x='{x(window_end) - 4}' y='{_TOP - 8}' text-anchor='end'>rule window "
            f"{e(format_duration(window * 1000))}</text></g>"
        )
    for index, name in enumerate(names):
        top = _TOP + index * _LANE
        out.append(
            f"<g class='lane' data-source='{e(name)}'>"
            f"<line x1='{_LEFT}' x2='{_WIDTH - _RIGHT}' y1='{top + _LANE / 2}' "
            f"y2='{top + _LANE / 2}'/>"
            f"<text x='{_LEFT - 10}' y='{top + _LANE / 2 + 4}' text-anchor='end'>{e(name)}</text>"
            "</g>"
        )
    for step, count, first_at, last_at, source in counted_runs(events):
        y = _TOP + names.index(source) * _LANE + _LANE / 2
        out.append(
            f"<g class='run' data-step='{e(step)}' data-count='{count}'>"
            f"<line x1='{x(first_at)}' x2='{x(last_at)}' y1='{y}' y2='{y}'/>"
            f"<text x='{round((x(first_at) + x(last_at)) / 2, 1)}' y='{y + _LANE / 2 - 8}' "
            f"text-anchor='middle'>{e(step)}: {count} events</text></g>"
        )
    per_lane: dict[str, int] = {}
    for number, item in enumerate(events, start=1):
        event = item.event
        lane = names.index(item.source)
        seen = per_lane.get(item.source, 0)
        per_lane[item.source] = seen + 1
        cx = x(item.time)
        cy = _TOP + lane * _LANE + _LANE / 2
        below = seen % 2 == 1
        anchor = "end" if cx > _LEFT + inner * 0.7 else "start"
        dx = -6 if anchor == "end" else 6
        where = " · ".join(
            str(v)
            for v in (event.get("src_ip") or event.get("src_host"), event.get("country"))
            if v
        )
        lines = [
            (f"{number}. {_short(str(event.get('action') or '?'))}", "action"),
            (_short(where), "where"),
            *((_short(text), "flags") for text in _wrap(_flag_names(item.flags))[:2]),
        ]
        lines = [line for line in lines if line[0]]
        y0 = cy + 18 if below else cy - 10 - 13 * (len(lines) - 1)
        kind = "context" if item.context else "matched"
        tip = _tooltip(item, number)
        out.append(
            f"<g class='event {kind}' data-event-id='{e(event.get('event_id'))}' "
            f"data-source='{e(item.source)}' data-time='{item.time}' data-number='{number}'>"
            f"<title>{e(tip)}</title>"
            f"<circle cx='{cx}' cy='{cy}' r='{6 if item.context else 8}'/>"
        )
        for row, (text, cls) in enumerate(lines):
            out.append(
                f"<text class='{cls}' x='{cx + dx}' y='{y0 + 13 * row}' "
                f"text-anchor='{anchor}'>{e(text)}</text>"
            )
        out.append("</g>")
    out.append(f"<g class='axis'><line x1='{_LEFT}' x2='{_WIDTH - _RIGHT}' ")
    out.append(f"y1='{lane_bottom + 4}' y2='{lane_bottom + 4}'/>")
    for tick in range(6):
        ms = start + (end - start) * tick // 5
        anchor = "start" if tick == 0 else "end" if tick == 5 else "middle"
        out.append(
            f"<text x='{x(ms)}' y='{lane_bottom + 20}' text-anchor='{anchor}'>{_clock(ms)}</text>"
        )
    out.append("</g></svg>")
    out.append(
        f"<figcaption>{e(iso_ms(start)[:10])} UTC; lanes are log sources; hover an event "
        "for its details; faded: context events before the match.</figcaption></figure>"
    )
    return "".join(out)


def counted_runs(events: Sequence[TimelineEvent]) -> list[tuple[str, int, int, int, str]]:
    """The counted steps of an alert: ``(step, count, first time, last time, source)``.

    A counted step (``count: N`` in the rule) is in the alert as its first and last events,
    each carrying the number of events matched; the timeline joins the two.
    """
    runs: dict[str, list[TimelineEvent]] = {}
    for item in events:
        count = item.event.get("count")
        step = item.event.get("step")
        if not item.context and isinstance(count, int) and not isinstance(count, bool) and step:
            runs.setdefault(str(step), []).append(item)
    return [
        (step, int(items[0].event["count"]), items[0].time, items[-1].time, items[0].source)
        for step, items in runs.items()
    ]


def _flag_names(flags: Sequence[str]) -> list[str]:
    return [flag.upper().replace("_", "-") for flag in flags]


def _wrap(words: Sequence[str]) -> list[str]:
    """Words joined into lines of at most the label width (a longer word is a line)."""
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= _LABEL_CHARS:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _tooltip(item: TimelineEvent, number: int) -> str:
    event = item.event
    lines = [f"{number}. {iso_ms(item.time)} {item.source} {event.get('action') or '?'}"]
    if event.get("step"):
        lines.append(f"step {event.get('step')}")
    for key in ("src_ip", "src_host", "country"):
        if event.get(key):
            lines.append(f"{key} {event.get(key)}")
    lines.extend(f"{k} {event.get(k)}" for k in DETAIL_KEYS if event.get(k))
    if item.flags:
        lines.append("flags " + ", ".join(item.flags))
    return "\n".join(lines)


def _event_table(alert: Mapping[str, Any], events: Sequence[TimelineEvent]) -> str:
    head = (
        "<table class='events'><thead><tr><th>#</th><th>time</th><th>source</th><th>step</th>"
        "<th>action</th><th>address</th><th>country</th><th>flags</th><th>details</th>"
        "</tr></thead><tbody>"
    )
    rows = []
    for number, item in enumerate(events, start=1):
        event = item.event
        details = "".join(
            f"<div><span class='k'>{e(k)}</span> {e(event.get(k))}</div>"
            for k in DETAIL_KEYS
            if event.get(k)
        )
        flags = "".join(f"<span class='flag'>{e(f)}</span>" for f in item.flags)
        step = "context" if item.context else e(event.get("step"))
        count = event.get("count")
        if not item.context and isinstance(count, int) and not isinstance(count, bool):
            step += f" <span class='k'>({count} events)</span>"
        rows.append(
            f"<tr class='event-row {'context' if item.context else 'matched'}' "
            f"data-event-id='{e(event.get('event_id'))}'>"
            f"<td>{number}</td><td>{e(iso_ms(item.time))}</td><td>{e(item.source)}</td>"
            f"<td>{step}</td><td>{e(event.get('action'))}</td>"
            f"<td>{e(event.get('src_ip') or event.get('src_host'))}</td>"
            f"<td>{e(event.get('country'))}</td><td>{flags}</td>"
            f"<td class='details'>{details}</td></tr>"
        )
    more = ""
    context = alert.get("context")
    if isinstance(context, Mapping):
        total, shown = context.get("total"), context.get("authentications") or []
        if isinstance(total, int) and total > len(shown):
            more = f"<p class='more'>{total} context events, the last {len(shown)} shown.</p>"
    return head + "".join(rows) + "</tbody></table>" + more


def _health_table(health: HealthReport) -> str:
    rows = []
    for rule in health.rules:
        status = (
            "below threshold"
            if rule.below_threshold
            else ("too few verdicts" if rule.decided < health.min_verdicts else "ok")
        )
        rows.append(
            f"<tr class='{'below' if rule.below_threshold else 'ok'}' "
            f"data-rule-id='{e(rule.rule_id)}'><td><code>{e(rule.rule_id)}</code></td>"
            f"<td>{e(rule.title)}</td><td>{rule.alerts}</td><td>{rule.verdicts}</td>"
            f"<td>{rule.confirmed}</td><td>{rule.benign}</td><td>{rule.duplicate}</td>"
            f"<td>{e(format_ratio(rule.ratio))}</td>"
            f"<td>{e(format_duration(rule.median_ttd_ms))}</td><td>{status}</td></tr>"
        )
    orphans = (
        f"<p>{health.orphan_verdicts} verdicts are for alerts in none of the files.</p>"
        if health.orphan_verdicts
        else ""
    )
    return (
        "<section class='health'><h2>Rules</h2>"
        f"<p>Escalation-to-confirmed ratio: confirmed over confirmed + benign (duplicates left "
        f"out). Rules with at least {health.min_verdicts} such verdicts below "
        f"{health.threshold:.0%} are marked.</p>"
        "<table class='rules'><thead><tr><th>rule</th><th>title</th><th>alerts</th>"
        "<th>verdicts</th><th>confirmed</th><th>benign</th><th>duplicate</th><th>ratio</th>"
        "<th>median time to detect</th><th>status</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
        + orphans
        + "</section>"
    )


_STYLE = """
:root{--fg:#1d232b;--muted:#5b6672;--line:#d5dbe1;--bg:#f6f7f9;--card:#fff;
--high:#c4302b;--critical:#8e0f0b;--medium:#c77c02;--low:#1f78b4;--win:#fde9c8;--ctx:#e7ecf3}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:var(--fg);
background:var(--bg)}
header.page,main,section.health{max-width:1200px;margin:0 auto;padding:12px 20px}
h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin:0}h3{font-size:15px;margin:6px 0}
code{font:12px ui-monospace,Menlo,Consolas,monospace;overflow-wrap:anywhere}
article.alert{background:var(--card);border:1px solid var(--line);border-left:6px solid
var(--muted);border-radius:6px;margin:16px 0;padding:12px 16px}
article.sev-high{border-left-color:var(--high)}article.sev-critical{border-left-color:
var(--critical)}article.sev-medium{border-left-color:var(--medium)}article.sev-low{
border-left-color:var(--low)}
article header{display:flex;gap:10px;align-items:center;flex-wrap:wrap}
.sev{font-weight:700;font-size:12px;padding:2px 6px;border-radius:4px;color:#fff;
background:var(--muted)}
.sev-high .sev{background:var(--high)}.sev-critical .sev{background:var(--critical)}
.sev-medium .sev{background:var(--medium)}.sev-low .sev{background:var(--low)}
.verdict{font-size:12px;font-weight:700;padding:2px 8px;border-radius:10px;
border:1px solid var(--line)}
.verdict-confirmed{background:#c4302b;color:#fff}.verdict-benign{background:#2e7d32;color:#fff}
.verdict-duplicate{background:#6c757d;color:#fff}.verdict-none{color:var(--muted)}
.verdict-note{color:var(--muted);font-size:12px;overflow-wrap:anywhere}
.meta,.desc,figcaption,.more{color:var(--muted)}
ul.techniques{list-style:none;padding:0;display:flex;gap:8px;flex-wrap:wrap}
ul.techniques li{background:var(--ctx);border-radius:4px;padding:2px 8px}
figure.timeline{margin:8px 0}figure.timeline svg{width:100%;height:auto;background:#fcfcfd;
border:1px solid var(--line);border-radius:4px}
svg text{font:11px system-ui,sans-serif;fill:var(--fg)}
.lane line{stroke:var(--line);stroke-width:2}.lane text{font-weight:700;font-size:13px}
.window rect{fill:var(--win);stroke:#e0a33a;stroke-dasharray:4 3}
.window text{fill:#9a5b00}
.context-window rect{fill:var(--ctx)}.context-window text{fill:var(--muted)}
.event circle{fill:var(--high);stroke:#fff;stroke-width:2}
.event.context{opacity:.45}.event.context circle{fill:var(--muted)}
.event text.flags{fill:var(--high);font-weight:700;font-size:10px}
.event text.where{fill:var(--muted)}
.event.hl circle{stroke:#000;stroke-width:3}
.run line{stroke:var(--high);stroke-width:6;stroke-opacity:.35;stroke-linecap:round}
.run text{fill:var(--high);font-size:10px}
.axis line{stroke:var(--muted)}.axis text{fill:var(--muted)}
table{border-collapse:collapse;width:100%;font-size:12.5px}
th,td{text-align:left;padding:4px 6px;border-bottom:1px solid var(--line);vertical-align:top}
tr.context{opacity:.5}tr.hl{background:#fff6d6}
td.details{font-size:11.5px;overflow-wrap:anywhere;max-width:380px}
.details .k,.k{color:var(--muted)}
.flag{display:inline-block;background:#fde2e1;color:#8e0f0b;border-radius:3px;padding:0 4px;
margin:1px;font-size:11px}
table.identifiers{width:auto}
tr.below td{background:#fde2e1;color:#8e0f0b;font-weight:600}
body.hide-context .context{display:none}
"""

_SCRIPT = """
(function () {
  'use strict';
  var box = document.getElementById('show-context');
  box.addEventListener('change', function () {
    document.body.classList.toggle('hide-context', !box.checked);
  });
  document.querySelectorAll('article.alert').forEach(function (article) {
    article.querySelectorAll('[data-event-id]').forEach(function (node) {
      node.addEventListener('click', function () {
        var id = node.getAttribute('data-event-id');
        article.querySelectorAll('[data-event-id]').forEach(function (other) {
          other.classList.toggle('hl', other.getAttribute('data-event-id') === id);
        });
      });
    });
  });
})();
"""
