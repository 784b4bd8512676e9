"""Okta System Log event -> :class:`~seamwatch.udfs.records.Event`.

Keys are matched case-insensitively, so Panther's lower-cased variant (``eventtype``,
``authenticationcontext``, ``client.ipaddress``) goes through the same code. Explicit nulls,
the string ``"null"`` (``client.zone``, geo fields) and ``"unknown"`` (actor id of a failed
login by a non-existent user, ``externalSessionId``) are treated as absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import orjson

from seamwatch.udfs.errors import NormalizeError
from seamwatch.udfs.fields import (
    Keys,
    Memo,
    as_map,
    clean,
    clean_ip,
    clean_text,
    fallback_event_id,
    fold_email,
    identifier_list,
    text,
)
from seamwatch.udfs.records import Event, Identifier, Outcome
from seamwatch.udfs.timeparse import parse_time

__all__ = ["normalize_okta"]

# outcome.result values (Okta documents SUCCESS, FAILURE, SKIPPED, ALLOW, DENY, CHALLENGE,
# UNKNOWN, RATE_LIMIT, DEFERRED, SCHEDULED, ABANDONED, UNANSWERED). Those not listed here,
# CHALLENGE or SKIPPED for instance, are neither a success nor a failure: "unknown".
_SUCCESS = frozenset({"SUCCESS", "ALLOW"})
_FAILURE = frozenset({"FAILURE", "DENY", "RATE_LIMIT", "ABANDONED", "UNANSWERED"})

# The keys read from each object of an event (see fields.Keys), with the other keys Okta
# documents for it.
_EVENT = Keys(
    (
        "eventType",
        "published",
        "uuid",
        "actor",
        "client",
        "outcome",
        "authenticationContext",
        "target",
        "securityContext",
    ),
    (
        "version",
        "severity",
        "legacyEventType",
        "displayMessage",
        "device",
        "transaction",
        "debugContext",
        "request",
    ),
)
_ACTOR = Keys(("id", "type", "alternateId"), ("displayName", "detailEntry"))
_CLIENT = Keys(
    ("ipAddress", "userAgent", "geographicalContext"), ("zone", "device", "id", "redirectUri")
)
_USER_AGENT = Keys(("rawUserAgent",), ("os", "browser"))
_GEO = Keys(("country", "city", "geolocation"), ("state", "postalCode"))
_POINT = Keys(("lat", "lon"))
_SECURITY = Keys(("asNumber", "asOrg"), ("isp", "domain", "isProxy"))
_OUTCOME = Keys(("result", "reason"))
_AUTHENTICATION = Keys(
    ("externalSessionId",),
    (
        "authenticationProvider",
        "credentialProvider",
        "credentialType",
        "issuer",
        "interface",
        "authenticationStep",
        "rootSessionId",
    ),
)
_TARGET = Keys(("type", "alternateId", "displayName"), ("id", "detailEntry"))


def _outcome(result: str | None) -> Outcome:
    if result is None:
        return "unknown"
    # Okta writes the values upper-case: try them as written before upper-casing.
    if result in _SUCCESS:
        return "success"
    if result in _FAILURE:
        return "failure"
    result = result.upper()
    if result in _SUCCESS:
        return "success"
    if result in _FAILURE:
        return "failure"
    return "unknown"


def _actor_identifiers(
    actor_type: str | None, login_text: str | None, actor_id: str | None
) -> tuple[Identifier, ...]:
    """An actor's identifiers, strongest first, from its ``type``, ``alternateId`` and ``id``,
    each as :func:`~seamwatch.udfs.fields.text` reads it.

    * ``User`` (or no type): ``okta_user_id`` (``actor.id``), ``okta_login`` (``alternateId``
      lower-cased), ``email`` (the login with any ``+alias`` removed, if it looks like one);
    * ``PublicClientApp``: ``okta_client``; ``SystemPrincipal``: ``okta_system`` (``actor.id``);
    * ``IP address`` (ThreatInsight events): ``ip`` (``actor.id``, when it is an address);
    * any other type: none.
    """
    pairs: tuple[tuple[str, str | None], ...]
    if actor_type is None or actor_type == "User":
        login = clean(login_text)
        # A clean login stays clean lower-cased or folded: placeholders are matched
        # lower-cased, and folding keeps its first and last characters' kind.
        pairs = (
            ("okta_user_id", clean(actor_id)),
            ("okta_login", login.lower() if login is not None else None),
            ("email", fold_email(login)),
        )
    elif actor_type == "PublicClientApp":
        pairs = (("okta_client", clean(actor_id)),)
    elif actor_type == "SystemPrincipal":
        pairs = (("okta_system", clean(actor_id)),)
    elif actor_type == "IP address":
        pairs = (("ip", clean_ip(actor_id)),)
    else:
        return ()
    return tuple(identifier_list(pairs))


def _first_target(target: object, of_type: str, key: str) -> str | None:
    """``key`` of the first target of type ``of_type`` that has one (``target`` may be null or
    a list)."""
    if not isinstance(target, list):
        return None
    for item in target:
        if type(item) is dict or isinstance(item, Mapping):
            view = _TARGET.view(item)
            if text(view.get("type")) == of_type:
                value = clean_text(view.get(key))
                if value is not None:
                    return value
    return None


class _Who(NamedTuple):
    """What an Okta event's ``actor`` and ``client`` objects say."""

    principal: str | None
    principal_type: str | None
    identifiers: tuple[Identifier, ...]
    src_ip: str | None
    src_host: str | None
    country: str | None
    city: str | None
    user_agent: str | None
    latitude: float | None
    longitude: float | None


def _coordinate(value: object, limit: float) -> float | None:
    """A latitude / longitude as Okta writes it (a number), or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if -limit <= value <= limit else None


def _read_who(actor: Mapping[str, Any] | None, client: Mapping[str, Any] | None) -> _Who:
    """What the ``actor`` and ``client`` objects (not views; either may be None) say."""
    principal = actor_type = None
    identifiers: tuple[Identifier, ...] = ()
    if actor is not None:
        view = _ACTOR.view(actor)
        actor_type = text(view.get("type"))
        principal = text(view.get("alternateId"))
        identifiers = _actor_identifiers(actor_type, principal, text(view.get("id")))
    src_ip = src_host = country = city = user_agent = None
    latitude = longitude = None
    if client is not None:
        view = _CLIENT.view(client)
        ip_text = text(view.get("ipAddress"))
        src_ip = clean_ip(ip_text)
        src_host = None if src_ip is not None else clean(ip_text)
        geo = _GEO.child(view, "geographicalContext")
        if geo is not None:
            country = clean_text(geo.get("country"))
            city = clean_text(geo.get("city"))
            point = _POINT.child(geo, "geolocation")
            if point is not None:
                latitude = _coordinate(point.get("lat"), 90.0)
                longitude = _coordinate(point.get("lon"), 180.0)
                if latitude is None or longitude is None:
                    latitude = longitude = None
        agent = _USER_AGENT.child(view, "userAgent")
        if agent is not None:
            user_agent = text(agent.get("rawUserAgent"))
    return _Who(
        principal,
        actor_type,
        identifiers,
        src_ip,
        src_host,
        country,
        city,
        user_agent,
        latitude,
        longitude,
    )


# An actor on one client (a person's browser at one address) recurs: what they say is
# memoized by their JSON, which is everything it is derived from. The Identifier objects are
# shared by those events: read-only, as everywhere downstream.
_WHO: Memo[bytes, _Who] = Memo(4096)


def _who(actor: Mapping[str, Any] | None, client: Mapping[str, Any] | None) -> _Who:
    """:func:`_read_who`, memoized."""
    try:
        key = orjson.dumps((actor, client), option=orjson.OPT_PASSTHROUGH_SUBCLASS)
    except TypeError:  # not plain JSON (a Mapping that is no dict, a str subclass...)
        return _read_who(actor, client)
    who = _WHO.get(key)
    if who is None:
        who = _read_who(actor, client)
        _WHO.put(key, who)
    return who


def normalize_okta(rec: Mapping[str, Any], raw_ref: str) -> Event:
    """Normalize one Okta System Log event.

    Raises :class:`NormalizeError` when the record has no ``eventType`` (not an Okta event) or
    no usable ``published`` time.
    """
    view = _EVENT.view(rec)
    get = view.get
    action = text(get("eventType"))
    if action is None:
        raise NormalizeError("not an Okta event: no eventType")
    published = get("published")
    event_time = parse_time(published)
    if event_time is None:
        detail = "missing published" if published is None else f"published={published!r}"
        raise NormalizeError(f"no usable event time: {detail}")

    who = _who(as_map(get("actor")), as_map(get("client")))
    asn = as_org = None
    security = _SECURITY.child(view, "securityContext")
    if security is not None:
        number = security.get("asNumber")
        asn = number if isinstance(number, int) and not isinstance(number, bool) else None
        as_org = clean_text(security.get("asOrg"))
    outcome: Outcome = "unknown"
    error_code = None
    outcome_map = _OUTCOME.child(view, "outcome")
    if outcome_map is not None:
        outcome = _outcome(text(outcome_map.get("result")))
        if outcome == "failure":
            error_code = text(outcome_map.get("reason"))
    authentication = _AUTHENTICATION.child(view, "authenticationContext")
    target = get("target")

    return Event(
        event_id=clean_text(get("uuid")) or fallback_event_id(rec),
        source="okta",
        event_time=event_time,
        action=action,
        outcome=outcome,
        raw_ref=raw_ref,
        principal=who.principal,
        principal_type=who.principal_type,
        identifiers=list(who.identifiers),
        src_ip=who.src_ip,
        src_host=who.src_host,
        country=who.country,
        city=who.city,
        latitude=who.latitude,
        longitude=who.longitude,
        asn=asn,
        as_org=as_org,
        user_agent=who.user_agent,
        session_id=(
            clean_text(authentication.get("externalSessionId"))
            if authentication is not None
            else None
        ),
        target_user=_first_target(target, "User", "alternateId"),
        # The application's own name (AWS Account Federation); alternateId is the label an
        # admin gave it.
        app=_first_target(target, "AppInstance", "displayName"),
        error_code=error_code,
    )
