"""Alerts for the triage tests, assembled by the job's own ``build_alert`` (never hand-written
JSON), so the tests follow the alert shape when it changes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from seamwatch.udfs.alerts import RuleMeta, build_alert
from seamwatch.udfs.identity import IdentityGraph

T0 = 1_772_620_000_000  # 2026-03-04T10:26:40Z


@dataclass
class Ev:
    """One event of an alert: source, seconds after T0, action, address, country, flags."""

    source: str
    at: int
    action: str
    src_ip: str | None = "203.0.113.9"
    country: str | None = "Romania"
    flags: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    step: str | None = None  # default: step<position>

    def record(self, number: int, entity: str, step: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "event_id": f"{entity}-{number}",
            "source": self.source,
            "event_time": T0 + self.at * 1000,
            "action": self.action,
            "outcome": "success",
            "principal": f"{entity}@example.com",
            "src_ip": self.src_ip,
            "country": self.country,
            "entity_id": entity,
            "resolved_by": "static",
            "confidence": 0.9,
            "raw_ref": f"{self.source}.jsonl:{number}",
            **self.extra,
        }
        if step is not None:
            out["step"] = step
        for flag in self.flags:
            out[flag] = True
        return out


def make_alert(
    entity: str,
    events: list[Ev],
    *,
    rule_id: str = "rule-a",
    context: list[Ev] | None = None,
    within: int = 900,
    detect_after_s: int = 30,
    techniques: tuple[str, ...] = ("T1078.004", "T1098.001"),
) -> dict[str, Any]:
    """The alert ``build_alert`` makes of ``events`` matched in that order (and ``context``)."""
    records = [ev.record(i, entity, ev.step or f"step{i}") for i, ev in enumerate(events)]
    if context is not None:
        listed = [ev.record(100 + i, entity, None) for i, ev in enumerate(context)]
        records[-1]["auth_context"] = ",".join(json.dumps(r) for r in listed)
    meta = RuleMeta(
        rule_id,
        f"Title of {rule_id}",
        "What the rule looks for.",
        techniques,
        "high",
        within,
        "entity_id",
        None,
        3600 if context is not None else None,
    )
    last = max(r["event_time"] for r in records)
    return build_alert(
        meta, entity, json.dumps(records), IdentityGraph(), last + detect_after_s * 1000
    )
