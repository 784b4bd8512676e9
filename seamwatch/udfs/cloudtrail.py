"""AWS CloudTrail record -> :class:`~seamwatch.udfs.records.Event`.

Accepts a bare CloudTrail record (S3 log file member, CloudTrail Lake, Panther), an EventBridge
envelope (``detail-type`` + ``detail``) and the OTRF Logstash shape (``@timestamp`` instead of
``eventTime``). Keys are matched case-insensitively (Panther's lower-cased variant).

Principal and identifiers per ``userIdentity.type`` (identifiers strongest first, in the
order of :data:`KIND_ORDER`; placeholders such as ``redacted`` are skipped):

* IAMUser, Root: the ``arn``; access key, principal id, account.
* AssumedRole: the ``arn``; ``Role/session`` (session lower-cased); email when the session
  name or ``sessionContext.sourceIdentity`` is one (IAM Identity Center ``AWSReservedSSO_*``
  sessions are named after the SSO user, federated sessions often after an email); access
  key, principal id, account. ``role_arn`` is the ``sessionIssuer`` ARN.
* FederatedUser: the ``arn``; email when the federated user name is one; key, id, account.
* SAMLUser, WebIdentityUser: ``type:identityProvider:userName``; email (``userName``, or the
  ``subject`` in AssumeRoleWithSAML/WithWebIdentity responses, whose ``assumedRoleUser.arn``
  and ``Role/session`` are added too: that session is the federated user's).
* IdentityCenterUser: ``type:identityStoreArn:userId``; ``onBehalfOf.userId`` as
  ``aws_principal_id`` (and as email if it is one); account.
* AWSService: ``AWSService:accountId:invokedBy``; ``aws_service`` (invokedBy), account.
* AWSAccount, Unknown: ``type:accountId:userName|principalId``; principal id, account.
* no type: ``unknown:accountId:invokedBy`` and ``principal_type`` None; ``aws_service``,
  account. No ``userIdentity`` at all: no principal, no identifiers.

Principals without an ARN get such a synthesised ``type:qualifier:name`` description, missing
parts left out (never a guessed ARN: IAM paths
are not in the log). ``invokedBy`` is an identifier (``aws_service``) only when the service is
the caller (AWSService, no type); on a user's call it only says which service relayed it.
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

__all__ = ["KIND_ORDER", "cloudtrail_identifiers", "normalize_cloudtrail"]

KIND_ORDER: tuple[str, ...] = (
    "aws_arn",
    "aws_role_session",
    "email",
    "aws_access_key",
    "aws_principal_id",
    "aws_service",
    "aws_account",
)
_RANKS = {kind: rank for rank, kind in enumerate(KIND_ORDER)}

_FEDERATION_CALLS = frozenset({"AssumeRoleWithSAML", "AssumeRoleWithWebIdentity"})


def _arn_resource(arn: str) -> str | None:
    """The resource part of an ARN (``assumed-role/Role/session``), None if not an ARN."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return parts[5]


def _role_session(arn: str | None) -> tuple[str, str] | None:
    """``(role name, session name)`` of an ``assumed-role`` ARN."""
    if arn is None:
        return None
    resource = _arn_resource(arn)
    if resource is None or not resource.startswith("assumed-role/"):
        return None
    role, _, session = resource[len("assumed-role/") :].partition("/")
    if not role or not session:
        return None
    return role, session


def _access_key(identity: Mapping[str, Any]) -> str | None:
    # "accesKeyId" is a typo found in Panther test events; the first non-empty one wins.
    return clean(get_str(identity, "accessKeyId")) or clean(get_str(identity, "accesKeyId"))


def _describe(identity_type: str | None, qualifier: str | None, name: str | None) -> str | None:
    """``type:qualifier:name`` for a principal without an ARN (missing parts left out)."""
    parts = [p for p in (qualifier, name) if p is not None]
    if not parts:
        return None
    return ":".join([identity_type or "unknown", *parts])


def cloudtrail_identifiers(
    identity: Mapping[str, Any] | None,
    event_name: str | None = None,
    response: Mapping[str, Any] | None = None,
) -> tuple[str | None, list[Identifier]]:
    """The principal (as written, or described) and its identifiers, strongest first.

    ``event_name`` and ``response`` matter only for AssumeRoleWithSAML/WithWebIdentity, whose
    response names the federated subject and the role session it receives.
    """
    if identity is None:
        return None, []
    ids = IdentifierList(_RANKS)
    identity_type = get_str(identity, "type")
    arn = clean(get_str(identity, "arn"))
    account = clean(get_str(identity, "accountId"))
    principal_id = clean(get_str(identity, "principalId"))
    user_name = clean(get_str(identity, "userName"))
    invoked_by = clean(get_str(identity, "invokedBy"))

    ids.add("aws_arn", arn)
    role_session = _role_session(arn)
    if role_session is not None:
        role, session = role_session
        ids.add("aws_role_session", f"{role}/{session.lower()}")
        # Identity Center (AWSReservedSSO_*) sessions are named after the SSO user, often an
        # email; federated sessions (Okta, Entra) often carry an email too.
        ids.add("email", fold_email(session))
    ids.add("email", fold_email(clean(get_str(identity, "sessionContext", "sourceIdentity"))))

    principal = arn
    if identity_type in ("SAMLUser", "WebIdentityUser"):
        ids.add("email", fold_email(user_name))
        principal = principal or _describe(
            identity_type, clean(get_str(identity, "identityProvider")), user_name
        )
    elif identity_type == "FederatedUser":
        federated = _arn_resource(arn) if arn else None
        if federated is not None and federated.startswith("federated-user/"):
            ids.add("email", fold_email(federated[len("federated-user/") :]))
    elif identity_type == "IdentityCenterUser":
        user_id = clean(get_str(identity, "onBehalfOf", "userId"))
        ids.add("email", fold_email(user_id))
        ids.add("aws_principal_id", user_id)
        store = clean(get_str(identity, "onBehalfOf", "identityStoreArn"))
        principal = principal or _describe(identity_type, store or account, user_id)
    elif identity_type == "AWSService" or identity_type is None:
        ids.add("aws_service", invoked_by)
        principal = principal or _describe(identity_type, account, invoked_by)

    if event_name in _FEDERATION_CALLS and response is not None:
        subject = clean(get_str(response, "subject")) or clean(
            get_str(response, "subjectFromWebIdentityToken")
        )
        ids.add("email", fold_email(subject))
        session_arn = clean(get_str(response, "assumedRoleUser", "arn"))
        ids.add("aws_arn", session_arn)
        new_session = _role_session(session_arn)
        if new_session is not None:
            ids.add("aws_role_session", f"{new_session[0]}/{new_session[1].lower()}")

    ids.add("aws_access_key", _access_key(identity))
    ids.add("aws_principal_id", principal_id)
    ids.add("aws_account", account)
    if principal is None and identity_type is not None:
        principal = _describe(identity_type, account, user_name or principal_id)
    return principal, ids.result()


def _outcome(
    rec: Mapping[str, Any], event_name: str, response: Mapping[str, Any] | None
) -> tuple[Outcome, str | None]:
    """Outcome and error code. Sign-in events state their result in ``responseElements``
    (``{"ConsoleLogin": "Failure"}``); their ``errorMessage`` stands in for the missing code.
    """
    error_code = clean(get_str(rec, "errorCode"))
    stated = get_str(response, event_name) if response is not None else None
    if stated is not None and stated.lower() in ("success", "failure"):
        if stated.lower() == "success" and error_code is None:
            return "success", None
        return "failure", error_code or clean(get_str(rec, "errorMessage"))
    if error_code is not None:
        return "failure", error_code
    if event_name == "ConsoleLogin":
        return "unknown", None
    return "success", None


def _unwrap(rec: Mapping[str, Any]) -> tuple[Mapping[str, Any], object]:
    """The CloudTrail record inside an EventBridge envelope, and the envelope's ``time``."""
    if "detail-type" in rec:  # EventBridge spells it this way only
        detail = get_map(rec, "detail")
        if detail is not None:
            return detail, get_ci(rec, "time")
    return rec, None


def normalize_cloudtrail(rec: Mapping[str, Any], raw_ref: str) -> Event:
    """Normalize one CloudTrail record (or EventBridge envelope of one).

    Raises :class:`NormalizeError` when there is no ``eventName`` (not a CloudTrail record)
    or no usable time (``eventTime``, else ``@timestamp``, else the envelope's ``time``).
    """
    rec, envelope_time = _unwrap(rec)
    event_name = get_str(rec, "eventName")
    if event_name is None:
        raise NormalizeError("not a CloudTrail event: no eventName")
    raw_time = get_ci(rec, "eventTime")
    event_time = parse_time(raw_time)
    if event_time is None:
        event_time = parse_time(get_ci(rec, "@timestamp"))
    if event_time is None:
        event_time = parse_time(envelope_time)
    if event_time is None:
        detail = "missing eventTime" if raw_time is None else f"eventTime={raw_time!r}"
        raise NormalizeError(f"no usable event time: {detail}")

    identity = get_map(rec, "userIdentity")
    request = get_map(rec, "requestParameters")
    response = get_map(rec, "responseElements")
    outcome, error_code = _outcome(rec, event_name, response)
    principal, identifiers = cloudtrail_identifiers(identity, event_name, response)

    source_ip = get_str(rec, "sourceIPAddress")
    src_ip = clean_ip(source_ip)

    identity_type = get_str(identity, "type")
    if event_name.startswith("AssumeRole"):
        role_arn = clean(get_str(request, "roleArn"))
    elif identity_type == "AssumedRole":
        role_arn = clean(get_str(identity, "sessionContext", "sessionIssuer", "arn"))
    else:
        role_arn = None

    return Event(
        event_id=clean(get_str(rec, "eventID")) or fallback_event_id(rec),
        source="cloudtrail",
        event_time=event_time,
        action=event_name,
        outcome=outcome,
        raw_ref=raw_ref,
        service=get_str(rec, "eventSource"),
        principal=principal,
        principal_type=identity_type,
        identifiers=identifiers,
        src_ip=src_ip,
        src_host=None if src_ip is not None else clean(source_ip),
        user_agent=clean(get_str(rec, "userAgent")),
        access_key_id=_access_key(identity) if identity is not None else None,
        account_id=clean(get_str(rec, "recipientAccountId"))
        or clean(get_str(identity, "accountId")),
        role_arn=role_arn,
        target_user=clean(get_str(request, "userName")),
        error_code=error_code,
    )
