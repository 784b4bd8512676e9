"""Which normalized events the rest of the job needs at all.

Most events can match no step of any loaded rule. The job still normalizes and counts them,
but does not carry them through the keyed stages and into Flink SQL, where every event costs a
conversion. An event is kept when it

- could match some step of some rule (its source and ``where`` predicates, evaluated on the
  fields known right after normalization and resolution; predicates on fields filled later,
  such as ``new_country``, count as "maybe"),
- is an authentication (Okta sign-in, SSO and MFA events; Entra user sign-ins; AWS console
  sign-ins and credential-issuing calls): the behaviour baseline learns from these, or
- issued an access key (identity links are learned from it).

This is the same condition as the union of the rules' SQL pre-filters, only earlier: it never
removes an event a rule could match.
"""

from __future__ import annotations

from collections.abc import Sequence

from seamwatch.rules.rulebook import Rule
from seamwatch.udfs.behaviour import FLAG_FIELDS
from seamwatch.udfs.conditions import StepCondition
from seamwatch.udfs.links import LONG_TERM_ISSUERS, TEMPORARY_ISSUERS
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


# Entra sign-ins of people (seamwatch.udfs.entra.SIGN_IN_ACTIONS): the baseline learns where
# a person signs in from, whichever identity provider they used. Service principal and managed
# identity sign-ins, and Windows events (internal addresses, machine-centred), are not
# authentications here: rules that read them select them by action.
ENTRA_AUTHENTICATIONS = frozenset({"sign_in", "non_interactive_sign_in", "adfs_sign_in"})


def is_authentication(event: Event) -> bool:
    """Events the behaviour baseline learns from."""
    if event.source == "okta":
        return event.action.startswith(OKTA_AUTHENTICATION_PREFIXES)
    if event.source == "entra":
        return event.action in ENTRA_AUTHENTICATIONS
    if event.source == "windows":
        return False
    return event.action in AWS_AUTHENTICATIONS


class Relevance:
    """The keep-or-drop decision for normalized events, built once from the rule catalog."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        # Fields filled later count as "maybe": they are left out of the conditions.
        self._filters = tuple(
            StepCondition.of(step.source, step.where, skip=LATE_FIELDS)
            for rule in rules
            for step in rule.steps
        )
        self._fields = frozenset(name for f in self._filters for name in f.fields)
        # Per source, the conditions that can accept its events (wants runs once per event):
        # those of any source, and those naming it. A source no step names has the first only.
        self._any_source = tuple(f for f in self._filters if f.sources is None)
        named = {source for f in self._filters for source in f.sources or ()}
        self._by_source = {
            source: tuple(f for f in self._filters if f.sources is None or source in f.sources)
            for source in named
        }

    def _conditions(self, source: str) -> tuple[StepCondition, ...]:
        return self._by_source.get(source, self._any_source)

    def actions(self, source: str) -> tuple[frozenset[str], tuple[str, ...]] | None:
        """The actions of ``source`` an event needs to be wanted at all: exact names and name
        prefixes; None when a step takes any action of that source.

        This is the part of :meth:`wants` that needs only the record's own action, so the
        source table can drop the rest before any of it reaches Python.
        """
        exact: set[str] = set()
        prefixes: tuple[str, ...] = ()
        if source == "okta":
            prefixes = OKTA_AUTHENTICATION_PREFIXES
        elif source == "cloudtrail":
            exact |= AWS_AUTHENTICATIONS | TEMPORARY_ISSUERS | LONG_TERM_ISSUERS
        elif source == "entra":
            exact |= ENTRA_AUTHENTICATIONS
        for condition in self._conditions(source):
            allowed = dict(condition.where).get("action")
            if allowed is None:
                return None
            exact |= {str(action) for action in allowed}
        return frozenset(exact), prefixes

    def wants(self, event: Event) -> bool:
        if event.issued_access_key or is_authentication(event):
            return True
        conditions = self._conditions(event.source)
        if not conditions:  # no step takes this source: skip reading the event's fields
            return False
        values: dict[str, object] = {name: getattr(event, name) for name in self._fields}
        values["source"] = event.source
        return any(f.matches(values) for f in conditions)
