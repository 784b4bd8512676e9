"""The response actions of a rule (``respond:`` in the rule YAML), validated when rules load.

A rule names *what* to do; the deployment says *whether* it is really done (``--respond live``)
and holds every credential (files, environment, Kubernetes Secrets). A rule file therefore
never carries a secret: a key that looks like one is refused with a reason.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Keys that would put a credential into a rule file (shared, reviewed, committed).
_CREDENTIAL_KEYS = frozenset(
    {"secret", "token", "password", "api_key", "apikey", "key", "credentials", "authorization"}
)
MAX_TIMEOUT_SECONDS = 30.0
MAX_RETRIES = 5


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _no_credentials(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in data:
                if str(name).lower() in _CREDENTIAL_KEYS:
                    raise ValueError(
                        f"{name!r}: credentials never go in a rule file; the deployment gives "
                        "them (files, environment or Kubernetes Secrets, see docs/response.md)"
                    )
        return data


class WebhookAction(_Action):
    """POST the alert JSON to ``url``, signed with the deployment's webhook secret.

    ``timeout`` bounds each attempt (seconds), ``retries`` the further attempts after a
    failure that may pass (connection error, timeout, HTTP 429 or 5xx).
    """

    type: Literal["webhook"]
    url: str
    timeout: float = Field(default=5.0, gt=0, le=MAX_TIMEOUT_SECONDS)
    retries: int = Field(default=3, ge=0, le=MAX_RETRIES)

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http(s) URL")
        if parts.username or parts.password:
            raise ValueError(
                "a webhook URL carries no user or password: credentials never go in a rule file"
            )
        return url


class OktaRevokeSessions(_Action):
    """Revoke every Okta session of the alert's entity (``DELETE /api/v1/users/{id}/sessions``).

    ``oauth_tokens`` also revokes the OAuth access and refresh tokens Okta issued to the user.
    The Okta org URL and API token are the deployment's (``SEAMWATCH_OKTA_ORG_URL``,
    ``SEAMWATCH_OKTA_TOKEN_FILE``).
    """

    type: Literal["okta_revoke_sessions"]
    oauth_tokens: bool = False
    timeout: float = Field(default=5.0, gt=0, le=MAX_TIMEOUT_SECONDS)
    retries: int = Field(default=2, ge=0, le=MAX_RETRIES)


class AwsDeactivateAccessKey(_Action):
    """Set the IAM user access keys in the alert's events to Inactive (``iam:UpdateAccessKey``).

    Only long-term keys (``AKIA...``) of IAM users can be deactivated; temporary credentials
    (``ASIA...``, assumed roles) are reported as skipped with the reason.
    """

    type: Literal["aws_deactivate_access_key"]
    timeout: float = Field(default=10.0, gt=0, le=MAX_TIMEOUT_SECONDS)
    retries: int = Field(default=2, ge=0, le=MAX_RETRIES)


Action = Annotated[
    WebhookAction | OktaRevokeSessions | AwsDeactivateAccessKey, Field(discriminator="type")
]

__all__ = ["Action", "AwsDeactivateAccessKey", "OktaRevokeSessions", "WebhookAction"]
