"""The webhook action: the alert JSON POSTed to a URL, signed so the receiver can trust it.

Signature (documented for receivers in ``docs/response.md``)::

    X-Seamwatch-Timestamp: <unix seconds when sent>
    X-Seamwatch-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body bytes)>

The timestamp is inside the signed bytes, so it cannot be changed without breaking the
signature; a receiver refuses a timestamp older than a few minutes (a replay). The body is
signed exactly as sent: verify over the raw request bytes, before parsing any JSON.
``X-Seamwatch-Alert-Id`` is the alert's deterministic id, the same on every retry, for the
receiver to drop duplicates.
"""

from __future__ import annotations

import hashlib
import hmac

from seamwatch.respond.actions import WebhookAction
from seamwatch.respond.http import Request

SIGNATURE_HEADER = "X-Seamwatch-Signature"
TIMESTAMP_HEADER = "X-Seamwatch-Timestamp"
ALERT_ID_HEADER = "X-Seamwatch-Alert-Id"
DEFAULT_TOLERANCE_SECONDS = 300


def signature(body: bytes, secret: bytes, timestamp: int) -> str:
    """``sha256=<hex>``: HMAC-SHA256 with ``secret`` over ``b"<timestamp>." + body``."""
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    body: bytes,
    timestamp: str | None,
    signature_header: str | None,
    secret: bytes,
    now: int,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    if not timestamp or not signature_header or not timestamp.strip().isdigit():
        return False
    sent = int(timestamp)
    if abs(now - sent) > tolerance:
        return False
    return hmac.compare_digest(signature(body, secret, sent), signature_header.strip())


def build_request(
    action: WebhookAction, body: bytes, alert_id: str, secret: bytes | None, now: int
) -> Request:
    """The POST for one alert; unsigned only in a dry-run without a secret loaded."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "seamwatch-respond",
        ALERT_ID_HEADER: alert_id,
        TIMESTAMP_HEADER: str(now),
    }
    if secret is not None:
        headers[SIGNATURE_HEADER] = signature(body, secret, now)
    return Request("POST", action.url, headers, body)
