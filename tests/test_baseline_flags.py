"""The job's baseline (``seamwatch.jobs.baseline``: the Java ``BaselineFlags`` in one event-time
``OVER`` layer) against the Python reference, flag by flag.

The SQL-shape tests need no Flink. The ``flink`` tests run the view on a local mini-cluster and
compare every flag of every event with :func:`seamwatch.udfs.behaviour.observe` run over the
same events, per entity in event-time order: a hand-made scenario (learning, new countries,
failures that must not teach, Okta impossible travel, a novelty window, IPv6 /64s, an entity
reset, a forgotten value, failures before a success) and generated populations, with the
default value limits (eviction), tiny limits (eviction on nearly every new value) and a short
memory (values forgotten and coming back), must all agree exactly.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from seamwatch.jobs.baseline import FUNCTION, baseline_sql, settings_text
from seamwatch.udfs.behaviour import (
    DAY_MS,
    FLAG_FIELDS,
    KINDS,
    BaselineConfig,
    BehaviourState,
    Flags,
    event_values,
    observe,
)
from seamwatch.udfs.records import EVENT_FIELDS, Event

MINUTE = 60_000
HOUR = 60 * MINUTE
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z, event time: nothing reads a clock
CONFIG = BaselineConfig(learning_days=2, forget_after_days=10)

# Four-decimal coordinates as Okta writes them; several end in 5, where a decimal rounding and
# Python's round of the binary value disagree.
DENVER = ("United States", "Denver", 39.7392, -104.9903, "75.166.1.10", "org:centurylink")
BOULDER = ("United States", "Boulder", 40.0155, -105.2705, "75.166.9.20", "org:centurylink")
BUCHAREST = ("Romania", "Bucharest", 44.4325, 26.1025, "86.120.4.5", "org:rcs & rds")
SAO_PAULO = ("Brazil", "Sao Paulo", -23.5505, -46.6335, "177.32.8.9", "org:vivo")
LONDON = ("United Kingdom", "London", 51.5075, -0.1275, "81.2.69.142", "org:andrews & arnold")
ASHBURN = ("United States", "Ashburn", 39.0438, -77.4874, "3.80.1.2", "org:amazon-aes")
Place = tuple[str, str, float, float, str, str]


# --- SQL shape, no Flink ----------------------------------------------------------------------


def test_one_over_layer_per_entity_one_row_at_a_time() -> None:
    sql = baseline_sql("events_in", CONFIG)
    assert sql.count(" OVER (") == 1
    assert re.findall(r"PARTITION BY (.*?) ORDER BY rowtime ROWS", sql) == ["entity_id"]
    # ROWS, not RANGE: events of the same time are observed one after the other, as in Python.
    assert "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW" in sql
    assert f"{FUNCTION}('" in sql and "FROM events_in)" in sql


def test_output_has_the_event_columns_in_order_then_rowtime() -> None:
    sql = baseline_sql("events_in", CONFIG)
    select = sql.split("SELECT ", 1)[1].split("\nFROM", 1)[0]
    names = [column.strip().split(" AS ")[-1] for column in select.split(",")]
    assert names == [name for name, _ in EVENT_FIELDS] + ["rowtime"]
    for flag in FLAG_FIELDS:
        assert f"f.{flag} AS {flag}" in sql  # computed, not the input's column


def test_config_reaches_the_function_as_observe_computes_it() -> None:
    config = BaselineConfig(
        learning_days=3,
        novelty_seconds=1234,
        forget_after_days=30.5,
        min_travel_km=700,
        location_fuzz_km=50,
        max_speed_kmh=900,
        half_life_days=7,
        max_ips=3,
        max_roles=64,
        learn_from_unknown_outcome=True,
    )
    settings = dict(pair.split("=") for pair in settings_text(config).split(";"))
    assert settings == {
        "learning_ms": repr(3.0 * DAY_MS),
        "novelty_seconds": "1234",
        "horizon_ms": str(int(30.5 * DAY_MS)),
        "max_speed_kmh": "900.0",
        "min_travel_km": "700.0",
        "location_fuzz_km": "50.0",
        "half_life_seconds": repr(7.0 * 86400),
        "max_ip": "3",
        "max_country": "6",
        "max_asn": "8",
        "max_device": "6",
        "max_role": "64",
        "learn_from_unknown": "true",
    }
    assert settings_text(config) in baseline_sql("events_in", config)


# --- the reference and the events ---------------------------------------------------------------


def reference(events: list[Event], config: BaselineConfig) -> dict[str, Flags]:
    """``observe`` over each entity's events in event-time order: event_id -> flags."""
    by_entity: dict[str | None, list[Event]] = defaultdict(list)
    for event in events:
        by_entity[event.entity_id].append(event)
    flags: dict[str, Flags] = {}
    for entity_events in by_entity.values():
        state = BehaviourState()
        for event in sorted(entity_events, key=lambda e: e.event_time):
            state, flags[event.event_id] = observe(state, event, config)
    return flags


class Builder:
    """Events of several entities, with unique ids and times (one event per ms per entity)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(
        self,
        entity: str,
        at_ms: int,
        place: Place,
        outcome: str = "success",
        *,
        source: str = "okta",
        located: bool = True,
        **overrides: Any,
    ) -> Event:
        country, city, lat, lon, ip, org = place
        event = Event(
            event_id=f"{entity}-{len(self.events)}",
            source="okta" if source == "okta" else "cloudtrail",
            event_time=T0 + at_ms,
            action="user.session.start" if source == "okta" else "AssumeRoleWithSAML",
            outcome="success",
            raw_ref="test",
            src_ip=ip,
            ip_kind="public",
            country=country,
            city=city,
            latitude=lat if located else None,
            longitude=lon if located else None,
            as_org=org[4:],
            geo_source="okta" if source == "okta" else "geoip",
            device="Chrome/macOS" if source == "okta" else "aws-cli",
            entity_id=entity,
            entity_type="human",
            resolved_by="static",
            confidence=1.0,
        )
        event.outcome = outcome  # type: ignore[assignment]
        for name, value in overrides.items():
            setattr(event, name, value)
        self.events.append(event)
        return event


def scenario() -> list[Event]:
    """A few entities over three weeks, each exercising one part of the baseline."""
    b = Builder()
    day = DAY_MS
    role = "arn:aws:iam::111122223333:role/Developer"
    # wes: home in Denver while learning (2 days), then Bucharest ten minutes after a Denver
    # sign-in (impossible travel, new country/IP/ASN), its follow-ups inside the novelty hour,
    # one after it, a denied attempt from Sao Paulo that must not teach Sao Paulo.
    for d in range(4):
        b.add("wes", d * day + 8 * HOUR, DENVER)
        b.add("wes", d * day + 9 * HOUR, DENVER, source="cloudtrail", role_arn=role)
    b.add("wes", 1 * day + 12 * HOUR, BOULDER)  # learning: not new
    b.add("wes", 4 * day + 8 * HOUR, DENVER)
    b.add("wes", 4 * day + 8 * HOUR + 10 * MINUTE, BUCHAREST)
    b.add("wes", 4 * day + 8 * HOUR + 15 * MINUTE, BUCHAREST, action="user.authentication.sso")
    b.add(
        "wes",
        4 * day + 8 * HOUR + 40 * MINUTE,
        BUCHAREST,
        source="cloudtrail",
        principal="arn:aws:sts::111122223333:assumed-role/Admin/wes",
    )
    b.add("wes", 4 * day + 10 * HOUR, BUCHAREST)  # novelty hour over
    b.add("wes", 4 * day + 11 * HOUR, SAO_PAULO, "failure")
    b.add("wes", 4 * day + 12 * HOUR, SAO_PAULO, "failure")  # still new: failures do not teach
    b.add("wes", 5 * day + 8 * HOUR, BOULDER)  # learned while learning
    b.add("wes", 5 * day + 9 * HOUR, SAO_PAULO)  # now it teaches
    b.add("wes", 5 * day + 9 * HOUR + 30 * MINUTE, SAO_PAULO)  # inside its novelty hour
    b.add("wes", 5 * day + 9 * HOUR + 31 * MINUTE, DENVER, "failure")  # impossible, no teach
    b.add("wes", 5 * day + 9 * HOUR + 45 * MINUTE, SAO_PAULO)  # compared with Sao Paulo
    # A device seen once in learning comes back later: known.
    b.add("wes", 0 * day + 20 * HOUR, DENVER, device="Safari/iOS")
    b.add("wes", 6 * day + 20 * HOUR, DENVER, device="Safari/iOS")
    b.add("wes", 6 * day + 21 * HOUR, DENVER, device="Firefox/Linux")

    # ivy: IPv6 privacy addresses rotate inside one /64 (one new_ip), then another /64.
    for d in range(3):
        b.add("ivy", d * day + 9 * HOUR, LONDON, src_ip=f"2a02:8010:1:2:{d + 1:x}::1")
    b.add("ivy", 3 * day + 9 * HOUR, LONDON, src_ip="2a02:8010:1:2:abcd::7")
    b.add("ivy", 3 * day + 10 * HOUR, LONDON, src_ip="2a02:8010:1:3::7")
    b.add("ivy", 3 * day + 11 * HOUR, LONDON, src_ip="10.1.2.3", ip_kind="private")
    b.add("ivy", 3 * day + 12 * HOUR, LONDON, src_ip="not an ip", ip_kind="non_ip")

    # svc: a CloudTrail-only service (no Okta location: no travel), roles from principals.
    for d in range(5):
        for h in (3, 9, 15):
            b.add(
                "svc",
                d * day + h * HOUR,
                ASHBURN,
                source="cloudtrail",
                device="Boto3",
                principal=f"arn:aws:sts::444455556666:assumed-role/Deploy/{d}-{h}",
            )
    b.add("svc", 5 * day, ASHBURN, source="cloudtrail", device="Terraform", role_arn=role)
    b.add("svc", 5 * day + HOUR, BUCHAREST, source="cloudtrail", device="Boto3")

    # amy: only denied attempts at first (learning never starts), then she gets in; later her
    # Okta sign-ins have no coordinates.
    b.add("amy", 0, SAO_PAULO, "failure")
    b.add("amy", 3 * day, SAO_PAULO, "failure")
    b.add("amy", 3 * day + HOUR, LONDON)
    b.add("amy", 6 * day + HOUR, LONDON, located=False)
    b.add("amy", 6 * day + 2 * HOUR, BUCHAREST, located=False)
    b.add("amy", 6 * day + 3 * HOUR, BUCHAREST, "unknown")

    # rae: silent longer than forget_after_days (10): starts over, learning again.
    for d in range(4):
        b.add("rae", d * day + 9 * HOUR, DENVER)
    b.add("rae", 3 * day + 10 * HOUR, LONDON)  # new, after learning
    b.add("rae", 15 * day + 9 * HOUR, BUCHAREST)  # reset: learning, nothing new, far but old
    b.add("rae", 15 * day + 9 * HOUR + 30 * MINUTE, SAO_PAULO)  # learning; travel applies

    # kim: active every day at home; London unused for 11 days is forgotten and new again.
    for d in range(16):
        b.add("kim", d * day + 9 * HOUR, BOULDER, located=False)
    b.add("kim", 2 * day + 12 * HOUR, LONDON, located=False)
    b.add("kim", 3 * day + 12 * HOUR, LONDON, located=False)  # novelty over: known
    b.add("kim", 14 * day + 10 * HOUR, LONDON, "failure", located=False)  # forgotten: new
    b.add("kim", 14 * day + 12 * HOUR, LONDON, located=False)  # the failure did not teach it
    for minutes in (0, 5, 10):  # mistyped passwords at home: home stays known
        b.add("kim", 15 * day + 10 * HOUR + minutes * MINUTE, BOULDER, "failure", located=False)
    b.add("kim", 15 * day + 10 * HOUR + 15 * MINUTE, BOULDER, located=False)
    return b.events


def population(seed: int, entities: int, days: int) -> list[Event]:
    """Generated entities: home, mobile and hotel networks, trips, devices, roles, failures."""
    rng = random.Random(seed)
    places = [DENVER, BOULDER, BUCHAREST, SAO_PAULO, LONDON, ASHBURN]
    b = Builder()
    for index in range(entities):
        entity = f"p{index}"
        home = rng.choice(places)
        devices = rng.sample(["Chrome/macOS", "Safari/iOS", "Edge/Windows", "aws-cli"], 2)
        roles = [f"arn:aws:iam::1:role/R{rng.randint(0, 5)}" for _ in range(2)]
        start = rng.randint(0, days // 2)
        gap = rng.random() < 0.2  # a long silence in the middle
        trip_left = 0
        where = home
        for day in range(start, days):
            if gap and days // 2 <= day < days // 2 + 12:
                continue
            if trip_left == 0 and rng.random() < 0.08:
                trip_left, where = rng.randint(1, 3), rng.choice(places)
            place = where if trip_left else home
            trip_left = max(0, trip_left - 1)
            mobile = f"100.{index % 200}.{day}.{rng.randint(1, 9)}"
            seconds = sorted(rng.sample(range(6 * 3600, 22 * 3600), rng.randint(1, 7)))
            for second in seconds:
                ip = mobile if rng.random() < 0.3 else place[4]
                b.add(
                    entity,
                    day * DAY_MS + second * 1000 + rng.randint(0, 999),
                    place,
                    "failure" if rng.random() < 0.06 else "success",
                    source="okta" if rng.random() < 0.6 else "cloudtrail",
                    src_ip=ip,
                    device=rng.choice(devices),
                    role_arn=rng.choice(roles) if rng.random() < 0.5 else None,
                    latitude=place[2] + rng.choice((0.0, 0.0005, 0.0125)),
                )
    return b.events


# --- running the SQL ---------------------------------------------------------------------------

_TYPES = {"STRING": "STRING", "BIGINT": "LONG", "DOUBLE": "DOUBLE", "BOOLEAN": "BOOLEAN"}
_DATATYPES = {"STRING": "STRING", "BIGINT": "BIGINT", "DOUBLE": "DOUBLE", "BOOLEAN": "BOOLEAN"}
_VALUE_COLUMNS = [f"v_{kind}" for kind in KINDS]


@pytest.fixture(scope="module")
def flink() -> tuple[Any, Any]:
    from seamwatch.jobs.runtime import create_environments

    return create_environments(1, "thread")


def run_sql(
    flink: tuple[Any, Any], events: list[Event], config: BaselineConfig, name: str
) -> dict[str, Flags]:
    """The job baseline's flags for ``events`` (fed in event-time order): event_id -> flags."""
    from pyflink.common import Row, Types
    from pyflink.table import DataTypes, Schema

    from seamwatch.jobs.baseline import create_baseline_view

    env, t_env = flink
    names = [field for field, _ in EVENT_FIELDS] + _VALUE_COLUMNS
    sql_types = [sql_type for _, sql_type in EVENT_FIELDS] + ["STRING"] * len(_VALUE_COLUMNS)
    row_type = Types.ROW_NAMED(names, [getattr(Types, _TYPES[t])() for t in sql_types])
    rows = []
    for event in sorted(events, key=lambda e: e.event_time):
        values = event_values(event, config)
        rows.append(
            Row(
                *[getattr(event, field) for field, _ in EVENT_FIELDS],
                *[values.get(kind) for kind in KINDS],
            )
        )
    builder = Schema.new_builder()
    for column, sql_type in zip(names, sql_types, strict=True):
        builder = builder.column(column, getattr(DataTypes, _DATATYPES[sql_type])())
    schema = (
        builder.column_by_expression("rowtime", "TO_TIMESTAMP_LTZ(event_time, 3)")
        .watermark("rowtime", "rowtime - INTERVAL '1' SECOND")
        .build()
    )
    stream = env.from_collection(rows, type_info=row_type)
    t_env.create_temporary_view(f"{name}_input", t_env.from_data_stream(stream, schema))
    create_baseline_view(t_env, f"{name}_input", name, config)
    # The output's rowtime is still a time attribute: an event-time OVER window accepts it.
    query = (
        f"SELECT event_id, {', '.join(FLAG_FIELDS)}, CAST(rowtime AS STRING) AS event_at,"
        " COUNT(*) OVER (PARTITION BY entity_id ORDER BY rowtime) AS nth"
        f" FROM {name}"
    )
    found: dict[str, Flags] = {}
    with t_env.sql_query(query).execute().collect() as results:
        for row in results:
            found[row[0]] = Flags(*row[1 : 1 + len(FLAG_FIELDS)])
    return found


def _differences(
    events: list[Event], expected: dict[str, Flags], actual: dict[str, Flags]
) -> Iterator[str]:
    for event in sorted(events, key=lambda e: (e.entity_id or "", e.event_time)):
        want, got = expected[event.event_id], actual.get(event.event_id)
        if got is None:
            yield f"{event.event_id}: missing from the job's output"
            continue
        for flag in FLAG_FIELDS:
            if getattr(want, flag) != getattr(got, flag):
                yield (
                    f"{event.event_id} at +{(event.event_time - T0) / DAY_MS:.3f} d"
                    f" {event.outcome} {event.country}: {flag} python={getattr(want, flag)}"
                    f" job={getattr(got, flag)}"
                )


@pytest.mark.flink
def test_flags_equal_observe_event_by_event(flink: tuple[Any, Any]) -> None:
    events = scenario()
    expected = reference(events, CONFIG)
    actual = run_sql(flink, events, CONFIG, "scenario_flags")

    assert sorted(actual) == sorted(expected)
    assert list(_differences(events, expected, actual)) == []
    # The scenario exercises what it claims to (the comparison above could not pass vacuously).
    by_id = {event.event_id: event for event in events}
    raised = {
        flag: {i for i, flags in expected.items() if getattr(flags, flag)} for flag in FLAG_FIELDS
    }
    for flag in ("new_country", "new_ip", "new_asn", "new_device", "new_role"):
        assert raised[flag], flag
    assert {by_id[i].entity_id for i in raised["impossible_travel"]} >= {"wes", "rae"}
    assert any(by_id[i].outcome == "failure" for i in raised["new_country"])
    assert any(flags.travel_speed_kmh == 0.0 for flags in actual.values())

    # The output's rowtime still orders a MATCH_RECOGNIZE, as the rules downstream need.
    _, t_env = flink
    matched = (
        "SELECT travel_id FROM scenario_flags MATCH_RECOGNIZE ("
        " PARTITION BY entity_id ORDER BY rowtime MEASURES A.event_id AS travel_id"
        " ONE ROW PER MATCH AFTER MATCH SKIP PAST LAST ROW PATTERN (A)"
        " DEFINE A AS A.impossible_travel)"
    )
    with t_env.sql_query(matched).execute().collect() as results:
        assert {row[0] for row in results} == raised["impossible_travel"]


@pytest.mark.flink
@pytest.mark.parametrize(
    ("label", "config"),
    [
        # The job's defaults: value lists bounded (mobile addresses are evicted and come back).
        ("defaults", BaselineConfig()),
        # Two values per kind: eviction by decayed frequency on nearly every new value.
        ("tiny_lists", BaselineConfig(max_ips=2, max_countries=2, max_asns=2, max_roles=2)),
        # A short memory: values forgotten while the entity stays active, and entity resets.
        ("short_memory", CONFIG),
    ],
)
def test_flags_on_a_generated_population_equal_observe(
    flink: tuple[Any, Any], label: str, config: BaselineConfig
) -> None:
    events = population(seed=11, entities=40, days=40)
    expected = reference(events, config)
    actual = run_sql(flink, events, config, f"population_{label}")

    differences = list(_differences(events, expected, actual))
    flagged = sum(bool(getattr(flags, flag)) for flags in expected.values() for flag in FLAG_FIELDS)
    print(f"{len(events)} events, {flagged} flags raised, {len(differences)} differences")
    assert flagged > 100
    assert differences[:20] == []
    if label != "short_memory":
        # The comparison covers eviction: with unbounded lists observe itself would differ.
        assert expected != reference(events, replace_limits(config, 64))


def replace_limits(config: BaselineConfig, limit: int) -> BaselineConfig:
    """``config`` with every per-kind value limit set to ``limit``."""
    return config.model_copy(
        update={
            "max_ips": limit,
            "max_countries": limit,
            "max_asns": limit,
            "max_devices": limit,
            "max_roles": limit,
        }
    )
