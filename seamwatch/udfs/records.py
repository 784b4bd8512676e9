"""The plain records that flow through the pipeline.

Every function in ``seamwatch.udfs`` takes and returns these: no Flink types. The job wiring
(``seamwatch.jobs``) converts an :class:`Event` to a Flink ``Row`` only where the stream enters
Flink SQL (see :data:`EVENT_FIELDS`).

Field names follow OCSF where one exists (``src_ip`` stands for ``src_endpoint.ip``,
``actor`` for ``actor.user``); ``seamwatch/schemas/event.avsc`` describes the same record.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Literal, get_args, get_origin, get_type_hints

Source = Literal["okta", "cloudtrail", "entra", "windows"]
Outcome = Literal["success", "failure", "unknown"]
EntityType = Literal["human", "service", "aws_service", "unknown"]
Resolution = Literal["static", "normalized", "learned", "unresolved"]


@dataclass(slots=True)
class Identifier:
    """One raw identifier of a principal, as the log states it.

    ``kind`` says what it is (``okta_user_id``, ``okta_login``, ``email``, ``aws_arn``,
    ``aws_role_session``, ``aws_access_key``, ``aws_principal_id``, ``aws_account``,
    ``aws_service``, ``ip``; Entra: ``entra_object_id``, ``entra_upn``, ``entra_app_id``;
    Windows / AD: ``ad_sid``, ``ad_account``, ``ad_sam``, see ``docs/sources/``); ``value`` is
    folded to its canonical spelling by the normalizer (lower-case emails and logins, ARNs as
    written).
    """

    kind: str
    value: str


@dataclass(slots=True)
class Event:
    """One normalized log event (``seamwatch/schemas/event.avsc``)."""

    event_id: str
    source: Source
    event_time: int  # epoch milliseconds, UTC, from the payload
    action: str  # Okta eventType, CloudTrail eventName
    outcome: Outcome
    raw_ref: str  # where the raw record is: "path:line" or "topic/partition@offset"
    service: str | None = None  # CloudTrail eventSource, None for Okta
    principal: str | None = None  # the raw principal as written (ARN, Okta login)
    principal_type: str | None = None  # userIdentity.type / Okta actor.type
    identifiers: list[Identifier] = field(default_factory=list)  # strongest first
    src_ip: str | None = None  # None when the source address is not an IP
    src_host: str | None = None  # non-IP sourceIPAddress ("AWS Internal", "*.amazonaws.com")
    country: str | None = None
    city: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    asn: int | None = None
    as_org: str | None = None
    geo_source: str | None = None  # "okta" (the vendor's own geography) or "geoip" (offline DB)
    ip_kind: str | None = None  # "public", "private" (RFC 1918, loopback, ...), "non_ip"
    device: str | None = None  # user-agent family, e.g. "Chrome/macOS", "aws-cli", "Boto3"
    user_agent: str | None = None
    session_id: str | None = None  # Okta authenticationContext.externalSessionId
    access_key_id: str | None = None  # key that signed the call (CloudTrail)
    account_id: str | None = None
    role_arn: str | None = None  # role assumed (AssumeRole*), or role of the session
    target_user: str | None = None  # user acted upon (CreateAccessKey userName, Okta target)
    app: str | None = None  # Okta: the application signed in to (target AppInstance displayName)
    issued_access_key: str | None = None  # key this call issued (AssumeRole*, GetSessionToken,
    # GetFederationToken: responseElements.credentials; CreateAccessKey: accessKey)
    region: str | None = None  # CloudTrail awsRegion
    error_code: str | None = None
    # Wall-clock epoch milliseconds at which the job's Python step first read the record (its
    # arrival in the job): alerts measure time_to_detect_ms from it, so a replay of old logs
    # still gives a meaningful detection latency. None outside the job.
    arrived_at: int | None = None
    # Filled by the resolver and the baseline, in that order.
    entity_id: str | None = None
    entity_type: EntityType = "unknown"
    entity_name: str | None = None
    resolved_by: Resolution = "unresolved"
    resolved_via: str | None = None  # "kind:value" of the identifier that resolved it
    confidence: float = 0.0
    new_country: bool = False
    new_ip: bool = False
    new_asn: bool = False
    new_device: bool = False
    new_role: bool = False
    impossible_travel: bool = False
    travel_speed_kmh: float | None = None  # from the previous geolocated event of the entity
    # Detail of the identity-provider and directory sources (Entra ID, Windows / AD), filled by
    # their normalizers (docs/sources/). Only host, logon_type, risk_level, ticket_encryption
    # and target_group are columns of the Flink row: see SOURCE_DETAIL_FIELDS.
    event_code: str | None = None  # Windows EventID ("4624"); None for the other sources
    host: str | None = None  # the machine that logged the event (Windows Computer), lower-cased
    logon_type: str | None = None  # Windows LogonType ("2", "3", "9", "10") of 4624 / 4625
    auth_protocol: str | None = None  # Entra authenticationProtocol; Windows auth package
    auth_method: str | None = None  # Entra: its steps' methods; Windows: Kerberos PreAuthType
    mfa_detail: str | None = None  # Entra: what it says of the second factor (see entra.md)
    risk_level: str | None = None  # Entra riskLevelDuringSignIn (else riskLevelAggregated)
    risk_state: str | None = None  # Entra riskState ("atRisk", "confirmedCompromised", ...)
    ca_status: str | None = None  # Entra conditionalAccessStatus: success, failure, notApplied
    ticket_encryption: str | None = None  # Kerberos TicketEncryptionType ("0x17": RC4-HMAC)
    target_group: str | None = None  # group a member was added to (Windows 4728/4732/4756)
    access_rights: str | None = None  # directory rights used (Windows 4662), ","-joined


@dataclass(frozen=True, slots=True)
class Rejected:
    """A raw record that could not be normalized; it goes to the dead-letter output."""

    source: str
    reason: str
    raw: str
    raw_ref: str


# Event fields that are not (yet) columns of the Flink row: the Entra and Windows detail. The job
# does not carry them; rules cannot read them until they join EVENT_FIELDS.
# (host, logon_type, risk_level, ticket_encryption and target_group are row columns: the Entra
# and Windows rules read them.)
SOURCE_DETAIL_FIELDS: tuple[str, ...] = (
    "event_code",
    "auth_protocol",
    "auth_method",
    "mfa_detail",
    "risk_state",
    "ca_status",
    "access_rights",
)

# The Flink SQL type of each Python type an Event field holds (its Literal aliases are text).
_SQL_TYPES: dict[type, str] = {str: "STRING", int: "BIGINT", float: "DOUBLE", bool: "BOOLEAN"}


def _sql_type(hint: object) -> str:
    """``str | None`` -> ``STRING``; ``Source`` (a Literal of text) -> ``STRING``; ..."""
    args = [a for a in get_args(hint) if a is not type(None)]
    if get_origin(hint) is Literal:
        return _SQL_TYPES[type(args[0])]
    if args:  # X | None
        (hint,) = args
    if isinstance(hint, type) and hint in _SQL_TYPES:
        return _SQL_TYPES[hint]
    raise TypeError(f"no Flink SQL type for {hint!r}")


def _event_fields() -> tuple[tuple[str, str], ...]:
    hints = get_type_hints(Event)
    not_in_row = {"identifiers", *SOURCE_DETAIL_FIELDS}
    return tuple(
        (f.name, _sql_type(hints[f.name])) for f in fields(Event) if f.name not in not_in_row
    )


# Column name -> Flink SQL type for the event view the rules run on, in the order of the Row
# the job builds: every field of :class:`Event` in its order, but the identifiers (resolved
# in the Python step) and SOURCE_DETAIL_FIELDS. The one declaration is the dataclass;
# seamwatch/schemas/event.avsc is checked against it (tests/test_schemas.py).
EVENT_FIELDS: tuple[tuple[str, str], ...] = _event_fields()
