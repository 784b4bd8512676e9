"""AWS containment: deactivate the IAM user access keys that signed the alert's events.

The call is ``iam:UpdateAccessKey`` with ``UserName``, ``AccessKeyId`` and ``Status=Inactive``
(reversible: ``Status=Active`` restores the key). Only long-term keys (``AKIA...``) of IAM users
qualify; the user name is the last part of the ``arn:aws:iam::<account>:user/<path>/<name>``
principal that used the key. Temporary credentials (``ASIA...``, from AssumeRole or SAML) have
no key to deactivate: they are listed as skipped with the reason (contain those by revoking the
role's sessions, see ``docs/response.md``).

:func:`plan_keys` says exactly which calls an alert needs (what a dry-run records);
:func:`deactivate` makes one with boto3 and the standard AWS credential chain (environment,
profile, web identity on EKS). IAM is global: the client signs for the partition's IAM region
(``us-east-1``, ``cn-north-1``, ``us-gov-west-1``); ``endpoint_url`` overrides the endpoint (a VPC
endpoint, or the tests' loopback receiver).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The region IAM calls are signed for, per partition (the account ARN's second field).
IAM_REGIONS = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}


@dataclass(frozen=True)
class KeyPlan:
    """One access key of the alert and what would be done with it."""

    access_key_id: str
    principal: str | None
    user_name: str | None  # None: nothing to call (see ``skip``)
    account: str | None
    skip: str | None = None
    partition: str = "aws"

    def describe(self) -> dict[str, Any]:
        if self.skip is not None:
            return {"access_key_id": self.access_key_id, "principal": self.principal}
        return {
            "api": "iam:UpdateAccessKey",
            "account": self.account,
            "params": {
                "UserName": self.user_name,
                "AccessKeyId": self.access_key_id,
                "Status": "Inactive",
            },
            "cli": (
                f"aws iam update-access-key --user-name {self.user_name} "
                f"--access-key-id {self.access_key_id} --status Inactive"
            ),
        }


def _partition(principal: str | None) -> str:
    parts = (principal or "").split(":", 2)
    return parts[1] if len(parts) > 2 and parts[0] == "arn" and parts[1] else "aws"


def _iam_user(principal: str | None) -> tuple[str | None, str | None]:
    """``arn:aws:iam::123456789012:user/ops/alice`` -> ``("alice", "123456789012")``."""
    if not principal or not principal.startswith("arn:"):
        return None, None
    parts = principal.split(":", 5)
    if len(parts) < 6 or parts[2] != "iam" or not parts[5].startswith("user/"):
        return None, parts[4] if len(parts) > 4 else None
    return parts[5].rsplit("/", 1)[-1], parts[4]


def plan_keys(alert: dict[str, Any]) -> list[KeyPlan]:
    """One plan per distinct access key in the alert's matched events, first seen first."""
    plans: dict[str, KeyPlan] = {}
    for event in alert.get("events") or []:
        key = event.get("access_key_id")
        if not key or key in plans:
            continue
        principal = event.get("principal")
        user, account = _iam_user(principal)
        if key.startswith("ASIA"):
            skip = "temporary credentials (ASIA...): revoke the role's sessions instead"
        elif not key.startswith("AKIA"):
            skip = "not an IAM access key id"
        elif user is None:
            skip = "the key's principal is not an IAM user ARN"
        else:
            skip = None
        user_name = user if skip is None else None
        plans[key] = KeyPlan(key, principal, user_name, account, skip, _partition(principal))
    return list(plans.values())


def deactivate(
    plan: KeyPlan, *, timeout: float, retries: int, endpoint_url: str | None = None
) -> tuple[bool, str, int]:
    """Make the plan's ``iam:UpdateAccessKey`` call: (done, reason, attempts).

    botocore retries throttling and server errors itself (``retries`` more attempts at most);
    an AWS error (no permission, no such key) is the reason, never raised.
    """
    # Deferred: boto3/botocore (~80 ms) load only when a key is actually deactivated.
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    assert plan.user_name is not None, "a skipped plan makes no call"
    config = Config(
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"total_max_attempts": retries + 1, "mode": "standard"},
    )
    client = boto3.client(
        "iam",
        region_name=IAM_REGIONS.get(plan.partition, "us-east-1"),
        endpoint_url=endpoint_url,
        config=config,
    )
    try:
        response = client.update_access_key(
            UserName=plan.user_name, AccessKeyId=plan.access_key_id, Status="Inactive"
        )
    except ClientError as exc:
        error = exc.response.get("Error", {})
        attempts = int(exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)) + 1
        return False, f"{error.get('Code', 'error')}: {error.get('Message', exc)}", attempts
    except BotoCoreError as exc:  # no credentials, endpoint unreachable, timeout
        return False, f"{type(exc).__name__}: {exc}", retries + 1
    attempts = int(response.get("ResponseMetadata", {}).get("RetryAttempts", 0)) + 1
    return True, f"{plan.access_key_id} of {plan.user_name} set Inactive", attempts
