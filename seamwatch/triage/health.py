"""Per-rule health: how many alerts a rule raised, what analysts decided, how fast it was.

The escalation-to-confirmed ratio of a rule is the share of its decided alerts (confirmed or
benign) that were confirmed. Duplicates are counted and shown but left out of the ratio: an
alert marked duplicate says the incident was already being handled, not whether the rule was
right. A rule whose ratio stays under the threshold (30 % by default) once it has enough
decided alerts costs analysts more than it finds: tune its window or threshold.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from seamwatch.triage.alertfile import as_ms
from seamwatch.triage.verdicts import Verdict

DEFAULT_THRESHOLD = 0.30
DEFAULT_MIN_VERDICTS = 10


@dataclass(frozen=True, slots=True)
class RuleHealth:
    """One rule's numbers over the period."""

    rule_id: str
    title: str
    alerts: int
    confirmed: int
    benign: int
    duplicate: int
    median_ttd_ms: int | None
    below_threshold: bool

    @property
    def verdicts(self) -> int:
        return self.confirmed + self.benign + self.duplicate

    @property
    def decided(self) -> int:
        return self.confirmed + self.benign

    @property
    def ratio(self) -> float | None:
        """Confirmed over decided (confirmed + benign); ``None`` before any decision."""
        return self.confirmed / self.decided if self.decided else None


@dataclass(frozen=True, slots=True)
class HealthReport:
    """Every rule's health, and the verdicts no alert or rule could be found for."""

    rules: list[RuleHealth]
    orphan_verdicts: int
    threshold: float
    min_verdicts: int


def detected_ms(alert: Mapping[str, Any]) -> int | None:
    """When the alert was raised (``detected_at``), in epoch milliseconds."""
    return as_ms(alert.get("detected_at"))


def time_to_detect_ms(alert: Mapping[str, Any]) -> int | None:
    """``time_to_detect_ms`` as written, else detection time minus the last event's time."""
    value = alert.get("time_to_detect_ms")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    detected, last = detected_ms(alert), as_ms(alert.get("last_event_time"))
    return detected - last if detected is not None and last is not None else None


def rule_health(
    alerts: Sequence[Mapping[str, Any]],
    verdicts: Mapping[str, Verdict],
    *,
    rule_titles: Mapping[str, str] | None = None,
    since_ms: int | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    min_verdicts: int = DEFAULT_MIN_VERDICTS,
) -> HealthReport:
    """Per rule: alerts detected since ``since_ms``, their latest verdicts, ratio and median.

    ``rule_titles`` lists the loaded rules, so a rule that raised nothing still shows (with
    zero alerts). A verdict whose alert is in none of the files counts for the rule it recorded
    if it was recorded in the period; without a rule it is an orphan, counted apart.
    """
    titles: dict[str, str] = dict(rule_titles or {})
    in_period = [a for a in alerts if since_ms is None or (detected_ms(a) or 0) >= since_ms]
    known_ids = {str(a["alert_id"]) for a in alerts}
    by_rule: dict[str, list[Mapping[str, Any]]] = {rule: [] for rule in titles}
    for alert in in_period:
        rule = str(alert["rule_id"])
        by_rule.setdefault(rule, []).append(alert)
        titles.setdefault(rule, str(alert.get("title") or ""))
    kinds: dict[str, list[str]] = {rule: [] for rule in by_rule}
    for alert in in_period:
        found = verdicts.get(str(alert["alert_id"]))
        if found is not None:
            kinds[str(alert["rule_id"])].append(found.verdict)
    orphans = 0
    for verdict in verdicts.values():
        if verdict.alert_id in known_ids:
            continue
        if since_ms is not None and verdict.recorded_at < since_ms:
            continue
        if verdict.rule_id is None:
            orphans += 1
            continue
        by_rule.setdefault(verdict.rule_id, [])
        titles.setdefault(verdict.rule_id, "")
        kinds.setdefault(verdict.rule_id, []).append(verdict.verdict)

    rows = []
    for rule in sorted(by_rule):
        decided = kinds.get(rule, [])
        confirmed, benign = decided.count("confirmed"), decided.count("benign")
        ratio = confirmed / (confirmed + benign) if confirmed + benign else None
        rows.append(
            RuleHealth(
                rule_id=rule,
                title=titles.get(rule, ""),
                alerts=len(by_rule[rule]),
                confirmed=confirmed,
                benign=benign,
                duplicate=decided.count("duplicate"),
                median_ttd_ms=_median(time_to_detect_ms(a) for a in by_rule[rule]),
                below_threshold=(
                    ratio is not None and confirmed + benign >= min_verdicts and ratio < threshold
                ),
            )
        )
    return HealthReport(rows, orphans, threshold, min_verdicts)


def _median(values: Iterable[int | None]) -> int | None:
    present = [v for v in values if v is not None]
    return int(statistics.median(present)) if present else None


def format_duration(ms: int | None) -> str:
    """``754_000`` -> ``12m 34s``, ``900_000`` -> ``15m``: largest unit and next, unless 0."""
    if ms is None:
        return "-"
    sign, ms = ("-" if ms < 0 else ""), abs(ms)
    if ms < 1000:
        return f"{sign}{ms}ms"
    seconds = ms // 1000
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if parts or seconds >= size or unit == "s":
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
        if len(parts) == 2:
            break
    if len(parts) == 2 and parts[1].startswith("0"):
        parts.pop()
    return sign + " ".join(parts)


def format_ratio(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.0%}"
