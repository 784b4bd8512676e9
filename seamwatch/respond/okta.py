"""Okta containment: revoke every session of the alert's user.

``DELETE {org}/api/v1/users/{userId}/sessions`` (``?oauthTokens=true`` to also revoke the
OAuth tokens Okta issued), authorized with ``Authorization: SSWS <API token>``; Okta answers
204. The user id is the entity's ``okta_user_id`` identifier (from the identity graph): an
alert without one is skipped with the reason, never guessed from a login.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from seamwatch.respond.actions import OktaRevokeSessions
from seamwatch.respond.http import Request


def okta_user_ids(alert: dict[str, Any]) -> list[str]:
    """The ``okta_user_id`` identifiers of the alert's entity, in order, without repeats."""
    ids: list[str] = []
    for ident in (alert.get("entity") or {}).get("identifiers") or []:
        value = ident.get("value")
        if ident.get("kind") == "okta_user_id" and value and value not in ids:
            ids.append(str(value))
    return ids


def build_request(
    action: OktaRevokeSessions, user_id: str, org_url: str, token: str | None
) -> Request:
    """The DELETE for one user; the token header is left out in a dry-run without one."""
    url = f"{org_url.rstrip('/')}/api/v1/users/{quote(user_id, safe='')}/sessions"
    if action.oauth_tokens:
        url += "?oauthTokens=true"
    headers = {"Accept": "application/json", "User-Agent": "seamwatch-respond"}
    if token is not None:
        headers["Authorization"] = f"SSWS {token}"
    return Request("DELETE", url, headers)
