"""Detection rules as data: the YAML rule model, validated at load.

A rule is an ordered sequence of steps over normalized events, all of one group (by default
the canonical entity) inside the rule's window. See ``docs/rules.md`` for the language. A rule
file that is wrong is refused with file, line and reason; :func:`load_rules` loads a whole
directory or nothing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from seamwatch.respond.actions import Action
from seamwatch.sqltext import check_interval
from seamwatch.udfs.conditions import Scalar
from seamwatch.udfs.identity import EntitySpec
from seamwatch.udfs.records import EVENT_FIELDS
from seamwatch.yamlfile import ConfigError, Locator, load_yaml, validation_error

FIELD_TYPES: dict[str, str] = dict(EVENT_FIELDS)
SOURCES = ("okta", "cloudtrail", "entra", "windows")
SourceName = Literal["okta", "cloudtrail", "entra", "windows"]
_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_OFFSET = re.compile(r"^\s*([+-]?)(\d+)\s*(s|m|h|d)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_CONTEXT_SECONDS = 86400


def parse_duration(text: object) -> int:
    """``"90s"``, ``"15m"``, ``"12h"``, ``"2d"`` -> seconds. Anything else is refused."""
    if isinstance(text, bool) or not isinstance(text, str | int):
        raise ValueError(f"a duration like '15m' is expected, not {text!r}")
    match = _DURATION.match(str(text))
    if match is None:
        raise ValueError(f"{text!r} is not a duration: write a number and s, m, h or d ('15m')")
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"duration {text!r} must be positive")
    return seconds


def parse_watermark(text: object) -> int:
    """A source's watermark bound (``--watermark SOURCE=DURATION``) in seconds, within what
    Flink accepts."""
    return check_interval(parse_duration(text), f"watermark bound {text!r}")


def parse_offset(text: object) -> int:
    """A signed time offset of a test event (``"-8d"``, ``"90s"``, ``"+2m"``) in seconds."""
    match = _OFFSET.match(str(text))
    if match is None or isinstance(text, bool):
        raise ValueError(f"{text!r} is not a time offset: write e.g. '0s', '+2m', '-8d'")
    seconds = int(match.group(2)) * _UNIT_SECONDS[match.group(3)]
    return -seconds if match.group(1) == "-" else seconds


Duration = Annotated[int, BeforeValidator(parse_duration)]


def _check_field(name: str) -> str:
    if name not in FIELD_TYPES:
        known = ", ".join(sorted(FIELD_TYPES))
        raise ValueError(f"unknown event field {name!r}; known fields: {known}")
    return name


def _value_fits(field: str, value: Scalar) -> bool:
    sql_type = FIELD_TYPES[field]
    if sql_type == "BOOLEAN":
        return isinstance(value, bool)
    if sql_type in ("BIGINT", "DOUBLE"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, str)


class Step(BaseModel):
    """One step of a sequence: which events it matches and how it relates to earlier steps."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)
    source: list[SourceName] | None = None
    where: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)
    same: dict[str, str] = Field(default_factory=dict)
    differ: dict[str, str] = Field(default_factory=dict)
    max_gap: Duration | None = None
    count: int | None = Field(default=None, ge=2, le=1000)
    absent: bool = False
    within: Duration | None = None  # absence window (absent steps only)

    @field_validator("source", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("where")
    @classmethod
    def _where_fields(cls, where: dict[str, Scalar | list[Scalar]]) -> dict[str, Any]:
        for name, value in where.items():
            _check_field(name)
            values = value if isinstance(value, list) else [value]
            if not values:
                raise ValueError(f"where.{name}: the list of values is empty")
            for item in values:
                if not _value_fits(name, item):
                    raise ValueError(
                        f"where.{name}: {item!r} does not fit the field's type {FIELD_TYPES[name]}"
                    )
        return where

    @field_validator("same", "differ")
    @classmethod
    def _relation_fields(cls, relation: dict[str, str]) -> dict[str, str]:
        for name in relation:
            _check_field(name)
        return relation


class TestEvent(BaseModel):
    """One raw vendor record of a rule test, at a time relative to the test's start."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: str = "0s"
    okta: dict[str, Any] | None = None
    cloudtrail: dict[str, Any] | None = None
    entra: dict[str, Any] | None = None
    windows: dict[str, Any] | None = None

    @field_validator("at")
    @classmethod
    def _offset(cls, value: str) -> str:
        parse_offset(value)
        return value

    @model_validator(mode="after")
    def _one_record(self) -> TestEvent:
        given = [source for source in SOURCES if getattr(self, source) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one record: okta: {...}, cloudtrail: {...}, entra: {...} or "
                "windows: {...}"
            )
        return self

    @property
    def offset_seconds(self) -> int:
        return parse_offset(self.at)

    @property
    def source(self) -> str:
        return next(source for source in SOURCES if getattr(self, source) is not None)

    @property
    def record(self) -> dict[str, Any]:
        record: dict[str, Any] = getattr(self, self.source)
        return record


class RuleTest(BaseModel):
    """A replayable case: events, and how many alerts of this rule they must give."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    expect: int = Field(ge=0)
    entity: str | None = None  # the entity (group key) every expected alert must name
    matches: int | None = Field(default=None, ge=0)  # matches counted on them (suppression)
    context: int | None = Field(default=None, ge=0)  # authentications in each alert's context
    # Entities of the identity file the case runs with (the items of its ``entities:`` list),
    # for cases whose events meet only through the graph (a SID and an IAM user).
    identities: list[dict[str, Any]] = Field(default_factory=list)
    events: list[TestEvent] = Field(min_length=1)

    @field_validator("identities")
    @classmethod
    def _entities(cls, identities: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for entity in identities:
            EntitySpec.model_validate(entity)
        return identities


class Rule(BaseModel):
    """A detection rule (one YAML file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)
    title: str = Field(min_length=1)
    description: str = ""
    techniques: list[Annotated[str, Field(pattern=r"^T\d{4}(\.\d{3})?$")]] = Field(min_length=1)
    severity: Literal["low", "medium", "high", "critical"]
    within: Duration
    group_by: str = "entity_id"
    suppress: Duration | None = None
    # The group's authentication events in this period up to the first matched event, carried
    # on the alert (what the person did to get in before, e.g., turning logging off).
    context: Duration | None = None
    steps: list[Step] = Field(min_length=1)
    tests: list[RuleTest] = Field(default_factory=list)
    # Response actions for each alert, dry-run unless the deployment says live (docs/response.md).
    respond: list[Action] = Field(default_factory=list, max_length=10)

    @property
    def absent_step(self) -> Step | None:
        return next((s for s in self.steps if s.absent), None)

    @property
    def present_steps(self) -> list[Step]:
        return [s for s in self.steps if not s.absent]

    @field_validator("within")
    @classmethod
    def _window_fits_flink(cls, seconds: int) -> int:
        return check_interval(seconds, "the rule's window")

    @field_validator("group_by")
    @classmethod
    def _group_field(cls, name: str) -> str:
        _check_field(name)
        # A group is keyed by the field's text: CAST(... AS STRING) in SQL, str() in Python,
        # which agree on text and whole numbers only.
        if FIELD_TYPES[name] not in ("STRING", "BIGINT"):
            raise ValueError(
                f"cannot group by {name!r}: a {FIELD_TYPES[name]} field; group by a text or "
                "whole-number field (entity_id, src_ip, asn, ...)"
            )
        return name

    @model_validator(mode="after")
    def _steps_refer_backwards(self, info: ValidationInfo) -> Rule:
        if not (info.context or {}).get("located"):
            problems = cross_step_problems(self)
            if problems:
                raise ValueError(problems[0][1])
        return self


def cross_step_problems(rule: Rule) -> list[tuple[tuple[str | int, ...], str]]:
    """Checks that span steps: unique names, references to earlier steps, gaps."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    seen: set[str] = set()
    for i, step in enumerate(rule.steps):
        at: tuple[str | int, ...] = ("steps", i)
        if step.name in seen:
            problems.append(((*at, "name"), f"step name {step.name!r} is used twice"))
        for kind, relation in (("same", step.same), ("differ", step.differ)):
            for field, other in relation.items():
                if other not in seen:
                    problems.append(
                        ((*at, kind, field), f"{kind}.{field}: {other!r} is not an earlier step")
                    )
        if step.max_gap is not None and i == 0:
            problems.append(((*at, "max_gap"), "the first step has no previous step to gap from"))
        if step.max_gap is not None and step.max_gap > rule.within:
            problems.append(((*at, "max_gap"), "max_gap is longer than the rule's window"))
        if step.absent:
            if step.within is None:
                problems.append(((*at, "absent"), "an absent step needs its own within"))
            if step.count is not None or step.max_gap is not None:
                problems.append(((*at, "absent"), "an absent step takes no count or max_gap"))
            if 0 < i < len(rule.steps) - 1 and (step.same or step.differ or rule.context):
                # A middle step means "none in its window before the next step", decided in
                # the rule's own SQL (compiler.absence_in_sql), which compares no fields.
                problems.append(
                    (
                        (*at, "absent"),
                        "an absent step between two steps takes no same or differ, and its "
                        "rule no context",
                    )
                )
            if len(rule.steps) < 2:
                problems.append(((*at, "absent"), "an absent step needs a step to relate to"))
        elif step.within is not None:
            problems.append(((*at, "within"), "within on a step is for absent steps only"))
        seen.add(step.name)
    if rule.context is not None and rule.context > MAX_CONTEXT_SECONDS:
        problems.append((("context",), "context longer than a day is refused (state per group)"))
    if sum(1 for step in rule.steps if step.absent) > 1:
        problems.append((("steps",), "at most one absent step per rule"))
    first_absent = bool(rule.steps) and rule.steps[0].absent
    if first_absent and rule.steps[0].same:
        problems.append((("steps", 0, "same"), "a leading absent step cannot refer back"))
    return problems


def load_located_rule(path: Path) -> tuple[Rule, Locator]:
    """The rule in ``path`` and where each of its values is (for later checks' errors)."""
    data, locator = load_yaml(path)
    try:
        rule = Rule.model_validate(data, context={"located": True})
    except ValidationError as exc:
        raise validation_error(exc, locator) from exc
    problems = cross_step_problems(rule)
    if problems:
        key, reason = problems[0]
        raise locator.error(key, reason)
    return rule, locator


def load_rule(path: Path) -> Rule:
    return load_located_rule(path)[0]


def load_located_rules(directory: Path) -> list[tuple[Rule, Locator]]:
    """Every ``*.yaml`` / ``*.yml`` in ``directory``, sorted by file name, each with its
    locator; all or nothing."""
    if not directory.is_dir():
        raise ConfigError(directory, None, "rules directory not found")
    paths = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    if not paths:
        raise ConfigError(directory, None, "no rule files (*.yaml) in the rules directory")
    located: list[tuple[Rule, Locator]] = []
    origin: dict[str, Path] = {}
    for path in paths:
        rule, locator = load_located_rule(path)
        if rule.id in origin:
            raise ConfigError(path, 1, f"rule id {rule.id!r} is already used by {origin[rule.id]}")
        origin[rule.id] = path
        located.append((rule, locator))
    return located


def load_rules(directory: Path) -> list[Rule]:
    """Every ``*.yaml`` / ``*.yml`` in ``directory``, sorted by file name; all or nothing."""
    return [rule for rule, _ in load_located_rules(directory)]


__all__ = [
    "SOURCES",
    "Rule",
    "RuleTest",
    "Step",
    "TestEvent",
    "load_located_rules",
    "load_rule",
    "load_rules",
    "parse_duration",
    "parse_offset",
    "parse_watermark",
]
