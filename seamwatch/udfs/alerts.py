"""Alert assembly: one record per matched sequence (``seamwatch/schemas/alert.avsc``).

:func:`build_alert` is a plain function of the match the CEP statement emitted, the rule's
metadata, the identity graph and the detection time; the Flink operator around it supplies the
wall clock. The ``alert_id`` is a hash of the rule, the group and the matched event ids, so the
same input always yields the same id and a consumer can drop repeats after a restart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from seamwatch.udfs.identity import IdentityGraph


@dataclass(frozen=True, slots=True)
class RuleMeta:
    """What an alert repeats of its rule."""

    rule_id: str
    title: str
    description: str
    techniques: tuple[str, ...]
    severity: str
    within_seconds: int
    group_by: str
    suppress_seconds: int | None = None
    context_seconds: int | None = None


# An alert's authentication context looks at most this many events of the group back (the SQL
# window's row bound), and lists the authentications among them inside the context period.
MAX_CONTEXT_EVENTS = 20
# The column (and matched-event key) that carries a rule's authentication context.
CONTEXT_KEY = "auth_context"


def alert_id(rule_id: str, group_key: str, event_ids: Sequence[str]) -> str:
    digest = hashlib.sha256("\x1f".join([rule_id, group_key, *event_ids]).encode())
    return digest.hexdigest()[:32]


def _entity(events: Sequence[Mapping[str, Any]], graph: IdentityGraph) -> dict[str, Any]:
    """The entity of the sequence: graph entry if known, plus every identifier seen for it."""
    first = events[0]
    entity_id = str(first.get("entity_id") or "")
    known = graph.entities.get(entity_id)
    identifiers: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()

    def add(kind: str, value: str | None) -> None:
        if value and (kind, value) not in seen:
            seen.add((kind, value))
            identifiers.append({"kind": kind, "value": value})

    if known is not None:
        for ident in known.identifiers:
            add(ident.kind, ident.value)
    for event in events:
        if event.get("entity_id") == entity_id:
            add("principal", event.get("principal"))
            add("aws_access_key", event.get("access_key_id"))
    weakest = min(events, key=lambda e: float(e.get("confidence") or 0.0))
    return {
        "id": entity_id,
        "type": known.type if known else str(first.get("entity_type") or "unknown"),
        "name": known.name if known else None,
        "identifiers": identifiers,
        "resolved_by": str(weakest.get("resolved_by") or "unresolved"),
        "confidence": float(weakest.get("confidence") or 0.0),
    }


def build_alert(
    meta: RuleMeta,
    group_key: str,
    events_json: str,
    graph: IdentityGraph,
    detected_at_ms: int,
) -> dict[str, Any]:
    """The alert record for one match; ``events_json`` is the JSON array the SQL built."""
    events: list[dict[str, Any]] = orjson.loads(events_json)
    context = [e.pop(CONTEXT_KEY, None) for e in events]
    times = [int(e["event_time"]) for e in events]
    first, last = min(times), max(times)
    return {
        "alert_id": alert_id(meta.rule_id, group_key, [str(e["event_id"]) for e in events]),
        "rule_id": meta.rule_id,
        "title": meta.title,
        "description": meta.description,
        "techniques": list(meta.techniques),
        "severity": meta.severity,
        "group_by": meta.group_by,
        "group_key": group_key,
        "entity": _entity(events, graph),
        "window_seconds": meta.within_seconds,
        "first_event_time": first,
        "last_event_time": last,
        "detected_at": detected_at_ms,
        "time_to_detect_ms": detected_at_ms - last,
        "match_count": 1,
        "last_match_time": last,
        "events": [_project(e, _EVENT_KEYS, _FLAGS) for e in events],
        "context": _context(meta, next((c for c in context if c), None), events),
    }


def _context(
    meta: RuleMeta, listed: str | None, events: Sequence[Mapping[str, Any]]
) -> dict[str, Any] | None:
    """The group's authentications in the context period before the match, oldest first.

    ``listed`` is what the SQL aggregated over the group's latest rows: comma-separated JSON
    objects, or nothing when none of them was an authentication. Those older than the period
    (counted back from the first matched event) and the matched events themselves are left out.
    """
    if meta.context_seconds is None:
        return None
    first = min(int(e["event_time"]) for e in events)
    since = first - meta.context_seconds * 1000
    matched = {e.get("event_id") for e in events}
    found = orjson.loads(f"[{listed}]") if listed else []
    unique = {
        e["event_id"]: e
        for e in found
        if e.get("event_id") not in matched and since <= int(e["event_time"]) <= first
    }
    ordered = sorted(unique.values(), key=lambda e: (int(e["event_time"]), e["event_id"]))
    return {
        "window_seconds": meta.context_seconds,
        "total": len(ordered),
        "authentications": [
            _project(e, CONTEXT_EVENT_KEYS, _CONTEXT_FLAGS) for e in ordered[-MAX_CONTEXT_EVENTS:]
        ],
    }


def fold_into_open_alert(
    open_alert: dict[str, Any] | None, alert: dict[str, Any], suppress_seconds: int | None
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Suppression: the same rule and group do not alert again within the period.

    Returns the open alert to keep and the record to emit. A match inside the period of the
    open alert (its last event no later than ``suppress_seconds`` after the open alert's last
    event) is counted on it: the open alert is emitted again, same ``alert_id``, with
    ``match_count`` and ``last_match_time`` updated, so a consumer keyed by ``alert_id`` sees
    one alert with a count. A match after the period opens a new alert.
    """
    if not suppress_seconds:
        return None, alert
    if (
        open_alert is not None
        and alert["last_event_time"] - open_alert["last_event_time"] <= suppress_seconds * 1000
    ):
        updated = dict(open_alert)
        updated["match_count"] = open_alert["match_count"] + 1
        updated["last_match_time"] = max(open_alert["last_match_time"], alert["last_event_time"])
        updated["detected_at"] = alert["detected_at"]
        return updated, updated
    return alert, alert


_EVENT_KEYS = (
    "step",
    "count",
    "event_id",
    "source",
    "event_time",
    "action",
    "outcome",
    "principal",
    "principal_type",
    "src_ip",
    "src_host",
    "country",
    "city",
    "user_agent",
    "access_key_id",
    "role_arn",
    "target_user",
    "resolved_by",
    "resolved_via",
    "new_country",
    "new_ip",
    "new_asn",
    "new_device",
    "new_role",
    "impossible_travel",
    "travel_speed_kmh",
    "as_org",
    "device",
    "geo_source",
    "raw_ref",
)
_FLAGS = ("new_country", "new_ip", "new_asn", "new_device", "new_role", "impossible_travel")
# The fields of each authentication in an alert's context (the SQL aggregates these).
CONTEXT_EVENT_KEYS = (
    "event_id",
    "source",
    "event_time",
    "action",
    "outcome",
    "principal",
    "src_ip",
    "country",
    "device",
    "new_country",
    "new_ip",
    "new_device",
    "impossible_travel",
    "raw_ref",
)
_CONTEXT_FLAGS = tuple(flag for flag in _FLAGS if flag in CONTEXT_EVENT_KEYS)


def _project(raw: Mapping[str, Any], keys: Sequence[str], flags: Sequence[str]) -> dict[str, Any]:
    """``keys`` of an event the SQL built, with its time an integer and its flags booleans."""
    out = {key: raw.get(key) for key in keys}
    out["event_time"] = int(raw["event_time"])
    for flag in flags:
        out[flag] = bool(raw.get(flag))
    return out


def iso(ms: int) -> str:
    """Epoch milliseconds as ISO-8601 UTC with seconds (``2026-03-04T09:12:03Z``)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def timeline(alert: Mapping[str, Any]) -> list[str]:
    """The alert as short lines an analyst reads: header, entity, then the events in order."""
    entity = alert["entity"]
    name = f" ({entity['name']})" if entity.get("name") else ""
    lines = [
        f"[{alert['severity'].upper()}] {alert['title']}",
        f"  rule {alert['rule_id']}  techniques {', '.join(alert['techniques'])}"
        f"  alert {alert['alert_id']}",
        f"  entity {entity['id']}{name}  type {entity['type']}"
        f"  resolved {entity['resolved_by']} ({entity['confidence']:.1f})",
        f"  window {alert['window_seconds']}s: {iso(alert['first_event_time'])} -> "
        f"{iso(alert['last_event_time'])}",
    ]
    if alert.get("match_count", 1) > 1:
        lines.append(
            f"  {alert['match_count']} matches, the last at {iso(alert['last_match_time'])}"
        )
    lines.extend(_timeline_event(event) for event in alert["events"])
    context = alert.get("context")
    if context is not None:
        shown = context["authentications"]
        more = f", the last {len(shown)} shown" if len(shown) < context["total"] else ""
        lines.append(
            f"  authentications in the {context['window_seconds']}s before: "
            f"{context['total']}{more}"
        )
        lines.extend(_timeline_event(event) for event in shown)
    return lines


def _timeline_event(event: Mapping[str, Any]) -> str:
    where = event.get("src_ip") or event.get("src_host") or "-"
    country = event.get("country") or "-"
    flag = "".join(f" {name.upper().replace('_', '-')}" for name in _FLAGS if event.get(name))
    return (
        f"    {iso(event['event_time'])}  {event['source']:<10} {event['action']:<28} "
        f"{where:<16} {country}{flag}"
    )
