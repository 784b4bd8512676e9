"""Which normalized events the rest of the job needs at all.

Most events can match no step of any loaded rule. The job still normalizes and counts them,
but does not carry them through the keyed stages and into Flink SQL, where every event costs a
conversion. An event is kept when it

- could match some step of some rule (its source and ``where`` predicates, evaluated on the
  fields known right after normalization and resolution; predicates on fields filled later,
  such as ``new_country``, count as "maybe"),
- is an authentication (Okta sign-in, SSO and MFA events; AWS console sign-ins and
  credential-issuing calls): the behaviour baseline learns from these, or
- issued an access key (identity links are learned from it).

This is the same condition as the union of the rules' SQL pre-filters, only earlier: it never
removes an event a rule could match.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from seamwatch.jobs.rulebook import Rule, Scalar
from seamwatch.udfs.behaviour import FLAG_FIELDS
from seamwatch.udfs.records import Event

# Fields a later stage fills: unknown when relevance is decided.
LATE_FIELDS = frozenset(
    {
        *FLAG_FIELDS,
        "country",
        "city",
        "latitude",
        "longitude",
        "asn",
        "as_org",
        "geo_source",
        "ip_kind",
        "device",
    }
)
OKTA_AUTHENTICATION_PREFIXES = ("user.session.start", "user.authentication.", "user.mfa.")
AWS_AUTHENTICATIONS = frozenset(
    {
        "ConsoleLogin",
        "AssumeRole",
        "AssumeRoleWithSAML",
        "AssumeRoleWithWebIdentity",
        "GetSessionToken",
        "GetFederationToken",
    }
)


def is_authentication(event: Event) -> bool:
    """Events the behaviour baseline learns from."""
    if event.source == "okta":
        return event.action.startswith(OKTA_AUTHENTICATION_PREFIXES)
    return event.action in AWS_AUTHENTICATIONS


@dataclass(frozen=True)
class StepFilter:
    sources: frozenset[str] | None
    where: tuple[tuple[str, frozenset[Scalar]], ...]

    def may_match(self, values: Mapping[str, object]) -> bool:
        if self.sources is not None and values["source"] not in self.sources:
            return False
        return all(values[name] in allowed for name, allowed in self.where)


class Relevance:
    """The keep-or-drop decision for normalized events, built once from the rule catalog."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        filters = []
        for rule in rules:
            for step in rule.steps:
                where = tuple(
                    (name, frozenset(value if isinstance(value, list) else [value]))
                    for name, value in step.where.items()
                    if name not in LATE_FIELDS
                )
                sources = frozenset(step.source) if step.source else None
                filters.append(StepFilter(sources, where))
        self._filters = tuple(filters)
        self._fields = frozenset(name for f in self._filters for name, _ in f.where)

    def wants(self, event: Event) -> bool:
        if event.issued_access_key or is_authentication(event):
            return True
        values: dict[str, object] = {name: getattr(event, name) for name in self._fields}
        values["source"] = event.source
        return any(f.may_match(values) for f in self._filters)
