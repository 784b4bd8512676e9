"""Behaviour baselines per entity: what is new for this person, and impossible travel.

The logic the keyed Flink function runs for each event of one entity, as plain functions over a
small state (``docs/baselines.md`` has the semantics and the measured sizes)::

    state = decode_state(value_state.value())
    state, flags = observe(state, event, config)
    value_state.update(encode_state(state))
    event = apply_flags(event, flags)

What is flagged:

- ``new_ip`` (public addresses; IPv6 by its /64, since privacy addresses rotate),
  ``new_country``, ``new_asn``, ``new_device`` (:func:`seamwatch.udfs.useragent.device_family`)
  and ``new_role`` (the role assumed, or the session's role): the value is not in the entity's
  baseline, or entered it as a novelty less than ``novelty_seconds`` ago (an Okta sign-in from
  a new place writes MFA, session start and SSO events from there: all are "new").
  No ``new_*`` flag while the entity is learning (less than ``learning_days`` of history).
- ``impossible_travel``: the great-circle distance from the entity's last geolocated
  successful event is at least ``min_travel_km`` and, less ``location_fuzz_km`` at each end's
  city-level precision, could not be covered at ``max_speed_kmh`` in the time between them.
  It applies during learning too. ``travel_speed_kmh`` is the raw speed between the two.

Only successful events teach (values, first-seen time, last location): an attacker's denied
attempts are flagged but do not make a place usual. State is bounded: each kind keeps at most
``max_<kind>`` values, evicting the one with the lowest frequency decayed by recency (a home IP
seen daily outlives a hotel's). Values not seen for ``forget_after_days`` drop out, and an
entity silent that long starts over (the Flink side also sets a state TTL).

Values are stored as 48-bit hashes (8 characters) so that a role ARN costs what a country does.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import math
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from seamwatch.udfs.geo import classify_address, parse_ip
from seamwatch.udfs.records import Event
from seamwatch.udfs.useragent import device_family

DAY_MS = 86_400_000
EARTH_RADIUS_KM = 6371.0088
STATE_VERSION = "b1"
MAX_COUNT = 1_000_000
MIN_TRAVEL_SECONDS = 60  # two places in the same minute are compared as one minute apart

Kind = Literal["ip", "country", "asn", "device", "role"]
KINDS: tuple[Kind, ...] = ("ip", "country", "asn", "device", "role")


class BaselineConfig(BaseModel):
    """Thresholds of the baseline step; validated when built, immutable after."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    learning_days: float = Field(default=7.0, ge=0)
    novelty_seconds: int = Field(default=3600, ge=0)
    forget_after_days: float = Field(default=90.0, gt=0)
    max_speed_kmh: float = Field(default=1000.0, gt=0)
    min_travel_km: float = Field(default=500.0, ge=0)
    location_fuzz_km: float = Field(default=100.0, ge=0)
    half_life_days: float = Field(default=14.0, gt=0)
    max_ips: int = Field(default=10, ge=1, le=64)
    max_countries: int = Field(default=6, ge=1, le=64)
    max_asns: int = Field(default=8, ge=1, le=64)
    max_devices: int = Field(default=6, ge=1, le=64)
    max_roles: int = Field(default=10, ge=1, le=64)
    ipv6_prefix_length: int = Field(default=64, ge=1, le=128)
    new_ip_kinds: tuple[Literal["public", "private"], ...] = ("public",)
    learn_from_unknown_outcome: bool = False

    @model_validator(mode="after")
    def _fuzz_below_distance(self) -> BaselineConfig:
        if 2 * self.location_fuzz_km > self.min_travel_km > 0:
            raise ValueError(
                f"min_travel_km ({self.min_travel_km}) must be at least twice "
                f"location_fuzz_km ({self.location_fuzz_km})"
            )
        return self

    def limit(self, kind: Kind) -> int:
        """How many values of ``kind`` an entity keeps."""
        return {
            "ip": self.max_ips,
            "country": self.max_countries,
            "asn": self.max_asns,
            "device": self.max_devices,
            "role": self.max_roles,
        }[kind]


DEFAULT_CONFIG = BaselineConfig()


@dataclass(slots=True)
class Seen:
    """One remembered value: its hash, a hit count and when it was first and last seen.

    ``novel`` says the value entered the baseline as a novelty (after learning), which keeps
    it flagged for the novelty window. Times are epoch seconds.
    """

    key: str
    count: int
    first_s: int
    last_s: int
    novel: bool


@dataclass(slots=True)
class Point:
    """The last geolocated successful event: where (degrees) and when (epoch milliseconds)."""

    latitude: float
    longitude: float
    time_ms: int


TRAVEL_GEO_SOURCES = frozenset({"okta", "entra"})


@dataclass(slots=True)
class BehaviourState:
    """Everything the baseline keeps for one entity (see :func:`encode_state`)."""

    first_ms: int | None = None  # first successful event: the start of the learning period
    last_ms: int | None = None  # latest event of any outcome
    point: Point | None = None
    values: dict[Kind, list[Seen]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Flags:
    """The baseline's verdict on one event (the Event fields of the same names)."""

    new_country: bool = False
    new_ip: bool = False
    new_asn: bool = False
    new_device: bool = False
    new_role: bool = False
    impossible_travel: bool = False
    travel_speed_kmh: float | None = None


#: The Event fields the baseline fills, in Flags order.
FLAG_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Flags))


def apply_flags(event: Event, flags: Flags) -> Event:
    """``event`` with the flag fields set from ``flags`` (a new Event)."""
    return replace(event, **{name: getattr(flags, name) for name in FLAG_FIELDS})


# --- what an event says, per kind --------------------------------------------------------


@lru_cache(maxsize=65_536)
def value_key(value: str) -> str:
    """The 8-character digest a value is stored as (48 bits of BLAKE2b, URL-safe base64)."""
    digest = hashlib.blake2b(value.encode(), digest_size=6).digest()
    return base64.urlsafe_b64encode(digest).decode()


def ip_value(event: Event, config: BaselineConfig = DEFAULT_CONFIG) -> str | None:
    """The address the ``new_ip`` flag compares: IPv6 folded to its prefix; ``None`` to skip."""
    if not event.src_ip:
        return None
    kind, value = _ip_key(event.src_ip, config.ipv6_prefix_length)
    if value is None or (event.ip_kind or kind) not in config.new_ip_kinds:
        return None
    return value


@lru_cache(maxsize=65_536)
def _ip_key(src_ip: str, ipv6_prefix_length: int) -> tuple[str, str | None]:
    address = parse_ip(src_ip)
    if address is None:
        return "non_ip", None
    kind = classify_address(str(address))
    if isinstance(address, ipaddress.IPv6Address):
        network = ipaddress.IPv6Network((address, ipv6_prefix_length), strict=False)
        return kind, str(network)
    return kind, str(address)


def asn_value(event: Event) -> str | None:
    """The network the ``new_asn`` flag compares: ``AS<number>``, else the AS organisation."""
    if event.asn is not None:
        return f"AS{event.asn}"
    if event.as_org:
        return "org:" + " ".join(event.as_org.casefold().split())
    return None


def role_value(event: Event) -> str | None:
    """The role the ``new_role`` flag compares: ``role_arn``, else the assumed-role principal.

    ``arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`` becomes
    ``arn:aws:iam::ACCOUNT:role/NAME`` (the role's path is not in the session ARN).
    """
    if event.role_arn:
        return event.role_arn
    principal = event.principal or ""
    if principal.startswith("arn:") and ":assumed-role/" in principal:
        head, _, rest = principal.partition(":assumed-role/")
        parts = head.split(":")
        name = rest.split("/", 1)[0]
        if len(parts) >= 5 and name:
            return f"arn:{parts[1]}:iam::{parts[4]}:role/{name}"
    return None


def event_values(event: Event, config: BaselineConfig = DEFAULT_CONFIG) -> dict[Kind, str]:
    """The value of each kind the event carries (kinds it does not carry are absent)."""
    found: dict[Kind, str | None] = {
        "ip": ip_value(event, config),
        "country": event.country or None,
        "asn": asn_value(event),
        "device": event.device or device_family(event.user_agent),
        "role": role_value(event),
    }
    return {kind: value for kind, value in found.items() if value is not None}


# --- geography ---------------------------------------------------------------------------


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km; longitudes wrap, so it is right across the date line."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlam = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _travel(
    point: Point | None, latitude: float, longitude: float, time_ms: int, config: BaselineConfig
) -> tuple[bool, float | None]:
    if point is None:
        return False, None
    if point.latitude == latitude and point.longitude == longitude:
        return False, 0.0
    distance = haversine_km(point.latitude, point.longitude, latitude, longitude)
    seconds = max(abs(time_ms - point.time_ms) / 1000, MIN_TRAVEL_SECONDS)
    hours = seconds / 3600
    speed = round(distance / hours, 1)
    effective = max(0.0, distance - 2 * config.location_fuzz_km)
    impossible = distance >= config.min_travel_km and effective / hours > config.max_speed_kmh
    return impossible, speed


# --- the step ----------------------------------------------------------------------------


def _score(seen: Seen, now_s: int, half_life_s: float) -> float:
    """Frequency decayed by how long ago the value was last seen."""
    age = max(0, now_s - seen.last_s)
    return float(seen.count * 0.5 ** (age / half_life_s))


def expire(state: BehaviourState, now_ms: int, config: BaselineConfig) -> BehaviourState:
    """``state`` without values unseen for ``forget_after_days``; empty if the entity was silent.

    Usable from an event-time timer as well as from :func:`observe`. Values are swept on the
    first event of each UTC day (so they may outlive the horizon by up to a day); an entity
    silent past the horizon is reset on its next event whatever the day.
    """
    horizon_ms = int(config.forget_after_days * DAY_MS)
    if state.last_ms is not None and now_ms - state.last_ms > horizon_ms:
        return BehaviourState()
    if state.last_ms is not None and now_ms // DAY_MS == state.last_ms // DAY_MS:
        return state  # values are swept once per (UTC) day of activity, not on every event
    cutoff_s = (now_ms - horizon_ms) // 1000
    point = state.point
    stale_point = point is not None and now_ms - point.time_ms > horizon_ms
    stale_values = any(s.last_s < cutoff_s for seen in state.values.values() for s in seen)
    if not stale_point and not stale_values:
        return state
    values = {
        kind: kept
        for kind, seen in state.values.items()
        if (kept := [s for s in seen if s.last_s >= cutoff_s])
    }
    return BehaviourState(state.first_ms, state.last_ms, None if stale_point else point, values)


def observe(
    state: BehaviourState, event: Event, config: BaselineConfig = DEFAULT_CONFIG
) -> tuple[BehaviourState, Flags]:
    """Flag ``event`` against the entity's ``state`` and return the updated state.

    Pure: ``state`` is not modified. Event time, never the wall clock, drives learning, novelty,
    decay and expiry; events may arrive out of order.
    """
    now_ms = event.event_time
    now_s = now_ms // 1000
    state = expire(state, now_ms, config)
    teaches = event.outcome == "success" or (
        event.outcome == "unknown" and config.learn_from_unknown_outcome
    )
    learning = state.first_ms is None or now_ms - state.first_ms < config.learning_days * DAY_MS
    novelty_s = config.novelty_seconds
    half_life_s = config.half_life_days * 86_400

    new: dict[Kind, bool] = {}
    values = dict(state.values)
    for kind, value in event_values(event, config).items():
        key = value_key(value)
        seen = values.get(kind, [])
        known = None
        for candidate in seen:
            if candidate.key == key:
                known = candidate
                break
        if known is None:
            new[kind] = not learning
        else:
            new[kind] = known.novel and abs(now_s - known.first_s) < novelty_s
        if not teaches:
            continue
        if known is None:
            entry = Seen(key, 1, now_s, now_s, not learning)
            kept = list(seen)
            if len(kept) >= config.limit(kind):
                kept.remove(min(kept, key=lambda s: (_score(s, now_s, half_life_s), s.last_s)))
            kept.append(entry)
        else:
            updated = Seen(
                key,
                min(known.count + 1, MAX_COUNT),
                min(known.first_s, now_s),
                max(known.last_s, now_s),
                known.novel,
            )
            kept = [updated if s is known else s for s in seen]
        values[kind] = kept

    impossible, speed = False, None
    point = state.point
    # Travel is measured between the identity provider's own geolocations only: the offline
    # database places the same address elsewhere than Okta's provider does, so a sign-in and
    # the AWS call from the same IP a minute later would look like a flight.
    if (
        event.latitude is not None
        and event.longitude is not None
        and event.geo_source in TRAVEL_GEO_SOURCES
    ):
        # At the encoded precision (~100 m), so a decoded state equals this one.
        latitude, longitude = round(event.latitude, 3), round(event.longitude, 3)
        impossible, speed = _travel(point, latitude, longitude, now_ms, config)
        if teaches and (point is None or now_ms >= point.time_ms):
            point = Point(latitude, longitude, now_ms)

    first_ms = state.first_ms
    if teaches and (first_ms is None or now_ms < first_ms):
        first_ms = now_ms
    last_ms = now_ms if state.last_ms is None else max(state.last_ms, now_ms)
    flags = Flags(
        new_country=new.get("country", False),
        new_ip=new.get("ip", False),
        new_asn=new.get("asn", False),
        new_device=new.get("device", False),
        new_role=new.get("role", False),
        impossible_travel=impossible,
        travel_speed_kmh=speed,
    )
    return BehaviourState(first_ms, last_ms, point, values), flags


# --- encoding ----------------------------------------------------------------------------
#
# One line of text: "b1|FIRST|LAST|POINT|IPS|COUNTRIES|ASNS|DEVICES|ROLES". FIRST and LAST are
# epoch milliseconds in base 36 (empty: none); POINT is "LAT,LON,TIME" (degrees with 3
# decimals, ~100 m, time in base 36). Each value list is ";"-separated
# "KEY,COUNT,FIRST,LAST[,*]", COUNT in base 36 and FIRST/LAST in base-36 seconds relative to
# the state's FIRST (or absolute when there is none), "*" when novel.

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _b36(number: int) -> str:
    if number < 0:
        return "-" + _b36(-number)
    if number < 36:
        return _DIGITS[number]
    out = []
    while number:
        number, rest = divmod(number, 36)
        out.append(_DIGITS[rest])
    return "".join(reversed(out))


def encode_state(state: BehaviourState) -> str:
    """The compact one-line text form of ``state`` for Flink ``ValueState`` (see above)."""
    base_s = (state.first_ms or 0) // 1000
    head = [
        STATE_VERSION,
        "" if state.first_ms is None else _b36(state.first_ms),
        "" if state.last_ms is None else _b36(state.last_ms),
        ""
        if state.point is None
        else f"{state.point.latitude:.3f},{state.point.longitude:.3f},{_b36(state.point.time_ms)}",
    ]
    for kind in KINDS:
        head.append(
            ";".join(
                f"{s.key},{_b36(s.count)},{_b36(s.first_s - base_s)},{_b36(s.last_s - base_s)}"
                + (",*" if s.novel else "")
                for s in state.values.get(kind, ())
            )
        )
    return "|".join(head)


def decode_state(text: str | None) -> BehaviourState:
    """The state :func:`encode_state` wrote; a fresh state for ``None``, empty or unreadable text.

    Unreadable state (another version, corruption) restarts the entity's learning rather than
    failing the job.
    """
    if not text:
        return BehaviourState()
    parts = text.split("|")
    if len(parts) != 4 + len(KINDS) or parts[0] != STATE_VERSION:
        return BehaviourState()
    try:
        first_ms = int(parts[1], 36) if parts[1] else None
        last_ms = int(parts[2], 36) if parts[2] else None
        point = None
        if parts[3]:
            lat, lon, at = parts[3].split(",")
            point = Point(float(lat), float(lon), int(at, 36))
        base_s = (first_ms or 0) // 1000
        values: dict[Kind, list[Seen]] = {}
        for kind, encoded in zip(KINDS, parts[4:], strict=True):
            if not encoded:
                continue
            seen = []
            for item in encoded.split(";"):
                fields = item.split(",")
                seen.append(
                    Seen(
                        fields[0],
                        int(fields[1], 36),
                        int(fields[2], 36) + base_s,
                        int(fields[3], 36) + base_s,
                        len(fields) > 4,
                    )
                )
            values[kind] = seen
    except (ValueError, IndexError):
        return BehaviourState()
    return BehaviourState(first_ms, last_ms, point, values)
