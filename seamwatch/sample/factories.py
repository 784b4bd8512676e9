"""Builders of synthetic, vendor-shaped Okta System Log and AWS CloudTrail records.

Every builder is a pure function: the same arguments (including the state of the given
``random.Random``) give the same record. Nothing reads the wall clock; ``at`` is always a
timezone-aware UTC ``datetime`` and is the only source of time. Identifiers that tie records
together (Okta session ids, access key ids) can be passed in; anything else is drawn from
``rng``. Identifiers that must be the same every time a principal appears (role ids, IAM user
ids, the SAML name qualifier) are derived from names with a hash, not from ``rng``.

The records follow the field layout of the real vendor formats (Okta System Log API v1 event
objects; CloudTrail record body version 1.08/1.09). All names, addresses and ids are invented.
"""

from __future__ import annotations

import base64
import hashlib
import random
import string
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

JsonDict = dict[str, Any]

OKTA_ORG = "example.okta.com"
OKTA_ORIGIN = f"https://{OKTA_ORG}"
#: Okta's SAML issuer for the AWS Account Federation app (``http://www.okta.com/<app key>``).
OKTA_SAML_ISSUER = "http://www.okta.com/exk7q2hd3nUo1XbNp5d7"
SAML_PROVIDER_NAME = "Okta"
SAML_AUDIENCE = "https://signin.aws.amazon.com/saml"
AWS_APP_NAME = "AWS Account Federation"
AWS_APP_KEY = "amazon_aws"

_UPPER_DIGITS = string.ascii_uppercase + string.digits
_ALNUM = string.ascii_letters + string.digits
_HEX = "0123456789abcdef"
# 100-ns intervals between the Gregorian epoch (1582-10-15) and the Unix epoch.
_UUID_EPOCH_OFFSET = 0x01B21DD213814000

_READ_PREFIXES = ("Describe", "List", "Get", "Head", "Lookup", "Search", "Scan", "Query", "Batch")
_GLOBAL_SERVICES = frozenset({"iam.amazonaws.com", "sts.amazonaws.com", "signin.amazonaws.com"})
_S3_DATA_EVENTS = frozenset(
    {"GetObject", "PutObject", "HeadObject", "DeleteObject", "CopyObject", "GetObjectAcl"}
)


# --------------------------------------------------------------------------------------------
# People and places
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Geo:
    """Where a client address is, as Okta geolocates it, plus the network behind it.

    ``country`` is the full English name, as Okta writes it ("United States"). ``ips`` are the
    addresses a person uses from there; ``utc_offset`` (hours) places local working hours.
    ``asn``/``as_org``/``isp``/``domain`` fill Okta's ``securityContext``.
    """

    city: str
    state: str
    country: str
    postal: str
    lat: float
    lon: float
    ips: tuple[str, ...]
    utc_offset: int = 0
    asn: int = 7922
    as_org: str = "comcast cable communications, llc"
    isp: str = "comcast cable communications llc"
    domain: str = "comcast.net"
    is_proxy: bool = False


@dataclass(frozen=True, slots=True)
class Person:
    """A principal that signs in through Okta (``kind="human"``) or a service account.

    ``key`` is the identity-file entity id (``dana.whitfield``); ``email`` is also the Okta
    login; ``okta_id`` is the Okta user id (``00u`` + 17 characters); ``roles`` are the AWS role
    names the person assumes through the AWS Account Federation app. ``browser`` selects an
    entry of :data:`BROWSERS`. A service account (an IAM user) has ``kind="service"``, its ARN
    in ``iam_user_arn`` and empty ``email``/``okta_id``.
    """

    key: str
    display_name: str
    email: str
    okta_id: str
    home: Geo
    roles: tuple[str, ...] = ()
    kind: Literal["human", "service"] = "human"
    browser: str = "chrome-mac"
    iam_user_arn: str | None = None


@dataclass(frozen=True, slots=True)
class Issued:
    """An ``AssumeRoleWithSAML`` record and the session credentials it issued."""

    record: JsonDict
    access_key_id: str
    session_arn: str


@dataclass(frozen=True, slots=True)
class _Browser:
    raw: str
    os: str
    browser: str
    device: str = "Computer"


#: Browser user agents with the ``os``/``browser`` labels Okta derives from them.
BROWSERS: dict[str, _Browser] = {
    "chrome-mac": _Browser(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/133.0.0.0 Safari/537.36",
        "Mac OS X",
        "CHROME",
    ),
    "chrome-win": _Browser(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/133.0.0.0 Safari/537.36",
        "Windows 10",
        "CHROME",
    ),
    "safari-mac": _Browser(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
        " Version/18.3 Safari/605.1.15",
        "Mac OS X",
        "SAFARI",
    ),
    "firefox-linux": _Browser(
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:135.0) Gecko/20100101 Firefox/135.0",
        "Linux",
        "FIREFOX",
    ),
    "edge-win": _Browser(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/133.0.0.0 Safari/537.36 Edg/133.0.0.0",
        "Windows 10",
        "EDGE_CHROMIUM",
    ),
}

#: Command-line / SDK user agents seen on API calls made with federated credentials.
CLI_USER_AGENTS: tuple[str, ...] = (
    "aws-cli/2.24.10 md/awscrt#0.23.8 ua/2.1 os/macos#24.3.0 md/arch#arm64 lang/python#3.12.9"
    " md/pyimpl#CPython m/E cfg/retry-mode#standard md/installer#source md/prompt#off",
    "aws-cli/2.24.10 md/awscrt#0.23.8 ua/2.1 os/linux#6.8.0-1021-aws md/arch#x86_64"
    " lang/python#3.12.9 md/pyimpl#CPython m/E cfg/retry-mode#standard md/installer#exe",
    "Boto3/1.37.4 md/Botocore#1.37.4 ua/2.1 os/macos#24.3.0 md/arch#arm64 lang/python#3.11.11"
    " md/pyimpl#CPython m/Z,b,D cfg/retry-mode#legacy Botocore/1.37.4",
    "APN/1.0 HashiCorp/1.0 Terraform/1.10.5 (+https://www.terraform.io)"
    " terraform-provider-aws/5.88.0 (+https://registry.terraform.io/providers/hashicorp/aws)"
    " aws-sdk-go-v2/1.36.1 ua/2.1 os/macos lang/go#1.23.6 md/GOOS#darwin md/GOARCH#arm64"
    " api/ec2#1.203.0 m/E,g",
)

#: User agents of service-account workloads.
SDK_USER_AGENTS: tuple[str, ...] = (
    "aws-sdk-go-v2/1.36.1 ua/2.1 os/linux lang/go#1.23.6 md/GOOS#linux md/GOARCH#amd64"
    " api/s3#1.76.1 m/E,Z,g",
    "Boto3/1.37.4 md/Botocore#1.37.4 ua/2.1 os/linux#5.10.233-224.894.amzn2.x86_64"
    " md/arch#x86_64 lang/python#3.11.11 md/pyimpl#CPython cfg/retry-mode#legacy"
    " Botocore/1.37.4",
    "aws-cli/2.24.10 md/awscrt#0.23.8 ua/2.1 os/linux#6.8.0-1021-aws md/arch#x86_64"
    " lang/python#3.12.9 md/pyimpl#CPython m/E cfg/retry-mode#standard md/installer#exe"
    " md/distrib#ubuntu.24 md/prompt#off",
)


# --------------------------------------------------------------------------------------------
# Small deterministic helpers
# --------------------------------------------------------------------------------------------


def _require_utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"timestamp must be timezone-aware, got naive {at!r}")
    return at.astimezone(UTC)


def rand_chars(rng: random.Random, alphabet: str, n: int) -> str:
    """``n`` characters drawn from ``alphabet`` with ``rng``."""
    return "".join(rng.choices(alphabet, k=n))


def stable_chars(alphabet: str, n: int, *parts: str) -> str:
    """``n`` characters of ``alphabet`` derived from ``parts`` by hashing (no randomness)."""
    out: list[str] = []
    counter = 0
    while len(out) < n:
        digest = hashlib.sha256(("\x1f".join(parts) + f"\x1e{counter}").encode()).digest()
        out.extend(alphabet[b % len(alphabet)] for b in digest)
        counter += 1
    return "".join(out[:n])


def uuid4_str(rng: random.Random) -> str:
    """A version-4 UUID string drawn from ``rng`` (CloudTrail eventID/requestID)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def okta_uuid(at: datetime, rng: random.Random) -> str:
    """A time-based (version 1) UUID for ``at``, the form Okta uses for event uuids."""
    at = _require_utc(at)
    ticks = int(at.timestamp()) * 10_000_000 + at.microsecond * 10 + _UUID_EPOCH_OFFSET
    ticks += rng.randrange(10)
    time_low = ticks & 0xFFFFFFFF
    time_mid = (ticks >> 32) & 0xFFFF
    time_hi = ((ticks >> 48) & 0x0FFF) | 0x1000
    clock_seq = rng.getrandbits(14)
    node = rng.getrandbits(48)
    return str(
        uuid.UUID(
            fields=(time_low, time_mid, time_hi, 0x80 | (clock_seq >> 8), clock_seq & 0xFF, node)
        )
    )


def okta_request_id(rng: random.Random) -> str:
    """An Okta request id (32 hex characters); also used as the transaction id."""
    return rand_chars(rng, _HEX, 32)


def okta_session_id(rng: random.Random) -> str:
    """An Okta Identity Engine ``externalSessionId`` (``idx`` + 22 characters)."""
    return "idx" + rand_chars(rng, _ALNUM + "-_", 22)


def okta_user_id(key: str) -> str:
    """The Okta user id of ``key``: ``00u`` + 17 characters, stable per key."""
    return "00u" + stable_chars(_ALNUM, 14, "okta-user", key) + "697"


def okta_app_id(app: str) -> str:
    """The Okta app instance id (``0oa`` + 17 characters) of ``app``, stable per name."""
    return "0oa" + stable_chars(_ALNUM, 14, "okta-app", app) + "697"


def make_access_key_id(rng: random.Random, *, temporary: bool = True) -> str:
    """A 20-character AWS access key id: ``ASIA...`` (session) or ``AKIA...`` (long-term)."""
    return ("ASIA" if temporary else "AKIA") + rand_chars(rng, _UPPER_DIGITS, 16)


def role_id(account_id: str, role_name: str) -> str:
    """The unique id (``AROA...``) of an IAM role, stable per account and name."""
    return "AROA" + stable_chars(_UPPER_DIGITS, 17, "role", account_id, role_name)


def iam_user_id(account_id: str, user_name: str) -> str:
    """The unique id (``AIDA...``) of an IAM user, stable per account and name."""
    return "AIDA" + stable_chars(_UPPER_DIGITS, 17, "user", account_id, user_name)


def saml_name_qualifier(account_id: str, provider: str = SAML_PROVIDER_NAME) -> str:
    """``BASE64(SHA1(issuer + account + "/" + provider))``, as STS computes ``nameQualifier``."""
    digest = hashlib.sha1(f"{OKTA_SAML_ISSUER}{account_id}/{provider}".encode()).digest()
    return base64.b64encode(digest).decode()


def session_token(rng: random.Random, n_bytes: int = 480) -> str:
    """An opaque STS session token blob (base64, with the usual ``IQoJb3JpZ2luX2Vj`` prefix)."""
    return "IQoJb3JpZ2luX2Vj" + base64.b64encode(rng.randbytes(n_bytes)).decode()


def okta_time(at: datetime) -> str:
    """Okta ``published`` form: ISO-8601 with milliseconds and ``Z``."""
    at = _require_utc(at)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def ct_time(at: datetime) -> str:
    """CloudTrail ``eventTime`` form: ISO-8601 to the second with ``Z``."""
    return _require_utc(at).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ct_java_time(at: datetime, comma: bool) -> str:
    at = _require_utc(at)
    hour = at.hour % 12 or 12
    sep = ", " if comma else " "
    return f"{at:%b} {at.day}, {at.year}{sep}{hour}:{at:%M:%S} {'AM' if at.hour < 12 else 'PM'}"


def ct_expiration(at: datetime) -> str:
    """STS credential ``expiration`` form, e.g. ``Jul 30, 2024, 9:53:13 PM``."""
    return _ct_java_time(at, comma=True)


def ct_create_date(at: datetime) -> str:
    """IAM ``createDate`` form inside responses, e.g. ``Jul 30, 2024 9:53:13 PM``."""
    return _ct_java_time(at, comma=False)


def is_read_only(event_name: str) -> bool:
    """Whether CloudTrail would mark ``event_name`` ``readOnly``."""
    return event_name.startswith(_READ_PREFIXES)


# --------------------------------------------------------------------------------------------
# Okta System Log
# --------------------------------------------------------------------------------------------


def _geo_context(geo: Geo) -> JsonDict:
    return {
        "city": geo.city,
        "state": geo.state,
        "country": geo.country,
        "postalCode": geo.postal,
        "geolocation": {"lat": geo.lat, "lon": geo.lon},
    }


def _behaviors(new_geo: bool, new_device: bool) -> str:
    geo = "POSITIVE" if new_geo else "NEGATIVE"
    dev = "POSITIVE" if new_device else "NEGATIVE"
    return (
        f"{{New Geo-Location={geo}, New Device={dev}, New IP={geo}, New State={geo},"
        f" New Country={geo}, Velocity={geo}, New City={geo}}}"
    )


def _okta_event(
    *,
    person: Person,
    at: datetime,
    ip: str,
    geo: Geo,
    rng: random.Random,
    event_type: str,
    legacy_event_type: str | None,
    display_message: str,
    result: str,
    reason: str | None,
    severity: str,
    session_id: str | None,
    auth: JsonDict,
    debug: JsonDict,
    request_uri: str,
    target: list[JsonDict] | None,
    new_geo: bool,
) -> JsonDict:
    """The common frame of an Okta System Log event for a user acting from a browser."""
    browser = BROWSERS.get(person.browser, BROWSERS["chrome-mac"])
    request_id = okta_request_id(rng)
    geo_ctx = _geo_context(geo)
    risk = "{reasons=Anomalous Geo-Distance, New Country, level=HIGH}" if new_geo else "{level=LOW}"
    debug_data: JsonDict = {
        "authnRequestId": rand_chars(rng, _HEX, 32),
        "behaviors": _behaviors(new_geo, new_device=new_geo),
        "dtHash": rand_chars(rng, _HEX, 64),
        "logOnlySecurityData": (
            '{"risk":{"level":"' + ("HIGH" if new_geo else "LOW") + '"},"behaviors":{'
            '"New Geo-Location":"' + ("POSITIVE" if new_geo else "NEGATIVE") + '",'
            '"New Device":"NEGATIVE","New IP":"' + ("POSITIVE" if new_geo else "NEGATIVE") + '",'
            '"Velocity":"' + ("POSITIVE" if new_geo else "NEGATIVE") + '"}}'
        ),
        "oktaUserAgentExtended": "okta-auth-js/7.8.1 okta-signin-widget-7.28.2",
        "origin": OKTA_ORIGIN,
        "requestId": request_id,
        "requestUri": request_uri,
        "risk": risk,
        "threatSuspected": "false",
        "url": request_uri + "?",
    }
    debug_data.update(debug)
    authentication_context: JsonDict = {
        "authenticationProvider": None,
        "credentialProvider": None,
        "credentialType": None,
        "issuer": None,
        "interface": None,
        "authenticationStep": 0,
        "rootSessionId": session_id,
        "externalSessionId": session_id if session_id is not None else "unknown",
    }
    authentication_context.update(auth)
    return {
        "uuid": okta_uuid(at, rng),
        "published": okta_time(at),
        "eventType": event_type,
        "version": "0",
        "severity": severity,
        "legacyEventType": legacy_event_type,
        "displayMessage": display_message,
        "actor": {
            "id": person.okta_id,
            "type": "User",
            "alternateId": person.email,
            "displayName": person.display_name,
            "detailEntry": None,
        },
        "client": {
            "userAgent": {
                "rawUserAgent": browser.raw,
                "os": browser.os,
                "browser": browser.browser,
            },
            "zone": "null",
            "device": browser.device,
            "id": None,
            "redirectUri": None,
            "ipAddress": ip,
            "geographicalContext": geo_ctx,
        },
        "device": None,
        "authenticationContext": authentication_context,
        "outcome": {"result": result, "reason": reason},
        "securityContext": {
            "asNumber": geo.asn,
            "asOrg": geo.as_org,
            "isp": geo.isp,
            "domain": geo.domain,
            "isProxy": geo.is_proxy,
        },
        "transaction": {"type": "WEB", "id": request_id, "detail": {}},
        "debugContext": {"debugData": debug_data},
        "request": {
            "ipChain": [{"ip": ip, "geographicalContext": geo_ctx, "version": "V4", "source": None}]
        },
        "target": target,
    }


def _password_target(person: Person) -> JsonDict:
    return {
        "id": "lae" + stable_chars(_ALNUM, 14, "password", person.key) + "697",
        "type": "AuthenticatorEnrollment",
        "alternateId": "unknown",
        "displayName": "Password",
        "detailEntry": None,
    }


def _dashboard_target() -> JsonDict:
    return {
        "id": okta_app_id("Okta Dashboard"),
        "type": "AppInstance",
        "alternateId": "Okta Dashboard",
        "displayName": "Okta Dashboard",
        "detailEntry": None,
    }


def _verify_target(person: Person) -> JsonDict:
    return {
        "id": "pfd" + stable_chars(_ALNUM, 14, "okta-verify", person.key) + "697",
        "type": "AuthenticatorEnrollment",
        "alternateId": "unknown",
        "displayName": "Okta Verify",
        "detailEntry": {
            "methodTypeUsed": "Get a push notification",
            "methodUsedVerifiedProperties": "[USER_VERIFYING, DEVICE_BOUND]",
        },
    }


def okta_session_start(
    person: Person,
    at: datetime,
    ip: str,
    geo: Geo,
    outcome: Literal["SUCCESS", "FAILURE"] = "SUCCESS",
    *,
    rng: random.Random,
    session_id: str | None = None,
    new_geo: bool = False,
) -> JsonDict:
    """``user.session.start``: a sign-in to Okta (password step).

    A failure carries reason ``INVALID_CREDENTIALS`` and no session id. ``new_geo`` sets the
    behaviour and risk flags Okta raises for a sign-in from an unfamiliar place.
    """
    ok = outcome == "SUCCESS"
    if ok and session_id is None:
        session_id = okta_session_id(rng)
    return _okta_event(
        person=person,
        at=at,
        ip=ip,
        geo=geo,
        rng=rng,
        event_type="user.session.start",
        legacy_event_type=("core.user_auth.login_success" if ok else "core.user_auth.login_failed"),
        display_message="User login to Okta",
        result=outcome,
        reason=None if ok else "INVALID_CREDENTIALS",
        severity="INFO" if ok else "WARN",
        session_id=session_id if ok else None,
        auth={
            "authenticationProvider": "OKTA_AUTHENTICATION_PROVIDER",
            "credentialType": "PASSWORD",
            "interface": None,
        },
        debug={"deviceFingerprint": rand_chars(rng, _HEX, 32)},
        request_uri="/idp/idx/challenge/answer",
        target=[_password_target(person), _dashboard_target()],
        new_geo=new_geo,
    )


def okta_mfa(
    person: Person,
    at: datetime,
    ip: str,
    geo: Geo,
    *,
    rng: random.Random,
    result: Literal["SUCCESS", "FAILURE"] = "SUCCESS",
    session_id: str | None = None,
    new_geo: bool = False,
) -> JsonDict:
    """``user.authentication.auth_via_mfa``: the Okta Verify push step of a sign-in."""
    ok = result == "SUCCESS"
    return _okta_event(
        person=person,
        at=at,
        ip=ip,
        geo=geo,
        rng=rng,
        event_type="user.authentication.auth_via_mfa",
        legacy_event_type=(
            "core.user.factor.attempt_success" if ok else "core.user.factor.attempt_fail"
        ),
        display_message="Authentication of user via MFA",
        result=result,
        reason=None if ok else "INVALID_CREDENTIALS",
        severity="INFO" if ok else "WARN",
        session_id=session_id,
        auth={
            "authenticationProvider": "FACTOR_PROVIDER",
            "credentialProvider": "OKTA_CREDENTIAL_PROVIDER",
        },
        debug={"factor": "OKTA_VERIFY_PUSH", "factorIntent": "AUTHENTICATION"},
        request_uri="/idp/idx/authenticators/poll",
        target=[_verify_target(person)],
        new_geo=new_geo,
    )


def okta_push_denied(
    person: Person,
    at: datetime,
    ip: str,
    geo: Geo,
    *,
    rng: random.Random,
    session_id: str | None = None,
    new_geo: bool = False,
) -> JsonDict:
    """``user.mfa.okta_verify.deny_push``: the user rejected an Okta Verify push."""
    return _okta_event(
        person=person,
        at=at,
        ip=ip,
        geo=geo,
        rng=rng,
        event_type="user.mfa.okta_verify.deny_push",
        legacy_event_type="core.user.factor.attempt_fail",
        display_message="User rejected Okta push verify",
        result="FAILURE",
        reason="User rejected Okta push verify",
        severity="WARN",
        session_id=session_id,
        auth={
            "authenticationProvider": "FACTOR_PROVIDER",
            "credentialProvider": "OKTA_CREDENTIAL_PROVIDER",
        },
        debug={"factor": "OKTA_VERIFY_PUSH", "factorIntent": "AUTHENTICATION"},
        request_uri="/idp/idx/authenticators/poll",
        target=[_verify_target(person)],
        new_geo=new_geo,
    )


def okta_sso_app(
    person: Person,
    at: datetime,
    ip: str,
    geo: Geo,
    *,
    rng: random.Random,
    app_name: str,
    app_key: str,
    session_id: str | None = None,
    new_geo: bool = False,
) -> JsonDict:
    """``user.authentication.sso`` to the SAML app ``app_name`` (Okta app type ``app_key``)."""
    app_id = okta_app_id(app_name)
    instance = "exk" + stable_chars(_ALNUM, 17, "okta-app-key", app_name)
    uri = f"/app/{app_key}/{instance}/sso/saml"
    return _okta_event(
        person=person,
        at=at,
        ip=ip,
        geo=geo,
        rng=rng,
        event_type="user.authentication.sso",
        legacy_event_type="app.auth.sso",
        display_message="User single sign on to app",
        result="SUCCESS",
        reason=None,
        severity="INFO",
        session_id=session_id,
        auth={},
        debug={"initiationType": "IDP_INITIATED", "signOnMode": "SAML 2.0"},
        request_uri=uri,
        target=[
            {
                "id": app_id,
                "type": "AppInstance",
                "alternateId": app_name,
                "displayName": app_name,
                "detailEntry": {"signOnModeType": "SAML_2_0"},
            },
            {
                "id": "0ua" + stable_chars(_ALNUM, 14, "app-user", app_name, person.key) + "697",
                "type": "AppUser",
                "alternateId": person.email,
                "displayName": person.display_name,
                "detailEntry": None,
            },
        ],
        new_geo=new_geo,
    )


def okta_sso_aws(
    person: Person,
    at: datetime,
    ip: str,
    geo: Geo,
    *,
    rng: random.Random,
    session_id: str | None = None,
    new_geo: bool = False,
) -> JsonDict:
    """``user.authentication.sso`` to the "AWS Account Federation" app."""
    return okta_sso_app(
        person,
        at,
        ip,
        geo,
        rng=rng,
        app_name=AWS_APP_NAME,
        app_key=AWS_APP_KEY,
        session_id=session_id,
        new_geo=new_geo,
    )


def okta_session_end(
    person: Person,
    at: datetime,
    ip: str,
    geo: Geo,
    *,
    rng: random.Random,
    session_id: str | None = None,
) -> JsonDict:
    """``user.session.end``: the user signed out of Okta."""
    return _okta_event(
        person=person,
        at=at,
        ip=ip,
        geo=geo,
        rng=rng,
        event_type="user.session.end",
        legacy_event_type="core.user_auth.logout_success",
        display_message="User logout from Okta",
        result="SUCCESS",
        reason=None,
        severity="INFO",
        session_id=session_id,
        auth={},
        debug={},
        request_uri="/login/signout",
        target=None,
        new_geo=False,
    )


# --------------------------------------------------------------------------------------------
# CloudTrail
# --------------------------------------------------------------------------------------------


def _host_header(event_source: str, region: str) -> str:
    service = event_source.removesuffix(".amazonaws.com")
    if event_source in _GLOBAL_SERVICES:
        return "signin.aws.amazon.com" if service == "signin" else event_source
    return f"{service}.{region}.amazonaws.com"


def _tls(event_source: str, region: str, rng: random.Random) -> JsonDict:
    v13 = rng.random() < 0.85
    return {
        "tlsVersion": "TLSv1.3" if v13 else "TLSv1.2",
        "cipherSuite": "TLS_AES_128_GCM_SHA256" if v13 else "ECDHE-RSA-AES128-GCM-SHA256",
        "clientProvidedHostHeader": _host_header(event_source, region),
    }


def _ct_record(
    *,
    at: datetime,
    rng: random.Random,
    user_identity: JsonDict,
    event_source: str,
    event_name: str,
    region: str,
    source_ip: str,
    user_agent: str,
    account_id: str,
    request_parameters: JsonDict | None,
    response_elements: JsonDict | None,
    read_only: bool | None,
    error_code: str | None = None,
    error_message: str | None = None,
    resources: list[JsonDict] | None = None,
    additional_event_data: JsonDict | None = None,
    event_type: str = "AwsApiCall",
    event_version: str = "1.09",
    tls: bool = True,
    request_id: bool = True,
    from_console: bool = False,
    shared_event_id: str | None = None,
) -> JsonDict:
    """Assemble a CloudTrail record with the fields in the order CloudTrail writes them."""
    if event_source in _GLOBAL_SERVICES and event_source != "sts.amazonaws.com":
        region = "us-east-1"
    data_event = event_source == "s3.amazonaws.com" and event_name in _S3_DATA_EVENTS
    record: JsonDict = {
        "eventVersion": event_version,
        "userIdentity": user_identity,
        "eventTime": ct_time(at),
        "eventSource": event_source,
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": source_ip,
        "userAgent": user_agent,
    }
    if error_code is not None:
        record["errorCode"] = error_code
        record["errorMessage"] = error_message or _error_message(
            error_code, user_identity, event_source, event_name, account_id, region
        )
    record["requestParameters"] = request_parameters
    record["responseElements"] = response_elements if error_code is None else None
    if additional_event_data is not None:
        record["additionalEventData"] = additional_event_data
    if request_id:
        record["requestID"] = uuid4_str(rng)
    record["eventID"] = uuid4_str(rng)
    record["readOnly"] = is_read_only(event_name) if read_only is None else read_only
    if resources is not None:
        record["resources"] = resources
    record["eventType"] = event_type
    record["managementEvent"] = not data_event
    record["recipientAccountId"] = account_id
    if shared_event_id is not None:
        record["sharedEventID"] = shared_event_id
    record["eventCategory"] = "Data" if data_event else "Management"
    if tls:
        record["tlsDetails"] = _tls(event_source, region, rng)
    if from_console:
        record["sessionCredentialFromConsole"] = "true"
    return record


def _error_message(
    code: str,
    identity: JsonDict,
    event_source: str,
    event_name: str,
    account_id: str,
    region: str,
) -> str:
    arn = identity.get("arn", "unknown")
    service = event_source.removesuffix(".amazonaws.com")
    if code in ("AccessDenied", "Client.UnauthorizedOperation", "AccessDeniedException"):
        return (
            f"User: {arn} is not authorized to perform: {service}:{event_name} on resource:"
            f" arn:aws:{service}:{region}:{account_id}:* because no identity-based policy"
            f" allows the {service}:{event_name} action"
        )
    if code in ("NoSuchEntity", "NoSuchEntityException"):
        return "The user with name unknown cannot be found."
    if code == "ThrottlingException":
        return "Rate exceeded"
    return f"{code} when calling {event_name}"


def _session_identity(
    *,
    account_id: str,
    role_name: str,
    session_name: str,
    access_key_id: str,
    created: datetime,
    mfa: bool,
) -> JsonDict:
    rid = role_id(account_id, role_name)
    return {
        "type": "AssumedRole",
        "principalId": f"{rid}:{session_name}",
        "arn": f"arn:aws:sts::{account_id}:assumed-role/{role_name}/{session_name}",
        "accountId": account_id,
        "accessKeyId": access_key_id,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": rid,
                "arn": f"arn:aws:iam::{account_id}:role/{role_name}",
                "accountId": account_id,
                "userName": role_name,
            },
            "attributes": {
                "creationDate": ct_time(created),
                "mfaAuthenticated": "true" if mfa else "false",
            },
        },
    }


def ct_assume_role_with_saml(
    person: Person,
    at: datetime,
    ip: str,
    account_id: str,
    role_name: str,
    *,
    rng: random.Random,
    access_key_id: str | None = None,
    duration_seconds: int = 3600,
    user_agent: str | None = None,
) -> Issued:
    """``sts:AssumeRoleWithSAML`` from Okta's AWS Account Federation app.

    The SAML subject and role session name are the person's email. Returns the record, the
    issued temporary access key id (``ASIA...``) and the ARN of the assumed-role session.
    """
    at = _require_utc(at)
    key = access_key_id or make_access_key_id(rng)
    qualifier = saml_name_qualifier(account_id)
    role_arn = f"arn:aws:iam::{account_id}:role/{role_name}"
    provider_arn = f"arn:aws:iam::{account_id}:saml-provider/{SAML_PROVIDER_NAME}"
    session_arn = f"arn:aws:sts::{account_id}:assumed-role/{role_name}/{person.email}"
    browser = BROWSERS.get(person.browser, BROWSERS["chrome-mac"])
    record = _ct_record(
        at=at,
        rng=rng,
        user_identity={
            "type": "SAMLUser",
            "principalId": f"{qualifier}:{person.email}",
            "userName": person.email,
            "identityProvider": provider_arn,
        },
        event_source="sts.amazonaws.com",
        event_name="AssumeRoleWithSAML",
        region="us-east-1",
        source_ip=ip,
        user_agent=user_agent or browser.raw,
        account_id=account_id,
        request_parameters={
            "sAMLAssertionID": "id" + "".join(rng.choices(string.digits, k=26)),
            "roleSessionName": person.email,
            "durationSeconds": duration_seconds,
            "roleArn": role_arn,
            "principalArn": provider_arn,
        },
        response_elements={
            "credentials": {
                "accessKeyId": key,
                "sessionToken": session_token(rng),
                "expiration": ct_expiration(at + timedelta(seconds=duration_seconds)),
            },
            "assumedRoleUser": {
                "assumedRoleId": f"{role_id(account_id, role_name)}:{person.email}",
                "arn": session_arn,
            },
            "packedPolicySize": 2,
            "subject": person.email,
            "subjectType": "unspecified",
            "issuer": OKTA_SAML_ISSUER,
            "audience": SAML_AUDIENCE,
            "nameQualifier": qualifier,
        },
        read_only=True,
        resources=[
            {"accountId": account_id, "type": "AWS::IAM::Role", "ARN": role_arn},
            {"accountId": account_id, "type": "AWS::IAM::SAMLProvider", "ARN": provider_arn},
        ],
        event_version="1.08",
    )
    return Issued(record=record, access_key_id=key, session_arn=session_arn)


def ct_call(
    person: Person,
    at: datetime,
    ip: str,
    event_source: str,
    event_name: str,
    account_id: str,
    role_name: str,
    access_key_id: str,
    request_parameters: JsonDict | None = None,
    response_elements: JsonDict | None = None,
    error_code: str | None = None,
    read_only: bool | None = None,
    session_name: str | None = None,
    *,
    rng: random.Random,
    session_created: datetime | None = None,
    user_agent: str | None = None,
    region: str = "us-east-1",
    from_console: bool = False,
    resources: list[JsonDict] | None = None,
    additional_event_data: JsonDict | None = None,
    error_message: str | None = None,
) -> JsonDict:
    """An API call signed by the person's assumed-role session ``access_key_id``.

    ``session_name`` defaults to the email (the SAML role session name); ``session_created``
    (default ``at``) fills ``sessionContext.attributes.creationDate``. ``read_only`` defaults
    from the event name. ``from_console`` marks console-issued credentials and defaults the
    user agent to the person's browser; otherwise it defaults to an AWS CLI agent.
    """
    at = _require_utc(at)
    identity = _session_identity(
        account_id=account_id,
        role_name=role_name,
        session_name=session_name or person.email,
        access_key_id=access_key_id,
        created=session_created or at,
        mfa=False,
    )
    if user_agent is None:
        if from_console:
            user_agent = BROWSERS.get(person.browser, BROWSERS["chrome-mac"]).raw
        else:
            user_agent = CLI_USER_AGENTS[0]
    return _ct_record(
        at=at,
        rng=rng,
        user_identity=identity,
        event_source=event_source,
        event_name=event_name,
        region=region,
        source_ip=ip,
        user_agent=user_agent,
        account_id=account_id,
        request_parameters=request_parameters,
        response_elements=response_elements,
        read_only=read_only,
        error_code=error_code,
        error_message=error_message,
        resources=resources,
        additional_event_data=additional_event_data,
        from_console=from_console,
    )


def ct_create_access_key(
    person: Person,
    at: datetime,
    ip: str,
    account_id: str,
    role_name: str,
    access_key_id: str,
    target_user: str,
    *,
    rng: random.Random,
    new_access_key_id: str | None = None,
    session_created: datetime | None = None,
    user_agent: str | None = None,
    from_console: bool = False,
) -> JsonDict:
    """``iam:CreateAccessKey`` for IAM user ``target_user``, by the person's role session.

    The new long-term key (``AKIA...``) is in ``responseElements.accessKey.accessKeyId``.
    """
    at = _require_utc(at)
    new_key = new_access_key_id or make_access_key_id(rng, temporary=False)
    return ct_call(
        person,
        at,
        ip,
        "iam.amazonaws.com",
        "CreateAccessKey",
        account_id,
        role_name,
        access_key_id,
        request_parameters={"userName": target_user},
        response_elements={
            "accessKey": {
                "accessKeyId": new_key,
                "status": "Active",
                "userName": target_user,
                "createDate": ct_create_date(at),
            }
        },
        read_only=False,
        rng=rng,
        session_created=session_created,
        user_agent=user_agent,
        from_console=from_console,
    )


def ct_iam_user_call(
    user_name: str,
    at: datetime,
    ip: str,
    account_id: str,
    event_source: str,
    event_name: str,
    access_key_id: str,
    *,
    rng: random.Random,
    request_parameters: JsonDict | None = None,
    response_elements: JsonDict | None = None,
    error_code: str | None = None,
    read_only: bool | None = None,
    user_agent: str = SDK_USER_AGENTS[0],
    region: str = "us-east-1",
    resources: list[JsonDict] | None = None,
    additional_event_data: JsonDict | None = None,
) -> JsonDict:
    """An API call by IAM user ``user_name`` with its long-term key (service accounts)."""
    at = _require_utc(at)
    identity: JsonDict = {
        "type": "IAMUser",
        "principalId": iam_user_id(account_id, user_name),
        "arn": f"arn:aws:iam::{account_id}:user/{user_name}",
        "accountId": account_id,
        "accessKeyId": access_key_id,
        "userName": user_name,
    }
    return _ct_record(
        at=at,
        rng=rng,
        user_identity=identity,
        event_source=event_source,
        event_name=event_name,
        region=region,
        source_ip=ip,
        user_agent=user_agent,
        account_id=account_id,
        request_parameters=request_parameters,
        response_elements=response_elements,
        read_only=read_only,
        error_code=error_code,
        resources=resources,
        additional_event_data=additional_event_data,
    )


def ct_aws_service_call(
    service: str,
    at: datetime,
    account_id: str,
    event_source: str,
    event_name: str,
    *,
    rng: random.Random,
    request_parameters: JsonDict | None = None,
    response_elements: JsonDict | None = None,
    read_only: bool | None = None,
    region: str = "us-east-1",
    resources: list[JsonDict] | None = None,
    shared_event_id: str | None = None,
) -> JsonDict:
    """A call made by an AWS service (``invokedBy`` ``service``, e.g. ``ec2.amazonaws.com``).

    ``sourceIPAddress`` and ``userAgent`` are the service host name, as CloudTrail writes them.
    """
    return _ct_record(
        at=_require_utc(at),
        rng=rng,
        user_identity={"type": "AWSService", "invokedBy": service},
        event_source=event_source,
        event_name=event_name,
        region=region,
        source_ip=service,
        user_agent=service,
        account_id=account_id,
        request_parameters=request_parameters,
        response_elements=response_elements,
        read_only=read_only,
        resources=resources,
        tls=False,
        shared_event_id=shared_event_id,
    )


def ct_assume_role_by_service(
    service: str,
    at: datetime,
    account_id: str,
    role_name: str,
    session_name: str,
    *,
    rng: random.Random,
    region: str = "us-east-1",
) -> JsonDict:
    """``sts:AssumeRole`` by an AWS service for a role it runs as (Lambda, EC2, ECS tasks)."""
    at = _require_utc(at)
    role_arn = f"arn:aws:iam::{account_id}:role/{role_name}"
    return ct_aws_service_call(
        service,
        at,
        account_id,
        "sts.amazonaws.com",
        "AssumeRole",
        rng=rng,
        region=region,
        read_only=True,
        request_parameters={"roleArn": role_arn, "roleSessionName": session_name},
        response_elements={
            "credentials": {
                "accessKeyId": make_access_key_id(rng),
                "sessionToken": session_token(rng, 300),
                "expiration": ct_expiration(at + timedelta(hours=12)),
            }
        },
        resources=[{"accountId": account_id, "type": "AWS::IAM::Role", "ARN": role_arn}],
        shared_event_id=uuid4_str(rng),
    )


def ct_console_login(
    person: Person,
    at: datetime,
    ip: str,
    account_id: str,
    role_name: str,
    *,
    rng: random.Random,
    mfa_used: bool = False,
) -> JsonDict:
    """``signin:ConsoleLogin`` of the person's federated (SAML) role session."""
    at = _require_utc(at)
    browser = BROWSERS.get(person.browser, BROWSERS["chrome-mac"])
    identity = _session_identity(
        account_id=account_id,
        role_name=role_name,
        session_name=person.email,
        access_key_id="",
        created=at,
        mfa=False,
    )
    del identity["accessKeyId"]
    return _ct_record(
        at=at,
        rng=rng,
        user_identity=identity,
        event_source="signin.amazonaws.com",
        event_name="ConsoleLogin",
        region="us-east-1",
        source_ip=ip,
        user_agent=browser.raw,
        account_id=account_id,
        request_parameters=None,
        response_elements={"ConsoleLogin": "Success"},
        read_only=False,
        additional_event_data={
            "LoginTo": "https://console.aws.amazon.com/console/home?region=us-east-1&state="
            "hashArgs%23&isauthcode=true",
            "MobileVersion": "No",
            "MFAUsed": "Yes" if mfa_used else "No",
            "SamlProviderArn": f"arn:aws:iam::{account_id}:saml-provider/{SAML_PROVIDER_NAME}",
        },
        event_type="AwsConsoleSignIn",
        request_id=False,
    )


# --------------------------------------------------------------------------------------------
# Typical request/response bodies of everyday calls
# --------------------------------------------------------------------------------------------

#: (eventSource, eventName) of everyday calls, read-mostly, with relative weights.
EVERYDAY_CALLS: tuple[tuple[str, str, int], ...] = (
    ("ec2.amazonaws.com", "DescribeInstances", 12),
    ("ec2.amazonaws.com", "DescribeSecurityGroups", 5),
    ("ec2.amazonaws.com", "DescribeVpcs", 3),
    ("s3.amazonaws.com", "ListBuckets", 8),
    ("s3.amazonaws.com", "GetBucketLocation", 4),
    ("s3.amazonaws.com", "GetObject", 10),
    ("s3.amazonaws.com", "PutObject", 3),
    ("sts.amazonaws.com", "GetCallerIdentity", 6),
    ("logs.amazonaws.com", "DescribeLogGroups", 6),
    ("logs.amazonaws.com", "FilterLogEvents", 5),
    ("logs.amazonaws.com", "StartQuery", 2),
    ("cloudwatch.amazonaws.com", "GetMetricData", 4),
    ("cloudwatch.amazonaws.com", "DescribeAlarms", 3),
    ("lambda.amazonaws.com", "ListFunctions20150331", 4),
    ("lambda.amazonaws.com", "GetFunction20150331v2", 2),
    ("iam.amazonaws.com", "ListRoles", 2),
    ("iam.amazonaws.com", "GetRole", 2),
    ("dynamodb.amazonaws.com", "DescribeTable", 3),
    ("ecs.amazonaws.com", "DescribeServices", 3),
    ("ecs.amazonaws.com", "ListClusters", 2),
    ("rds.amazonaws.com", "DescribeDBInstances", 3),
    ("cloudformation.amazonaws.com", "DescribeStacks", 3),
    ("ssm.amazonaws.com", "GetParameter", 3),
    ("secretsmanager.amazonaws.com", "GetSecretValue", 1),
    ("kms.amazonaws.com", "Decrypt", 2),
    ("ec2.amazonaws.com", "StartInstances", 1),
    ("ec2.amazonaws.com", "CreateTags", 1),
)

_BUCKETS = ("acme-data-lake-prod", "acme-app-artifacts", "acme-reports-finance", "acme-ml-datasets")
_INSTANCES = tuple(
    f"i-0{h}" for h in ("3f1c9a7e2b4d6f801", "8a2e4c6b1d3f5a7c9", "1b7d9f3a5c2e4a6b8")
)


def everyday_request(
    event_source: str, event_name: str, *, rng: random.Random, account_id: str, region: str
) -> tuple[JsonDict | None, JsonDict | None, list[JsonDict] | None, JsonDict | None]:
    """Plausible ``(requestParameters, responseElements, resources, additionalEventData)``.

    Covers the calls in :data:`EVERYDAY_CALLS`; anything else gets ``(None, None, None, None)``.
    """
    bucket = rng.choice(_BUCKETS)
    if event_source == "s3.amazonaws.com":
        host = f"{bucket}.s3.{region}.amazonaws.com"
        if event_name == "ListBuckets":
            return {"Host": f"s3.{region}.amazonaws.com"}, None, None, _s3_extra(rng, 0, 2011)
        if event_name == "GetBucketLocation":
            return {"bucketName": bucket, "Host": host, "location": ""}, None, None, None
        obj = (
            f"{rng.choice(('exports', 'raw', 'daily', 'models'))}/2026/03/"
            f"{rng.randrange(1, 28):02d}/part-{rng.randrange(10000):05d}.parquet"
        )
        size = rng.randrange(20_000, 9_000_000)
        resources = [
            {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{obj}"},
            {"accountId": account_id, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"},
        ]
        if event_name == "PutObject":
            resp: JsonDict | None = {"x-amz-server-side-encryption": "aws:kms"}
            extra = _s3_extra(rng, size, 0)
        else:
            resp = None
            extra = _s3_extra(rng, 0, size)
        return {"bucketName": bucket, "Host": host, "key": obj}, resp, resources, extra
    if event_name == "DescribeInstances":
        ids = rng.sample(_INSTANCES, rng.randint(1, 2))
        return (
            {
                "instancesSet": {"items": [{"instanceId": i} for i in ids]},
                "filterSet": {},
                "includeAllInstances": False,
            },
            None,
            None,
            None,
        )
    if event_name in ("DescribeSecurityGroups", "DescribeVpcs"):
        return {"maxResults": 1000, "filterSet": {}}, None, None, None
    if event_name == "StartInstances":
        inst = rng.choice(_INSTANCES)
        return (
            {"instancesSet": {"items": [{"instanceId": inst}]}},
            {
                "requestId": uuid4_str(rng),
                "instancesSet": {
                    "items": [
                        {
                            "instanceId": inst,
                            "currentState": {"code": 0, "name": "pending"},
                            "previousState": {"code": 80, "name": "stopped"},
                        }
                    ]
                },
            },
            None,
            None,
        )
    if event_name == "CreateTags":
        return (
            {
                "resourcesSet": {"items": [{"resourceId": rng.choice(_INSTANCES)}]},
                "tagSet": {"items": [{"key": "owner", "value": "platform"}]},
            },
            {"requestId": uuid4_str(rng), "_return": True},
            None,
            None,
        )
    if event_name in ("DescribeLogGroups",):
        return {"limit": 50, "logGroupNamePrefix": "/aws/lambda/"}, None, None, None
    if event_name == "FilterLogEvents":
        return (
            {
                "logGroupName": rng.choice(("/aws/lambda/orders-api", "/ecs/checkout", "/aws/rds")),
                "startTime": 0,
                "interleaved": True,
                "filterPattern": "ERROR",
            },
            None,
            None,
            None,
        )
    if event_name == "StartQuery":
        return (
            {
                "logGroupNames": ["/ecs/checkout"],
                "queryString": "fields @timestamp, @message | sort @timestamp desc | limit 200",
                "startTime": 0,
                "endTime": 0,
            },
            {"queryId": uuid4_str(rng)},
            None,
            None,
        )
    if event_name == "GetMetricData":
        return (
            {
                "metricDataQueries": [
                    {
                        "id": "m1",
                        "metricStat": {
                            "metric": {
                                "namespace": "AWS/EC2",
                                "metricName": "CPUUtilization",
                                "dimensions": [
                                    {"name": "InstanceId", "value": rng.choice(_INSTANCES)}
                                ],
                            },
                            "period": 300,
                            "stat": "Average",
                        },
                    }
                ],
                "startTime": "Mar 1, 2026, 12:00:00 AM",
                "endTime": "Mar 2, 2026, 12:00:00 AM",
            },
            None,
            None,
            None,
        )
    if event_name == "DescribeAlarms":
        return {"maxRecords": 100}, None, None, None
    if event_name == "ListFunctions20150331":
        return {"maxItems": 50}, None, None, None
    if event_name == "GetFunction20150331v2":
        return (
            {"functionName": rng.choice(("orders-api", "thumbnailer", "nightly-etl"))},
            None,
            None,
            None,
        )
    if event_name == "ListRoles":
        return {"maxItems": 100}, None, None, None
    if event_name == "GetRole":
        return (
            {"roleName": rng.choice(("orders-api-exec", "nightly-etl", "PlatformAdmin"))},
            None,
            None,
            None,
        )
    if event_name == "DescribeTable":
        return {"tableName": rng.choice(("orders", "sessions", "inventory"))}, None, None, None
    if event_name == "DescribeServices":
        return {"cluster": "prod", "services": ["checkout", "orders"]}, None, None, None
    if event_name == "ListClusters":
        return {"maxResults": 100}, None, None, None
    if event_name == "DescribeDBInstances":
        return {"dBInstanceIdentifier": "orders-prod"}, None, None, None
    if event_name == "DescribeStacks":
        return (
            {"stackName": rng.choice(("network-prod", "orders-api", "data-platform"))},
            None,
            None,
            None,
        )
    if event_name == "GetParameter":
        return {"name": "/prod/orders/db_host", "withDecryption": False}, None, None, None
    if event_name == "GetSecretValue":
        return {"secretId": "prod/orders/db-password"}, None, None, None
    if event_name == "Decrypt":
        key = f"arn:aws:kms:{region}:{account_id}:key/{uuid4_str(rng)}"
        return (
            {"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "keyId": key},
            None,
            [{"accountId": account_id, "type": "AWS::KMS::Key", "ARN": key}],
            None,
        )
    return None, None, None, None


def _s3_extra(rng: random.Random, bytes_in: int, bytes_out: int) -> JsonDict:
    return {
        "SignatureVersion": "SigV4",
        "CipherSuite": "TLS_AES_128_GCM_SHA256",
        "bytesTransferredIn": bytes_in,
        "AuthenticationMethod": "AuthHeader",
        "x-amz-id-2": base64.b64encode(rng.randbytes(56)).decode(),
        "bytesTransferredOut": bytes_out,
    }


def pick_everyday_call(rng: random.Random) -> tuple[str, str]:
    """One ``(eventSource, eventName)`` from :data:`EVERYDAY_CALLS` by weight."""
    source, name, _ = rng.choices(EVERYDAY_CALLS, weights=[w for _, _, w in EVERYDAY_CALLS])[0]
    return source, name


__all__ = [
    "AWS_APP_NAME",
    "BROWSERS",
    "CLI_USER_AGENTS",
    "EVERYDAY_CALLS",
    "SDK_USER_AGENTS",
    "Geo",
    "Issued",
    "JsonDict",
    "Person",
    "ct_assume_role_by_service",
    "ct_assume_role_with_saml",
    "ct_aws_service_call",
    "ct_call",
    "ct_console_login",
    "ct_create_access_key",
    "ct_create_date",
    "ct_expiration",
    "ct_iam_user_call",
    "ct_time",
    "everyday_request",
    "iam_user_id",
    "is_read_only",
    "make_access_key_id",
    "okta_mfa",
    "okta_push_denied",
    "okta_session_end",
    "okta_session_id",
    "okta_session_start",
    "okta_sso_app",
    "okta_sso_aws",
    "okta_time",
    "okta_user_id",
    "okta_uuid",
    "pick_everyday_call",
    "role_id",
    "uuid4_str",
]
