"""Behaviour baselines: each flag, learning, novelty, failures, bounds, expiry, travel, state."""

from __future__ import annotations

from dataclasses import fields

import pytest
from pydantic import ValidationError

from seamwatch.udfs.behaviour import (
    DEFAULT_CONFIG,
    BaselineConfig,
    BehaviourState,
    Flags,
    apply_flags,
    decode_state,
    encode_state,
    expire,
    haversine_km,
    observe,
    role_value,
)
from seamwatch.udfs.records import Event

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
T0 = 1_700_000_000_000  # 2023-11-14, event time: no test reads a clock

LONDON = (51.5074, -0.1278)
MANCHESTER = (53.4808, -2.2426)
NEW_YORK = (40.7128, -74.0060)
SUVA = (-18.1416, 178.4419)  # Fiji, east longitude just west of the date line
APIA = (-13.8333, -171.7500)  # Samoa, west longitude just east of it

HOME = {
    "src_ip": "81.2.69.142",
    "country": "United Kingdom",
    "asn": 20712,
    "device": "Chrome/macOS",
    "role_arn": "arn:aws:iam::111122223333:role/Developer",
    "geo_source": "okta",
}
NO_FLAGS = Flags()


def ev(at_ms: int, outcome: str = "success", /, **overrides: object) -> Event:
    """An event of one entity at ``T0 + at_ms`` with the home values unless overridden."""
    event = Event("e", "cloudtrail", T0 + at_ms, "AssumeRole", "success", "t:1")
    event.outcome = outcome  # type: ignore[assignment]
    for name, value in {**HOME, **overrides}.items():
        setattr(event, name, value)
    return event


def run(
    events: list[Event], config: BaselineConfig = DEFAULT_CONFIG
) -> tuple[BehaviourState, list[Flags]]:
    """Feed ``events`` through observe with an encode/decode round trip per event, as Flink."""
    text: str | None = None
    out = []
    state = BehaviourState()
    for event in events:
        state, flags = observe(decode_state(text), event, config)
        text = encode_state(state)
        out.append(flags)
    return decode_state(text), out


def settled(config: BaselineConfig = DEFAULT_CONFIG) -> BehaviourState:
    """An entity with 8 days of home history (past the default 7-day learning period)."""
    state, flags = run([ev(day * DAY) for day in range(9)], config)
    assert all(f == NO_FLAGS for f in flags)
    return state


AFTER = 9 * DAY  # first time offset after settled()


def test_first_event_and_the_learning_period_raise_no_new_flags() -> None:
    _, flags = run(
        [
            ev(0),
            ev(1 * DAY, src_ip="198.199.1.1", country="Germany", asn=3320, device="curl"),
            ev(6 * DAY, role_arn="arn:aws:iam::111122223333:role/Admin"),
        ]
    )
    assert flags == [NO_FLAGS, NO_FLAGS, NO_FLAGS]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"src_ip": "198.199.1.1"}, Flags(new_ip=True)),
        ({"country": "Romania"}, Flags(new_country=True)),
        ({"asn": 9009}, Flags(new_asn=True)),
        ({"device": "aws-cli"}, Flags(new_device=True)),
        ({"role_arn": "arn:aws:iam::111122223333:role/Admin"}, Flags(new_role=True)),
        (
            {"src_ip": "5.2.1.1", "country": "Romania", "asn": 9009, "device": "curl"},
            Flags(new_ip=True, new_country=True, new_asn=True, new_device=True),
        ),
        ({}, NO_FLAGS),
    ],
)
def test_each_new_flag_after_learning(change: dict[str, object], expected: Flags) -> None:
    _, flags = observe(settled(), ev(AFTER, **change))
    assert flags == expected


def test_device_comes_from_the_user_agent_when_the_event_has_no_family() -> None:
    state = settled()
    cli = "aws-cli/2.13.0 Python/3.11.4 Darwin/22.5.0 exe/x86_64"
    state, first = observe(state, ev(AFTER, device=None, user_agent=cli))
    _, later = observe(state, ev(AFTER + 2 * HOUR, device=None, user_agent=cli.replace("13", "15")))
    assert (first, later) == (Flags(new_device=True), NO_FLAGS)


def test_asn_falls_back_to_the_as_organisation() -> None:
    config = DEFAULT_CONFIG
    state, _ = run([ev(d * DAY, asn=None, as_org="Andrews & Arnold Ltd") for d in range(9)], config)
    _, same = observe(state, ev(AFTER, asn=None, as_org="ANDREWS &  arnold ltd"))
    _, other = observe(state, ev(AFTER, asn=None, as_org="GOOGLE"))
    assert (same, other) == (NO_FLAGS, Flags(new_asn=True))


def test_role_of_an_assumed_role_session() -> None:
    session = ev(0, role_arn=None, principal="arn:aws:sts::111122223333:assumed-role/Dev/alice")
    assert role_value(session) == "arn:aws:iam::111122223333:role/Dev"
    state = settled()
    _, flags = observe(state, ev(AFTER, role_arn=None, principal=session.principal))
    assert flags == Flags(new_role=True)
    _, known = observe(
        state,
        ev(AFTER, role_arn=None, principal="arn:aws:sts::111122223333:assumed-role/Developer/x"),
    )
    assert known == NO_FLAGS


def test_learning_days_is_configurable() -> None:
    config = BaselineConfig(learning_days=0)
    _, flags = run([ev(0), ev(MINUTE, src_ip="198.199.1.1")], config)
    assert flags == [NO_FLAGS, Flags(new_ip=True)]
    longer = BaselineConfig(learning_days=30)
    _, flags = run([ev(0), ev(20 * DAY, src_ip="198.199.1.1")], longer)
    assert flags == [NO_FLAGS, NO_FLAGS]


def test_a_new_value_stays_new_for_the_novelty_window_only() -> None:
    state = settled()
    state, mfa = observe(state, ev(AFTER, country="Romania"))
    state, session = observe(state, ev(AFTER + 8_000, country="Romania"))
    state, sso = observe(state, ev(AFTER + 59 * MINUTE, country="Romania"))
    _, later = observe(state, ev(AFTER + HOUR, country="Romania"))
    assert [f.new_country for f in (mfa, session, sso, later)] == [True, True, True, False]


def test_a_late_event_inside_the_novelty_window_is_still_new() -> None:
    state = settled()
    state, _ = observe(state, ev(AFTER + 10 * MINUTE, country="Romania"))
    _, earlier = observe(state, ev(AFTER, country="Romania"))  # CloudTrail arrives late
    assert earlier.new_country is True


def test_failures_are_flagged_but_do_not_teach() -> None:
    state = settled()
    state, denied = observe(state, ev(AFTER, "failure", src_ip="5.2.1.1", country="Romania"))
    state, denied_again = observe(
        state, ev(AFTER + 2 * HOUR, "failure", src_ip="5.2.1.1", country="Romania")
    )
    _, success = observe(state, ev(AFTER + 3 * HOUR, src_ip="5.2.1.1", country="Romania"))
    expected = Flags(new_ip=True, new_country=True)
    assert (denied, denied_again, success) == (expected, expected, expected)


def test_failures_do_not_start_the_learning_period_or_move_the_last_location() -> None:
    state, _ = run([ev(0, "failure"), ev(DAY, "failure")])
    assert (state.first_ms, state.values, state.point) == (None, {}, None)
    state = settled()
    state, _ = observe(state, ev(AFTER, latitude=LONDON[0], longitude=LONDON[1]))
    state, _ = observe(
        state, ev(AFTER + HOUR, "failure", latitude=NEW_YORK[0], longitude=NEW_YORK[1])
    )
    assert state.point is not None and state.point.latitude == round(LONDON[0], 3)


def test_unknown_outcome_teaches_only_when_configured() -> None:
    state = settled()
    after, _ = observe(state, ev(AFTER, "unknown", src_ip="5.2.1.1"))
    _, flags = observe(after, ev(AFTER + 2 * HOUR, src_ip="5.2.1.1"))
    assert flags == Flags(new_ip=True)
    config = BaselineConfig(learn_from_unknown_outcome=True)
    after, _ = observe(state, ev(AFTER, "unknown", src_ip="5.2.1.1"), config)
    _, flags = observe(after, ev(AFTER + 2 * HOUR, src_ip="5.2.1.1"), config)
    assert flags == NO_FLAGS


def test_private_addresses_are_not_new_ips_by_default() -> None:
    state = settled()
    _, flags = observe(state, ev(AFTER, src_ip="10.9.8.7", ip_kind="private"))
    assert flags == NO_FLAGS
    config = BaselineConfig(new_ip_kinds=("public", "private"))
    _, flags = observe(settled(config), ev(AFTER, src_ip="10.9.8.7"), config)
    assert flags == Flags(new_ip=True)


def test_ipv6_addresses_are_compared_by_their_64_prefix() -> None:
    state, _ = run([ev(d * DAY, src_ip=f"2a02:c7c:1234:5678::{d + 1:x}") for d in range(9)])
    _, same_lan = observe(state, ev(AFTER, src_ip="2a02:c7c:1234:5678:aaaa:bbbb:cccc:dddd"))
    _, other = observe(state, ev(AFTER, src_ip="2a02:c7c:1234:5679::1"))
    assert (same_lan, other) == (NO_FLAGS, Flags(new_ip=True))


def test_state_is_bounded_and_keeps_the_frequent_home_values() -> None:
    config = BaselineConfig(max_ips=4)
    events = []
    for day in range(30):
        events.append(ev(day * DAY, src_ip="81.2.69.142"))  # home, daily
        events.append(ev(day * DAY + HOUR, src_ip=f"198.51.{day}.1", ip_kind="public"))
    state, _ = run(events, config)
    assert len(state.values["ip"]) == 4
    _, home = observe(state, ev(30 * DAY))
    _, hotel = observe(state, ev(30 * DAY, src_ip="198.51.2.1", ip_kind="public"))
    _, recent = observe(state, ev(30 * DAY, src_ip="198.51.29.1", ip_kind="public"))
    assert (home, hotel, recent) == (NO_FLAGS, Flags(new_ip=True), NO_FLAGS)


def test_values_unseen_for_forget_after_days_expire() -> None:
    config = BaselineConfig(forget_after_days=30)
    state = settled(config)
    state, _ = observe(state, ev(AFTER, src_ip="5.2.1.1"), config)  # novel once, then unseen
    for day in range(10, 45):
        state, _ = observe(state, ev(day * DAY), config)
    assert len(state.values["ip"]) == 1
    _, flags = observe(state, ev(45 * DAY, src_ip="5.2.1.1"), config)
    assert flags == Flags(new_ip=True)


def test_an_entity_silent_past_forget_after_days_starts_over() -> None:
    config = BaselineConfig(forget_after_days=30)
    state = settled(config)
    assert expire(state, T0 + 8 * DAY + 31 * DAY, config) == BehaviourState()
    _, flags = observe(state, ev(8 * DAY + 31 * DAY, src_ip="5.2.1.1", country="Romania"), config)
    assert flags == NO_FLAGS  # learning again: a returning leaver is not an alert storm


@pytest.mark.parametrize(
    ("a", "b", "gap_ms", "impossible"),
    [
        (LONDON, NEW_YORK, HOUR, True),  # 5,570 km in one hour
        (LONDON, NEW_YORK, 8 * HOUR, False),  # a flight
        (LONDON, MANCHESTER, 5 * MINUTE, False),  # under the minimum distance
        (LONDON, LONDON, 0, False),
        (SUVA, APIA, 30 * MINUTE, True),  # 1,152 km across the date line
        (SUVA, APIA, 2 * HOUR, False),  # 576 km/h: a plane makes it
        (APIA, SUVA, 30 * MINUTE, True),
    ],
)
def test_impossible_travel(
    a: tuple[float, float], b: tuple[float, float], gap_ms: int, impossible: bool
) -> None:
    state = settled()
    state, first = observe(state, ev(AFTER, latitude=a[0], longitude=a[1]))
    _, second = observe(state, ev(AFTER + gap_ms, latitude=b[0], longitude=b[1]))
    assert (first.impossible_travel, first.travel_speed_kmh) == (False, None)
    assert second.impossible_travel is impossible
    distance = haversine_km(*a, *b)
    expected_speed = distance / (max(gap_ms, MINUTE) / HOUR)
    assert second.travel_speed_kmh == pytest.approx(expected_speed, rel=1e-3, abs=0.1)


def test_date_line_distance_is_the_short_way_round() -> None:
    assert haversine_km(*SUVA, *APIA) == pytest.approx(1152.3, abs=1)
    assert haversine_km(0, 179.5, 0, -179.5) == pytest.approx(111.2, abs=0.5)


def test_impossible_travel_applies_during_learning() -> None:
    _, flags = run(
        [
            ev(0, latitude=LONDON[0], longitude=LONDON[1]),
            ev(HOUR, latitude=NEW_YORK[0], longitude=NEW_YORK[1], src_ip="3.3.3.3"),
        ]
    )
    assert flags[1].impossible_travel is True
    assert (flags[1].new_ip, flags[1].new_country) == (False, False)


def test_location_fuzz_absorbs_nearby_city_noise() -> None:
    # 550 km in 30 minutes is 1,100 km/h raw, but 350 km after 2 x 100 km of fuzz.
    config = BaselineConfig()
    state = settled(config)
    state, _ = observe(state, ev(AFTER, latitude=50.0, longitude=0.0), config)
    _, flags = observe(state, ev(AFTER + 30 * MINUTE, latitude=54.946, longitude=0.0), config)
    assert flags.impossible_travel is False
    assert flags.travel_speed_kmh == pytest.approx(1100, abs=5)
    strict = BaselineConfig(location_fuzz_km=0)
    state = settled(strict)
    state, _ = observe(state, ev(AFTER, latitude=50.0, longitude=0.0), strict)
    _, flags = observe(state, ev(AFTER + 30 * MINUTE, latitude=54.946, longitude=0.0), strict)
    assert flags.impossible_travel is True


def test_observe_does_not_modify_the_state_it_is_given() -> None:
    state = settled()
    before = encode_state(state)
    observe(state, ev(AFTER, src_ip="5.2.1.1", latitude=1.0, longitude=2.0))
    assert encode_state(state) == before


def test_encode_decode_round_trip() -> None:
    state = settled()
    state, _ = observe(state, ev(AFTER, country="Romania", latitude=44.4268, longitude=26.1025))
    text = encode_state(state)
    assert decode_state(text) == state
    assert "\n" not in text and text.startswith("b1|")


@pytest.mark.parametrize("text", [None, "", "garbage", "b0|1|2||||||", "b1|zz!|||||||", "b1|1"])
def test_unreadable_state_starts_fresh(text: str | None) -> None:
    assert decode_state(text) == BehaviourState()


def test_full_state_stays_under_two_kilobytes() -> None:
    config = DEFAULT_CONFIG
    state = BehaviourState()
    for i in range(200):
        state, _ = observe(
            state,
            ev(
                i * HOUR,
                src_ip=f"2a02:c7c:{i:x}::1",
                country=f"Country {i}",
                asn=4_200_000_000 + i,
                device=f"Browser {i}/OS {i}",
                role_arn=f"arn:aws:iam::111122223333:role/aws-reserved/sso/AWSReservedSSO_{i}_x",
                latitude=-33.868,
                longitude=151.209,
            ),
            config,
        )
    sizes = {kind: len(seen) for kind, seen in state.values.items()}
    assert sizes == {"ip": 10, "country": 6, "asn": 8, "device": 6, "role": 10}
    assert len(encode_state(state).encode()) <= 2048


@pytest.mark.parametrize(
    "bad",
    [
        {"learning_days": -1},
        {"max_speed_kmh": 0},
        {"forget_after_days": 0},
        {"max_ips": 0},
        {"novelty_seconds": -5},
        {"min_travel_km": 100, "location_fuzz_km": 100},
        {"unknown_option": 1},
    ],
)
def test_bad_config_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        BaselineConfig.model_validate(bad)


def test_apply_flags_sets_every_flag_field() -> None:
    flags = Flags(True, True, True, True, True, True, 1234.5)
    event = apply_flags(ev(0), flags)
    assert [getattr(event, f.name) for f in fields(Flags)] == [
        True,
        True,
        True,
        True,
        True,
        True,
        1234.5,
    ]


def test_database_geography_does_not_count_as_travel() -> None:
    """Okta's provider and the offline database disagree on where an address is: a sign-in
    and an AWS call from the same IP a minute later must not look like a flight."""
    config = BaselineConfig(learning_days=0)
    state, _ = run([ev(0, latitude=LONDON[0], longitude=LONDON[1])], config)
    _, flags = observe(
        state,
        ev(60_000, latitude=NEW_YORK[0], longitude=NEW_YORK[1], geo_source="geoip"),
        config,
    )
    assert flags.impossible_travel is False
