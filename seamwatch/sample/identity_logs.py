"""The sample's Entra ID and Windows / Active Directory logs, and the attack that crosses all four
sources.

Three people of the sample administer the Windows domain (``CORP``, ``corp.example.com``) and the
Entra ID tenant besides their AWS work: :data:`DOMAIN_ADMINS`. On their working days the domain
controller logs their Kerberos tickets and a file-server logon (Winlogbeat ECS records, the way
an Elastic shipper delivers the Security channel) and Entra ID their Microsoft 365 sign-ins
(Azure Monitor diagnostic-settings records, as an Event Hub export delivers them).

:func:`hybrid_attack` weaves in the second attack, on Felix Wagner: malware on his workstation
uses his domain credentials at night to read the AD FS DKM master key from AD (4662, Golden SAML
key theft) and to add a secret to an Entra application; in the morning it steals his fresh Okta
session and replays it from the Netherlands into AWS, where it attaches AdministratorAccess to
an IAM user. The identity file ties his SID, ``CORP\\fwagner``, Entra object id and UPN to his
Okta login and e-mail, so one entity carries events of all four sources.

Every builder is deterministic (seeded ``random.Random``, ids derived by hashing), like
:mod:`seamwatch.sample.factories`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from seamwatch.sample.factories import (
    BROWSERS,
    Geo,
    JsonDict,
    Person,
    ct_assume_role_with_saml,
    ct_call,
    okta_sso_aws,
    okta_time,
)

#: NetBIOS and DNS names of the sample's Active Directory domain, and its domain SID.
AD_DOMAIN = "CORP"
AD_DNS = "corp.example.com"
DOMAIN_SID = "S-1-5-21-1004336348-1177238915-682003330"
DC = f"DC01.{AD_DNS}"
FILE_SERVER = f"FS01.{AD_DNS}"
TENANT_ID = "6f1c2b7e-4d0a-4c3e-9b1f-2a7d5e8c9f01"
#: The people who also administer AD and Entra ID: entity id -> (sAMAccountName, RID).
DOMAIN_ADMINS: dict[str, tuple[str, int]] = {
    "felix.wagner": ("fwagner", 1147),
    "aoife.brennan": ("abrennan", 1152),
    "grace.kim": ("gkim", 1163),
}
HYBRID_VICTIM = "felix.wagner"
#: The IAM user the second attacker gives administrator rights to.
HYBRID_TARGET_USER = "svc-ci-deploy"
HYBRID_ROLE = "PlatformAdmin"
#: Where the second attacker replays the stolen Okta session from (names are invented; the
#: address geolocates to the Netherlands in the bundled database).
HYBRID_GEO = Geo(
    "Amsterdam",
    "North Holland",
    "Netherlands",
    "1012",
    52.3731,
    4.8922,
    ("185.107.56.20",),
    1,
    43350,
    "nforce entertainment b.v.",
    "nforce entertainment b.v.",
    "nforce.com",
)
_ENTRA_APP = "HR Mail Archiver"
_ENTRA_APP_ID = "3c9d7f21-8a4e-4b6d-9f2a-51e0c7b8d413"


def admin_sid(key: str) -> str:
    """The account SID of one of :data:`DOMAIN_ADMINS`."""
    return f"{DOMAIN_SID}-{DOMAIN_ADMINS[key][1]}"


def entra_object_id(key: str) -> str:
    """A person's Entra user object id, derived from the entity id (stable across runs)."""
    return str(uuid.UUID(bytes=hashlib.sha256(f"entra:{key}".encode()).digest()[:16], version=4))


def identity_entries(key: str) -> list[dict[str, str]]:
    """The AD and Entra identifiers of one of :data:`DOMAIN_ADMINS` for the identity file."""
    sam = DOMAIN_ADMINS[key][0]
    return [
        {"kind": "entra_object_id", "value": entra_object_id(key)},
        {"kind": "entra_upn", "value": f"{key}@example.com"},
        {"kind": "ad_sid", "value": admin_sid(key)},
        {"kind": "ad_account", "value": f"{AD_DOMAIN}\\{sam}"},
        # Kerberos events name the account by the DNS domain (corp.example.com\\fwagner).
        {"kind": "ad_sam", "value": sam},
    ]


# --------------------------------------------------------------------------------------------
# Record builders
# --------------------------------------------------------------------------------------------


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def windows_event(
    event_id: int, at: datetime, computer: str, record_id: int, data: JsonDict
) -> JsonDict:
    """A Security-channel event as Winlogbeat 8 (ECS) ships it."""
    return {
        "@timestamp": _stamp(at),
        "event": {"code": str(event_id), "provider": "Microsoft-Windows-Security-Auditing"},
        "host": {"name": computer.lower()},
        "winlog": {
            "channel": "Security",
            "computer_name": computer,
            "event_id": str(event_id),
            "provider_name": "Microsoft-Windows-Security-Auditing",
            "record_id": record_id,
            "event_data": data,
        },
    }


def network_logon(at: datetime, computer: str, record_id: int, key: str, address: str) -> JsonDict:
    """A Kerberos network logon (4624, type 3) of domain admin ``key`` from ``address``."""
    sam, _ = DOMAIN_ADMINS[key]
    return windows_event(
        4624,
        at,
        computer,
        record_id,
        {
            "SubjectUserSid": "S-1-0-0",
            "TargetUserSid": admin_sid(key),
            "TargetUserName": sam,
            "TargetDomainName": AD_DOMAIN,
            "LogonType": "3",
            "AuthenticationPackageName": "Kerberos",
            "WorkstationName": "-",
            "IpAddress": address,
        },
    )


def _location(geo: Geo) -> JsonDict:
    codes = {"Germany": "DE", "Ireland": "IE", "United States": "US", "Netherlands": "NL"}
    return {
        "city": geo.city,
        "state": geo.state,
        "countryOrRegion": codes[geo.country],
        "geoCoordinates": {"latitude": geo.lat, "longitude": geo.lon},
    }


def entra_sign_in(
    person: Person, at: datetime, ip: str, geo: Geo, app: str, *, rng: random.Random
) -> JsonDict:
    """An interactive Entra ID sign-in (``SignInLogs``) in the diagnostic-settings envelope."""
    created = okta_time(at)
    return {
        "time": created,
        "resourceId": f"/tenants/{TENANT_ID}/providers/Microsoft.aadiam",
        "operationName": "Sign-in activity",
        "category": "SignInLogs",
        "tenantId": TENANT_ID,
        "resultType": "0",
        "callerIpAddress": ip,
        "properties": {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "createdDateTime": created,
            "userDisplayName": person.display_name,
            "userPrincipalName": person.email,
            "userId": entra_object_id(person.key),
            "appDisplayName": app,
            "ipAddress": ip,
            "clientAppUsed": "Browser",
            "userAgent": BROWSERS[person.browser].raw,
            "status": {"errorCode": 0},
            "location": _location(geo),
            "isInteractive": True,
            "authenticationRequirement": "multiFactorAuthentication",
            "riskLevelDuringSignIn": "none",
            "riskState": "none",
            "conditionalAccessStatus": "success",
        },
    }


def entra_audit(
    person: Person,
    at: datetime,
    ip: str,
    activity: str,
    category: str,
    target: JsonDict,
    *,
    rng: random.Random,
) -> JsonDict:
    """An Entra ID directory audit (``AuditLogs``) initiated by ``person``."""
    when = okta_time(at)
    return {
        "time": when,
        "resourceId": f"/tenants/{TENANT_ID}/providers/Microsoft.aadiam",
        "operationName": activity,
        "category": "AuditLogs",
        "tenantId": TENANT_ID,
        "resultSignature": "None",
        "properties": {
            "id": f"Directory_{uuid.UUID(int=rng.getrandbits(128), version=4)}",
            "activityDateTime": when,
            "activityDisplayName": activity,
            "category": category,
            "loggedByService": "Core Directory",
            "operationType": "Update",
            "result": "success",
            "initiatedBy": {
                "user": {
                    "id": entra_object_id(person.key),
                    "userPrincipalName": person.email,
                    "ipAddress": ip,
                }
            },
            "targetResources": [target],
        },
    }


# --------------------------------------------------------------------------------------------
# Background: the domain admins' ordinary days
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class IdentityLogs:
    """Entra ID and Windows records, in time order once :meth:`sort` ran."""

    entra: list[JsonDict] = dataclasses.field(default_factory=list)
    windows: list[JsonDict] = dataclasses.field(default_factory=list)

    def sort(self) -> None:
        self.entra.sort(key=lambda r: (r["time"], r["properties"]["id"]))
        self.windows.sort(key=lambda r: (r["@timestamp"], r["winlog"]["record_id"]))


class _RecordIds:
    """Per-machine EventRecordID counters (each machine numbers its own Security log)."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {DC: 4_812_000, FILE_SERVER: 917_000}

    def take(self, computer: str) -> int:
        self._next[computer] += 1
        return self._next[computer]


def _workstation_address(key: str) -> str:
    """A domain admin's workstation address on the office VPN."""
    return f"10.20.1.{DOMAIN_ADMINS[key][1] % 200 + 20}"


def admin_days(
    people: Sequence[Person], start: datetime, days: int, seed: int, logs: IdentityLogs
) -> _RecordIds:
    """The domain admins' working days: a Kerberos TGT and a service ticket at the domain
    controller (AES), a network logon on the file server, and two Entra ID sign-ins (Microsoft
    365 in the morning, the Azure portal later) from their home address. Returns the record
    counters, for the attack's events to follow them."""
    ids = _RecordIds()
    for person in people:
        if person.key not in DOMAIN_ADMINS:
            continue
        sam, _ = DOMAIN_ADMINS[person.key]
        address = _workstation_address(person.key)
        for day in range(days):
            rng = random.Random(f"{seed}:ad:{person.key}:{day}")
            local_midnight = start + timedelta(days=day) - timedelta(hours=person.home.utc_offset)
            at = local_midnight + timedelta(hours=7, minutes=30, seconds=rng.uniform(0, 3600))
            at = at.replace(microsecond=rng.randrange(0, 1_000_000, 1000))
            account = {"TargetUserName": sam, "TargetDomainName": AD_DNS.upper()}
            logs.windows.append(
                windows_event(
                    4768,
                    at,
                    DC,
                    ids.take(DC),
                    {
                        **account,
                        "TargetSid": admin_sid(person.key),
                        "ServiceName": "krbtgt",
                        "TicketEncryptionType": "0x12",
                        "PreAuthType": "2",
                        "Status": "0x0",
                        "IpAddress": f"::ffff:{address}",
                    },
                )
            )
            ticket_at = at + timedelta(seconds=rng.uniform(2, 20))
            logs.windows.append(
                windows_event(
                    4769,
                    ticket_at,
                    DC,
                    ids.take(DC),
                    {
                        "TargetUserName": f"{sam}@{AD_DNS.upper()}",
                        "TargetDomainName": AD_DNS.upper(),
                        "ServiceName": "FS01$",
                        "TicketEncryptionType": "0x12",
                        "Status": "0x0",
                        "IpAddress": f"::ffff:{address}",
                    },
                )
            )
            logs.windows.append(
                network_logon(
                    ticket_at + timedelta(seconds=1),
                    FILE_SERVER,
                    ids.take(FILE_SERVER),
                    person.key,
                    address,
                )
            )
            ip = person.home.ips[0]
            for app, minutes in (("Office 365 Exchange Online", 0.5), ("Azure Portal", 190)):
                when = at + timedelta(minutes=minutes + rng.uniform(0, 40))
                logs.entra.append(entra_sign_in(person, when, ip, person.home, app, rng=rng))
    return ids


# --------------------------------------------------------------------------------------------
# The attack across the four sources
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HybridTruth:
    """Ground truth of the attack on :data:`HYBRID_VICTIM`.

    ``key_read`` is the 4662 (Windows ``event_id`` ``host:4662:record``), ``app_secret`` the
    Entra audit id, ``okta_session`` the victim's own ``user.session.start`` the attacker
    replays and ``okta_sso`` the attacker's SSO to AWS in it (Okta ``uuid``s), ``assume_role``
    and ``attach_policy`` the CloudTrail ``eventID``s; ``cloudtrail`` every CloudTrail record
    id of the attack.
    """

    entity: str
    key_read: str
    app_secret: str
    okta_session: str
    okta_sso: str
    assume_role: str
    attach_policy: str
    ip: str
    cloudtrail: tuple[str, ...]


def _okta_session_of(okta: Iterable[JsonDict], person: Person, day: datetime) -> JsonDict:
    """The person's first successful ``user.session.start`` of that UTC day."""
    prefix = day.strftime("%Y-%m-%d")
    return min(
        (
            r
            for r in okta
            if r["eventType"] == "user.session.start"
            and r["outcome"]["result"] == "SUCCESS"
            and r["actor"]["alternateId"] == person.email
            and r["published"].startswith(prefix)
        ),
        key=lambda r: r["published"],
    )


def hybrid_attack(
    victim: Person,
    day: datetime,
    okta: Sequence[JsonDict],
    account_id: str,
    ids: _RecordIds,
    *,
    rng: random.Random,
) -> tuple[list[JsonDict], list[JsonDict], IdentityLogs, HybridTruth]:
    """The attack on ``victim`` on ``day`` (UTC midnight): ``(okta, cloudtrail, entra and
    windows, truth)``. ``okta`` holds the victim's own records of that day: the attacker
    replays the session of their first sign-in, three minutes after it."""
    sam, _ = DOMAIN_ADMINS[victim.key]
    address = _workstation_address(victim.key)
    logs = IdentityLogs()
    # 03:13 in Berlin: the malware uses the cached domain credentials on the network.
    night = day + timedelta(hours=2, minutes=13, seconds=58, milliseconds=412)
    logs.windows.append(network_logon(night, DC, ids.take(DC), victim.key, address))
    read_at = night + timedelta(seconds=5, milliseconds=236)
    record_id = ids.take(DC)
    logs.windows.append(
        windows_event(
            4662,
            read_at,
            DC,
            record_id,
            {
                "SubjectUserSid": admin_sid(victim.key),
                "SubjectUserName": sam,
                "SubjectDomainName": AD_DOMAIN,
                "SubjectLogonId": "0x3e7a91c",
                "ObjectServer": "DS",
                "ObjectType": "%{5cb41ed0-0e4c-11d0-a286-00aa003049e2}",
                "ObjectName": "%{9736f74f-fd37-4b02-80e8-8120a72ad6c2}",
                "OperationType": "Object Access",
                "AccessList": "%%7684",
                "AccessMask": "0x10",
                "Properties": "%%7684 {77b5b886-944a-11d1-aebd-0000f80367c1} "
                "{8d3bca50-1d7e-11d0-a081-00aa006c33ed} {5cb41ed0-0e4c-11d0-a286-00aa003049e2}",
            },
        )
    )
    secret = entra_audit(
        victim,
        night + timedelta(minutes=17, seconds=21, milliseconds=95),
        address,
        "Update application \u2013 Certificates and secrets management",
        "ApplicationManagement",
        {
            "id": _ENTRA_APP_ID,
            "displayName": _ENTRA_APP,
            "type": "Application",
            "modifiedProperties": [{"displayName": "KeyDescription", "newValue": '"[\\"sync\\"]"'}],
        },
        rng=rng,
    )
    logs.entra.append(secret)
    session = _okta_session_of(okta, victim, day)
    signed_in = datetime.fromisoformat(session["published"].replace("Z", "+00:00"))
    session_id = session["authenticationContext"]["externalSessionId"]
    ip = HYBRID_GEO.ips[0]
    attacker = dataclasses.replace(victim, browser="chrome-win")
    sso_at = signed_in + timedelta(minutes=2, seconds=41.3)
    okta_records = [
        okta_sso_aws(attacker, sso_at, ip, HYBRID_GEO, rng=rng, session_id=session_id, new_geo=True)
    ]
    assume_at = (sso_at + timedelta(seconds=4)).replace(microsecond=0)
    agent = BROWSERS["chrome-win"].raw
    issued = ct_assume_role_with_saml(
        attacker, assume_at, ip, account_id, HYBRID_ROLE, rng=rng, user_agent=agent
    )
    cloudtrail = [issued.record]
    calls = (
        (38, "iam.amazonaws.com", "ListUsers", {"maxItems": 1000}),
        (71, "iam.amazonaws.com", "ListAttachedUserPolicies", {"userName": HYBRID_TARGET_USER}),
        (
            126,
            "iam.amazonaws.com",
            "AttachUserPolicy",
            {
                "userName": HYBRID_TARGET_USER,
                "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess",
            },
        ),
    )
    for dt, source, name, params in calls:
        cloudtrail.append(
            ct_call(
                attacker,
                assume_at + timedelta(seconds=dt),
                ip,
                source,
                name,
                account_id,
                HYBRID_ROLE,
                issued.access_key_id,
                params,
                rng=rng,
                session_created=assume_at,
                user_agent=agent,
                from_console=True,
            )
        )
    truth = HybridTruth(
        entity=victim.key,
        key_read=f"{DC.lower()}:4662:{record_id}",
        app_secret=secret["properties"]["id"],
        okta_session=session["uuid"],
        okta_sso=okta_records[0]["uuid"],
        assume_role=issued.record["eventID"],
        attach_policy=cloudtrail[-1]["eventID"],
        ip=ip,
        cloudtrail=tuple(r["eventID"] for r in cloudtrail),
    )
    return okta_records, cloudtrail, logs, truth


__all__ = [
    "AD_DOMAIN",
    "DOMAIN_ADMINS",
    "HYBRID_VICTIM",
    "HybridTruth",
    "IdentityLogs",
    "admin_days",
    "admin_sid",
    "entra_audit",
    "entra_object_id",
    "entra_sign_in",
    "hybrid_attack",
    "identity_entries",
    "windows_event",
]
