"""AWS CloudTrail record -> :class:`~seamwatch.udfs.records.Event`.

Accepts a bare CloudTrail record (S3 log file member, CloudTrail Lake, Panther), an EventBridge
envelope (``detail-type`` + ``detail``) and the OTRF Logstash shape (``@timestamp`` instead of
``eventTime``). Keys are matched case-insensitively (Panther's lower-cased variant).

Principal and identifiers per ``userIdentity.type`` (identifiers strongest first, in the
order of :data:`KIND_ORDER`; placeholders such as ``redacted`` are skipped):

* IAMUser, Root: the ``arn``; access key, principal id, account. Without an ``arn`` (failed
  ``ConsoleLogin``, ``CheckMfa``), the ARN that ``userName`` and ``accountId`` imply, in the
  partition of ``awsRegion`` (:mod:`seamwatch.udfs.arns`; an IAM path cannot be implied).
* AssumedRole: the ``arn``; ``Role/session`` (session lower-cased); email when the session
  name or ``sessionContext.sourceIdentity`` is one (IAM Identity Center ``AWSReservedSSO_*``
  sessions are named after the SSO user, federated sessions often after an email); access
  key; the Identity Center user (``onBehalfOf.userId``) as ``aws_principal_id``, then the
  session's principal id; account. ``role_arn`` is the ``sessionIssuer`` ARN.
* FederatedUser: the ``arn``; email when the federated user name is one; key, id, account.
* SAMLUser, WebIdentityUser: ``type:identityProvider:userName``; email (``userName``, or the
  ``subject`` in AssumeRoleWithSAML/WithWebIdentity responses, whose ``assumedRoleUser.arn``
  and ``Role/session`` are added too: that session is the federated user's).
* IdentityCenterUser: ``type:identityStoreArn:userId``; ``onBehalfOf.userId`` as
  ``aws_principal_id`` (and as email if it is one); account. The access portal's older
  ``Unknown`` records with ``onBehalfOf``: the ``userName`` as email, the user id, the
  principal id, account.
* AWSService: ``AWSService:accountId:invokedBy``; ``aws_service`` (invokedBy), account.
* AWSAccount, Unknown: ``type:accountId:userName|principalId``; principal id, account.
* no type: ``unknown:accountId:invokedBy`` and ``principal_type`` None; ``aws_service``,
  account. No ``userIdentity`` at all: no principal, no identifiers.

Principals without an ARN get such a synthesised ``type:qualifier:name`` description, missing
parts left out (the principal is never an implied ARN: that is an identifier only).
``invokedBy`` is an identifier (``aws_service``) only when the service is the caller
(AWSService, no type); on a user's call it only says which service relayed it.

Other fields: ``region`` is ``awsRegion``; ``issued_access_key`` is the key a successful call
issued (``responseElements.credentials.accessKeyId`` for AssumeRole, AssumeRoleWithSAML,
AssumeRoleWithWebIdentity, GetSessionToken and GetFederationToken;
``responseElements.accessKey.accessKeyId`` for CreateAccessKey); ``target_user`` is
``requestParameters.userName``, and for a CreateAccessKey without one (the caller creates a
key for itself) the calling IAM user's name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from seamwatch.udfs.arns import iam_user_arn, root_arn
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
    get_ci,
    get_map,
    identifier_list,
    text,
)
from seamwatch.udfs.records import Event, Identifier, Outcome
from seamwatch.udfs.timeparse import parse_time

__all__ = ["KIND_ORDER", "normalize_cloudtrail"]

KIND_ORDER: tuple[str, ...] = (
    "aws_arn",
    "aws_role_session",
    "email",
    "aws_access_key",
    "aws_principal_id",
    "aws_service",
    "aws_account",
)

_FEDERATION_CALLS = frozenset({"AssumeRoleWithSAML", "AssumeRoleWithWebIdentity"})
# Calls whose response carries the temporary credentials they issued.
_CREDENTIAL_CALLS = frozenset(
    {
        "AssumeRole",
        "AssumeRoleWithSAML",
        "AssumeRoleWithWebIdentity",
        "GetSessionToken",
        "GetFederationToken",
    }
)

# The keys read from each object of a record (see fields.Keys), with the other keys CloudTrail
# documents for it.
_RECORD = Keys(
    (
        "eventName",
        "eventTime",
        "@timestamp",
        "eventSource",
        "eventID",
        "awsRegion",
        "sourceIPAddress",
        "userAgent",
        "userIdentity",
        "requestParameters",
        "responseElements",
        "errorCode",
        "errorMessage",
        "recipientAccountId",
    ),
    (
        "eventVersion",
        "eventType",
        "eventCategory",
        "requestID",
        "readOnly",
        "managementEvent",
        "resources",
        "apiVersion",
        "sharedEventID",
        "additionalEventData",
        "serviceEventDetails",
        "vpcEndpointId",
        "vpcEndpointAccountId",
        "tlsDetails",
        "sessionCredentialFromConsole",
        "edgeDeviceDetails",
        "insightDetails",
        "addendum",
        "@version",
    ),
)
_IDENTITY = Keys(
    (
        "type",
        "arn",
        "accountId",
        "principalId",
        "userName",
        "invokedBy",
        "accessKeyId",
        "accesKeyId",  # a typo found in Panther test events
        "sessionContext",
        "identityProvider",
        "onBehalfOf",
    ),
    ("credentialId", "inScopeOf"),
)
_SESSION_CONTEXT = Keys(
    ("sessionIssuer", "sourceIdentity"),
    ("attributes", "webIdFederationData", "ec2RoleDelivery", "assumedRoot"),
)
_SESSION_ISSUER = Keys(("arn",), ("type", "principalId", "accountId", "userName"))
_ON_BEHALF_OF = Keys(("userId", "identityStoreArn"))
_REQUEST = Keys(("userName", "roleArn"), ("roleSessionName", "durationSeconds"))
_RESPONSE = Keys(
    ("subject", "subjectFromWebIdentityToken", "assumedRoleUser", "credentials", "accessKey"),
    (
        "ConsoleLogin",
        "subjectType",
        "audience",
        "issuer",
        "nameQualifier",
        "provider",
        "packedPolicySize",
        "sourceIdentity",
        "federatedUser",
    ),
)
_ASSUMED_ROLE_USER = Keys(("arn",), ("assumedRoleId",))
_CREDENTIALS = Keys(("accessKeyId",), ("sessionToken", "expiration"))
_ACCESS_KEY = Keys(("accessKeyId",), ("userName", "status", "createDate"))


def _arn_resource(arn: str) -> str | None:
    """The resource part of an ARN (``assumed-role/Role/session``), None if not an ARN.

    That is what follows the fifth ``:`` of a string starting ``arn:``.
    """
    if not arn.startswith("arn:"):
        return None
    parts = arn.split(":", 5)
    return parts[5] if len(parts) == 6 else None


def _role_session(arn: str | None) -> tuple[str, str] | None:
    """``(role name, session name)`` of an ``assumed-role`` ARN."""
    if arn is None:
        return None
    # Same as testing _arn_resource(arn) for "assumed-role/", without splitting every ARN:
    # the resource starts right after the fifth ":", so four come before it.
    at = arn.find(":assumed-role/")
    if at < 0 or not arn.startswith("arn:") or arn.count(":", 0, at) != 4:
        return None
    role, _, session = arn[at + len(":assumed-role/") :].partition("/")
    if not role or not session:
        return None
    return role, session


def _session_key(role_session: tuple[str, str] | None) -> str | None:
    """The ``aws_role_session`` identifier of ``(role, session)``: ``Role/session-lowered``."""
    if role_session is None:
        return None
    return clean(f"{role_session[0]}/{role_session[1].lower()}")


def _read_session(arn: str) -> tuple[str | None, str | None]:
    """See :func:`_session_of`."""
    role_session = _role_session(arn)
    if role_session is None:
        return None, None
    # Identity Center (AWSReservedSSO_*) sessions are named after the SSO user, often an
    # email; federated sessions (Okta, Entra) often carry an email too.
    return _session_key(role_session), _email(role_session[1])


# A person's sessions of one role share the ARN (a new session differs in its access key).
_SESSIONS: Memo[str, tuple[str | None, str | None]] = Memo(4096)


def _session_of(arn: str) -> tuple[str | None, str | None]:
    """The ``aws_role_session`` identifier and the email of an ``assumed-role`` ARN."""
    session = _SESSIONS.get(arn)
    if session is None:
        session = _read_session(arn)
        _SESSIONS.put(arn, session)
    return session


def _email(value: str | None) -> str | None:
    """The folded email in ``value`` (see :func:`fold_email`), None if none or a placeholder."""
    return clean(fold_email(value)) if value is not None else None


def _describe(identity_type: str | None, qualifier: str | None, name: str | None) -> str | None:
    """``type:qualifier:name`` for a principal without an ARN (missing parts left out)."""
    parts = [p for p in (qualifier, name) if p is not None]
    if not parts:
        return None
    return ":".join([identity_type or "unknown", *parts])


class _Caller:
    """What ``userIdentity`` (a view of it, or None) says about the caller.

    Derived from the identity alone, so it is memoized (see :func:`_caller`): it must not be
    mutated. The identifiers a federation call's response adds are merged in by
    :meth:`identifiers`.
    """

    __slots__ = (
        "access_key",
        "account",
        "arn",
        "center_user",
        "emails",
        "federated",
        "known",
        "own_identifiers",
        "principal",
        "principal_id",
        "service",
        "session_key",
        "session_role",
        "type",
        "user_name",
    )

    def __init__(self, identity: Mapping[str, Any] | None) -> None:
        self.type: str | None = None
        self.arn: str | None = None
        self.account: str | None = None
        self.access_key: str | None = None
        self.user_name: str | None = None
        self.principal: str | None = None
        self.principal_id: str | None = None
        self.session_role: str | None = None  # the role of an AssumedRole session
        self.session_key: str | None = None
        self.emails: tuple[str | None, str | None, str | None] = (None, None, None)
        self.center_user: str | None = None
        self.service: str | None = None
        self.own_identifiers: tuple[Identifier, ...] = ()
        # Identifiers with those of a federation response, by (subject, new session ARN).
        self.federated: dict[tuple[str | None, str | None], tuple[Identifier, ...]] = {}
        self.known = identity is not None  # no userIdentity: no identifiers at all
        if identity is not None:
            self._read(identity)

    def _read(self, identity: Mapping[str, Any]) -> None:
        get = identity.get
        identity_type = self.type = text(get("type"))
        arn = self.arn = clean_text(get("arn"))
        account = self.account = clean_text(get("accountId"))
        principal_id = self.principal_id = clean_text(get("principalId"))
        user_name = self.user_name = clean_text(get("userName"))
        # "accesKeyId" is a typo found in Panther test events; the first non-empty one wins.
        self.access_key = clean_text(get("accessKeyId")) or clean_text(get("accesKeyId"))

        session_email = None
        if arn is not None:
            self.session_key, session_email = _session_of(arn)
        source_email = None
        context = _SESSION_CONTEXT.child(identity, "sessionContext")
        if context is not None:
            source_email = _email(clean_text(context.get("sourceIdentity")))
            if identity_type == "AssumedRole":
                issuer = _SESSION_ISSUER.child(context, "sessionIssuer")
                if issuer is not None:
                    self.session_role = clean_text(issuer.get("arn"))

        # The Identity Center user a call is made for: on its own calls (IdentityCenterUser,
        # the portal's older Unknown), and on the role sessions it gets (AssumedRole).
        on_behalf_of = _ON_BEHALF_OF.child(identity, "onBehalfOf")
        store = None
        if on_behalf_of is not None:
            self.center_user = clean_text(on_behalf_of.get("userId"))
            store = clean_text(on_behalf_of.get("identityStoreArn"))

        principal = arn
        type_email = None
        if identity_type is None or identity_type == "AWSService":
            service = self.service = clean_text(get("invokedBy"))
            principal = principal or _describe(identity_type, account, service)
        elif identity_type in ("SAMLUser", "WebIdentityUser"):
            type_email = _email(user_name)
            principal = principal or _describe(
                identity_type, clean_text(get("identityProvider")), user_name
            )
        elif identity_type == "FederatedUser":
            federated = _arn_resource(arn) if arn else None
            if federated is not None and federated.startswith("federated-user/"):
                type_email = _email(federated[len("federated-user/") :])
        elif identity_type == "IdentityCenterUser":
            type_email = _email(self.center_user)
            principal = principal or _describe(identity_type, store or account, self.center_user)
        elif identity_type == "Unknown" and self.center_user is not None:
            # The access portal's older records: the Identity Center user name beside its id.
            type_email = _email(user_name)
        if principal is None and identity_type is not None:
            principal = _describe(identity_type, account, user_name or principal_id)
        self.principal = principal
        self.emails = (session_email, source_email, type_email)

        self.own_identifiers = tuple(self._identifiers(None, None, None))

    def _identifiers(
        self, new_arn: str | None, new_session_key: str | None, subject_email: str | None
    ) -> list[Identifier]:
        session_email, source_email, type_email = self.emails
        # In KIND_ORDER; within a kind, in the order the log states them.
        return identifier_list(
            (
                ("aws_arn", self.arn),
                ("aws_arn", new_arn),
                ("aws_role_session", self.session_key),
                ("aws_role_session", new_session_key),
                ("email", session_email),
                ("email", source_email),
                ("email", type_email),
                ("email", subject_email),
                ("aws_access_key", self.access_key),
                ("aws_principal_id", self.center_user),
                ("aws_principal_id", self.principal_id),
                ("aws_service", self.service),
                ("aws_account", self.account),
            )
        )

    def identifiers(self, federation: Mapping[str, Any] | None) -> list[Identifier]:
        """The caller's identifiers, strongest first, in a new list.

        The :class:`Identifier` objects in it are the caller's, and so are shared by every
        event of a memoized caller: read-only, as everywhere downstream.

        ``federation`` is a view of the response of an AssumeRoleWithSAML/WithWebIdentity
        call, else None: it names the federated subject and the role session it receives.
        """
        if federation is None or not self.known:
            return list(self.own_identifiers)
        subject = clean_text(federation.get("subject")) or clean_text(
            federation.get("subjectFromWebIdentityToken")
        )
        assumed = _ASSUMED_ROLE_USER.child(federation, "assumedRoleUser")
        new_arn = clean_text(assumed.get("arn")) if assumed is not None else None
        key = (subject, new_arn)
        identifiers = self.federated.get(key)
        if identifiers is None:
            new_session_key = _session_of(new_arn)[0] if new_arn is not None else None
            identifiers = tuple(self._identifiers(new_arn, new_session_key, _email(subject)))
            if len(self.federated) >= _FEDERATED_PER_CALLER:
                self.federated.clear()
            self.federated[key] = identifiers
        return list(identifiers)


_NO_CALLER = _Caller(None)
_FEDERATED_PER_CALLER = 64

# Callers recur (one role session makes many calls), and reading one is the bulk of the work
# for a record: memoized by the identity's JSON, which is everything they are derived from.
_CALLERS: Memo[bytes, _Caller] = Memo(4096)


def _caller(identity: Mapping[str, Any] | None) -> _Caller:
    """The :class:`_Caller` of a ``userIdentity`` object (not a view: the memo's key is its
    exact JSON, so key order and value types count)."""
    if identity is None:
        return _NO_CALLER
    try:
        key = orjson.dumps(identity, option=orjson.OPT_PASSTHROUGH_SUBCLASS)
    except TypeError:  # not plain JSON (a Mapping that is no dict, a str subclass...)
        return _Caller(_IDENTITY.view(identity))
    caller = _CALLERS.get(key)
    if caller is None:
        caller = _Caller(_IDENTITY.view(identity))
        _CALLERS.put(key, caller)
    return caller


def _outcome(
    rec: Mapping[str, Any],
    event_name: str,
    response: Mapping[str, Any] | None,
) -> tuple[Outcome, str | None]:
    """Outcome and error code. Sign-in events state their result in ``responseElements``
    (``{"ConsoleLogin": "Failure"}``); their ``errorMessage`` stands in for the missing code.

    ``rec`` is a view of the record, ``response`` the ``responseElements`` object itself (the
    key read from it is the event name, which a view does not know).
    """
    error_code = clean_text(rec.get("errorCode"))
    stated = text(get_ci(response, event_name)) if response is not None else None
    if stated is not None:
        stated_lower = stated.lower()
        if stated_lower in ("success", "failure"):
            if stated_lower == "success" and error_code is None:
                return "success", None
            return "failure", error_code or clean_text(rec.get("errorMessage"))
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


def _issued_access_key(
    event_name: str, outcome: Outcome, response: Mapping[str, Any] | None
) -> str | None:
    """The access key a successful call issued (``response`` is a view of its response)."""
    if response is None or outcome == "failure":
        return None
    if event_name in _CREDENTIAL_CALLS:
        issued = _CREDENTIALS.child(response, "credentials")
    elif event_name == "CreateAccessKey":
        issued = _ACCESS_KEY.child(response, "accessKey")
    else:
        return None
    return clean_text(issued.get("accessKeyId")) if issued is not None else None


def _own_user_name(caller: _Caller) -> str | None:
    """The calling IAM user's name: ``userName``, else the last part of its ``user/`` ARN.

    None when the caller is not an IAM user (a role session or root has no user name).
    """
    if caller.type != "IAMUser":
        return None
    if caller.user_name is not None:
        return caller.user_name
    resource = _arn_resource(caller.arn) if caller.arn else None
    if resource is None or not resource.startswith("user/"):
        return None
    return resource.rpartition("/")[2] or None


# An IAM user name (letters, digits and +=,.@_-, at most 64) and an account id: only such values
# make an ARN (placeholders such as HIDDEN_DUE_TO_SECURITY_REASONS never reach here).
_IAM_USER_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
_ACCOUNT_ID = re.compile(r"[0-9]{12}")


def _implied_arn(caller: _Caller, region: str | None) -> str | None:
    """The ARN an IAM user or root caller without ``arn`` has (see :mod:`.arns`), else None."""
    account = caller.account
    if account is None or not _ACCOUNT_ID.fullmatch(account):
        return None
    if caller.type == "Root":
        return root_arn(account, region)
    name = caller.user_name
    if caller.type == "IAMUser" and name is not None and _IAM_USER_NAME.fullmatch(name):
        return iam_user_arn(account, name, region)
    return None


def normalize_cloudtrail(rec: Mapping[str, Any], raw_ref: str) -> Event:
    """Normalize one CloudTrail record (or EventBridge envelope of one).

    Raises :class:`NormalizeError` when there is no ``eventName`` (not a CloudTrail record)
    or no usable time (``eventTime``, else ``@timestamp``, else the envelope's ``time``).
    """
    envelope_time = None
    if "detail-type" in rec:
        rec, envelope_time = _unwrap(rec)
    view = _RECORD.view(rec)
    get = view.get
    event_name = text(get("eventName"))
    if event_name is None:
        raise NormalizeError("not a CloudTrail event: no eventName")
    raw_time = get("eventTime")
    event_time = parse_time(raw_time)
    if event_time is None:
        event_time = parse_time(get("@timestamp"))
        if event_time is None:
            event_time = parse_time(envelope_time)
            if event_time is None:
                detail = "missing eventTime" if raw_time is None else f"eventTime={raw_time!r}"
                raise NormalizeError(f"no usable event time: {detail}")

    caller = _caller(as_map(get("userIdentity")))
    response_obj = as_map(get("responseElements"))
    response = None
    if response_obj is not None:
        response = _RESPONSE.view(response_obj)
        outcome, error_code = _outcome(view, event_name, response_obj)
        if event_name in _FEDERATION_CALLS:
            identifiers = caller.identifiers(response)
        else:
            identifiers = list(caller.own_identifiers)
    else:
        error_code = clean_text(get("errorCode"))
        if error_code is not None:
            outcome = "failure"
        else:
            outcome = "unknown" if event_name == "ConsoleLogin" else "success"
        identifiers = list(caller.own_identifiers)

    region = clean_text(get("awsRegion"))
    if caller.arn is None and caller.account is not None:
        implied = _implied_arn(caller, region)
        if implied is not None:  # aws_arn is the strongest kind: first
            identifiers.insert(0, Identifier("aws_arn", implied))

    request = _REQUEST.child(view, "requestParameters")
    if event_name.startswith("AssumeRole"):
        role_arn = clean_text(request.get("roleArn")) if request is not None else None
    else:
        role_arn = caller.session_role  # None unless an AssumedRole session
    target_user = clean_text(request.get("userName")) if request is not None else None
    if target_user is None and event_name == "CreateAccessKey":
        target_user = _own_user_name(caller)

    source_ip = text(get("sourceIPAddress"))
    src_ip = clean_ip(source_ip)
    return Event(
        event_id=clean_text(get("eventID")) or fallback_event_id(rec),
        source="cloudtrail",
        event_time=event_time,
        action=event_name,
        outcome=outcome,
        raw_ref=raw_ref,
        service=text(get("eventSource")),
        principal=caller.principal,
        principal_type=caller.type,
        identifiers=identifiers,
        src_ip=src_ip,
        src_host=None if src_ip is not None else clean_text(source_ip),
        user_agent=clean_text(get("userAgent")),
        access_key_id=caller.access_key,
        account_id=clean_text(get("recipientAccountId")) or caller.account,
        role_arn=role_arn,
        target_user=target_user,
        issued_access_key=_issued_access_key(event_name, outcome, response),
        region=region,
        error_code=error_code,
    )
