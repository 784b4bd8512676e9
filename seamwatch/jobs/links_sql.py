"""Learned access-key links in Flink SQL: one event-time ``OVER`` window per role-chaining hop.

The rows of the hot path (:mod:`seamwatch.udfs.hotrow`) carry, besides the events (``E``), the
links credential-issuing calls teach (``L``: the issued key in ``access_key_id``, the encoded
:class:`~seamwatch.udfs.links.Link` in ``detail``). A hop partitions every row by its access
key and orders it by event time, so the latest link taught for a key before an event that
uses it is ``LAST_VALUE`` of the links in that partition: an issuing record that arrives after
the records using its key, within the watermark bound, still comes first in event time. The
link row is timed a minute before its call, the clock skew :meth:`Link.valid_at` tolerates.

An event takes the link as :func:`seamwatch.udfs.links.apply_link` and
:func:`~seamwatch.udfs.links.waits_for_link` decide: it has a key, no verbatim static
resolution, was not resolved by an earlier hop, and the link is valid at its time
(36 hours for temporary keys, 90 days for long-term ones). A static resolution to the same
entity is kept. A credential-issuing call that took a link in hop *n* teaches hop *n + 1* the
key it issued (role chaining), so ``hops`` hops follow chains that many roles deep.

The links a window holds are state a savepoint keeps, in the format of the release that wrote
them (:mod:`seamwatch.udfs.links`): an event takes a link of the current version or of version
0 (no marker; the six fields are where they were), and never one of another version, which it
ignores as if no link were known. The links the hops teach are written in the current version.
"""

from __future__ import annotations

from seamwatch.udfs.hotrow import EVENT_ROW, LINK_ROW, OUTPUT_FIELDS
from seamwatch.udfs.links import (
    LINK_DISCOUNT,
    LINK_FIELDS,
    LINK_FORMAT,
    LONG_TERM_LINK_SECONDS,
    TEMPORARY_ISSUERS,
    TEMPORARY_LINK_SECONDS,
)

_COLUMNS = [name for name, _ in OUTPUT_FIELDS]
_TAB = "U&'\\0009'"
_ENTITY_COLUMNS = ("entity_id", "entity_type", "entity_name", "resolved_by", "resolved_via")


def _part(index: int) -> str:
    return f"SPLIT_INDEX(known_link, {_TAB}, {index})"


def _readable_link() -> str:
    """The link's format is one this release reads: the current version, or version 0 (six
    fields, no marker; ``SPLIT_INDEX`` past the last field is NULL)."""
    marker, beyond = _part(LINK_FIELDS), _part(LINK_FIELDS + 1)
    return f"({marker} IS NULL OR ({marker} = '{LINK_FORMAT}' AND {beyond} IS NULL))"


def _takes_link() -> str:
    issued_at = f"CAST({_part(5)} AS BIGINT)"
    lifetime = (
        f"CASE WHEN access_key_id LIKE 'ASIA%' THEN {TEMPORARY_LINK_SECONDS * 1000} "
        f"ELSE {LONG_TERM_LINK_SECONDS * 1000} END"
    )
    return (
        f"kind = '{EVENT_ROW}' AND known_link IS NOT NULL AND access_key_id IS NOT NULL"
        f" AND {_readable_link()}"
        " AND resolved_by <> 'learned'"
        " AND NOT (resolved_by = 'static' AND confidence >= 1.0)"
        f" AND event_time - {issued_at} BETWEEN -60000 AND {lifetime}"
        f" AND NOT (resolved_by = 'static' AND entity_id = {_part(0)})"
    )


def _resolved_columns() -> list[str]:
    """The row's columns, the entity ones taken from the link when the event takes it."""
    replaced = {
        "entity_id": _part(0),
        "entity_type": _part(1),
        "entity_name": f"NULLIF({_part(2)}, '')",
        "resolved_by": "'learned'",
        "resolved_via": "CONCAT('aws_access_key:', access_key_id)",
        "confidence": f"CAST({_part(3)} AS DOUBLE)",
    }
    out = []
    for name in _COLUMNS:
        if name in replaced:
            out.append(f"CASE WHEN takes THEN {replaced[name]} ELSE {name} END AS {name}")
        else:
            out.append(name)
    return [*out, "rowtime"]


def _teach_columns() -> list[str]:
    """A learned credential-issuing call as the link row for the next hop."""
    packed = (
        f"CONCAT_WS({_TAB}, entity_id, entity_type, COALESCE(entity_name, ''), "
        f"CAST(ROUND(confidence * {LINK_DISCOUNT}, 4) AS STRING), event_id, "
        f"CAST(event_time AS STRING), '{LINK_FORMAT}')"
    )
    replaced = {"kind": f"'{LINK_ROW}'", "access_key_id": "issued_access_key", "detail": packed}
    return [*(f"{replaced.get(name, name)} AS {name}" for name in _COLUMNS), "rowtime"]


def link_hop_sql(source_view: str, hop: int) -> list[tuple[str, str]]:
    """``(view name, SQL)`` for one hop over ``source_view``; the last view is the hop's output
    (``E`` and ``L`` rows in, ``E`` rows out, with a ``takes`` flag).

    Only rows that can take a link go through the window: links, and events signed by a key
    that no earlier hop resolved. The others (Okta events, AWS calls without a key) pass around
    it, so the window's state holds one entry per access key, never one per event.
    """
    windowed = f"link_hop_{hop}_window"
    output = f"link_hop_{hop}"
    columns = ", ".join(_COLUMNS)
    window = (
        "OVER (PARTITION BY access_key_id ORDER BY rowtime "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
    )
    waiting = "access_key_id IS NOT NULL AND resolved_by <> 'learned'"
    return [
        (
            windowed,
            f"SELECT {columns}, rowtime, "
            f"LAST_VALUE(CASE WHEN kind = '{LINK_ROW}' THEN detail END) {window} AS known_link\n"
            f"FROM {source_view}\nWHERE kind = '{LINK_ROW}' OR {waiting}",
        ),
        (
            output,
            f"SELECT {', '.join(_resolved_columns())}, takes FROM (\n"
            f"  SELECT *, {_takes_link()} AS takes FROM {windowed}\n"
            f") WHERE kind = '{EVENT_ROW}'\n"
            "UNION ALL\n"
            f"SELECT {columns}, rowtime, FALSE AS takes FROM {source_view}\n"
            f"WHERE kind = '{EVENT_ROW}' AND NOT ({waiting})",
        ),
    ]


def link_views_sql(source_view: str, hops: int) -> list[tuple[str, str]]:
    """Every view of ``hops`` hops over ``source_view``, in creation order; the last one holds
    the resolved events (``E`` rows, the columns of :data:`OUTPUT_FIELDS` and ``rowtime``)."""
    if hops < 1:
        raise ValueError("hops must be at least 1")
    views: list[tuple[str, str]] = []
    current = source_view
    issuers = ", ".join(f"'{name}'" for name in sorted(TEMPORARY_ISSUERS))
    for hop in range(hops):
        hop_views = link_hop_sql(current, hop)
        views += hop_views
        output = hop_views[-1][0]
        if hop < hops - 1:
            chained = f"link_hop_{hop}_chained"
            teach = (
                f"SELECT {', '.join(_teach_columns())} FROM {output}\n"
                f"WHERE takes AND action IN ({issuers}) AND issued_access_key IS NOT NULL"
                " AND outcome = 'success'"
            )
            events = f"SELECT {', '.join(_COLUMNS)}, rowtime FROM {output}"
            views.append((chained, f"{events}\nUNION ALL\n{teach}"))
            current = chained
        else:
            views.append(
                (f"link_hop_{hop}_events", f"SELECT {', '.join(_COLUMNS)}, rowtime FROM {output}")
            )
    return views
