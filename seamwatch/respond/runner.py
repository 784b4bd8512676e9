"""Run the response actions of each alert's rule: bounded, recorded, never in the alert's way.

The caller emits (writes) alerts first and hands them here afterwards, so nothing an action
does (a receiver that is down, slow or wrong) can hold back or lose an alert. Here each action
is bounded by its timeout and retries, actions run on a few worker threads, and once
``deadline_seconds`` have passed no further action starts (those are recorded as failed with
that reason). Every action gives one :class:`ActionResult`, written as a JSON line to the
response log, which is the dead letter of failed actions.

``mode`` is the deployment's choice: ``dry-run`` (the default) builds each request and records
it without sending anything; ``live`` sends. Credentials come from the deployment only
(:meth:`ResponseConfig.from_env`).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson

from seamwatch.respond import aws, okta, webhook
from seamwatch.respond.actions import (
    Action,
    AwsDeactivateAccessKey,
    OktaRevokeSessions,
    WebhookAction,
)
from seamwatch.respond.http import Outcome, Request, send

Mode = Literal["dry-run", "live"]
MODES: tuple[Mode, ...] = ("dry-run", "live")
Status = Literal["dry-run", "done", "failed", "skipped"]

WEBHOOK_SECRET = "SEAMWATCH_WEBHOOK_SECRET"
OKTA_TOKEN = "SEAMWATCH_OKTA_TOKEN"
OKTA_ORG_URL = "SEAMWATCH_OKTA_ORG_URL"
# Optional: another IAM endpoint (a VPC endpoint); AWS credentials come from the standard chain.
AWS_IAM_ENDPOINT = "SEAMWATCH_AWS_IAM_ENDPOINT"


def read_secret(name: str, environ: Mapping[str, str]) -> str | None:
    """``$NAME_FILE`` (a mounted Secret file; trailing newline dropped), else ``$NAME``."""
    path = environ.get(name + "_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise ValueError(f"${name}_FILE: cannot read {path}: {exc.strerror or exc}") from exc
    return environ.get(name) or None


@dataclass(frozen=True)
class ResponseConfig:
    """The deployment's side of response: the mode and the credentials."""

    mode: Mode = "dry-run"
    webhook_secret: bytes | None = None
    okta_org_url: str | None = None
    okta_token: str | None = None
    aws_iam_endpoint: str | None = None  # None: IAM's own endpoint (tests: a loopback one)
    workers: int = 4
    deadline_seconds: float = 120.0
    backoff: float = 0.5
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def from_env(cls, mode: Mode, environ: Mapping[str, str] | None = None) -> ResponseConfig:
        env = os.environ if environ is None else environ

        def secret_of(name: str) -> str | None:
            try:
                return read_secret(name, env)
            except ValueError:
                if mode == "live":
                    raise
                return None  # a dry-run needs no secret: a Secret not mounted yet is fine

        secret = secret_of(WEBHOOK_SECRET)
        return cls(
            mode=mode,
            webhook_secret=secret.encode() if secret else None,
            okta_org_url=env.get(OKTA_ORG_URL) or None,
            okta_token=secret_of(OKTA_TOKEN),
            aws_iam_endpoint=env.get(AWS_IAM_ENDPOINT) or None,
        )


def readiness(actions: Iterable[Action], config: ResponseConfig) -> tuple[list[str], list[str]]:
    """Problems that refuse a live run (errors) and what it will not do (warnings)."""
    if config.mode != "live":
        return [], []
    kinds = {type(a) for a in actions}
    errors: list[str] = []
    warnings: list[str] = []
    if WebhookAction in kinds and config.webhook_secret is None:
        errors.append(f"webhook actions need a secret: set ${WEBHOOK_SECRET}_FILE")
    if OktaRevokeSessions in kinds:
        if config.okta_org_url is None:
            errors.append(f"Okta actions need the org URL: set ${OKTA_ORG_URL}")
        if config.okta_token is None:
            errors.append(f"Okta actions need an API token: set ${OKTA_TOKEN}_FILE")
    return errors, warnings


@dataclass
class ActionResult:
    """What one action did for one alert (a line of the response log)."""

    alert_id: str
    rule_id: str
    action: str
    index: int  # position in the rule's respond: list
    mode: Mode
    status: Status
    reason: str
    attempts: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    at: int = 0  # epoch milliseconds when the action finished

    def to_record(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "rule_id": self.rule_id,
            "action": self.action,
            "index": self.index,
            "mode": self.mode,
            "status": self.status,
            "reason": self.reason,
            "attempts": self.attempts,
            "requests": self.requests,
            "at": self.at,
        }


def _send(request: Request, timeout: float, retries: int, config: ResponseConfig) -> Outcome:
    return send(
        request, timeout=timeout, retries=retries, backoff=config.backoff, sleep=config.sleep
    )


def _webhook(
    action: WebhookAction, alert: dict[str, Any], config: ResponseConfig, now_s: int
) -> tuple[Status, str, int, list[dict[str, Any]]]:
    body = orjson.dumps(alert)
    request = webhook.build_request(
        action, body, str(alert.get("alert_id", "")), config.webhook_secret, now_s
    )
    if config.mode == "dry-run":
        return "dry-run", f"would POST the alert to {action.url}", 0, [request.describe()]
    if config.webhook_secret is None:
        return "failed", f"no webhook secret (${WEBHOOK_SECRET}_FILE)", 0, [request.describe()]
    outcome = _send(request, action.timeout, action.retries, config)
    status: Status = "done" if outcome.ok else "failed"
    return status, outcome.reason, outcome.attempts, [request.describe()]


def _okta(
    action: OktaRevokeSessions, alert: dict[str, Any], config: ResponseConfig
) -> tuple[Status, str, int, list[dict[str, Any]]]:
    ids = okta.okta_user_ids(alert)
    if not ids:
        return "skipped", "the alert's entity has no okta_user_id identifier", 0, []
    org = config.okta_org_url or f"${OKTA_ORG_URL}"
    requests = [okta.build_request(action, uid, org, config.okta_token) for uid in ids]
    described = [r.describe() for r in requests]
    if config.mode == "dry-run":
        return "dry-run", f"would revoke the Okta sessions of {', '.join(ids)}", 0, described
    if config.okta_org_url is None or config.okta_token is None:
        return "failed", f"no Okta org URL or token (${OKTA_ORG_URL}, ${OKTA_TOKEN}_FILE)", 0, []
    outcomes = [_send(r, action.timeout, action.retries, config) for r in requests]
    attempts = sum(o.attempts for o in outcomes)
    reasons = "; ".join(f"{uid}: {o.reason}" for uid, o in zip(ids, outcomes, strict=True))
    return ("done" if all(o.ok for o in outcomes) else "failed"), reasons, attempts, described


def _aws(
    action: AwsDeactivateAccessKey, alert: dict[str, Any], config: ResponseConfig
) -> tuple[Status, str, int, list[Any]]:
    plans = aws.plan_keys(alert)
    if not plans:
        return "skipped", "no access key in the alert's events", 0, []
    described = [p.describe() for p in plans]
    skipped = "; ".join(f"{p.access_key_id}: {p.skip}" for p in plans if p.skip)
    calls = [p for p in plans if p.skip is None]
    if not calls:
        return "skipped", skipped, 0, described
    keys = ", ".join(p.access_key_id for p in calls)
    tail = f"; skipped {skipped}" if skipped else ""
    if config.mode == "dry-run":
        return "dry-run", f"would deactivate {keys}{tail}", 0, described
    outcomes = [
        aws.deactivate(
            plan,
            timeout=action.timeout,
            retries=action.retries,
            endpoint_url=config.aws_iam_endpoint,
        )
        for plan in calls
    ]
    attempts = sum(n for _, _, n in outcomes)
    reasons = "; ".join(reason for _, reason, _ in outcomes)
    status: Status = "done" if all(ok for ok, _, _ in outcomes) else "failed"
    return status, reasons + tail, attempts, described


def run_action(
    action: Action, index: int, alert: dict[str, Any], config: ResponseConfig, now_ms: int
) -> ActionResult:
    """Run (or, in dry-run, describe) one action for one alert; never raises."""
    try:
        if isinstance(action, WebhookAction):
            status, reason, attempts, requests = _webhook(action, alert, config, now_ms // 1000)
        elif isinstance(action, OktaRevokeSessions):
            status, reason, attempts, requests = _okta(action, alert, config)
        else:
            assert isinstance(action, AwsDeactivateAccessKey)
            status, reason, attempts, requests = _aws(action, alert, config)
    except Exception as exc:  # one broken action must not cost the others their result
        status, reason, attempts, requests = "failed", f"error: {exc!r}", 0, []
    return ActionResult(
        alert_id=str(alert.get("alert_id", "")),
        rule_id=str(alert.get("rule_id", "")),
        action=action.type,
        index=index,
        mode=config.mode,
        status=status,
        reason=reason,
        attempts=attempts,
        requests=requests,
        at=int(time.time() * 1000),
    )


def respond(
    alerts: Sequence[dict[str, Any]],
    actions_by_rule: Mapping[str, Sequence[Action]],
    config: ResponseConfig,
) -> list[ActionResult]:
    """Every action of every alert's rule, in alert order then action order."""
    jobs = [
        (alert, index, action)
        for alert in alerts
        for index, action in enumerate(actions_by_rule.get(str(alert.get("rule_id")), ()))
    ]
    if not jobs:
        return []
    started = time.monotonic()

    def one(job: tuple[dict[str, Any], int, Action]) -> ActionResult:
        alert, index, action = job
        now_ms = int(time.time() * 1000)
        if time.monotonic() - started > config.deadline_seconds:
            return ActionResult(
                alert_id=str(alert.get("alert_id", "")),
                rule_id=str(alert.get("rule_id", "")),
                action=action.type,
                index=index,
                mode=config.mode,
                status="failed",
                reason=f"not started: the {config.deadline_seconds:g}s response deadline passed",
                at=now_ms,
            )
        return run_action(action, index, alert, config, now_ms)

    with ThreadPoolExecutor(max_workers=max(1, config.workers)) as pool:
        return list(pool.map(one, jobs))


def write_log(path: Path, results: Iterable[ActionResult]) -> None:
    """The response log: one JSON line per action result."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        for result in results:
            out.write(orjson.dumps(result.to_record()) + b"\n")


def response_log_path(output: Path) -> Path:
    """The response log, next to the alert output: ``<name>.responses.jsonl``."""
    return output.with_name(output.stem + ".responses.jsonl")


def summarize(results: Iterable[ActionResult]) -> str:
    counts = Counter(r.status for r in results)
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no actions"
