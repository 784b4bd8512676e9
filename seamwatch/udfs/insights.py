"""CloudTrail Insights records (``eventType: AwsCloudTrailInsight``) as events of their own kind.

An Insights record reports unusual API activity of an account (``insightDetails``: the
``insightType``, ``ApiCallRateInsight`` or ``ApiErrorRateInsight``, the API it concerns and
whether the unusual period starts or ends). It has no caller and no ``eventName``, so the
CloudTrail normalizer would refuse it. Its event:

- ``action`` ``AwsCloudTrailInsight`` (the record's ``eventType``: no rule matching an API call
  can match it by accident);
- ``service`` the API's ``eventSource``, ``error_code`` the API's ``errorCode`` (error-rate
  insights), ``account_id`` and ``region`` the record's;
- ``outcome`` ``unknown``, no principal (so it is keyed by its own event id, never a shared key).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from seamwatch.udfs.errors import NormalizeError
from seamwatch.udfs.fields import clean_text, fallback_event_id
from seamwatch.udfs.records import Event
from seamwatch.udfs.timeparse import parse_time

INSIGHT_EVENT_TYPE = "AwsCloudTrailInsight"


def is_insight(rec: Mapping[str, Any]) -> bool:
    return rec.get("eventType") == INSIGHT_EVENT_TYPE


def normalize_insight(rec: Mapping[str, Any], raw_ref: str) -> Event:
    """The event of one Insights record (see the module docstring)."""
    event_time = parse_time(rec.get("eventTime"))
    if event_time is None:
        raise NormalizeError(f"no usable event time: eventTime={rec.get('eventTime')!r}")
    details = rec.get("insightDetails")
    details = details if isinstance(details, Mapping) else {}
    return Event(
        event_id=clean_text(rec.get("eventID")) or fallback_event_id(rec),
        source="cloudtrail",
        event_time=event_time,
        action=INSIGHT_EVENT_TYPE,
        outcome="unknown",
        raw_ref=raw_ref,
        service=clean_text(details.get("eventSource")),
        account_id=clean_text(rec.get("recipientAccountId")),
        region=clean_text(rec.get("awsRegion")),
        error_code=clean_text(details.get("errorCode")),
    )
