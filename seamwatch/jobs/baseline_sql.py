"""The behaviour baseline as Flink SQL: event-time ``OVER`` windows instead of a keyed Python step.

:func:`create_baseline_view` registers a chain of temporary views that computes the flags of
:func:`seamwatch.udfs.behaviour.observe` (``new_country``, ``new_ip``, ``new_asn``,
``new_device``, ``new_role``, ``impossible_travel``, ``travel_speed_kmh``) for every event of
an input view, and ends in a view with exactly the :data:`~seamwatch.udfs.records.EVENT_FIELDS`
columns (flags filled) plus ``rowtime``, still the rowtime attribute (a ``MATCH_RECOGNIZE``
ordered by it can read the output). :func:`baseline_sql` returns the same views as
``(name, SQL)`` pairs without touching Flink.

The input view has the ``EVENT_FIELDS`` columns (its flag columns are ignored), ``rowtime``
(``TO_TIMESTAMP_LTZ(event_time, 3)`` with a watermark) and ``v_ip``, ``v_country``, ``v_asn``,
``v_device``, ``v_role``: the value of each kind as
:func:`seamwatch.udfs.behaviour.event_values` computes it, NULL when the event has none.

Seven ``OVER`` layers, each ordered by ``rowtime`` with the default frame (``RANGE BETWEEN
UNBOUNDED PRECEDING AND CURRENT ROW``: ``LAG`` accepts no explicit frame; an unbounded frame
keeps one accumulator per key, never the rows)::

    <out>_prepared        teaches, located, the event's coordinates at 3 decimals
    <out>_entity_history  OVER (PARTITION BY entity_id): previous event, first/last teaching
                          event, last teaching Okta location -- each including the current row
    <out>_entity_lagged   OVER (PARTITION BY entity_id): the same strictly *before* the row (LAG
                          of the running values), start of the entity's episode
    <out>_entity          learning, distance and hours to the previous location
    <out>_seen_<kind>     OVER (PARTITION BY entity_id, COALESCE(v_<kind>, '')), x 5 kinds:
                          teaching count, first/last teaching, first novel teaching (running),
                          the last LOOKBACK occurrences (LAG)
    <out>_flag_<kind>     new_<kind>
    <out>                 the event columns with the flags, rowtime

Semantics, as in ``observe``: an event *teaches* when its outcome is ``success`` (or ``unknown``
with ``learn_from_unknown_outcome``). The entity is *learning* while it has no earlier teaching
event in its episode or the first one is less than ``learning_days`` old; an episode starts at
the entity's first event and at every event that follows more than ``forget_after_days`` of
silence (Python's reset). A value is *known* when an earlier event with it taught and its last
teaching is not older than ``forget_after_days`` (in seconds, as Python's sweep compares). An
unknown value is new unless learning; a known one is new while its first teaching event was not
learning (it entered as a novelty) and is less than ``novelty_seconds`` old. Travel compares
with the last earlier teaching event located by Okta (coordinates rounded like Python's
``round(x, 3)``, not more than ``forget_after_days`` old) with the same haversine formula.

Where the SQL differs from the Python baseline (all measured against ``observe`` in
``tests/test_baseline_sql.py``, which agrees flag for flag on its scenario):

1. **No bounded value lists.** Python keeps at most ``max_<kind>`` values per kind and evicts
   the one with the lowest decayed frequency (``half_life_days``); an evicted value is new
   again when it comes back. SQL remembers every value for ``forget_after_days``, so an entity
   rotating through more values than the limit (daily mobile addresses) gets fewer ``new_ip``
   flags here. ``max_*`` and ``half_life_days`` are ignored.
2. **Forgetting is exact, not swept daily.** Python drops stale values and the stale location
   on the entity's first event of each UTC day, so they can outlive ``forget_after_days`` by up
   to a day of activity; here the age is compared on every event.
3. **A teaching event's view of its value** needs the value's last teaching time *before*
   the event, which a running ``MAX`` (it includes the event) cannot give without a second
   layer per kind. It is taken from the value's previous :data:`LOOKBACK` (3) occurrences
   (one ``LAG`` each): the latest of them that taught, else the oldest of them stands in.
   So after ``LOOKBACK`` or more consecutive failures with a value, a success with it counts
   the value as known when the third-last failure is recent, even if its last teaching is
   older than ``forget_after_days`` (Python: new). Three mistyped passwords at home then a
   success stay "known" in both. Non-teaching events see the exact time.
4. **A value that comes back after being forgotten while the entity stayed active** is new on
   its first event back (as in Python), but the events after it within ``novelty_seconds``
   are not: their novelty window is measured from the value's *first ever* teaching event,
   not the first of its current stay (finding that start takes a second layer per kind).
   Values forgotten by an entity reset (silence) are not affected. Assumes
   ``novelty_seconds`` < ``forget_after_days``.
5. **Learning after a reset.** When the first event after ``forget_after_days`` of silence did
   not teach, learning counts from that event rather than from the first teaching one after it.
6. **Events with the same timestamp** of one entity (or one entity and value) are peers of the
   ``RANGE`` frame: each sees the other's contribution. Python processes them one by one.
7. **Late events** (behind the watermark when they reach an ``OVER`` operator) are dropped by
   Flink; the Python operator flags them in arrival order.
8. **State.** One accumulator per entity and per (entity, value), bounded by
   ``table.exec.state.ttl`` (wall-clock time), which the job sets to ``forget_after_days``
   (:func:`seamwatch.jobs.pipeline.create_event_views`); event-time forgetting above does not
   depend on it.
9. **Floating point.** Coordinates and speeds are rounded exactly as Python's ``round``
   (:func:`python_round`; Flink's ``ROUND`` differs on halves), and the haversine repeats
   Python's operations in order, but ``SIN``/``COS``/``ASIN`` are Java's, which may differ from
   the C library in the last bit: ``travel_speed_kmh`` could then differ by 0.1 (not seen).
   Epoch seconds use BIGINT division, which equals Python's floor division for times after
   1970.

Measured with the generated population of ``tests/test_baseline_sql.py`` (seed 5, 200
entities, 60 days, 33,454 events): default config with ``max_* = 64``: no difference; default
config: 62 ``new_ip`` differences, all point 1 (eviction); ``learning_days=2,
forget_after_days=10, max_* = 64`` (values forgotten often): 45 differences, 44 of point 4 and
1 of point 2.
"""

from __future__ import annotations

import math
from typing import Any

from seamwatch.sqltext import sql_literal
from seamwatch.udfs.behaviour import (
    DAY_MS,
    EARTH_RADIUS_KM,
    FLAG_FIELDS,
    KINDS,
    MIN_TRAVEL_SECONDS,
    TRAVEL_GEO_SOURCES,
    BaselineConfig,
    Kind,
)
from seamwatch.udfs.records import EVENT_FIELDS

#: The input columns holding the value of each kind (``event_values``), NULL when absent.
VALUE_COLUMNS: dict[Kind, str] = {kind: f"v_{kind}" for kind in KINDS}

#: The ``new_*`` flag each kind sets.
FLAG_OF_KIND: dict[Kind, str] = {
    "ip": "new_ip",
    "country": "new_country",
    "asn": "new_asn",
    "device": "new_device",
    "role": "new_role",
}

#: How many previous occurrences of a value a teaching event looks back at for the value's last
#: teaching time (module docstring, point 3): one ``LAG`` each.
LOOKBACK = 3

View = tuple[str, str]


# --- SQL literals and small expressions ------------------------------------------------------


def _double(value: float) -> str:
    """A DOUBLE literal that parses back to exactly ``value`` (``1.5E0``, not DECIMAL ``1.5``)."""
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value}")
    text = repr(float(value)).replace("e", "E")
    return text if "E" in text else text + "E0"


def _bigint(value: int) -> str:
    return f"CAST({value} AS BIGINT)"


def python_round(expr: str, digits: int) -> str:
    """SQL for Python's ``round(x, digits)`` of the DOUBLE ``expr`` (``0 <= digits <= 3``).

    Flink's ``ROUND`` rounds the shortest decimal spelling half up (``ROUND(12.0625, 3)`` is
    12.063), Python the exact binary value half to even (12.062). This finds the side of the
    half-way point exactly: ``x`` is split (Veltkamp, factor 2^11 + 1) into a 42-bit high part
    and a low part whose products with ``10**digits`` are exact, so the sign of
    ``hi*s - (k + 0.5) + lo*s`` is the sign of ``x*s - (k + 0.5)`` computed without rounding.
    """
    if not 0 <= digits <= 3:
        raise ValueError("digits must be 0..3")
    x = f"({expr})"
    scale = _double(10.0**digits)
    split = f"({x} * 2049.0E0)"
    high = f"({split} - ({split} - {x}))"
    low = f"({x} - {high})"
    floor = f"FLOOR({x} * {scale})"
    above = f"(({high} * {scale} - ({floor} + 0.5E0)) + {low} * {scale})"
    odd = f"({floor} - 2.0E0 * FLOOR({floor} / 2.0E0) <> 0.0E0)"
    step = f"CASE WHEN {above} > 0.0E0 OR ({above} = 0.0E0 AND {odd}) THEN 1.0E0 ELSE 0.0E0 END"
    return f"(({floor} + {step}) / {scale})"


def haversine_sql(lat1: str, lon1: str, lat2: str, lon2: str) -> str:
    """SQL for :func:`seamwatch.udfs.behaviour.haversine_km`, operation for operation."""
    phi1, phi2 = f"RADIANS({lat1})", f"RADIANS({lat2})"
    half_dphi = f"(({phi2} - {phi1}) / 2)"
    half_dlam = f"(RADIANS({lon2} - {lon1}) / 2)"
    a = (
        f"SIN({half_dphi}) * SIN({half_dphi})"
        f" + COS({phi1}) * COS({phi2}) * (SIN({half_dlam}) * SIN({half_dlam}))"
    )
    return f"(2 * {_double(EARTH_RADIUS_KM)} * ASIN(LEAST(1.0E0, SQRT({a}))))"


def _seconds(ms_expr: str) -> str:
    """Epoch seconds as Python's ``ms // 1000`` (BIGINT division; times are after 1970)."""
    return f"({ms_expr}) / 1000"


def _window(*partition: str) -> str:
    return f"WINDOW w AS (PARTITION BY {', '.join(partition)} ORDER BY rowtime)"


def _select(source: str, columns: list[tuple[str, str]], window: str | None = None) -> str:
    """``SELECT *, expr AS name, ... FROM source [WINDOW ...]``, one column per line."""
    lines = ",\n  ".join(["*", *(f"{expr} AS {name}" for name, expr in columns)])
    tail = f"\n{window}" if window else ""
    return f"SELECT\n  {lines}\nFROM {source}{tail}"


def _over(expr: str) -> str:
    return f"{expr} OVER w"


# --- the layers ---------------------------------------------------------------------------------


def _teaches(config: BaselineConfig) -> str:
    outcomes = ["success", *(["unknown"] if config.learn_from_unknown_outcome else [])]
    return f"COALESCE(outcome IN ({', '.join(sql_literal(o) for o in outcomes)}), FALSE)"


def _located() -> str:
    sources = ", ".join(sql_literal(s) for s in sorted(TRAVEL_GEO_SOURCES))
    return (
        "COALESCE(latitude IS NOT NULL AND longitude IS NOT NULL"
        f" AND geo_source IN ({sources}), FALSE)"
    )


def _prepared(source: str, config: BaselineConfig) -> str:
    return _select(
        source,
        [
            ("teaches", _teaches(config)),
            ("located", _located()),
            ("lat3", f"CASE WHEN {_located()} THEN {python_round('latitude', 3)} END"),
            ("lon3", f"CASE WHEN {_located()} THEN {python_round('longitude', 3)} END"),
        ],
    )


def _entity_history(source: str) -> str:
    """Per entity, the running values including the current row."""
    teach_ms = "CASE WHEN teaches THEN event_time END"
    point = "teaches AND located"
    return _select(
        source,
        [
            ("prev_event_ms", _over("LAG(event_time)")),
            ("first_teach_ms", _over(f"MIN({teach_ms})")),
            ("last_teach_ms_incl", _over(f"MAX({teach_ms})")),
            ("point_lat_incl", _over(f"LAST_VALUE(CASE WHEN {point} THEN lat3 END)")),
            ("point_lon_incl", _over(f"LAST_VALUE(CASE WHEN {point} THEN lon3 END)")),
            ("point_ms_incl", _over(f"LAST_VALUE(CASE WHEN {point} THEN event_time END)")),
        ],
        _window("entity_id"),
    )


def _entity_lagged(source: str, horizon_ms: int) -> str:
    """Per entity, the running values strictly before the row, and the episode's start."""
    reset = f"prev_event_ms IS NULL OR event_time - prev_event_ms > {_bigint(horizon_ms)}"
    return _select(
        source,
        [
            ("episode_start_ms", _over(f"LAST_VALUE(CASE WHEN {reset} THEN event_time END)")),
            ("last_teach_ms", _over("LAG(last_teach_ms_incl)")),
            ("point_lat", _over("LAG(point_lat_incl)")),
            ("point_lon", _over("LAG(point_lon_incl)")),
            ("point_ms", _over("LAG(point_ms_incl)")),
        ],
        _window("entity_id"),
    )


def _entity(source: str, config: BaselineConfig, horizon_ms: int) -> str:
    """Row-local: learning, and the distance and time to the previous location."""
    learning = (
        "last_teach_ms IS NULL OR last_teach_ms < episode_start_ms"
        " OR event_time - GREATEST(episode_start_ms, first_teach_ms)"
        f" < {_double(config.learning_days * DAY_MS)}"
    )
    compared = (
        f"located AND point_ms IS NOT NULL AND event_time - point_ms <= {_bigint(horizon_ms)}"
    )
    seconds = (
        f"GREATEST(CAST(ABS(event_time - point_ms) AS DOUBLE) / 1000.0E0,"
        f" {_double(MIN_TRAVEL_SECONDS)})"
    )
    distance = haversine_sql("point_lat", "point_lon", "lat3", "lon3")
    return _select(
        source,
        [
            ("learning", f"COALESCE({learning}, TRUE)"),
            ("travel_km", f"CASE WHEN {compared} THEN {distance} END"),
            ("travel_hours", f"CASE WHEN {compared} THEN {seconds} / 3600.0E0 END"),
        ],
    )


def _seen(source: str, kind: Kind) -> str:
    """Per entity and value of ``kind``: its teaching history, and its last occurrences."""
    teach_ms = "CASE WHEN teaches THEN event_time END"
    lags = [
        (f"{kind}_teach_lag{offset}", _over(f"LAG({teach_ms}, {offset})"))
        for offset in range(1, LOOKBACK + 1)
    ]
    return _select(
        source,
        [
            *lags,
            (f"{kind}_lag{LOOKBACK}_ms", _over(f"LAG(event_time, {LOOKBACK})")),
            (f"{kind}_teach_count", _over("SUM(CASE WHEN teaches THEN 1 ELSE 0 END)")),
            (f"{kind}_last_teach_ms", _over(f"MAX({teach_ms})")),
            (f"{kind}_first_teach_ms", _over(f"MIN({teach_ms})")),
            (
                f"{kind}_first_novel_ms",
                _over("MIN(CASE WHEN teaches AND NOT learning THEN event_time END)"),
            ),
        ],
        _window("entity_id", f"COALESCE({VALUE_COLUMNS[kind]}, '')"),
    )


def _new_value(kind: Kind, config: BaselineConfig, horizon_ms: int) -> str:
    """``new_<kind>``: unknown and not learning, or known and still inside its novelty window."""
    value = VALUE_COLUMNS[kind]
    earlier_teaching = f"({kind}_teach_count - CASE WHEN teaches THEN 1 ELSE 0 END) > 0"
    # The last earlier teaching time: exact for a non-teaching row (it adds nothing to the MAX);
    # for a teaching row, the last teaching one among the value's previous LOOKBACK occurrences,
    # else the oldest of those stands in for it (module docstring, point 3).
    lagged = [f"{kind}_teach_lag{offset}" for offset in range(1, LOOKBACK + 1)]
    last_ms = (
        f"CASE WHEN teaches THEN COALESCE({', '.join(lagged)}, {kind}_lag{LOOKBACK}_ms)"
        f" ELSE {kind}_last_teach_ms END"
    )
    remembered = f"{_seconds(last_ms)} >= {_seconds(f'event_time - {_bigint(horizon_ms)}')}"
    novelty = (
        f"{kind}_first_novel_ms = {kind}_first_teach_ms AND ABS("
        f"{_seconds('event_time')} - {_seconds(f'{kind}_first_teach_ms')})"
        f" < {config.novelty_seconds}"
    )
    return (
        f"CASE WHEN {value} IS NULL THEN FALSE"
        f" WHEN {earlier_teaching} AND {remembered} THEN COALESCE({novelty}, FALSE)"
        " ELSE NOT learning END"
    )


def _output(source: str, config: BaselineConfig) -> str:
    speed = python_round("travel_km / travel_hours", 1)
    effective = f"GREATEST(0.0E0, travel_km - {_double(2 * config.location_fuzz_km)})"
    impossible = (
        f"travel_km >= {_double(config.min_travel_km)}"
        f" AND {effective} / travel_hours > {_double(config.max_speed_kmh)}"
    )
    computed = {
        **{flag: flag + "_flag" for flag in FLAG_OF_KIND.values()},
        "impossible_travel": f"COALESCE({impossible}, FALSE)",
        "travel_speed_kmh": f"CASE WHEN travel_km IS NOT NULL THEN {speed} END",
    }
    missing = set(FLAG_FIELDS) - set(computed)
    if missing:  # pragma: no cover - a new Flags field without SQL
        raise AssertionError(f"no SQL for {sorted(missing)}")
    columns = [
        f"{computed[name]} AS {name}" if name in computed else name for name, _ in EVENT_FIELDS
    ]
    return "SELECT\n  " + ",\n  ".join([*columns, "rowtime"]) + f"\nFROM {source}"


def baseline_sql(
    input_view: str, config: BaselineConfig, output_view: str = "baseline"
) -> list[View]:
    """The views, ``(name, SQL)`` in dependency order; the last is ``output_view``.

    Intermediate views are named ``<output_view>_<step>`` (see the module docstring).
    """
    horizon_ms = int(config.forget_after_days * DAY_MS)
    views: list[View] = []

    def add(step: str, sql: str) -> str:
        name = f"{output_view}_{step}"
        views.append((name, sql))
        return name

    last = add("prepared", _prepared(input_view, config))
    last = add("entity_history", _entity_history(last))
    last = add("entity_lagged", _entity_lagged(last, horizon_ms))
    last = add("entity", _entity(last, config, horizon_ms))
    for kind in KINDS:
        last = add(f"seen_{kind}", _seen(last, kind))
        flag = FLAG_OF_KIND[kind]
        last = add(
            f"flag_{kind}", _select(last, [(f"{flag}_flag", _new_value(kind, config, horizon_ms))])
        )
    views.append((output_view, _output(last, config)))
    return views


def create_baseline_view(
    t_env: Any, input_view: str, output_view: str, config: BaselineConfig
) -> None:
    """Register the baseline's views on ``t_env``, reading ``input_view``, ending in
    ``output_view`` (the event columns with the flags filled, then ``rowtime``)."""
    for name, sql in baseline_sql(input_view, config, output_view):
        t_env.create_temporary_view(name, t_env.sql_query(sql))
