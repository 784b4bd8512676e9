"""One HTTP request with bounded retries: what every live action sends through.

Standard library only (``urllib.request``). Each attempt is bounded by ``timeout``; a failure
that may pass (no connection, timeout, HTTP 429 or 5xx) is retried up to ``retries`` times with
exponential backoff (``backoff`` seconds doubling, at most ``max_backoff``; a ``Retry-After`` in
seconds is honoured up to the same cap). Redirects are not followed: a webhook that moved is a
failure to fix, not a reason to POST an alert elsewhere. Nothing here raises: the outcome says
what happened.
"""

from __future__ import annotations

import hashlib
import http.client
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Header values never written to a log or a response record.
SECRET_HEADERS = frozenset({"authorization"})


@dataclass(frozen=True)
class Request:
    """An HTTP request an action makes (or, in dry-run, would make)."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def describe(self) -> dict[str, Any]:
        """The request as logged: credentials redacted, the body by size and SHA-256."""
        headers = {
            k: ("<redacted>" if k.lower() in SECRET_HEADERS else v) for k, v in self.headers.items()
        }
        described: dict[str, Any] = {"method": self.method, "url": self.url, "headers": headers}
        if self.body:
            described["body_bytes"] = len(self.body)
            described["body_sha256"] = hashlib.sha256(self.body).hexdigest()
        return described


@dataclass(frozen=True)
class Outcome:
    """What sending a request came to, after every attempt."""

    ok: bool
    attempts: int
    status: int | None  # the last HTTP status, None when no response came
    reason: str  # "HTTP 204", "HTTP 500 after 4 attempts", "connection refused ..."


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect())


def _retry_after(headers: Any, cap: float) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    if value is not None and str(value).strip().isdigit():
        return min(float(value), cap)
    return None


def send(
    request: Request,
    *,
    timeout: float,
    retries: int,
    backoff: float = 0.5,
    max_backoff: float = 4.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Send ``request``; at most ``retries + 1`` attempts, each bounded by ``timeout``."""
    attempts = 0
    reason = "not sent"
    status: int | None = None
    while True:
        attempts += 1
        wait = min(backoff * 2 ** (attempts - 1), max_backoff)
        req = urllib.request.Request(
            request.url,
            data=request.body or None,
            headers=request.headers,
            method=request.method,
        )
        try:
            with _OPENER.open(req, timeout=timeout) as response:
                status = int(response.status)
                response.read(65536)
            if 200 <= status < 300:
                return Outcome(True, attempts, status, f"HTTP {status}")
            reason, retry = f"HTTP {status}", False  # 1xx/3xx: not followed, not retried
        except urllib.error.HTTPError as exc:
            status = exc.code
            reason = f"HTTP {exc.code} {exc.reason}".strip()
            retry = exc.code == 429 or exc.code >= 500
            wait = _retry_after(exc.headers, max_backoff) or wait
            exc.close()
        except urllib.error.URLError as exc:
            status, reason, retry = None, f"no connection: {exc.reason}", True
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            status, reason, retry = None, f"no response: {exc or type(exc).__name__}", True
        if not retry or attempts > retries:
            suffix = f" after {attempts} attempts" if attempts > 1 else ""
            return Outcome(False, attempts, status, reason + suffix)
        sleep(wait)
