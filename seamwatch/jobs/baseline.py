"""The behaviour baseline in the job: one event-time ``OVER`` layer per entity, in the JVM.

:func:`create_baseline_view` registers a view that computes the flags of
:func:`seamwatch.udfs.behaviour.observe` (``new_country``, ``new_ip``, ``new_asn``,
``new_device``, ``new_role``, ``impossible_travel``, ``travel_speed_kmh``) for every event of
an input view, with the Java aggregate ``io.seamwatch.udf.BaselineFlags``
(``seamwatch/java/``, built by :mod:`seamwatch.jobs.javaudf`) over the entity's events::

    BaselineFlags(event_time, outcome, v_ip, v_country, v_asn, v_device, v_role,
                  latitude, longitude, geo_source)
      OVER (PARTITION BY entity_id ORDER BY rowtime
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)

The output has exactly the :data:`~seamwatch.udfs.records.EVENT_FIELDS` columns (flags filled)
plus ``rowtime``, still the rowtime attribute (a ``MATCH_RECOGNIZE`` ordered by it can read
it). The input view has the ``EVENT_FIELDS`` columns (its flag columns are ignored),
``rowtime`` with a watermark, and ``v_ip``, ``v_country``, ``v_asn``, ``v_device``, ``v_role``:
each kind's value as :func:`seamwatch.udfs.behaviour.event_values` computes it, NULL when the
event has none.

The function keeps ``observe``'s state per entity and runs its steps in the same order
(``BaselineFlags.java`` says where it could differ: a digest collision Python would have, the
last bit of ``sin``/``cos``/``pow``), so the flags are ``observe``'s, event by event, including
the bounded value lists and their eviction, the daily sweep and the reset after silence
(``tests/test_baseline_flags.py`` compares them). Flink's ``OVER`` operator buffers each row
until the watermark passes it, then feeds an entity's rows in event-time order (rows of the
same time in arrival order), one at a time. Its state per entity is the accumulator: at most
``max_<kind>`` values of each kind, the first and last event times and the last location;
``table.exec.state.ttl`` (wall clock, set by the pipeline) lets entities never seen again go.
Events behind the watermark never reach it: the pipeline sends them to the late-events output
first.
"""

from __future__ import annotations

from typing import Any

from seamwatch.jobs.javaudf import register as register_java
from seamwatch.sqltext import sql_literal
from seamwatch.udfs.behaviour import DAY_MS, FLAG_FIELDS, KINDS, BaselineConfig
from seamwatch.udfs.records import EVENT_FIELDS

#: The SQL name the job registers the Java function under.
FUNCTION = "seamwatch_baseline_flags"
JAVA_CLASS = "io.seamwatch.udf.BaselineFlags"

#: The input columns holding the value of each kind (``event_values``), NULL when absent.
VALUE_COLUMNS: dict[str, str] = {kind: f"v_{kind}" for kind in KINDS}

_ARGUMENTS = (
    "event_time",
    "outcome",
    *VALUE_COLUMNS.values(),
    "latitude",
    "longitude",
    "geo_source",
)


def baseline_sql(input_view: str, config: BaselineConfig, function: str = FUNCTION) -> str:
    """The baseline view's query over ``input_view`` (``function``: the registered name)."""
    flags = set(FLAG_FIELDS)
    columns = [f"f.{name} AS {name}" if name in flags else name for name, _ in EVENT_FIELDS]
    missing = flags - {name for name, _ in EVENT_FIELDS}
    if missing:  # pragma: no cover - a Flags field the event lacks
        raise AssertionError(f"flags without an event column: {sorted(missing)}")
    call = f"{function}({', '.join([sql_literal(settings_text(config)), *_ARGUMENTS])})"
    window = (
        "PARTITION BY entity_id ORDER BY rowtime ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    )
    return (
        f"SELECT {', '.join([*columns, 'rowtime'])}\n"
        f"FROM (SELECT *, {call} OVER ({window}) AS f FROM {input_view})"
    )


def settings_text(config: BaselineConfig) -> str:
    """``config``'s thresholds as ``BaselineFlags`` reads them (its first argument), computed
    as ``observe`` computes them."""
    values: dict[str, object] = {
        "learning_ms": repr(float(config.learning_days * DAY_MS)),
        "novelty_seconds": int(config.novelty_seconds),
        "horizon_ms": int(config.forget_after_days * DAY_MS),
        "max_speed_kmh": repr(float(config.max_speed_kmh)),
        "min_travel_km": repr(float(config.min_travel_km)),
        "location_fuzz_km": repr(float(config.location_fuzz_km)),
        "half_life_seconds": repr(float(config.half_life_days * 86_400)),
        **{f"max_{kind}": config.limit(kind) for kind in KINDS},
        "learn_from_unknown": str(config.learn_from_unknown_outcome).lower(),
    }
    return ";".join(f"{name}={value}" for name, value in values.items())


def register(t_env: Any, name: str = FUNCTION) -> None:
    """Register ``name`` as the Java ``BaselineFlags``, its jar shipped with the job."""
    register_java(t_env, name, JAVA_CLASS)


def create_baseline_view(
    t_env: Any, input_view: str, output_view: str, config: BaselineConfig
) -> None:
    """Register the function and the view ``output_view`` (the event columns with the flags
    filled, then ``rowtime``) reading ``input_view``."""
    register(t_env)
    t_env.create_temporary_view(output_view, t_env.sql_query(baseline_sql(input_view, config)))
