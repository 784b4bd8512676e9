"""Replay the tests written inside rule files through the real job (``seamwatch rules test``).

Every test case of every rule is laid out on its own stretch of event time, 400 days after the
previous one, and the whole catalog runs once on a local mini-cluster. Windows, learned links
and baselines all expire in event time well within that gap, so cases never see each other's
state. A case passes when the job gives exactly the expected number of alerts *of the rule
under test* inside the case's stretch (alerts of other rules are not counted), each naming
the expected entity if the case gives one.
"""

from __future__ import annotations

import copy
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from seamwatch.jobs.local import RunListener, RunResult, run_files
from seamwatch.jobs.settings import JobSettings
from seamwatch.rules.rulebook import Rule, RuleTest, load_rules
from seamwatch.sources.timeguard import FutureBounds

EPOCH = datetime(2030, 1, 1, tzinfo=UTC)
CASE_SPACING = timedelta(days=400)
CASE_SPAN = timedelta(days=100)  # alerts within this distance of a case's start belong to it


@dataclass(frozen=True)
class CaseResult:
    rule_id: str
    case: str
    expected: int
    got: int
    entities: tuple[str, ...]
    expected_entity: str | None
    matches: int = 0
    expected_matches: int | None = None
    contexts: tuple[int, ...] = ()  # authentications in each alert's context
    expected_context: int | None = None

    @property
    def passed(self) -> bool:
        if self.got != self.expected:
            return False
        if self.expected_matches is not None and self.matches != self.expected_matches:
            return False
        if self.expected_context is not None and any(
            n != self.expected_context for n in self.contexts
        ):
            return False
        return self.expected_entity is None or all(e == self.expected_entity for e in self.entities)


@dataclass
class RuleTestReport:
    cases: list[CaseResult] = field(default_factory=list)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    interrupted: bool = False  # the job was stopped (Ctrl-C): no case was judged

    @property
    def passed(self) -> bool:
        return not self.interrupted and bool(self.cases) and all(c.passed for c in self.cases)

    def by_rule(self) -> dict[str, list[CaseResult]]:
        out: dict[str, list[CaseResult]] = {}
        for case in self.cases:
            out.setdefault(case.rule_id, []).append(case)
        return out


def _iso(at: datetime, millis: bool) -> str:
    text = at.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{at.microsecond // 1000:03d}Z" if millis else f"{text}Z"


def materialize(rule: Rule, test: RuleTest, start: datetime, case_no: int) -> list[tuple[str, Any]]:
    """The case's raw records, with times set from their offsets and ids filled in."""
    records = []
    for i, event in enumerate(test.events):
        record = copy.deepcopy(event.record)
        at = start + timedelta(seconds=event.offset_seconds)
        event_id = f"{rule.id}-{case_no}-{i}"
        if event.source == "okta":
            record["published"] = _iso(at, millis=True)
            record.setdefault("uuid", event_id)
        elif event.source == "entra":
            _time_entra(record, _iso(at, millis=True), event_id)
        elif event.source == "windows":
            _time_windows(record, _iso(at, millis=True), event_id)
        else:
            record["eventTime"] = _iso(at, millis=False)
            record.setdefault("eventID", event_id)
        records.append((event.source, record))
    return records


def _time_entra(record: dict[str, Any], when: str, event_id: str) -> None:
    """An Entra record's time and id: a diagnostic-settings envelope gets ``time`` and its
    ``properties`` the record's own time; a flat Graph object only the latter. An audit (it
    has ``activityDisplayName`` or ``activityDateTime``) is timed by ``activityDateTime``, a
    sign-in by ``createdDateTime``."""
    body = record.get("properties")
    if isinstance(body, dict):
        record["time"] = when
    else:
        body = record
    audit = "activityDisplayName" in body or "activityDateTime" in body
    body["activityDateTime" if audit else "createdDateTime"] = when
    body.setdefault("id", event_id)


def _time_windows(record: dict[str, Any], when: str, event_id: str) -> None:
    """A Windows event's time and record number, in the place its producer shape keeps them:
    Winlogbeat ``@timestamp``, evtx JSON ``Event.System``, else a flat export's
    ``TimeCreated`` (a zone-less NXLog ``EventTime`` would be read as local time)."""
    event = record.get("Event")
    if isinstance(event, dict) and isinstance(event.get("System"), dict):
        system = event["System"]
        system["TimeCreated"] = {"#attributes": {"SystemTime": when}}
        system.setdefault("EventRecordID", event_id)
    elif "winlog" in record or "event_data" in record or "event_id" in record:
        record["@timestamp"] = when
        winlog = record.get("winlog")
        if isinstance(winlog, dict):
            winlog.setdefault("record_id", event_id)
        else:
            record.setdefault("record_number", event_id)
    else:
        record.pop("EventTime", None)
        record["TimeCreated"] = when
        record.setdefault("EventRecordID", event_id)


def identity_entities(cases: list[tuple[Rule, RuleTest]]) -> list[dict[str, Any]]:
    """The identity-file entities of all ``cases`` (one graph serves the whole run): the same
    entity given by several cases counts once; one id given two ways is refused."""
    entities: dict[str, dict[str, Any]] = {}
    for rule, test in cases:
        for entity in test.identities:
            known = entities.setdefault(str(entity["id"]), entity)
            if known != entity:
                raise ValueError(
                    f"rule {rule.id}, test {test.name!r}: entity {entity['id']!r} differs from "
                    "the one another test gives; give each entity one definition"
                )
    return list(entities.values())


def run_rule_tests(
    rules_dir: Path, only: str | None = None, listener: RunListener | None = None
) -> RuleTestReport:
    """Load the catalog, replay every rule's tests in one job, and compare (``listener`` is
    told the job's progress; an interrupted job leaves the report ``interrupted``, unjudged)."""
    rules = load_rules(rules_dir)
    cases: list[tuple[Rule, RuleTest, datetime]] = []
    lines: dict[str, list[bytes]] = {"okta": [], "cloudtrail": [], "entra": [], "windows": []}
    for rule in rules:
        if only is not None and rule.id != only:
            continue
        for test in rule.tests:
            start = EPOCH + CASE_SPACING * len(cases)
            for source, record in materialize(rule, test, start, len(cases)):
                lines[source].append(orjson.dumps(record))
            cases.append((rule, test, start))
    report = RuleTestReport()
    if not cases:
        return report
    with tempfile.TemporaryDirectory(prefix="seamwatch-rule-tests-") as tmp:
        inputs: dict[str, list[str]] = {}
        for source, records in lines.items():
            if not records and source in ("entra", "windows"):
                continue  # a catalog without tests of the source needs no table of it
            path = Path(tmp) / f"{source}.jsonl"
            path.write_bytes(b"".join(r + b"\n" for r in records))
            inputs[source] = [str(path)]
        identities = None
        entities = identity_entities([(rule, test) for rule, test, _ in cases])
        if entities:
            identities = Path(tmp) / "identities.yaml"
            identities.write_bytes(orjson.dumps({"entities": entities}))
        result: RunResult = run_files(
            JobSettings(
                inputs=inputs,
                rules_dir=rules_dir,
                identities=identities,
                output=Path(tmp) / "alerts.jsonl",
                # The cases' timeline is laid out from 2030 on: no clock check.
                future_bounds=FutureBounds(clock_seconds=None),
            ),
            listener,
        )
    if result.interrupted:
        report.interrupted = True
        return report
    report.dead_letters = result.dead_letters
    for rule, test, start in cases:
        lo = int((start - CASE_SPAN).timestamp() * 1000)
        hi = int((start + CASE_SPAN).timestamp() * 1000)
        mine = [
            a
            for a in result.alerts
            if a["rule_id"] == rule.id and lo <= a["first_event_time"] <= hi
        ]
        report.cases.append(
            CaseResult(
                rule_id=rule.id,
                case=test.name,
                expected=test.expect,
                got=len(mine),
                entities=tuple(a["group_key"] for a in mine),
                expected_entity=test.entity,
                matches=sum(a["match_count"] for a in mine),
                expected_matches=test.matches,
                contexts=tuple((a.get("context") or {}).get("total", 0) for a in mine),
                expected_context=test.context,
            )
        )
    return report
