"""Identity links learned from the logs: which entity an access key belongs to.

A CloudTrail call that issues credentials teaches a link from the issued key to an entity:

- ``AssumeRole``, ``AssumeRoleWithSAML``, ``AssumeRoleWithWebIdentity``, ``GetSessionToken``,
  ``GetFederationToken``: the temporary key (``ASIA...``) belongs to the *caller's* entity, so
  later calls signed with it resolve even when the session name is arbitrary
  (``botocore-session-1700000000``). Role chaining (``AssumeRole`` signed by a key that was
  itself learned) keeps the original entity.
- ``CreateAccessKey``: the new long-term key (``AKIA...``) belongs to the IAM user it was
  created *for*, not to whoever created it.

This module is the plain logic: what a call teaches, whether an event should take a link, and
how a link resolves it. The job's Python step emits what :func:`teaches` returns as a link
row, and Flink SQL applies links as :func:`waits_for_link` and :func:`apply_link` say
(:mod:`seamwatch.jobs.links_sql`); the identity coverage report runs them in Python. Links
are only trusted from successful calls whose issuer is resolved.

**The encoded link is state.** It travels in the ``detail`` column of link rows and Flink
keeps it across checkpoints in the link hops' ``OVER`` windows (``LAST_VALUE``), so a savepoint
holds links in the format of the release that wrote them. The format is six tab-separated
fields (entity id, entity type, name or empty, confidence, the issuing event's id, its time in
ms), then the version marker as a seventh field, ``v1`` (:data:`LINK_FORMAT`). The marker comes
last so that the six fields keep their positions in every version: SQL reads them with
``SPLIT_INDEX`` wherever the marker says the version is one it knows. Readable:

- version 1, ``...\tv1``;
- version 0, the same six fields without a marker (what releases before the marker wrote).

A link of any other version (only a newer release's savepoint, restored into this one, holds
one): :meth:`Link.decode` raises :class:`~seamwatch.udfs.errors.StateFormatError` naming it,
and the SQL hops (:mod:`seamwatch.jobs.links_sql`) do not apply it: the event keeps the
resolution its own identifiers give, as an event signed by a key whose issuing call was never
seen does. A link is knowledge the logs teach again (the next issuing call for the key), and a
plan cannot raise a readable error per row without a Python call on the hot path; what it
costs is the learned resolution of keys issued before the downgrade, for their lifetime.
"""

from __future__ import annotations

from dataclasses import dataclass

from seamwatch.udfs.arns import iam_user_arn
from seamwatch.udfs.errors import StateFormatError
from seamwatch.udfs.identity import IdentityGraph, resolve
from seamwatch.udfs.records import EntityType, Event, Identifier

TEMPORARY_ISSUERS = frozenset(
    {
        "AssumeRole",
        "AssumeRoleWithSAML",
        "AssumeRoleWithWebIdentity",
        "GetSessionToken",
        "GetFederationToken",
    }
)
LONG_TERM_ISSUERS = frozenset({"CreateAccessKey"})
# A learned link is a little weaker than the identifier that resolved the issuer.
LINK_DISCOUNT = 0.95

# Lifetimes of learned links: temporary credentials last at most 36 hours (12 h for most
# roles); long-term keys live until deleted, so their links are kept much longer.
TEMPORARY_LINK_SECONDS = 36 * 3600
LONG_TERM_LINK_SECONDS = 90 * 86400

# The version marker of the encoded link (its seventh field), see the module docstring.
LINK_FORMAT = "v1"
# Fields of an encoded link before the marker; version 0 is these alone.
LINK_FIELDS = 6


@dataclass(frozen=True, slots=True)
class Link:
    """The entity an access key belongs to, and how sure we are."""

    entity_id: str
    entity_type: EntityType
    entity_name: str | None
    confidence: float
    taught_by: str  # event id of the call that issued the key
    issued_at: int  # event time (ms) of that call

    def encode(self) -> str:
        """Compact text form for Flink state, in the current version (:data:`LINK_FORMAT`)."""
        return "\t".join(
            [
                self.entity_id,
                self.entity_type,
                self.entity_name or "",
                f"{self.confidence:.4f}",
                self.taught_by,
                str(self.issued_at),
                LINK_FORMAT,
            ]
        )

    @classmethod
    def decode(cls, text: str) -> Link:
        """The link :meth:`encode` wrote, in this version or version 0 (no marker).

        Raises :class:`~seamwatch.udfs.errors.StateFormatError` for any other version.
        """
        parts = text.split("\t")
        if len(parts) != LINK_FIELDS and parts[LINK_FIELDS:] != [LINK_FORMAT]:
            version = parts[LINK_FIELDS] if len(parts) > LINK_FIELDS else "none"
            raise StateFormatError(
                f"learned link {text[:80]!r}: format version {version!r} in {len(parts)} fields;"
                f" this release reads {LINK_FORMAT} and version 0 (6 fields, no marker)"
            )
        entity_id, entity_type, name, confidence, taught_by, issued_at = parts[:LINK_FIELDS]
        return cls(
            entity_id,
            entity_type,  # type: ignore[arg-type]
            name or None,
            float(confidence),
            taught_by,
            int(issued_at),
        )

    def valid_at(self, key: str, event_time_ms: int) -> bool:
        """A link holds from its issuing call for the key's lifetime (in event time)."""
        age = event_time_ms - self.issued_at
        return -60_000 <= age <= link_lifetime_seconds(key) * 1000


def is_temporary_key(key: str) -> bool:
    return key.startswith("ASIA")


def teaches(event: Event, graph: IdentityGraph) -> tuple[str, Link] | None:
    """The link a successful credential-issuing call teaches, if its owner is known.

    For ``AssumeRole*`` and friends the owner is the event's own (already resolved) entity; a
    caller that is itself unresolved teaches nothing (a link hop may resolve it later and
    teach then). For ``CreateAccessKey`` the owner is the target IAM user, resolved against the
    identity graph.
    """
    key = event.issued_access_key
    if not key or event.outcome != "success":
        return None
    if event.action in TEMPORARY_ISSUERS:
        if event.resolved_by == "unresolved" or not event.entity_id:
            return None
        return key, Link(
            event.entity_id,
            event.entity_type,
            event.entity_name,
            round(event.confidence * LINK_DISCOUNT, 4),
            event.event_id,
            event.event_time,
        )
    if event.action in LONG_TERM_ISSUERS and event.target_user and event.account_id:
        arn = iam_user_arn(event.account_id, event.target_user, event.region)
        owner = Event(
            event_id=event.event_id,
            source=event.source,
            event_time=event.event_time,
            action=event.action,
            outcome=event.outcome,
            raw_ref=event.raw_ref,
            identifiers=[Identifier("aws_arn", arn)],
        )
        resolve(owner, graph)
        return key, Link(
            owner.entity_id or f"unresolved:aws_arn:{arn}",
            owner.entity_type,
            owner.entity_name,
            round(owner.confidence * LINK_DISCOUNT, 4),
            event.event_id,
            event.event_time,
        )
    return None


def waits_for_link(event: Event) -> bool:
    """Whether the event should be resolved through the key that signed it.

    Events that a verbatim identifier in the identity graph already resolved keep that
    resolution; everything else signed by an access key looks for a learned link.
    """
    if not event.access_key_id:
        return False
    return not (event.resolved_by == "static" and event.confidence >= 1.0)


def apply_link(event: Event, link: Link) -> Event:
    """Resolve ``event`` to the link's entity (in place, and return it).

    The key is evidence a session name is not: when a name-derived resolution disagrees with
    the link (an attacker can call a session ``ceo@corp.com``), the link wins. When both name
    the same entity, the stronger static resolution is kept.
    """
    if event.resolved_by == "static" and event.entity_id == link.entity_id:
        return event
    event.entity_id = link.entity_id
    event.entity_type = link.entity_type
    event.entity_name = link.entity_name
    event.resolved_by = "learned"
    event.resolved_via = f"aws_access_key:{event.access_key_id}"
    event.confidence = link.confidence
    return event


def link_lifetime_seconds(key: str) -> int:
    return TEMPORARY_LINK_SECONDS if is_temporary_key(key) else LONG_TERM_LINK_SECONDS
