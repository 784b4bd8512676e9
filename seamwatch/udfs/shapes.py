"""What a parsed record is, before any normalizer reads it.

Two questions the staging step asks of every record (plain functions, no Flink):

- :func:`not_event_kind`: is this a file an S3 bucket of CloudTrail logs holds that is no log
  event? CloudTrail *digest files* (log file validation: ``digestStartTime``, ``logFiles``,
  ...), *S3 event notifications* (``{"Records": [{"eventSource": "aws:s3", "s3": {...}}]}``,
  one member each once the container is expanded) and the *S3 test event* a bucket sends when
  notifications are configured (``{"Service": "Amazon S3", "Event": "s3:TestEvent"}``). They
  are skipped and counted by kind, never dead-lettered.
- :func:`record_source`: which log source does this record look like (``okta``,
  ``cloudtrail`` or neither)? The input check (:mod:`seamwatch.sources.input_check`) uses it on
  a sample of each file, to stop a run whose files were given as the wrong source.

Both are deliberately shallow (top-level keys, one level down at most): they run once per
staged record on the client.
"""

from __future__ import annotations

from typing import Any, Literal

NotEventKind = Literal["cloudtrail_digest", "s3_event_notification", "s3_test_event"]
NOT_EVENT_KINDS: tuple[NotEventKind, ...] = (
    "cloudtrail_digest",
    "s3_event_notification",
    "s3_test_event",
)
LooksLike = Literal["okta", "cloudtrail"]

# Keys a CloudTrail digest file always has (docs: "CloudTrail digest file structure").
_DIGEST_KEYS = frozenset(("digestStartTime", "digestEndTime", "logFiles"))


def not_event_kind(doc: object) -> NotEventKind | None:
    """The kind of non-event ``doc`` is (see the module docstring), or None for anything else."""
    if type(doc) is not dict:
        return None
    if doc.keys() >= _DIGEST_KEYS:
        return "cloudtrail_digest"
    if doc.get("eventSource") == "aws:s3" and type(doc.get("s3")) is dict:
        return "s3_event_notification"
    if doc.get("Event") == "s3:TestEvent" and doc.get("Service") == "Amazon S3":
        return "s3_test_event"
    records = doc.get("Records")
    if (
        type(records) is list
        and records
        and all(not_event_kind(member) == "s3_event_notification" for member in records)
    ):
        return "s3_event_notification"  # a container the source's reader does not expand
    return None


def _lowered(doc: dict[str, Any]) -> dict[str, Any]:
    return {key.lower(): value for key, value in doc.items() if type(key) is str}


def _looks_cloudtrail(keys: dict[str, Any]) -> bool:
    event_type = keys.get("eventtype")
    if type(event_type) is str and event_type.startswith("Aws"):
        return True  # AwsApiCall, AwsConsoleSignIn, AwsServiceEvent, AwsCloudTrailInsight...
    if "eventname" not in keys:
        return False
    return "eventtime" in keys or "eventsource" in keys or "useridentity" in keys


def _looks_okta(keys: dict[str, Any]) -> bool:
    event_type = keys.get("eventtype")
    if type(event_type) is not str or event_type.startswith("Aws"):
        return False
    return "published" in keys or "actor" in keys or "uuid" in keys or "displaymessage" in keys


def record_source(doc: object, depth: int = 0) -> LooksLike | None:
    """The log source ``doc`` looks like, whichever reader it was given to, or None.

    Recognizes bare records in either vendor spelling (also with lower-cased keys), EventBridge
    envelopes of CloudTrail records, and the containers of either source (``Records``, Okta
    event-hook deliveries, arrays) by their first member.
    """
    if depth > 3:
        return None
    if type(doc) is list:
        return record_source(doc[0], depth + 1) if doc else None
    if type(doc) is not dict:
        return None
    keys = _lowered(doc)
    if _looks_cloudtrail(keys):
        return "cloudtrail"
    if _looks_okta(keys):
        return "okta"
    detail = keys.get("detail")
    if type(detail) is dict and _looks_cloudtrail(_lowered(detail)):
        return "cloudtrail"
    records = keys.get("records")
    if type(records) is list:
        return record_source(records, depth + 1)
    data = keys.get("data")
    if type(data) is dict and type(data.get("events")) is list:
        return record_source(data["events"], depth + 1)
    return None
