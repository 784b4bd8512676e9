"""An alert as an OCSF Detection Finding (class 2004), as a plain function of the alert record.

The mapping (docs/alerts.md has it as a table):

- the finding: ``finding_info.uid`` and ``metadata.uid`` are the ``alert_id``; the rule is the
  ``finding_info.analytic`` (type Rule) and its title and description the finding's; the ATT&CK
  techniques are ``finding_info.attacks`` with their tactics (from the committed ATT&CK data);
- times: ``time`` is when the job detected it, ``start_time``/``end_time`` the first and last
  matched event, ``finding_info.first_seen_time``/``last_seen_time`` the same, ``count`` the
  matches folded into the alert (``suppress``);
- the entity is the actor: each matched event is one ``evidences`` entry with ``actor.user``
  (the canonical entity, its name and email), ``src_endpoint`` (IP, location, AS), ``api``
  (CloudTrail: the call and its service) and ``data`` (what OCSF has no place for: step, source,
  outcome, baseline flags, the raw record's reference);
- ``unmapped.seamwatch`` keeps the rest of the alert that a consumer may want (group, window,
  the entity's identifiers and resolution, the authentication context).

Only the OCSF version in :data:`OCSF_VERSION` is produced; the tests validate every finding
against that version's schema as a maintained OCSF package ships it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import metadata
from typing import Any

import orjson

from seamwatch.udfs.attack_data import AttackData, load_attack_data

OCSF_VERSION = "1.7.0"
PRODUCT = {"name": "Seamwatch", "vendor_name": "Seamwatch"}

CATEGORY_FINDINGS = 2
CLASS_DETECTION_FINDING = 2004
ACTIVITY_CREATE = 1
SEVERITY_IDS = {"low": 2, "medium": 3, "high": 4, "critical": 5}
STATUS_NEW = 1
ANALYTIC_RULE = 1
# OCSF user type ids: 1 User, 3 System, 0 Unknown.
USER_TYPE_IDS = {"human": (1, "User"), "service": (3, "System"), "aws_service": (3, "System")}
# Event fields that OCSF has no attribute for, kept in an evidence's ``data``.
EVIDENCE_DATA_KEYS = (
    "step",
    "count",
    "source",
    "action",
    "outcome",
    "principal",
    "principal_type",
    "account_id",
    "region",
    "service",
    "error_code",
    "logon_type",
    "ticket_encryption",
    "target_group",
    "risk_level",
    "access_key_id",
    "role_arn",
    "target_user",
    "device",
    "user_agent",
    "geo_source",
    "resolved_by",
    "resolved_via",
    "confidence",
    "new_country",
    "new_ip",
    "new_asn",
    "new_device",
    "new_role",
    "impossible_travel",
    "travel_speed_kmh",
    "raw_ref",
)


@cache
def _attack() -> AttackData:
    return load_attack_data()


def attacks(technique_ids: list[str]) -> list[dict[str, Any]]:
    """``finding_info.attacks``: each technique (a sub-technique under its parent) with its
    tactics. An id the ATT&CK data does not know keeps only its uid."""
    data = _attack()
    found: list[dict[str, Any]] = []
    for uid in technique_ids:
        technique = data.techniques.get(uid)
        if technique is None:
            found.append({"technique": {"uid": uid}, "version": data.attack_version})
            continue
        entry: dict[str, Any] = {"version": data.attack_version}
        parent = data.techniques.get(technique.parent_id) if technique.parent_id else None
        if technique.is_subtechnique:
            entry["sub_technique"] = {"uid": technique.id, "name": technique.name}
            entry["technique"] = _compact(
                {"uid": technique.parent_id, "name": parent.name if parent else None}
            )
        else:
            entry["technique"] = {"uid": technique.id, "name": technique.name}
        tactics = [data.tactic(shortname) for shortname in technique.tactics]
        if tactics:
            entry["tactic"] = {"uid": tactics[0].id, "name": tactics[0].name}
            entry["tactics"] = [{"uid": t.id, "name": t.name} for t in tactics]
        found.append(_compact(entry))
    return found


def _user(entity: Mapping[str, Any]) -> dict[str, Any]:
    type_id, type_name = USER_TYPE_IDS.get(str(entity.get("type")), (0, "Unknown"))
    emails = [i["value"] for i in entity.get("identifiers") or [] if i.get("kind") == "email"]
    return _compact(
        {
            "uid": entity.get("id") or None,
            "name": entity.get("name") or entity.get("id") or None,
            "email_addr": emails[0] if emails else None,
            "type_id": type_id,
            "type": type_name,
        }
    )


def _endpoint(event: Mapping[str, Any]) -> dict[str, Any] | None:
    location = _compact(
        {
            "city": event.get("city"),
            # OCSF wants an ISO 3166 code in ``country``; the event has the country's name.
            "desc": event.get("country"),
        }
    )
    asys = _compact({"number": event.get("asn"), "name": event.get("as_org")})
    endpoint = _compact(
        {
            "ip": event.get("src_ip"),
            "hostname": event.get("src_host"),
            "location": location or None,
            "autonomous_system": asys or None,
        }
    )
    return endpoint or None


def _evidence(event: Mapping[str, Any], user: Mapping[str, Any]) -> dict[str, Any]:
    api = None
    if event.get("source") == "cloudtrail" and event.get("action"):
        api = _compact(
            {
                "operation": event["action"],
                "service": _compact({"name": event.get("service")}) or None,
            }
        )
    data = {key: event[key] for key in EVIDENCE_DATA_KEYS if event.get(key) is not None}
    # The Windows machine that logged the event; OCSF's Device needs a type: 0 Unknown.
    device = {"hostname": event["host"], "type_id": 0} if event.get("host") else None
    return _compact(
        {
            "uid": event.get("event_id"),
            "name": event.get("step"),
            "actor": {"user": dict(user)},
            "src_endpoint": _endpoint(event),
            "device": device,
            "api": api,
            "data": data,
        }
    )


def detection_finding(
    alert: Mapping[str, Any], product_version: str | None = None
) -> dict[str, Any]:
    """The OCSF Detection Finding of one alert record (``seamwatch/schemas/alert.avsc``)."""
    severity = str(alert.get("severity") or "")
    events: list[Mapping[str, Any]] = list(alert.get("events") or [])
    entity: Mapping[str, Any] = alert.get("entity") or {}
    user = _user(entity)
    product = dict(PRODUCT)
    if product_version:
        product["version"] = product_version
    sources = sorted({str(e["source"]) for e in events if e.get("source")})
    return _compact(
        {
            "activity_id": ACTIVITY_CREATE,
            "activity_name": "Create",
            "category_uid": CATEGORY_FINDINGS,
            "category_name": "Findings",
            "class_uid": CLASS_DETECTION_FINDING,
            "class_name": "Detection Finding",
            "type_uid": CLASS_DETECTION_FINDING * 100 + ACTIVITY_CREATE,
            "type_name": "Detection Finding: Create",
            "severity_id": SEVERITY_IDS.get(severity, 0),
            "severity": severity.title() if severity in SEVERITY_IDS else "Unknown",
            "status_id": STATUS_NEW,
            "status": "New",
            "is_alert": True,
            "message": alert.get("title"),
            "time": alert.get("detected_at"),
            "start_time": alert.get("first_event_time"),
            "end_time": alert.get("last_event_time"),
            "count": alert.get("match_count"),
            "metadata": {
                "version": OCSF_VERSION,
                "product": product,
                "uid": alert.get("alert_id"),
                "correlation_uid": f"{alert.get('rule_id')}:{alert.get('group_key')}",
            },
            "finding_info": _compact(
                {
                    "uid": alert.get("alert_id"),
                    "title": alert.get("title"),
                    "desc": alert.get("description"),
                    "types": [alert.get("rule_id")],
                    "analytic": {
                        "uid": alert.get("rule_id"),
                        "name": alert.get("title"),
                        "type_id": ANALYTIC_RULE,
                        "type": "Rule",
                    },
                    "attacks": attacks(list(alert.get("techniques") or [])) or None,
                    "created_time": alert.get("detected_at"),
                    "first_seen_time": alert.get("first_event_time"),
                    "last_seen_time": alert.get("last_match_time"),
                    "data_sources": sources or None,
                    "related_events": [
                        _compact(
                            {
                                "uid": e.get("event_id"),
                                "type": f"{e.get('source')}:{e.get('action')}",
                                "title": e.get("step"),
                                "first_seen_time": e.get("event_time"),
                            }
                        )
                        for e in events
                        if e.get("event_id")
                    ]
                    or None,
                }
            ),
            "evidences": [_evidence(e, user) for e in events] or None,
            "unmapped": {
                "seamwatch": _compact(
                    {
                        "rule_id": alert.get("rule_id"),
                        "group_by": alert.get("group_by"),
                        "group_key": alert.get("group_key"),
                        "window_seconds": alert.get("window_seconds"),
                        "time_to_detect_ms": alert.get("time_to_detect_ms"),
                        "entity": dict(entity) or None,
                        "entities": alert.get("entities") or None,
                        "context": alert.get("context"),
                    }
                )
            },
        }
    )


def _compact(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """The mapping without its ``None`` values (OCSF omits an attribute it has no value for)."""
    return {key: value for key, value in mapping.items() if value is not None}


@cache
def _seamwatch_version() -> str | None:
    try:
        return metadata.version("seamwatch")
    except metadata.PackageNotFoundError:
        return None


def finding_json(alert_json: str) -> str:
    """The pipeline's alert JSON as its finding's JSON (what the alert outputs write)."""
    finding = detection_finding(orjson.loads(alert_json), _seamwatch_version())
    return orjson.dumps(finding).decode()
