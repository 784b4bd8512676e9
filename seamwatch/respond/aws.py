"""AWS containment: deactivate the IAM user access keys that signed the alert's events.

The call is ``iam:UpdateAccessKey`` with ``UserName``, ``AccessKeyId`` and ``Status=Inactive``
(reversible: ``Status=Active`` restores the key). Only long-term keys (``AKIA...``) of IAM users
qualify; the user name is the last part of the ``arn:aws:iam::<account>:user/<path>/<name>``
principal that used the key. Temporary credentials (``ASIA...``, from AssumeRole or SAML) have
no key to deactivate: they are listed as skipped with the reason (contain those by revoking the
role's sessions, see ``docs/response.md``).

This module only plans: it says exactly which calls it would make. The AWS SDK (boto3) is not a
dependency of Seamwatch, so a live run reports these actions as planned, not made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class KeyPlan:
    """One access key of the alert and what would be done with it."""

    access_key_id: str
    principal: str | None
    user_name: str | None  # None: nothing to call (see ``skip``)
    account: str | None
    skip: str | None = None

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
        plans[key] = KeyPlan(key, principal, user if skip is None else None, account, skip)
    return list(plans.values())
