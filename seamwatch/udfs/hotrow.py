"""The one Python step of the hot path, as a plain function: fields in, small rows out.

For each row of a source table (:mod:`seamwatch.udfs.sqlfields`) :func:`prepare` normalizes,
resolves the principal against the identity graph, drops what no rule or baseline needs,
adds geography, and returns the rows the SQL side continues with, each a tuple in
:data:`OUTPUT_FIELDS` order:

- ``E``: a resolved event, with the values the baseline compares (``v_ip``, ``v_country``,
  ``v_asn``, ``v_role``, see :func:`seamwatch.udfs.behaviour.event_values`; the device value
  is the event's own ``device`` column, filled here from the user agent when the record names
  no device, so the alert shows the device the ``new_device`` flag compared);
- ``L``: a link taught by a credential-issuing call (the issued key in ``access_key_id``, the
  encoded :class:`~seamwatch.udfs.links.Link` in ``detail``), timed ``LINK_SKEW_MS`` before
  the call so that SQL, which orders by event time, sees it before uses of the key that the
  issuing service's clock placed up to that much earlier;
- ``D``: a dead letter (its JSON in ``detail``, event time 0);
- ``N``: an event no rule and no baseline needs: only its source, ``raw_ref`` and time, so
  the job counts it (and the SQL side adds the same row for the records it drops by action
  before Python when they are behind their source's watermark,
  :func:`seamwatch.jobs.pipeline.normalize_sql`);
- ``C`` (made only by SQL): the count of a source's on-time records no rule needs, per day, in
  ``detail``, with the day's latest time in ``event_time``.

Counting is the caller's: :class:`Prepared` says what happened to the row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import orjson

from seamwatch.udfs.behaviour import FLAG_FIELDS, BaselineConfig, event_values
from seamwatch.udfs.deadletter import dead_letter
from seamwatch.udfs.geo import enrich_in_place
from seamwatch.udfs.identity import IdentityGraph, OktaUserKeys, resolve
from seamwatch.udfs.links import teaches
from seamwatch.udfs.records import EVENT_FIELDS, Event, Rejected
from seamwatch.udfs.sqlfields import normalize_fields, rebuild

# Fields of the event row the SQL side receives (the flags are computed there).
ROW_EVENT_FIELDS: tuple[tuple[str, str], ...] = tuple(
    (name, sql_type) for name, sql_type in EVENT_FIELDS if name not in FLAG_FIELDS
)
VALUE_FIELDS: tuple[str, ...] = ("v_ip", "v_country", "v_asn", "v_role")
# The baseline's device value is the event's ``device`` column (the SQL reads it as v_device).
DEVICE_VALUE_COLUMN = "device"
OUTPUT_FIELDS: tuple[tuple[str, str], ...] = (
    ("kind", "STRING"),
    *ROW_EVENT_FIELDS,
    *((name, "STRING") for name in VALUE_FIELDS),
    ("detail", "STRING"),
)
LINK_SKEW_MS = 60_000  # a link holds from this long before its issuing call (Link.valid_at)

# The kinds of row (the first column).
EVENT_ROW = "E"
LINK_ROW = "L"
DEAD_ROW = "D"
NOT_NEEDED_ROW = "N"
COUNTED_ROW = "C"

_NAMES = tuple(name for name, _ in ROW_EVENT_FIELDS)
_INDEX = {name: i for i, name in enumerate(_NAMES)}
_EVENT_TIME = 1 + _INDEX["event_time"]
_EMPTY = (None,) * len(_NAMES)
_NO_VALUES = (None,) * len(VALUE_FIELDS)


@dataclass
class Prepared:
    """The rows for one source row, and what happened to it (for the metrics)."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    normalized: int = 0
    dead_lettered: int = 0
    unresolved: int = 0
    not_needed: int = 0


def dead_letter_json(rejected: Rejected) -> str:
    """The dead letter's JSON (:mod:`seamwatch.udfs.deadletter`: oversize raw text bounded)."""
    return orjson.dumps(
        dead_letter(rejected.source, rejected.reason, rejected.raw_ref, rejected.raw)
    ).decode()


def _row(kind: str, detail: str, event_time: int, **fields: Any) -> tuple[Any, ...]:
    """A row that is no event: the named event fields set, the others and the values NULL."""
    row: list[Any] = [kind, *_EMPTY, *_NO_VALUES, detail]
    row[_EVENT_TIME] = event_time
    for name, value in fields.items():
        row[1 + _INDEX[name]] = value
    return tuple(row)


def dead_row(rejected: Rejected) -> tuple[Any, ...]:
    """A dead letter of a log record (event time 0: it never moves a window)."""
    return _row(
        DEAD_ROW,
        dead_letter_json(rejected),
        0,
        source=rejected.source,
        raw_ref=rejected.raw_ref,
    )


def not_needed_row(event: Event) -> tuple[Any, ...]:
    """A normalized event no rule needs: counted by the job, then dropped."""
    return _row(NOT_NEEDED_ROW, "", event.event_time, source=event.source, raw_ref=event.raw_ref)


def mapping_dead_row(dead_letter: str) -> tuple[Any, ...]:
    """A dead letter that is no log record (a bad identity mapping), its JSON as given."""
    return _row(DEAD_ROW, dead_letter, 0)


# The event's row fields in _NAMES order, in one call (a row is built per event).
_EVENT_VALUES = attrgetter(*_NAMES)


def event_row(event: Event, config: BaselineConfig) -> tuple[Any, ...]:
    values = event_values(event, config)
    event.device = values.get("device")
    return (
        EVENT_ROW,
        *_EVENT_VALUES(event),
        values.get("ip"),
        values.get("country"),
        values.get("asn"),
        values.get("role"),
        None,
    )


def link_row(key: str, encoded: str, issued_at: int, taught_by: str) -> tuple[Any, ...]:
    """The link ``encoded`` teaches for ``key``, timed LINK_SKEW_MS before its issuing call."""
    return _row(
        LINK_ROW,
        encoded,
        issued_at - LINK_SKEW_MS,
        event_id=taught_by,
        source="cloudtrail",
        action="__link__",
        outcome="success",
        raw_ref="",
        access_key_id=key,
    )


def prepare(
    source: str,
    raw_ref: str,
    raw: str | None,
    values: Sequence[Any],
    graph: IdentityGraph,
    wants: Callable[[Event], bool],
    config: BaselineConfig,
    arrived_at: int | None = None,
    ahead_of: Callable[[int], str | None] | None = None,
    okta_keys: OktaUserKeys | None = None,
) -> Prepared:
    """Normalize, resolve and enrich one source row (see the module docstring).

    ``arrived_at``: the wall-clock time the caller read the row (epoch milliseconds), kept on
    each event for the alert's ``time_to_detect_ms``.
    ``ahead_of`` (live input) tells an event time too far ahead of the clock to be trusted: it
    returns the reason, and the record is dead-lettered (see :mod:`seamwatch.sources.timeguard`).
    ``okta_keys``: the caller's learned keys of unlisted Okta users (renamed logins stay one
    entity, :class:`~seamwatch.udfs.identity.OktaUserKeys`); updated in place.
    """
    out = Prepared()
    for item in normalize_fields(source, raw_ref, raw, values):
        if not isinstance(item, Rejected) and ahead_of is not None:
            reason = ahead_of(item.event_time)
            if reason is not None:
                text = raw if raw is not None else orjson.dumps(rebuild(source, values)).decode()
                item = Rejected(source, reason, text, item.raw_ref)
        if isinstance(item, Rejected):
            out.dead_lettered += 1
            out.rows.append(dead_row(item))
            continue
        out.normalized += 1
        item.arrived_at = arrived_at
        event = resolve(item, graph, okta_keys)
        if event.resolved_by == "unresolved":
            out.unresolved += 1
        if not wants(event):
            out.not_needed += 1
            out.rows.append(not_needed_row(event))
            continue
        event = enrich_in_place(event)
        taught = teaches(event, graph)
        if taught is not None:
            key, link = taught
            out.rows.append(link_row(key, link.encode(), link.issued_at, link.taught_by))
        out.rows.append(event_row(event, config))
    return out
