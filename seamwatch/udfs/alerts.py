"""Alert assembly: one record per matched sequence (``seamwatch/schemas/alert.avsc``).

:func:`build_alert` is a plain function of the match the CEP statement emitted, the rule's
metadata, the identity graph and the detection time; the Flink operator around it supplies the
wall clock. The ``alert_id`` is a hash of the rule, the group and the matched event ids, so the
same input always yields the same id and a consumer can drop repeats after a restart.

A rule with a suppression period keeps its open alert in Flink ``ValueState`` across
checkpoints: :func:`encode_open_alert` writes ``{"version": 1, "alert": {...}}``
(:data:`OPEN_ALERT_VERSION`); :func:`decode_open_alert` reads that and version 0, the bare alert
object releases before the marker stored. Another version raises
:class:`~seamwatch.udfs.errors.StateFormatError` naming it: dropping the open alert would open
a second alert (a new ``alert_id``) for matches the first one should count, so the job fails
instead, as it does for the absence state.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from seamwatch.udfs.errors import StateFormatError
from seamwatch.udfs.identity import IdentityGraph
from seamwatch.udfs.terminal import terminal_safe


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


def _principal_identifier(event: Mapping[str, Any]) -> tuple[str, str] | None:
    """The event's principal as an identifier of a documented kind, if it is one.

    An ARN is an ``aws_arn``; an Okta user's login an ``okta_login``. Other principals are
    descriptions (``IAMUser:<account>:<name>``), not identifiers.
    """
    principal = event.get("principal")
    if not isinstance(principal, str) or not principal:
        return None
    if principal.startswith("arn:"):
        return "aws_arn", principal
    if event.get("source") == "okta" and event.get("principal_type") in (None, "User"):
        return "okta_login", principal.lower()
    return None


def _entity(
    entity_id: str, events: Sequence[Mapping[str, Any]], graph: IdentityGraph
) -> dict[str, Any]:
    """One entity of a sequence, ``events`` being its own events: the graph's entry if known,
    plus every identifier its events show, and the weakest resolution among them."""
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
        principal = _principal_identifier(event)
        if principal is not None:
            add(*principal)
        via = event.get("resolved_via")
        if isinstance(via, str) and ":" in via:
            kind, _, value = via.partition(":")
            add(kind, value)
        add("aws_access_key", event.get("access_key_id"))
    weakest = min(events, key=lambda e: float(e.get("confidence") or 0.0))
    return {
        "id": entity_id,
        "type": known.type if known else str(events[0].get("entity_type") or "unknown"),
        "name": known.name if known else None,
        "identifiers": identifiers,
        "resolved_by": str(weakest.get("resolved_by") or "unresolved"),
        "confidence": float(weakest.get("confidence") or 0.0),
    }


def entities(events: Sequence[Mapping[str, Any]], graph: IdentityGraph) -> list[dict[str, Any]]:
    """Every entity of a sequence's events, in the order they first act.

    A rule grouped by entity has one; a rule grouped by something else (an IP) has one per
    principal involved, each with its own resolution (a failed Okta user's resolution is not
    lowered by the unresolved AWS root that signed in afterwards).
    """
    by_entity: dict[str, list[Mapping[str, Any]]] = {}
    for event in events:
        by_entity.setdefault(str(event.get("entity_id") or ""), []).append(event)
    return [_entity(entity_id, own, graph) for entity_id, own in by_entity.items()]


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
        **_entity_fields(events, graph),
        "window_seconds": meta.within_seconds,
        "first_event_time": first,
        "first_event_time_iso": iso_ms(first),
        "last_event_time": last,
        "last_event_time_iso": iso_ms(last),
        "detected_at": detected_at_ms,
        "detected_at_iso": iso_ms(detected_at_ms),
        "time_to_detect_ms": time_to_detect(detected_at_ms, events),
        "match_count": 1,
        "last_match_time": last,
        "last_match_time_iso": iso_ms(last),
        "events": [_project(e, _EVENT_KEYS, _FLAGS) for e in events],
        "context": _context(meta, next((c for c in context if c), None), events),
    }


def _entity_fields(events: Sequence[Mapping[str, Any]], graph: IdentityGraph) -> dict[str, Any]:
    """``entity`` (the first event's) and ``entities`` (all of them, see :func:`entities`)."""
    found = entities(events, graph)
    return {"entity": found[0], "entities": found}


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
        updated["last_match_time_iso"] = iso_ms(updated["last_match_time"])
        updated["detected_at"] = alert["detected_at"]
        updated["detected_at_iso"] = alert.get("detected_at_iso", iso_ms(alert["detected_at"]))
        return updated, updated
    return alert, alert


# The version encode_open_alert writes; decode_open_alert also reads 0 (the bare alert).
OPEN_ALERT_VERSION = 1


def encode_open_alert(alert: Mapping[str, Any]) -> str:
    """The open alert as its ``ValueState`` text, in version :data:`OPEN_ALERT_VERSION`."""
    return orjson.dumps({"version": OPEN_ALERT_VERSION, "alert": alert}).decode()


def decode_open_alert(text: str | None) -> dict[str, Any] | None:
    """The open alert :func:`encode_open_alert` wrote, or a version-0 bare alert object; None
    for ``None`` or empty text (no open alert).

    Raises :class:`~seamwatch.udfs.errors.StateFormatError` for another version or for text
    that is neither.
    """
    if not text:
        return None
    version: object = "unreadable"
    try:
        raw = orjson.loads(text)
        if "version" not in raw and "alert_id" in raw:
            version = 0
            alert = raw
        else:
            version = raw["version"]
            alert = raw["alert"]
        if version not in (0, OPEN_ALERT_VERSION) or isinstance(version, bool):
            raise ValueError(version)
        if not isinstance(alert, dict) or "alert_id" not in alert:
            raise TypeError("not an alert")
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise StateFormatError(
            f"open alert: format version {version!r} is not one this release reads"
            f" (0 and {OPEN_ALERT_VERSION}), or the state is damaged: {text[:120]!r}"
        ) from exc
    return alert


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
    "asn",
    "account_id",
    "region",
    "service",
    "error_code",
    "host",
    "logon_type",
    "ticket_encryption",
    "target_group",
    "risk_level",
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
    event_time = int(raw["event_time"])
    out["event_time"] = event_time
    out["event_time_iso"] = iso_ms(event_time)
    for flag in flags:
        out[flag] = bool(raw.get(flag))
    return out


def iso_ms(ms: int) -> str:
    """Epoch milliseconds as ISO-8601 UTC with milliseconds (``2026-03-04T09:12:03.250Z``):
    the form alerts carry beside each epoch time."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def time_to_detect(detected_at_ms: int, events: Sequence[Mapping[str, Any]]) -> int:
    """Milliseconds from the arrival in the job of the match's last-arriving event to the
    detection: the job's own latency, meaningful on a replay of old logs too.

    An event without an arrival time (built outside the job) counts from its event time, as
    a live stream would.
    """
    arrivals = [
        int(e["arrived_at"]) if e.get("arrived_at") is not None else int(e["event_time"])
        for e in events
    ]
    return detected_at_ms - max(arrivals)


def iso(ms: int) -> str:
    """Epoch milliseconds as ISO-8601 UTC with seconds (``2026-03-04T09:12:03Z``)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def timeline(alert: Mapping[str, Any]) -> list[str]:
    """The alert as short lines an analyst reads: header, entities, then the events in order.

    Every line is safe to print (:func:`~seamwatch.udfs.terminal.terminal_safe`): a value from
    the logs cannot move the cursor, turn text around or start a line of its own.
    """
    return [terminal_safe(line) for line in _timeline_lines(alert)]


def _timeline_lines(alert: Mapping[str, Any]) -> list[str]:
    lines = [
        f"[{alert['severity'].upper()}] {alert['title']}",
        f"  rule {alert['rule_id']}  techniques {', '.join(alert['techniques'])}"
        f"  alert {alert['alert_id']}",
    ]
    for entity in alert.get("entities") or [alert["entity"]]:
        name = f" ({entity['name']})" if entity.get("name") else ""
        lines.append(
            f"  entity {entity['id']}{name}  type {entity['type']}"
            f"  resolved {entity['resolved_by']} ({entity['confidence']:.1f})"
        )
    lines.append(
        f"  window {alert['window_seconds']}s: {iso(alert['first_event_time'])} -> "
        f"{iso(alert['last_event_time'])}"
    )
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
    # A Windows event without a client address shows the machine that logged it.
    where = event.get("src_ip") or event.get("src_host") or event.get("host") or "-"
    country = event.get("country") or "-"
    flag = "".join(f" {name.upper().replace('_', '-')}" for name in _FLAGS if event.get(name))
    return (
        f"    {iso(event['event_time'])}  {event['source']:<10} {event['action']:<28} "
        f"{where:<16} {country}{flag}"
    )
