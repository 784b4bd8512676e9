"""Okta System Log event -> :class:`~seamwatch.udfs.records.Event`.

Keys are matched case-insensitively, so Panther's lower-cased variant (``eventtype``,
``authenticationcontext``, ``client.ipaddress``) goes through the same code. Explicit nulls,
the string ``"null"`` (``client.zone``, geo fields) and ``"unknown"`` (actor id of a failed
login by a non-existent user, ``externalSessionId``) are treated as absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from seamwatch.udfs.errors import (
    IdentifierList,
    NormalizeError,
    clean,
    clean_ip,
    fallback_event_id,
    fold_email,
    get_ci,
    get_map,
    get_str,
)
from seamwatch.udfs.records import Event, Identifier, Outcome
from seamwatch.udfs.timeparse import parse_time

__all__ = ["normalize_okta", "okta_identifiers"]

_RANKS: dict[str, int] = {
    "okta_user_id": 0,
    "okta_login": 1,
    "email": 2,
    "okta_client": 3,
    "okta_system": 4,
    "ip": 5,
}

# outcome.result values (Okta documents SUCCESS, FAILURE, SKIPPED, ALLOW, DENY, CHALLENGE,
# UNKNOWN, RATE_LIMIT, DEFERRED, SCHEDULED, ABANDONED, UNANSWERED). Those not listed here,
# CHALLENGE or SKIPPED for instance, are neither a success nor a failure: "unknown".
_SUCCESS = frozenset({"SUCCESS", "ALLOW"})
_FAILURE = frozenset({"FAILURE", "DENY", "RATE_LIMIT", "ABANDONED", "UNANSWERED"})


def _outcome(result: str | None) -> Outcome:
    if result is None:
        return "unknown"
    result = result.upper()
    if result in _SUCCESS:
        return "success"
    if result in _FAILURE:
        return "failure"
    return "unknown"


def okta_identifiers(actor: Mapping[str, Any] | None) -> list[Identifier]:
    """The identifiers of an Okta ``actor``, strongest first.

    * ``User`` (or no type): ``okta_user_id`` (``actor.id``), ``okta_login`` (``alternateId``
      lower-cased), ``email`` (the login with any ``+alias`` removed, if it looks like one);
    * ``PublicClientApp``: ``okta_client``; ``SystemPrincipal``: ``okta_system`` (``actor.id``);
    * ``IP address`` (ThreatInsight events): ``ip`` (``actor.id``, when it is an address);
    * any other type: none.
    """
    if actor is None:
        return []
    ids = IdentifierList(_RANKS)
    actor_type = get_str(actor, "type")
    actor_id = get_str(actor, "id")
    if actor_type is None or actor_type == "User":
        login = clean(get_str(actor, "alternateId"))
        ids.add("okta_user_id", actor_id)
        if login is not None:
            ids.add("okta_login", login.lower())
            ids.add("email", fold_email(login))
    elif actor_type == "PublicClientApp":
        ids.add("okta_client", actor_id)
    elif actor_type == "SystemPrincipal":
        ids.add("okta_system", actor_id)
    elif actor_type == "IP address":
        ids.add("ip", clean_ip(actor_id))
    return ids.result()


def _target_user(target: object) -> str | None:
    """``alternateId`` of the first target of type ``User`` (``target`` may be null or a list)."""
    if not isinstance(target, list):
        return None
    for item in target:
        if isinstance(item, Mapping) and get_str(item, "type") == "User":
            user = clean(get_str(item, "alternateId"))
            if user is not None:
                return user
    return None


def normalize_okta(rec: Mapping[str, Any], raw_ref: str) -> Event:
    """Normalize one Okta System Log event.

    Raises :class:`NormalizeError` when the record has no ``eventType`` (not an Okta event) or
    no usable ``published`` time.
    """
    action = get_str(rec, "eventType")
    if action is None:
        raise NormalizeError("not an Okta event: no eventType")
    published = get_ci(rec, "published")
    event_time = parse_time(published)
    if event_time is None:
        detail = "missing published" if published is None else f"published={published!r}"
        raise NormalizeError(f"no usable event time: {detail}")

    actor = get_map(rec, "actor")
    client = get_map(rec, "client")
    geo = get_map(client, "geographicalContext")
    outcome_map = get_map(rec, "outcome")

    outcome = _outcome(get_str(outcome_map, "result"))
    ip_text = get_str(client, "ipAddress")
    src_ip = clean_ip(ip_text)

    return Event(
        event_id=clean(get_str(rec, "uuid")) or fallback_event_id(rec),
        source="okta",
        event_time=event_time,
        action=action,
        outcome=outcome,
        raw_ref=raw_ref,
        principal=get_str(actor, "alternateId"),
        principal_type=get_str(actor, "type"),
        identifiers=okta_identifiers(actor),
        src_ip=src_ip,
        src_host=None if src_ip is not None else clean(ip_text),
        country=clean(get_str(geo, "country")),
        city=clean(get_str(geo, "city")),
        user_agent=get_str(client, "userAgent", "rawUserAgent"),
        session_id=clean(get_str(rec, "authenticationContext", "externalSessionId")),
        target_user=_target_user(get_ci(rec, "target")),
        error_code=get_str(outcome_map, "reason") if outcome == "failure" else None,
    )
