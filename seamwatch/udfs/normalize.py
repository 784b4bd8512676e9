"""The entry point the job calls for every raw record: text in, Events and Rejected out.

:func:`normalize_text` never raises: whatever goes wrong with one record becomes a
:class:`~seamwatch.udfs.records.Rejected` carrying the reason and the raw text, so the job can
dead-letter it and carry on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

from seamwatch.udfs.cloudtrail import normalize_cloudtrail
from seamwatch.udfs.entra import entra_records, normalize_entra
from seamwatch.udfs.errors import NormalizeError
from seamwatch.udfs.insights import is_insight, normalize_insight
from seamwatch.udfs.okta import normalize_okta
from seamwatch.udfs.records import Event, Rejected
from seamwatch.udfs.shapes import not_event_kind
from seamwatch.udfs.windows import normalize_windows

__all__ = ["NORMALIZERS", "container_keys", "explode", "normalize_text"]

Normalizer = Callable[[Mapping[str, Any], str], Event]

NORMALIZERS: dict[str, Normalizer] = {
    "okta": normalize_okta,
    "cloudtrail": normalize_cloudtrail,
    "entra": normalize_entra,
    "windows": normalize_windows,
}

# Containers inside containers (an array of S3 log files) are expanded too, this deep.
_MAX_DEPTH = 4

# The keys that can make a JSON object a container of records, per source (see _members).
# Windows events come alone or in JSON arrays only.
_CONTAINER_KEYS: dict[str, tuple[str, ...]] = {
    "cloudtrail": ("Records",),
    "okta": ("data",),
    "entra": ("records", "value"),
    "windows": (),
}


def container_keys(source: str) -> tuple[str, ...]:
    """The top-level keys that can make a JSON object of ``source`` a container of records."""
    return _CONTAINER_KEYS.get(source, ())


def _decode(text: str | bytes) -> str:
    return text if isinstance(text, str) else text.decode("utf-8", errors="replace")


def _members(source: str, doc: object) -> list[object] | None:
    """The records a container holds, or None when ``doc`` is a single record."""
    if isinstance(doc, list):
        return doc
    if not isinstance(doc, dict):
        return None
    # The container keys have one spelling (AWS, Okta); exact look-ups keep this cheap for
    # the common case, a single record.
    if source == "cloudtrail":
        records = doc.get("Records")
        if isinstance(records, list):
            return records
    elif source == "okta":
        data = doc.get("data")
        events = data.get("events") if isinstance(data, dict) else None
        if isinstance(events, list):
            return events
    elif source == "entra":
        # Event Hub / storage batches {"records": [...]}, Graph list responses {"value": [...]}.
        members = entra_records(doc)
        if len(members) != 1 or members[0] is not doc:
            return members
    return None


def _explode_into(source: str, doc: object, out: list[object], depth: int) -> None:
    members = _members(source, doc) if depth < _MAX_DEPTH else None
    if members is None:
        out.append(doc)
        return
    for member in members:
        _explode_into(source, member, out, depth + 1)


def explode(source: str, doc: object) -> list[object]:
    """Expand a container into single vendor records.

    Containers: a JSON array (any source: Okta's System Log API returns arrays), a
    CloudTrail S3 log file ``{"Records": [...]}``, an Okta event-hook delivery
    ``{"data": {"events": [...]}}``, an Entra Event Hub / storage batch ``{"records": [...]}``
    or Graph list response ``{"value": [...]}``. Anything else comes back as ``[doc]`` (the
    same object). An empty container gives an empty list.
    """
    out: list[object] = []
    _explode_into(source, doc, out, 0)
    return out


def _normalize_one(
    source: str, normalizer: Normalizer, record: object, raw: str, raw_ref: str
) -> Event | Rejected:
    if not isinstance(record, dict):
        kind = "null" if record is None else type(record).__name__
        return Rejected(source, f"not a JSON object: {kind}", raw, raw_ref)
    try:
        if source == "cloudtrail":
            if is_insight(record):
                return normalize_insight(record, raw_ref)
            not_event = not_event_kind(record)
            if not_event is not None:  # staging skips these; a Kafka topic may still carry them
                return Rejected(source, f"not an event: {not_event}", raw, raw_ref)
        return normalizer(record, raw_ref)
    except NormalizeError as err:
        return Rejected(source, str(err), raw, raw_ref)
    except Exception as err:  # a bug or an input shape we did not foresee: dead-letter it
        return Rejected(source, f"normalizer failed: {type(err).__name__}: {err}", raw, raw_ref)


def normalize_text(source: str, text: str | bytes, raw_ref: str) -> list[Event | Rejected]:
    """Parse one raw record (or container of records) of ``source`` and normalize it.

    Members of a container get the ref ``f"{raw_ref}#{i}"`` (``i`` counts from 0) and, if
    rejected, their own compact JSON as ``raw``. An empty container gives ``[]``. Never raises.
    """
    try:
        raw = text if type(text) is str else _decode(text)
        # Same as "not raw.strip()" without copying the record when it ends in a newline.
        if not raw or raw.isspace():
            return [Rejected(source, "empty record", raw, raw_ref)]
        normalizer = NORMALIZERS.get(source)
        if normalizer is None:
            known = ", ".join(sorted(NORMALIZERS))
            return [Rejected(source, f"unknown source {source!r} (known: {known})", raw, raw_ref)]
        try:
            doc = orjson.loads(text)
        except orjson.JSONDecodeError as err:
            return [Rejected(source, f"invalid JSON: {err}", raw, raw_ref)]
        if type(doc) is dict and not any(key in doc for key in _CONTAINER_KEYS[source]):
            # The common case, one record: what explode() would find, without calling it.
            return [_normalize_one(source, normalizer, doc, raw, raw_ref)]
        members = explode(source, doc)
        if len(members) == 1 and members[0] is doc:
            return [_normalize_one(source, normalizer, doc, raw, raw_ref)]
        results: list[Event | Rejected] = []
        for i, member in enumerate(members):
            member_raw = orjson.dumps(member).decode()
            results.append(_normalize_one(source, normalizer, member, member_raw, f"{raw_ref}#{i}"))
        return results
    except Exception as err:  # last resort, e.g. a value orjson cannot serialise
        raw_text = text if isinstance(text, str) else repr(text)
        reason = f"normalize failed: {type(err).__name__}: {err}"
        return [Rejected(source, reason, raw_text, raw_ref)]
