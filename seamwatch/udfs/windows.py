"""Windows Security-channel events -> :class:`~seamwatch.udfs.records.Event`.

The producers' shapes are read by :mod:`seamwatch.udfs.windows_shapes`, the accounts by
:mod:`seamwatch.udfs.windows_identity`; this module maps each event id of interest to an action
(``docs/sources/windows.md`` has the table rules match):

======================  ===========================================  =========================
event ids               action                                       outcome
======================  ===========================================  =========================
4624, 4625              ``logon`` (``logon_type`` set)               4624 success, 4625 failure
4648                    ``explicit_credential_logon``                success
4672                    ``special_privileges_logon``                 success
4768, 4771              ``kerberos_tgt_request``                     ``Status`` 0x0 or failure
4769                    ``kerberos_service_ticket_request``          ``Status`` 0x0 or failure
4776                    ``ntlm_credential_validation``               ``Status`` 0x0 or failure
4720 / 4722 / 4738      ``user_account_created/enabled/changed``     success
4728, 4732, 4756        ``group_member_added``                       success
1102                    ``security_log_cleared``                     success
4662 (replication)      ``directory_replication_rights_used``        success
4662 (AD FS DKM key)    ``adfs_dkm_key_read``                        success
501, 1200 - 1203        ``adfs_sign_in`` (provider AD FS Auditing)   ``AuditResult``; 501
                                                                     success
======================  ===========================================  =========================

Every other event id, a 4662 without those rights, and events of other channels are
:class:`~seamwatch.udfs.errors.NotOfInterest`.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from seamwatch.udfs.errors import NotOfInterest
from seamwatch.udfs.fields import clean_ip, clean_text, fallback_event_id
from seamwatch.udfs.records import Event, Outcome
from seamwatch.udfs.windows_identity import NO_ACCOUNT, Account, account
from seamwatch.udfs.windows_shapes import WindowsRecord, read_windows_record

__all__ = [
    "ACTIONS",
    "ADFS_DKM_GUIDS",
    "ADFS_SIGN_IN_EVENTS",
    "REPLICATION_RIGHTS",
    "normalize_windows",
    "windows_records",
]

ACTIONS: dict[int, str] = {
    4624: "logon",
    4625: "logon",
    4648: "explicit_credential_logon",
    4672: "special_privileges_logon",
    4768: "kerberos_tgt_request",
    4771: "kerberos_tgt_request",
    4769: "kerberos_service_ticket_request",
    4776: "ntlm_credential_validation",
    4720: "user_account_created",
    4722: "user_account_enabled",
    4738: "user_account_changed",
    4728: "group_member_added",
    4732: "group_member_added",
    4756: "group_member_added",
    1102: "security_log_cleared",
    4662: "directory_replication_rights_used",  # or adfs_dkm_key_read, see _directory_access
    501: "adfs_sign_in",
    1200: "adfs_sign_in",
    1201: "adfs_sign_in",
    1202: "adfs_sign_in",
    1203: "adfs_sign_in",
}
"""Event id -> action for the Security-channel events read."""

# Control-access rights (schema GUIDs, lower-case) that let an account replicate directory
# secrets: DCSync asks for them over DRSUAPI and the DC logs 4662 with them in Properties.
REPLICATION_RIGHTS: dict[str, str] = {
    "1131f6aa-9c07-11d1-f79f-00c04fc2dcd2": "DS-Replication-Get-Changes",
    "1131f6ad-9c07-11d1-f79f-00c04fc2dcd2": "DS-Replication-Get-Changes-All",
    "89e95b76-444d-4c62-991a-0facbeda640c": "DS-Replication-Get-Changes-In-Filtered-Set",
}
# AD FS keeps its token-signing key's DKM master key in the thumbnailPhoto attribute of a
# contact object under CN=ADFS: reading that attribute of a contact is the Golden SAML key theft.
ADFS_DKM_GUIDS = {
    "attribute": "8d3bca50-1d7e-11d0-a081-00aa006c33ed",  # thumbnailPhoto
    "class": "5cb41ed0-0e4c-11d0-a286-00aa003049e2",  # contact
}
# AD FS Auditing events (Security channel) of a user authenticating at AD FS: the legacy
# verbose audit's caller claims (501, with 299/500 of the same token issuance), and the
# AD FS 2016+ audits of a token issued to an application (1200 success, 1201 failure) and of
# credentials validated (1202 success, 1203 failure). A forged (Golden SAML) token has none.
ADFS_SIGN_IN_EVENTS: dict[int, str] = {
    501: "caller claims of an issued token",
    1200: "application token issued",
    1201: "application token refused",
    1202: "fresh credentials validated",
    1203: "fresh credentials refused",
}
_ADFS_PROVIDER = "ad fs"
_CLAIM = "/identity/claims/"
# Elements of the AuditBase XML of events 1200-1203 (inside an unnamed <Data>).
_AUDIT_ELEMENT = re.compile(r"<(UserId|IpAddress|AuditResult)>([^<]*)</\1>")
_SECURITY_CHANNEL = "security"
_SUCCESS_STATUS = frozenset({"0x0", "0", "0x00000000"})


def windows_records(doc: object) -> list[object]:
    """The single events in ``doc``: a JSON array of events, or ``[doc]``."""
    return list(doc) if isinstance(doc, list) else [doc]


def _get(data: Mapping[str, Any], key: str) -> str | None:
    """A usable field value: placeholders and Windows' ``-`` are absent."""
    value = clean_text(data.get(key))
    return None if value == "-" else value


def _status(data: Mapping[str, Any], *keys: str) -> tuple[Outcome, str | None]:
    """Success when the first present status field is 0, else failure with that code."""
    for key in keys:
        code = _get(data, key)
        if code is None:
            continue
        code = code.lower()
        if code in _SUCCESS_STATUS:
            continue  # 4625: Status may be set and SubStatus 0x0, or the reverse
        return "failure", code
    return "success", None


def _ip(value: str | None) -> str | None:
    """``IpAddress`` as an address: ``-`` is absent, ``::ffff:10.0.0.5`` is IPv4."""
    if value is None or value == "-":
        return None
    if value.lower().startswith("::ffff:") and "." in value:
        return clean_ip(value[7:])
    return clean_ip(value)


def _subject(record: WindowsRecord, host: str | None) -> Account:
    data = record.data
    return account(
        data.get("SubjectUserSid"), data.get("SubjectUserName"), data.get("SubjectDomainName"), host
    )


def _target(record: WindowsRecord, host: str | None, sid_key: str = "TargetUserSid") -> Account:
    data = record.data
    return account(
        data.get(sid_key), data.get("TargetUserName"), data.get("TargetDomainName"), host
    )


def _rights(properties: str) -> list[str]:
    lowered = properties.lower()
    return [name for guid, name in REPLICATION_RIGHTS.items() if guid in lowered]


def _directory_access(record: WindowsRecord) -> tuple[str, str]:
    """The action and rights of a 4662, or :class:`NotOfInterest` for other object access."""
    data = record.data
    properties = _get(data, "Properties") or ""
    rights = _rights(properties)
    if rights:
        return "directory_replication_rights_used", ",".join(rights)
    object_type = (_get(data, "ObjectType") or "").lower()
    if ADFS_DKM_GUIDS["attribute"] in properties.lower() and ADFS_DKM_GUIDS["class"] in (
        object_type + properties.lower()
    ):
        return "adfs_dkm_key_read", "thumbnailPhoto of contact (AD FS DKM key)"
    raise NotOfInterest("event 4662 without replication rights or AD FS key access")


def _member(data: Mapping[str, Any], host: str | None) -> Account:
    """The member added to a group: ``MemberSid`` and ``MemberName`` (a DN, ``CN=...``)."""
    name = _get(data, "MemberName")
    if name is not None and name.upper().startswith("CN="):
        name = name[3:].split(",", 1)[0].replace("\\", "")
    return account(data.get("MemberSid"), name, None, host)


@dataclass(slots=True)
class _Read:
    """What one event id's mapper reads from an event, beyond what every event has."""

    who: Account = NO_ACCOUNT
    action: str | None = None  # None: ACTIONS[event id]
    outcome: Outcome = "success"
    error_code: str | None = None
    src_ip: str | None = None
    src_host: str | None = None
    target_user: str | None = None
    target_group: str | None = None
    logon_type: str | None = None
    auth_protocol: str | None = None
    auth_method: str | None = None
    ticket_encryption: str | None = None
    access_rights: str | None = None


Mapper = Callable[[WindowsRecord, str | None], _Read]


def _logon(record: WindowsRecord, host: str | None) -> _Read:
    data = record.data
    read = _Read(
        who=_target(record, host),
        logon_type=_get(data, "LogonType"),
        auth_protocol=_get(data, "AuthenticationPackageName"),
        src_ip=_ip(_get(data, "IpAddress")),
        src_host=_get(data, "WorkstationName"),
    )
    if record.event_id == 4625:
        read.outcome = "failure"
        read.error_code = _status(data, "SubStatus", "Status")[1]
    # Logon type 9 (NewCredentials): the credentials the session uses on the network.
    outbound = account(
        None, data.get("TargetOutboundUserName"), data.get("TargetOutboundDomainName"), host
    )
    read.target_user = outbound.principal
    return read


def _explicit(record: WindowsRecord, host: str | None) -> _Read:
    data = record.data
    used = account(None, data.get("TargetUserName"), data.get("TargetDomainName"), host)
    return _Read(
        who=_subject(record, host),
        target_user=used.principal,
        src_ip=_ip(_get(data, "IpAddress")),
    )


def _subject_only(record: WindowsRecord, host: str | None) -> _Read:
    return _Read(who=_subject(record, host))


def _kerberos(record: WindowsRecord, host: str | None) -> _Read:
    data = record.data
    outcome, code = _status(data, "Status")
    encryption = _get(data, "TicketEncryptionType")
    return _Read(
        # The account asking: 4769 names it "sam@REALM", 4768 / 4771 "sam" (+ TargetSid).
        who=account(
            data.get("TargetSid"),
            data.get("TargetUserName"),
            data.get("TargetDomainName"),
            host,
            realm=True,
        ),
        outcome="failure" if record.event_id == 4771 else outcome,
        error_code=code,
        src_ip=_ip(_get(data, "IpAddress")),
        ticket_encryption=encryption.lower() if encryption is not None else None,
        auth_protocol="Kerberos",
        # PreAuthType: 0 none (AS-REP roastable), 2 password, 15-17 certificate (PKINIT).
        auth_method=_get(data, "PreAuthType") if record.event_id != 4769 else None,
        target_user=_get(data, "ServiceName") if record.event_id == 4769 else None,
    )


def _ntlm(record: WindowsRecord, host: str | None) -> _Read:
    data = record.data
    outcome, code = _status(data, "Status")
    return _Read(
        who=account(None, data.get("TargetUserName"), None, host),
        outcome=outcome,
        error_code=code,
        src_host=_get(data, "Workstation"),
        auth_protocol="NTLM",
    )


def _account_change(record: WindowsRecord, host: str | None) -> _Read:
    return _Read(
        who=_subject(record, host),
        target_user=_target(record, host, "TargetSid").principal,
    )


def _group_add(record: WindowsRecord, host: str | None) -> _Read:
    data = record.data
    group = account(data.get("TargetSid"), data.get("TargetUserName"), data.get("TargetDomainName"))
    return _Read(
        who=_subject(record, host),
        target_user=_member(data, host).principal,
        target_group=group.principal,
    )


# 1102 as flat exports keep it: UserData dropped, the subject only in the rendered Message.
_MESSAGE_SUBJECT = re.compile(
    r"Security ID:\s*(?P<sid>\S+)\s+Account Name:\s*(?P<name>[^\r\n]*?)\s+"
    r"(?:Domain Name|Account Domain):\s*(?P<domain>[^\r\n]*?)\s*(?:[\r\n]|$)"
)


def _log_cleared(record: WindowsRecord, host: str | None) -> _Read:
    who = _subject(record, host)
    message = _get(record.data, "Message")
    if who.principal is None and message is not None:
        match = _MESSAGE_SUBJECT.search(message)
        if match is not None:
            who = account(match["sid"], match["name"], match["domain"], host)
    return _Read(who=who)


def _object_access(record: WindowsRecord, host: str | None) -> _Read:
    action, rights = _directory_access(record)
    return _Read(who=_subject(record, host), action=action, access_rights=rights)


def _strings(node: object, out: list[str]) -> list[str]:
    """Every text of ``node`` in document order, JSON arrays held in a string opened (Log
    Analytics' ``EventData_dynamic``): AD FS events write their data as unnamed ``<Data>``
    items, which each producer keeps in its own place."""
    if isinstance(node, str):
        stripped = node.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            try:
                return _strings(json.loads(stripped), out)
            except ValueError:
                pass
        out.append(node)
    elif isinstance(node, Mapping):
        for value in node.values():
            _strings(value, out)
    elif isinstance(node, list):
        for value in node:
            _strings(value, out)
    return out


def _adfs(record: WindowsRecord, raw: Mapping[str, Any], host: str | None) -> _Read:
    """An AD FS authentication: the user from the 501 caller claims (``name`` = ``DOMAIN\\sam``,
    ``upn``, ``primarysid``) or from the AuditBase XML of 1200-1203 (``UserId``, ``IpAddress``,
    ``AuditResult``)."""
    texts = _strings(raw, [])
    if record.event_id == 501:
        # Each claim type is followed by its value: as Data items, or as lines of the rendered
        # Message that NXLog keeps ("Caller identity: \r\n<type> \r\n<value> ...").
        lines = [line.strip() for value in texts for line in value.splitlines()]
        lines = [line for line in lines if line]
        claims: dict[str, str] = {}
        for uri, value in pairwise(lines):
            if _CLAIM in uri:
                claims.setdefault(uri.rsplit("/", 1)[-1].lower(), value)
        who = account(claims.get("primarysid"), claims.get("name") or claims.get("upn"), None, host)
        if who.principal is None:
            raise NotOfInterest("AD FS event 501 without a caller's name or SID claim")
        return _Read(who=who)
    audit: dict[str, str] = {}
    for value in texts:
        if "AuditBase" in value:
            for name, body in _AUDIT_ELEMENT.findall(html.unescape(value)):
                audit.setdefault(name, body.strip())
    user = audit.get("UserId")
    if user is None or user.upper() == "N/A":
        raise NotOfInterest(f"AD FS event {record.event_id} without a UserId")
    result = audit.get("AuditResult", "").lower()
    failed = result == "failure" or (not result and record.event_id in (1201, 1203))
    address = (audit.get("IpAddress") or "").split(",")[0].strip()
    return _Read(
        who=account(None, user, None, host),
        outcome="failure" if failed else "success",
        src_ip=_ip(address or None),
    )


_MAPPERS: dict[int, Mapper] = {
    4624: _logon,
    4625: _logon,
    4648: _explicit,
    4672: _subject_only,
    4768: _kerberos,
    4769: _kerberos,
    4771: _kerberos,
    4776: _ntlm,
    4720: _account_change,
    4722: _account_change,
    4738: _account_change,
    4728: _group_add,
    4732: _group_add,
    4756: _group_add,
    1102: _log_cleared,
    4662: _object_access,
}


def normalize_windows(rec: Mapping[str, Any], raw_ref: str) -> Event:
    """Normalize one Windows Security-channel event (any producer shape, see
    :mod:`~seamwatch.udfs.windows_shapes`).

    Raises :class:`~seamwatch.udfs.errors.NotOfInterest` for another channel or an event id
    not in :data:`ACTIONS`, and :class:`~seamwatch.udfs.errors.NormalizeError` for a record
    without an event id or a usable time.
    """
    record = read_windows_record(rec)
    if record.channel is not None and record.channel.lower() != _SECURITY_CHANNEL:
        raise NotOfInterest(f"channel {record.channel!r} is not Security")
    host = record.host.lower() if record.host is not None else None
    if record.event_id in ADFS_SIGN_IN_EVENTS:
        # These ids mean something else from other providers: only AD FS's own are read.
        if record.provider is not None and _ADFS_PROVIDER not in record.provider.lower():
            raise NotOfInterest(f"event id {record.event_id} of {record.provider!r} is not read")
        read = _adfs(record, rec, host)
    else:
        mapper = _MAPPERS.get(record.event_id)
        if mapper is None:
            raise NotOfInterest(f"event id {record.event_id} is not read")
        read = mapper(record, host)
    event_id = (
        f"{host}:{record.event_id}:{record.record_id}"
        if host is not None and record.record_id is not None
        else fallback_event_id(rec)
    )
    return Event(
        event_id=event_id,
        source="windows",
        event_time=record.event_time,
        action=read.action or ACTIONS[record.event_id],
        outcome=read.outcome,
        raw_ref=raw_ref,
        service=record.provider,
        principal=read.who.principal,
        principal_type=read.who.kind,
        identifiers=list(read.who.identifiers),
        src_ip=read.src_ip,
        src_host=read.src_host,
        target_user=read.target_user,
        error_code=read.error_code,
        event_code=str(record.event_id),
        host=host,
        logon_type=read.logon_type,
        auth_protocol=read.auth_protocol,
        auth_method=read.auth_method,
        ticket_encryption=read.ticket_encryption,
        target_group=read.target_group,
        access_rights=read.access_rights,
    )
