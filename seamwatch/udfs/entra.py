"""Microsoft Entra ID sign-in and audit records -> :class:`~seamwatch.udfs.records.Event`.

Shapes read (``docs/sources/entra.md`` has the field table):

* Azure Monitor diagnostic settings (Event Hub, storage account): ``time``, ``category``,
  ``tenantId``, ``callerIpAddress``, ``resultType``, the record itself in ``properties{}``;
  Event Hub batches wrap them in ``{"records": [...]}`` (see :func:`entra_records`).
  Categories ``SignInLogs``, ``NonInteractiveUserSignInLogs``, ``ServicePrincipalSignInLogs``,
  ``ManagedIdentitySignInLogs``, ``ADFSSignInLogs`` and ``AuditLogs``; other categories
  (``RiskyUsers``, ``ProvisioningLogs``...) are not of interest.
* Microsoft Graph ``auditLogs/signIns`` (``signIn``) and ``auditLogs/directoryAudits``
  (``directoryAudit``) objects, flat, also as a list response ``{"value": [...]}``.
* Log Analytics rows of the ``SigninLogs`` / ``AAD*SignInLogs`` / ``ADFSSignInLogs`` /
  ``AuditLogs`` tables (``Type``, ``TimeGenerated``, nested objects as JSON strings).

Keys are matched case-insensitively (Panther lower-cases the envelope's keys, Log Analytics
capitalises them), explicit nulls and placeholders are absent, JSON held in a string is read as
JSON, and times may be ISO-8601 with 7 fractional digits, Panther's zone-less form or AD FS's
US form ``12/12/2025 3:03:58 PM`` (all UTC).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from seamwatch.udfs.errors import NormalizeError, NotOfInterest
from seamwatch.udfs.fields import (
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
from seamwatch.udfs.ustime import parse_any_time

__all__ = ["GEO_SOURCE", "SIGN_IN_ACTIONS", "entra_event_time", "entra_records", "normalize_entra"]

GEO_SOURCE = "entra"
"""``geo_source`` of an event whose geography Entra itself wrote (``location``)."""

# Diagnostic-settings category or Log Analytics table (lower-cased) -> the action of its
# sign-ins. Rules match these action names.
SIGN_IN_ACTIONS: dict[str, str] = {
    "signinlogs": "sign_in",
    "noninteractiveusersigninlogs": "non_interactive_sign_in",
    "aadnoninteractiveusersigninlogs": "non_interactive_sign_in",
    "serviceprincipalsigninlogs": "service_principal_sign_in",
    "aadserviceprincipalsigninlogs": "service_principal_sign_in",
    "managedidentitysigninlogs": "managed_identity_sign_in",
    "aadmanagedidentitysigninlogs": "managed_identity_sign_in",
    "adfssigninlogs": "adfs_sign_in",
}
_AUDIT_CATEGORY = "auditlogs"
# Graph signIn.signInEventTypes value (lower-cased) -> action.
_GRAPH_EVENT_TYPES = {
    "interactiveuser": "sign_in",
    "noninteractiveuser": "non_interactive_sign_in",
    "serviceprincipal": "service_principal_sign_in",
    "managedidentity": "managed_identity_sign_in",
}
_PRINCIPAL_TYPES = {
    "service_principal_sign_in": "ServicePrincipal",
    "managed_identity_sign_in": "ManagedIdentity",
}
# Audit result values (lower-cased); "timeout" and anything else is "unknown".
_AUDIT_OUTCOMES: dict[str, Outcome] = {
    "success": "success",
    "failure": "failure",
    "failed": "failure",
}
# resultType / status words some exports write instead of a number.
_RESULT_WORDS: dict[str, Outcome] = {"success": "success", "failure": "failure"}
# Values that say "nothing" in Entra's enumerations (besides the shared placeholders).
_NOTHING = frozenset({"hidden", "unknownfuturevalue", "notset"})
_ZERO_GUID = "00000000-0000-0000-0000-000000000000"


Fields = dict[str, Any]


def _lowered(obj: Mapping[str, Any] | None) -> Fields:
    """``obj`` with lower-cased keys (for one look-up per key whatever the casing).

    The first spelling in ``obj``'s order wins when two differ only in case; duplicate JSON
    keys were already resolved by the JSON reader (the last one wins).
    """
    if obj is None:
        return {}
    out: Fields = {}
    for key, value in obj.items():
        if type(key) is str:
            out.setdefault(key.lower(), value)
    return out


def _child(obj: Fields, key: str) -> Fields | None:
    """The object at ``obj[key]`` (a JSON object in a string is parsed), lower-cased."""
    value = as_map(obj.get(key))
    return _lowered(value) if value is not None else None


def _items(value: object) -> list[Fields]:
    """The objects of a JSON array (or of an array held in a string), lower-cased."""
    if type(value) is str and value[:1] == "[":
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return []
    if not isinstance(value, list):
        return []
    out = []
    for item in value:
        mapped = as_map(item)
        if mapped is not None:
            out.append(_lowered(mapped))
    return out


def _value(value: object) -> str | None:
    """A usable string (see :func:`~seamwatch.udfs.fields.clean_text`), Entra's "none"-like
    enumeration values (``hidden``, ``unknownFutureValue``) also counting as absent."""
    cleaned = clean_text(value)
    if cleaned is None or cleaned.lower() in _NOTHING:
        return None
    return cleaned


def _object_id(value: object) -> str | None:
    cleaned = _value(value)
    if cleaned is None or cleaned == _ZERO_GUID:
        return None
    return cleaned.lower()


def _first(*values: object) -> str | None:
    for value in values:
        cleaned = _value(value)
        if cleaned is not None:
            return cleaned
    return None


def entra_records(doc: object) -> list[object]:
    """The single records in ``doc``: an Event Hub / storage batch ``{"records": [...]}``, a
    Graph list response ``{"value": [...]}``, a JSON array, or ``[doc]`` for one record."""
    if isinstance(doc, list):
        return list(doc)
    if isinstance(doc, dict):
        for key in ("records", "value"):
            members = doc.get(key)
            if isinstance(members, list) and not any(k in doc for k in ("time", "category")):
                return list(members)
    return [doc]


def _kind(top: Fields, body: Fields, enveloped: bool) -> str:
    """The action of a sign-in, or ``""`` for an audit record; raises when neither."""
    category = _value(top.get("category"))
    table = _value(top.get("type"))
    for name in (category if enveloped else None, table):
        if name is not None:
            action = SIGN_IN_ACTIONS.get(name.lower())
            if action is not None:
                return action
            if name.lower() == _AUDIT_CATEGORY:
                return ""
    if "activitydisplayname" in body or "initiatedby" in body:
        return ""
    if (
        not enveloped
        and "createddatetime" in body
        and ("userprincipalname" in body or "status" in body or "appid" in body)
    ):
        for event_type in body.get("signineventtypes") or ():
            action = _GRAPH_EVENT_TYPES.get(str(event_type).lower())
            if action is not None:
                return action
        return "non_interactive_sign_in" if body.get("isinteractive") is False else "sign_in"
    if category is not None:
        raise NotOfInterest(f"Entra log category {category!r} is not read")
    if table is not None:
        raise NotOfInterest(f"Log Analytics table {table!r} is not read")
    raise NormalizeError("not an Entra record: no sign-in or audit category or fields")


def _event_time(top: Fields, body: Fields, first_key: str) -> int:
    """The time of the record: the body's own time (``createdDateTime`` /
    ``activityDateTime``), else the envelope's ``time``, else ``TimeGenerated``."""
    seen: list[str] = []
    for source, key in ((body, first_key), (top, "time"), (top, "timegenerated")):
        value = source.get(key)
        if value is None:
            continue
        parsed = parse_any_time(value)
        if parsed is not None:
            return parsed
        seen.append(f"{key}={value!r}")
    detail = ", ".join(seen) if seen else f"missing {first_key} and time"
    raise NormalizeError(f"no usable event time: {detail}")


def _account(top: Fields, body: Fields) -> str | None:
    """The tenant: ``AADTenantId`` (Log Analytics; its ``TenantId`` is the workspace), else the
    envelope's ``tenantId``, else the body's tenant fields."""
    log_analytics = "timegenerated" in top
    return _first(
        body.get("aadtenantid"),
        top.get("aadtenantid"),
        None if log_analytics else top.get("tenantid"),
        body.get("tenantid"),
        body.get("resourcetenantid"),
    )


def _user_identifiers(object_id: str | None, upn: str | None) -> list[Identifier]:
    folded = upn.lower() if upn is not None else None
    return identifier_list(
        (("entra_object_id", object_id), ("entra_upn", folded), ("email", fold_email(upn)))
    )


def _app_identifiers(object_id: str | None, app_id: str | None) -> list[Identifier]:
    return identifier_list((("entra_object_id", object_id), ("entra_app_id", app_id)))


def _number(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if type(value) is str and value.strip().isdigit() and value.strip().isascii():
        return int(value)
    return None


def _coordinate(value: object, limit: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if -limit <= value <= limit else None


def _sign_in_outcome(top: Fields, body: Fields) -> tuple[Outcome, str | None]:
    """From ``status.errorCode`` (0: success), else ``resultType`` / ``result``."""
    status = _child(body, "status")
    if status is not None and status.get("errorcode") is not None:
        code = text(status.get("errorcode"))
        if code is not None:
            return ("success", None) if code == "0" else ("failure", code)
    for value in (top.get("resulttype"), body.get("resulttype"), body.get("result")):
        code = text(value)
        if code is None:
            continue
        if code == "0":
            return "success", None
        if code.isdigit():
            return "failure", code
        outcome = _RESULT_WORDS.get(code.lower())
        if outcome is not None:
            return outcome, None
    return "unknown", None


def _mfa_detail(body: Fields, steps: list[Fields]) -> str | None:
    """What the record says of the second factor: the method and result of the first
    authentication step after the primary one (``"Mobile app notification: MFA denied; user
    declined the authentication"``), else ``mfaDetail``, else ``authenticationRequirement``."""
    for step in steps[1:]:
        method = _value(step.get("authenticationmethod"))
        result = _value(step.get("authenticationstepresultdetail"))
        if method is not None or result is not None:
            return ": ".join(part for part in (method, result) if part is not None)
    mfa = _child(body, "mfadetail")
    if mfa is not None:
        method = _value(mfa.get("authmethod"))
        detail = _value(mfa.get("authdetail"))
        if method is not None or detail is not None:
            return ": ".join(part for part in (method, detail) if part is not None)
    return _value(body.get("authenticationrequirement"))


def _auth_methods(body: Fields, steps: list[Fields]) -> str | None:
    """The methods of the authentication steps, in order, once each, ``"+"``-joined."""
    methods: list[str] = []
    for step in steps:
        method = _value(step.get("authenticationmethod"))
        if method is not None and method not in methods:
            methods.append(method)
    if not methods:
        for method in body.get("authenticationmethodsused") or ():
            cleaned = _value(method)
            if cleaned is not None and cleaned not in methods:
                methods.append(cleaned)
    return "+".join(methods) or None


def _device(detail: Fields | None) -> str | None:
    """``"<browser>/<operating system>"`` from ``deviceDetail``, without versions."""
    if detail is None:
        return None
    browser = _value(detail.get("browser"))
    system = _value(detail.get("operatingsystem"))
    if browser is None and system is None:
        return None
    browser_name = browser.split()[0] if browser else "other"
    system_name = system.split()[0] if system else "other"
    return f"{browser_name}/{system_name}"


def _sign_in(top: Fields, body: Fields, action: str, raw_ref: str, rec: Mapping[str, Any]) -> Event:
    event_time = _event_time(top, body, "createddatetime")
    outcome, error_code = _sign_in_outcome(top, body)
    upn = _value(body.get("userprincipalname"))
    principal_type = _PRINCIPAL_TYPES.get(action, "User")
    if principal_type == "User":
        identifiers = _user_identifiers(_object_id(body.get("userid")), upn)
        principal = upn or _first(body.get("userid"), body.get("signinidentifier"))
    else:
        sp_id = _object_id(body.get("serviceprincipalid"))
        identifiers = _app_identifiers(sp_id, _object_id(body.get("appid")))
        principal = _first(body.get("serviceprincipalname"), sp_id, body.get("appid"))

    ip_text = _first(body.get("ipaddress"), top.get("calleripaddress"))
    src_ip = clean_ip(ip_text)
    location = _child(body, "location") or _child(body, "locationdetails")
    country = city = None
    latitude = longitude = None
    if location is not None:
        country = _value(location.get("countryorregion"))
        city = _value(location.get("city"))
        point = _child(location, "geocoordinates")
        if point is not None:
            latitude = _coordinate(point.get("latitude"), 90.0)
            longitude = _coordinate(point.get("longitude"), 180.0)
            if latitude is None or longitude is None:
                latitude = longitude = None
    has_geo = country is not None or latitude is not None
    user_agent = _value(body.get("useragent"))
    steps = _items(body.get("authenticationdetails"))
    protocol = _value(body.get("authenticationprotocol"))
    return Event(
        event_id=_first(body.get("id")) or fallback_event_id(rec),
        source="entra",
        event_time=event_time,
        action=action,
        outcome=outcome,
        raw_ref=raw_ref,
        principal=principal,
        principal_type=principal_type,
        identifiers=identifiers,
        src_ip=src_ip,
        src_host=None if src_ip is not None else clean(ip_text),
        country=country,
        city=city,
        latitude=latitude,
        longitude=longitude,
        asn=_number(body.get("autonomoussystemnumber")),
        geo_source=GEO_SOURCE if has_geo else None,
        device=None if user_agent is not None else _device(_child(body, "devicedetail")),
        user_agent=user_agent,
        session_id=_value(body.get("sessionid")),
        account_id=_account(top, body),
        app=_first(body.get("appdisplayname"), body.get("appid")),
        error_code=error_code,
        auth_protocol=protocol,
        auth_method=_auth_methods(body, steps),
        mfa_detail=_mfa_detail(body, steps),
        risk_level=_first(body.get("risklevelduringsignin"), body.get("risklevelaggregated")),
        risk_state=_value(body.get("riskstate")),
        ca_status=_value(body.get("conditionalaccessstatus")),
    )


def _target(targets: list[Fields], types: tuple[str, ...], *keys: str) -> str | None:
    """The first of ``keys`` of the first target resource whose type is one of ``types``."""
    for target in targets:
        kind = _value(target.get("type"))
        if kind is not None and kind.lower() in types:
            value = _first(*(target.get(key) for key in keys))
            if value is not None:
                return value
    return None


def _audit_user_agent(top: Fields, body: Fields) -> str | None:
    for detail in _items(body.get("additionaldetails")):
        key = _value(detail.get("key"))
        if key is not None and key.lower() == "user-agent":
            return _value(detail.get("value"))
    return _value(body.get("useragent"))


def _audit(top: Fields, body: Fields, raw_ref: str, rec: Mapping[str, Any]) -> Event:
    event_time = _event_time(top, body, "activitydatetime")
    action = _first(
        body.get("activitydisplayname"), body.get("operationname"), top.get("operationname")
    )
    if action is None:
        raise NormalizeError("Entra audit record without activityDisplayName or operationName")
    initiated = _child(body, "initiatedby") or {}
    user = as_map(initiated.get("user"))
    app = as_map(initiated.get("app"))
    ip_text: str | None = None
    if user is not None:
        who = _lowered(user)
        upn = _value(who.get("userprincipalname"))
        identifiers = _user_identifiers(_object_id(who.get("id")), upn)
        principal = upn or _first(who.get("displayname"), who.get("id"))
        principal_type: str | None = "User"
        ip_text = _value(who.get("ipaddress"))
    elif app is not None:
        who = _lowered(app)
        sp_id = _object_id(who.get("serviceprincipalid"))
        identifiers = _app_identifiers(sp_id, _object_id(who.get("appid")))
        principal = _first(who.get("serviceprincipalname"), who.get("displayname"), sp_id)
        principal_type = "ServicePrincipal"
    else:
        identifiers, principal, principal_type = [], None, None
    ip_text = ip_text or _first(top.get("calleripaddress"))
    src_ip = clean_ip(ip_text)
    result = _value(body.get("result") or top.get("result"))
    outcome = _AUDIT_OUTCOMES.get(result.lower(), "unknown") if result is not None else "unknown"
    targets = _items(body.get("targetresources"))
    category = _value(body.get("category"))
    if category is None and _value(top.get("category")) not in (None, "AuditLogs"):
        category = _value(top.get("category"))
    return Event(
        event_id=_first(body.get("id")) or fallback_event_id(rec),
        source="entra",
        event_time=event_time,
        action=action,
        outcome=outcome,
        raw_ref=raw_ref,
        service=category,
        principal=principal,
        principal_type=principal_type,
        identifiers=identifiers,
        src_ip=src_ip,
        src_host=None if src_ip is not None else clean(ip_text),
        user_agent=_audit_user_agent(top, body),
        account_id=_account(top, body),
        target_user=_target(targets, ("user",), "userprincipalname", "displayname"),
        app=_target(targets, ("application", "serviceprincipal"), "displayname", "id"),
        target_group=_target(targets, ("group",), "displayname", "id"),
        error_code=_value(body.get("resultreason")) if outcome == "failure" else None,
    )


def normalize_entra(rec: Mapping[str, Any], raw_ref: str) -> Event:
    """Normalize one Entra sign-in or audit record (any shape of the module doc).

    Raises :class:`~seamwatch.udfs.errors.NotOfInterest` for another diagnostic category or
    Log Analytics table, and :class:`~seamwatch.udfs.errors.NormalizeError` for a record that
    is not an Entra sign-in or audit record or has no usable time.
    """
    top = _lowered(rec)
    properties = as_map(top.get("properties"))
    enveloped = properties is not None
    body = _lowered(properties) if properties is not None else top
    action = _kind(top, body, enveloped)
    if action:
        return _sign_in(top, body, action, raw_ref, rec)
    return _audit(top, body, raw_ref, rec)


def entra_event_time(rec: Mapping[str, Any]) -> int | None:
    """The time :func:`normalize_entra` gives ``rec`` (epoch ms), or None when it has none;
    for staging, where only the time is needed (it drives the source's watermark)."""
    if not isinstance(rec, Mapping):
        return None
    top = _lowered(rec)
    properties = as_map(top.get("properties"))
    body = _lowered(properties) if properties is not None else top
    first_key = "activitydatetime" if "activitydatetime" in body else "createddatetime"
    try:
        return _event_time(top, body, first_key)
    except NormalizeError:
        return None
