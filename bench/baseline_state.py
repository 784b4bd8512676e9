"""State size per entity and speed of the behaviour baseline (``seamwatch.udfs.behaviour``).

Builds ``--entities`` entities with realistic ``--days`` histories from ``random.Random(seed)``:

- humans (85 %): 1-3 home IPv4 addresses (a quarter also have a home IPv6 /64 whose interface
  id rotates daily), a mobile carrier whose address changes every day, 2-4 device families,
  1-6 SSO roles with real-length ARNs, 1-8 events per working day, trips abroad (a new
  country, hotel network and addresses for 1-4 days) about every 8 weeks, 3 % failures;
- services (15 %): one SDK agent, 1-3 roles, 1-4 addresses of one cloud network, 3-12 events
  every day.

Prints the encoded state size per entity (mean / p99 / max bytes) next to the 2 KB target,
the share of events that raised each flag in this benign population, and the speed of:

- ``observe``: the step alone;
- ``observe + decode/encode``: what the Flink function does per event (read state, step, write);
- ``enrich``: offline geolocation with a realistic address mix (mostly cache hits), and cold
  (distinct public addresses, every lookup a cache miss).

The machine may be shared and noisy: compare numbers from the same run. Usage::

    python bench/baseline_state.py [--entities 100000] [--days 30] [--seed 7]
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field

from seamwatch.udfs.behaviour import (
    DAY_MS,
    BaselineConfig,
    BehaviourState,
    decode_state,
    encode_state,
    observe,
)
from seamwatch.udfs.geo import enrich, geolocate, lookup_cache_info
from seamwatch.udfs.records import Event

TARGET_BYTES = 2048
START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z

PLACES = (
    ("United States", "New York", 40.71, -74.01, 7922),
    ("United States", "San Francisco", 37.77, -122.42, 7018),
    ("United Kingdom", "London", 51.51, -0.13, 2856),
    ("Germany", "Berlin", 52.52, 13.40, 3320),
    ("India", "Bengaluru", 12.97, 77.59, 24560),
    ("Brazil", "Sao Paulo", -23.55, -46.63, 28573),
    ("Japan", "Tokyo", 35.68, 139.69, 2516),
    ("Australia", "Sydney", -33.87, 151.21, 1221),
    ("Poland", "Warsaw", 52.23, 21.01, 5617),
    ("Canada", "Toronto", 43.65, -79.38, 812),
)
DEVICES = (
    "Chrome/macOS",
    "Chrome/Windows",
    "Safari/macOS",
    "Safari/iOS",
    "Edge/Windows",
    "Firefox/Linux",
    "Chrome/Android",
    "aws-cli",
    "Boto3",
    "Terraform",
    "console",
    "aws-sdk-go-v2",
)
ROLES = (
    "AdministratorAccess",
    "PowerUserAccess",
    "ReadOnlyAccess",
    "DataEngineer",
    "SecurityAudit",
    "BillingViewer",
    "PlatformDeploy",
    "IncidentResponder",
)


@dataclass
class Profile:
    """Who an entity is: where it lives, what it uses, how busy it is."""

    human: bool
    home: tuple[str, str, float, float, int]
    ips: list[str]
    ipv6_prefix: str | None
    mobile_asn: int
    devices: list[str]
    roles: list[str]
    per_day: tuple[int, int]
    events: list[Event] = field(default_factory=list)


def _ipv4(rng: random.Random) -> str:
    return (
        f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    )


def _role(rng: random.Random, account: int) -> str:
    name = rng.choice(ROLES)
    suffix = f"{rng.getrandbits(64):016x}"
    return (
        f"arn:aws:iam::{account:012d}:role/aws-reserved/sso.amazonaws.com/"
        f"AWSReservedSSO_{name}_{suffix}"
    )


def profile(rng: random.Random) -> Profile:
    """A random entity."""
    human = rng.random() < 0.85
    account = rng.randint(10**11, 10**12 - 1)
    if human:
        return Profile(
            human=True,
            home=rng.choice(PLACES),
            ips=[_ipv4(rng) for _ in range(rng.randint(1, 3))],
            ipv6_prefix=f"2a02:{rng.getrandbits(16):x}:{rng.getrandbits(16):x}:{rng.getrandbits(16):x}"
            if rng.random() < 0.25
            else None,
            mobile_asn=rng.randint(1000, 60000),
            devices=rng.sample(DEVICES[:7], rng.randint(1, 3)) + rng.sample(DEVICES[7:], 1),
            roles=[_role(rng, account) for _ in range(rng.randint(1, 6))],
            per_day=(1, 8),
        )
    return Profile(
        human=False,
        home=("United States", "Ashburn", 39.04, -77.49, 14618),
        ips=[_ipv4(rng) for _ in range(rng.randint(1, 4))],
        ipv6_prefix=None,
        mobile_asn=0,
        devices=[rng.choice(("Boto3", "aws-sdk-go-v2", "Terraform"))],
        roles=[_role(rng, account) for _ in range(rng.randint(1, 3))],
        per_day=(3, 12),
    )


def history(rng: random.Random, who: Profile, days: int) -> list[Event]:
    """``days`` of events of one entity, in time order."""
    events: list[Event] = []
    trip_left = 0
    trip: tuple[str, str, float, float, int] = who.home
    hotel: list[str] = []
    for day in range(days):
        if who.human and day % 7 in (5, 6) and rng.random() < 0.8:
            continue  # weekend
        if who.human and trip_left == 0 and rng.random() < 1 / 40:
            trip_left = rng.randint(1, 4)
            trip = rng.choice([p for p in PLACES if p[0] != who.home[0]])
            hotel = [_ipv4(rng) for _ in range(rng.randint(1, 3))]
        away = trip_left > 0
        trip_left = max(0, trip_left - 1)
        place = trip if away else who.home
        mobile_ip = _ipv4(rng)
        count = rng.randint(*who.per_day)
        times = sorted(rng.randint(7 * 3600, 20 * 3600) for _ in range(count))
        for second in times:
            roll = rng.random()
            if away:
                ip, asn = rng.choice(hotel), place[4] + 1
            elif who.human and roll < 0.2:
                ip, asn = mobile_ip, who.mobile_asn
            elif who.ipv6_prefix and roll < 0.45:
                ip, asn = f"{who.ipv6_prefix}:{day:x}::{rng.getrandbits(16):x}", place[4]
            else:
                ip, asn = rng.choice(who.ips), place[4]
            device = rng.choice(who.devices)
            failed = rng.random() < 0.03
            events.append(
                Event(
                    event_id="e",
                    source="cloudtrail" if device in DEVICES[7:] else "okta",
                    event_time=START_MS + day * DAY_MS + second * 1000,
                    action="AssumeRoleWithSAML",
                    outcome="failure" if failed else "success",
                    raw_ref="bench",
                    src_ip=ip,
                    ip_kind="public",
                    country=place[0],
                    city=place[1],
                    latitude=place[2] + rng.uniform(-0.05, 0.05),
                    longitude=place[3] + rng.uniform(-0.05, 0.05),
                    asn=asn,
                    device=device,
                    role_arn=rng.choice(who.roles),
                )
            )
    return events


CHUNK = 1_000


@dataclass
class Part:
    """What one worker measured for a range of entities."""

    sizes: list[int]
    flagged: Counter[str]
    events: int
    observe_seconds: float


def _population(chunk: tuple[int, int, int, int]) -> Part:
    """Histories of entities ``first..last-1`` (each from its own seeded generator), observed."""
    seed, days, first, last = chunk
    config = BaselineConfig()
    part = Part([], Counter(), 0, 0.0)
    for index in range(first, last):
        rng = random.Random(f"{seed}:{index}")
        events = history(rng, profile(rng), days)
        state = BehaviourState()
        begin = time.perf_counter()
        for event in events:
            state, flags = observe(state, event, config)
            for name in FLAG_NAMES:
                if getattr(flags, name):
                    part.flagged[name] += 1
        part.observe_seconds += time.perf_counter() - begin
        part.events += len(events)
        part.sizes.append(len(encode_state(state).encode()))
    return part


FLAG_NAMES = ("new_ip", "new_country", "new_asn", "new_device", "new_role", "impossible_travel")


def _p(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    """Build the population, then print sizes and speeds."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--speed-entities", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=2, help="processes for the population")
    args = parser.parse_args()
    config = BaselineConfig()

    started = time.perf_counter()
    chunks = [
        (args.seed, args.days, first, min(first + CHUNK, args.entities))
        for first in range(0, args.entities, CHUNK)
    ]
    sizes: list[int] = []
    flagged: Counter[str] = Counter()
    total_events = 0
    observe_seconds = 0.0
    with multiprocessing.Pool(args.workers) as pool:
        for part in pool.imap(_population, chunks):
            sizes += part.sizes
            flagged += part.flagged
            total_events += part.events
            observe_seconds += part.observe_seconds
    build_seconds = time.perf_counter() - started

    print(f"entities: {args.entities:,}  days: {args.days}  events: {total_events:,}")
    print(
        f"state bytes per entity: mean {statistics.fmean(sizes):.0f}  p99 {_p(sizes, 0.99)}  "
        f"max {max(sizes)}  (target <= {TARGET_BYTES}; over target: "
        f"{sum(s > TARGET_BYTES for s in sizes)})"
    )
    print(f"total state: {sum(sizes) / 2**20:.1f} MiB for {args.entities:,} entities")
    shares = "  ".join(f"{k} {100 * v / total_events:.2f}%" for k, v in sorted(flagged.items()))
    print(f"benign events flagged: {shares}")
    print(
        f"observe (population build, per process): {total_events / observe_seconds:,.0f} "
        f"events/s (build incl. generation {build_seconds:.0f} s, {args.workers} processes)"
    )

    # Per-event cost as the Flink function pays it: decode, observe, encode, one state per key,
    # events of all entities interleaved in time order.
    speed_rng = random.Random(args.seed + 1)
    stream = sorted(
        (
            (event.event_time, key, event)
            for key in range(args.speed_entities)
            for event in history(speed_rng, profile(speed_rng), args.days)
        ),
        key=lambda item: item[0],
    )
    store: dict[int, str] = {}
    begin = time.perf_counter()
    for _, key, event in stream:
        state, _ = observe(decode_state(store.get(key)), event, config)
        store[key] = encode_state(state)
    seconds = time.perf_counter() - begin
    print(
        f"observe + decode/encode: {len(stream) / seconds:,.0f} events/s "
        f"({1e6 * seconds / len(stream):.1f} us/event, {len(stream):,} events, "
        f"{args.speed_entities:,} keys)"
    )

    # enrich: realistic mix (events of the population above: few distinct addresses).
    sample = [event for _, _, event in stream[:50_000]]
    bare = [
        Event("e", "cloudtrail", ev.event_time, "x", "success", "b", src_ip=ev.src_ip)
        for ev in sample
    ]
    geolocate("81.2.69.142")  # open the databases outside the timing
    begin = time.perf_counter()
    for event in bare:
        enrich(event)
    seconds = time.perf_counter() - begin
    info = lookup_cache_info()
    print(
        f"enrich (realistic mix): {len(bare) / seconds:,.0f} events/s "
        f"(cache hits {info.hits:,}, misses {info.misses:,})"
    )
    cold_rng = random.Random(args.seed + 2)
    cold = [
        Event("e", "cloudtrail", 0, "x", "success", "b", src_ip=_ipv4(cold_rng))
        for _ in range(20_000)
    ]
    begin = time.perf_counter()
    for event in cold:
        enrich(event)
    seconds = time.perf_counter() - begin
    print(f"enrich (cold, distinct addresses): {len(cold) / seconds:,.0f} lookups/s")


if __name__ == "__main__":
    main()
