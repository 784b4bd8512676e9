"""A large benchmark corpus of Okta and CloudTrail records, generated fast.

:func:`write_bench_corpus` simulates thousands of people over as many days as it takes to
reach the requested number of records, and injects the sample's attack (see
:func:`seamwatch.sample.scenario.attack_records`) for a few of them. To reach a million
records in seconds it does not build every record from scratch: each kind of record is built
once with the real builders (:mod:`seamwatch.sample.factories`) using placeholder values,
serialized, and cut at the placeholders; a record is then the template's pieces joined with
the event's own values (ids, times, addresses, keys). The attack records are built normally.

Output: ``okta.jsonl`` and ``cloudtrail.jsonl`` (one record per line, each file in time order)
and ``identities.yaml`` for the simulated people.
"""

from __future__ import annotations

import argparse
import base64
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from pathlib import Path

import orjson
import yaml

from seamwatch.sample.factories import (
    BROWSERS,
    CLI_USER_AGENTS,
    EVERYDAY_CALLS,
    SDK_USER_AGENTS,
    Geo,
    JsonDict,
    Person,
    ct_assume_role_with_saml,
    ct_call,
    ct_expiration,
    ct_iam_user_call,
    ct_time,
    everyday_request,
    okta_mfa,
    okta_session_end,
    okta_session_start,
    okta_sso_app,
    okta_sso_aws,
    okta_time,
    okta_user_id,
)
from seamwatch.sample.scenario import (
    ATTACK_GEO,
    CITIES,
    OTHER_APPS,
    PROD_ACCOUNT,
    REGION,
    ROLE_ACCOUNT,
    AttackTruth,
    attack_records,
    sample_identities,
)

# Slots of a template: the per-event values a record is assembled with.
EVENT_ID, REQUEST_ID, TIME, SESSION_TIME, EXPIRATION, EMAIL, IP, UA, AKID = range(9)
UUID, PUBLISHED, OKTA_REQ, SESSION_ID, AUTHN_REQ = range(9, 14)
_N_SLOTS = 14

_REF = datetime(2001, 2, 3, 4, 5, 6, 789000, tzinfo=UTC)
_REF_SESSION = datetime(2001, 1, 1, 1, 1, 1, tzinfo=UTC)
_EMAIL_TOKEN = "bench.placeholder.zq@bench.invalid"
_IP_TOKEN = "198.18.251.252"
_UA_TOKEN = "BENCH-UA-PLACEHOLDER-ZQ"
_AKID_TOKEN = "ASIAZQZQZQZQZQZQZQZQ"
_SESSION_TOKEN = "idxBENCHPLACEHOLDERSESSZQ"

_FIRST = [
    "Aaron",
    "Abigail",
    "Adrian",
    "Aisha",
    "Alejandro",
    "Alice",
    "Amara",
    "Andre",
    "Anika",
    "Ava",
    "Benjamin",
    "Bianca",
    "Caleb",
    "Camila",
    "Carlos",
    "Chloe",
    "Daniel",
    "Daria",
    "Darius",
    "Ella",
    "Emeka",
    "Emily",
    "Ethan",
    "Fatima",
    "Finn",
    "Gabriel",
    "Grace",
    "Hana",
    "Hassan",
    "Isaac",
    "Isla",
    "Ivan",
    "Jada",
    "Jasper",
    "Jonah",
    "Julia",
    "Kai",
    "Kavya",
    "Leah",
    "Leon",
    "Lucia",
    "Malik",
    "Maya",
    "Mateo",
    "Mei",
    "Mila",
    "Naomi",
    "Nikhil",
    "Noah",
    "Nora",
    "Oscar",
    "Owen",
    "Priya",
    "Quinn",
    "Rafael",
    "Rosa",
    "Ruben",
    "Sara",
    "Soren",
    "Tariq",
    "Theo",
    "Uma",
    "Victor",
    "Wen",
    "Yara",
    "Yusuf",
    "Zoe",
]
_LAST = [
    "Abbott",
    "Adeyemi",
    "Alvarez",
    "Andersen",
    "Baker",
    "Banerjee",
    "Becker",
    "Bianchi",
    "Brennan",
    "Castillo",
    "Chen",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Fitzgerald",
    "Garcia",
    "Goldberg",
    "Haddad",
    "Hansen",
    "Hughes",
    "Ibrahim",
    "Jensen",
    "Kaur",
    "Keller",
    "Kim",
    "Kowalski",
    "Larsen",
    "Lopez",
    "Mahmoud",
    "Martin",
    "Morales",
    "Murphy",
    "Nakamura",
    "Nguyen",
    "Novak",
    "Okafor",
    "Olsen",
    "Park",
    "Patel",
    "Petrov",
    "Quinn",
    "Ramos",
    "Reyes",
    "Rossi",
    "Russo",
    "Sato",
    "Schmidt",
    "Silva",
    "Singh",
    "Sokolov",
    "Tanaka",
    "Torres",
    "Vasquez",
    "Wagner",
    "Walsh",
    "Weber",
    "Williams",
    "Yamamoto",
    "Zhang",
]
_ROLE_SETS: tuple[tuple[str, ...], ...] = (
    ("Developer", "ReadOnly"),
    ("Developer",),
    ("DataAnalyst",),
    ("ReadOnly",),
    ("PlatformAdmin", "ReadOnly"),
    ("SecurityAudit", "ReadOnly"),
)
_SERVICE_USERS = (
    ("svc-backup", "52.44.18.201", "s3.amazonaws.com", "PutObject"),
    ("svc-backup", "52.44.18.202", "s3.amazonaws.com", "ListBuckets"),
    ("svc-metrics", "34.203.77.45", "cloudwatch.amazonaws.com", "GetMetricData"),
    ("svc-metrics", "34.203.77.45", "ec2.amazonaws.com", "DescribeInstances"),
    ("svc-ci-deploy", "3.92.140.17", "ssm.amazonaws.com", "GetParameter"),
    ("svc-ci-deploy", "3.92.140.18", "cloudformation.amazonaws.com", "DescribeStacks"),
)
_B32 = base64.b32encode


@dataclass(frozen=True, slots=True)
class BenchCorpus:
    """What :func:`write_bench_corpus` wrote: paths, counts, sizes and the attacks' truth."""

    okta_path: Path
    cloudtrail_path: Path
    identities_path: Path
    okta_records: int
    cloudtrail_records: int
    okta_bytes: int
    cloudtrail_bytes: int
    people: int
    days: int
    attacks: list[AttackTruth] = field(default_factory=list)

    @property
    def records(self) -> int:
        """Records in both files."""
        return self.okta_records + self.cloudtrail_records


class _Template:
    """A serialized record cut at its placeholders; :meth:`render` fills them."""

    __slots__ = ("parts", "slots")

    def __init__(self, raw: bytes, tokens: dict[str, int]) -> None:
        pattern = re.compile(
            b"|".join(re.escape(t.encode()) for t in sorted(tokens, key=len)[::-1])
        )
        by_token = {t.encode(): slot for t, slot in tokens.items()}
        parts: list[bytes] = []
        slots: list[int] = []
        pos = 0
        for match in pattern.finditer(raw):
            parts.append(raw[pos : match.start()])
            slots.append(by_token[match.group()])
            pos = match.end()
        parts.append(raw[pos:])
        self.parts = parts
        self.slots = slots

    def render(self, values: Sequence[bytes]) -> bytes:
        """The record with every placeholder replaced by ``values[slot]``."""
        parts = self.parts
        out = [parts[0]]
        for i, slot in enumerate(self.slots, 1):
            out.append(values[slot])
            out.append(parts[i])
        return b"".join(out)


def _compile(record: JsonDict, tokens: dict[str, int]) -> _Template:
    return _Template(orjson.dumps(record), {t: s for t, s in tokens.items() if t})


def _ct_tokens(record: JsonDict) -> dict[str, int]:
    tokens = {
        record["eventID"]: EVENT_ID,
        record.get("requestID", ""): REQUEST_ID,
        ct_time(_REF): TIME,
        ct_time(_REF_SESSION): SESSION_TIME,
        ct_expiration(_REF + timedelta(hours=1)): EXPIRATION,
        _EMAIL_TOKEN: EMAIL,
        _IP_TOKEN: IP,
        _UA_TOKEN: UA,
        _AKID_TOKEN: AKID,
    }
    return tokens


def _okta_tokens(record: JsonDict) -> dict[str, int]:
    debug = record["debugContext"]["debugData"]
    return {
        record["uuid"]: UUID,
        okta_time(_REF): PUBLISHED,
        debug["requestId"]: OKTA_REQ,
        debug["authnRequestId"]: AUTHN_REQ,
        _SESSION_TOKEN: SESSION_ID,
    }


class _Templates:
    """Lazily built templates: Okta ones per person, CloudTrail ones shared per role."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"{seed}:templates")
        self._okta: dict[tuple[str, str], _Template] = {}
        self._ct: dict[tuple[str, ...], _Template] = {}
        self._dummy = Person(
            key="bench.placeholder",
            display_name="Bench Placeholder",
            email=_EMAIL_TOKEN,
            okta_id="00uBENCHPLACEHOLD697",
            home=CITIES["denver"][0],
        )

    def okta(self, person: Person, kind: str) -> _Template:
        key = (person.key, kind)
        template = self._okta.get(key)
        if template is None:
            template = self._build_okta(person, kind)
            self._okta[key] = template
        return template

    def _build_okta(self, person: Person, kind: str) -> _Template:
        rng = self._rng
        geo = person.home
        ip = geo.ips[0]
        sid = _SESSION_TOKEN
        record: JsonDict
        if kind == "start":
            record = okta_session_start(person, _REF, ip, geo, rng=rng, session_id=sid)
        elif kind == "fail":
            record = okta_session_start(person, _REF, ip, geo, "FAILURE", rng=rng)
        elif kind == "mfa":
            record = okta_mfa(person, _REF, ip, geo, rng=rng, session_id=sid)
        elif kind == "sso_aws":
            record = okta_sso_aws(person, _REF, ip, geo, rng=rng, session_id=sid)
        elif kind == "end":
            record = okta_session_end(person, _REF, ip, geo, rng=rng, session_id=sid)
        else:
            app, app_key = OTHER_APPS[int(kind.removeprefix("app"))]
            record = okta_sso_app(
                person, _REF, ip, geo, rng=rng, app_name=app, app_key=app_key, session_id=sid
            )
        return _compile(record, _okta_tokens(record))

    def call(self, source: str, name: str, role: str, variant: int, console: bool) -> _Template:
        key = (source, name, role, str(variant), str(console))
        template = self._ct.get(key)
        if template is None:
            rng = self._rng
            account = ROLE_ACCOUNT[role]
            params, response, resources, extra = everyday_request(
                source, name, rng=rng, account_id=account, region=REGION
            )
            record = ct_call(
                self._dummy,
                _REF,
                _IP_TOKEN,
                source,
                name,
                account,
                role,
                _AKID_TOKEN,
                params,
                response,
                rng=rng,
                session_created=_REF_SESSION,
                user_agent=_UA_TOKEN,
                from_console=console,
                resources=resources,
                additional_event_data=extra,
            )
            template = _compile(record, _ct_tokens(record))
            self._ct[key] = template
        return template

    def saml(self, role: str, variant: int) -> _Template:
        key = ("saml", role, str(variant))
        template = self._ct.get(key)
        if template is None:
            issued = ct_assume_role_with_saml(
                self._dummy,
                _REF,
                _IP_TOKEN,
                ROLE_ACCOUNT[role],
                role,
                rng=self._rng,
                access_key_id=_AKID_TOKEN,
                user_agent=_UA_TOKEN,
            )
            template = _compile(issued.record, _ct_tokens(issued.record))
            self._ct[key] = template
        return template

    def service(self, index: int) -> _Template:
        key = ("svc", str(index))
        template = self._ct.get(key)
        if template is None:
            rng = self._rng
            user, ip, source, name = _SERVICE_USERS[index]
            params, response, resources, extra = everyday_request(
                source, name, rng=rng, account_id=PROD_ACCOUNT, region=REGION
            )
            record = ct_iam_user_call(
                user,
                _REF,
                ip,
                PROD_ACCOUNT,
                source,
                name,
                "AKIA" + _B32(user.encode().ljust(10, b"0")[:10]).decode(),
                rng=rng,
                request_parameters=params,
                response_elements=response,
                resources=resources,
                additional_event_data=extra,
                user_agent=SDK_USER_AGENTS[index % len(SDK_USER_AGENTS)],
            )
            template = _compile(record, _ct_tokens(record))
            self._ct[key] = template
        return template


class _Clock:
    """Fast formatting of epoch milliseconds in the vendors' time formats."""

    def __init__(self) -> None:
        self._days: dict[int, str] = {}

    def _prefix(self, day: int) -> str:
        prefix = self._days.get(day)
        if prefix is None:
            prefix = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%dT")
            self._days[day] = prefix
        return prefix

    def okta(self, ms: int) -> bytes:
        day, rem = divmod(ms, 86_400_000)
        sec, milli = divmod(rem, 1000)
        h, sec = divmod(sec, 3600)
        m, s = divmod(sec, 60)
        return f"{self._prefix(day)}{h:02d}:{m:02d}:{s:02d}.{milli:03d}Z".encode()

    def ct(self, ms: int) -> bytes:
        day, rem = divmod(ms // 1000, 86_400)
        h, sec = divmod(rem, 3600)
        m, s = divmod(sec, 60)
        return f"{self._prefix(day)}{h:02d}:{m:02d}:{s:02d}Z".encode()


def _make_people(n: int, seed: int) -> list[Person]:
    rng = random.Random(f"{seed}:bench-people")
    combos = [(f, last) for f in _FIRST for last in _LAST]
    picks = rng.sample(combos, min(n, len(combos)))
    while len(picks) < n:
        picks.append(rng.choice(combos))
    cities = list(CITIES.values())
    browsers = sorted(BROWSERS)
    people: list[Person] = []
    seen: dict[str, int] = {}
    for first, last in picks:
        base = f"{first}.{last}".lower()
        seen[base] = seen.get(base, 0) + 1
        key = base if seen[base] == 1 else f"{base}{seen[base]}"
        geo, block = rng.choice(cities)
        ip = f"{block}.{rng.randrange(1, 255)}.{rng.randrange(2, 254)}"
        home = Geo(
            geo.city, geo.state, geo.country, geo.postal, geo.lat, geo.lon, (ip,),
            geo.utc_offset, geo.asn, geo.as_org, geo.isp, geo.domain,
        )  # fmt: skip
        people.append(
            Person(
                key=key,
                display_name=f"{first} {last}",
                email=f"{key}@example.com",
                okta_id=okta_user_id(key),
                home=home,
                roles=rng.choice(_ROLE_SETS),
                browser=rng.choice(browsers),
            )
        )
    return people


@dataclass(slots=True)
class _Day:
    """Records of one simulated day: ``(epoch ms, line)`` per source, plus attack lines."""

    okta: list[tuple[int, bytes]] = field(default_factory=list)
    ct: list[tuple[int, bytes]] = field(default_factory=list)
    pinned: set[bytes] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self.okta) + len(self.ct)


class _Generator:
    def __init__(self, seed: int, people: list[Person]) -> None:
        self.rng = random.Random(f"{seed}:bench")
        self.templates = _Templates(seed)
        self.clock = _Clock()
        self.people = people
        self.calls = [(s, n) for s, n, _ in EVERYDAY_CALLS if n not in ("StartInstances",)]
        self.weights = [w for s, n, w in EVERYDAY_CALLS if n not in ("StartInstances",)]
        self.values: list[bytes] = [b""] * _N_SLOTS

    def _ids_ct(self, ms: int) -> None:
        bits = self.rng.getrandbits
        v = self.values
        v[EVENT_ID] = _uuid(bits(128))
        v[REQUEST_ID] = _uuid(bits(128))
        v[TIME] = self.clock.ct(ms)

    def _okta(self, day: _Day, person: Person, kind: str, ms: int) -> None:
        v = self.values
        bits = self.rng.getrandbits
        v[UUID] = _uuid(bits(128), b"1")
        v[PUBLISHED] = self.clock.okta(ms)
        v[OKTA_REQ] = b"%032x" % bits(128)
        v[AUTHN_REQ] = b"%032x" % bits(128)
        day.okta.append((ms, self.templates.okta(person, kind).render(v)))

    def person_day(self, day: _Day, person: Person, day_ms: int) -> None:
        """One working day of ``person`` (UTC day starting at ``day_ms``)."""
        rng = self.rng
        v = self.values
        local0 = day_ms - person.home.utc_offset * 3_600_000
        login = local0 + 8 * 3_600_000 + rng.randrange(7_200_000)
        end_of_day = local0 + 17 * 3_600_000 + rng.randrange(3_600_000)
        v[SESSION_ID] = b"idx" + base64.urlsafe_b64encode(rng.randbytes(16))[:22]
        v[EMAIL] = person.email.encode()
        v[IP] = person.home.ips[0].encode()
        if rng.random() < 0.05:
            self._okta(day, person, "fail", login - rng.randrange(25_000, 70_000))
        self._okta(day, person, "mfa", login - rng.randrange(3_000, 12_000))
        self._okta(day, person, "start", login)
        for app in rng.sample(range(len(OTHER_APPS)), rng.randint(1, 2)):
            self._okta(day, person, f"app{app}", login + rng.randrange(20_000, 400_000))
        cursor = login + rng.randrange(120_000, 1_200_000)
        browser = BROWSERS[person.browser].raw.encode()
        cli = CLI_USER_AGENTS[len(person.key) % len(CLI_USER_AGENTS)].encode()
        for _ in range(rng.choice((1, 2, 2, 3))):
            span = rng.randrange(600_000, 2_700_000)
            if cursor + span > end_of_day:
                break
            self._session(day, person, cursor, span, browser, cli)
            cursor += span + rng.randrange(2_400_000, 9_000_000)
        if rng.random() < 0.5:
            self._okta(day, person, "end", end_of_day)

    def _session(
        self, day: _Day, person: Person, at: int, span: int, browser: bytes, cli: bytes
    ) -> None:
        rng = self.rng
        v = self.values
        templates = self.templates
        role = rng.choice(person.roles)
        console = rng.random() < 0.5
        self._okta(day, person, "sso_aws", at)
        t = at + rng.randrange(1_500, 6_000)
        v[AKID] = b"ASIA" + _B32(rng.randbytes(10))
        v[UA] = browser
        v[EXPIRATION] = ct_expiration(datetime.fromtimestamp(t // 1000 + 3600, UTC)).encode()
        self._ids_ct(t)
        day.ct.append((t // 1000 * 1000, templates.saml(role, rng.randrange(4)).render(v)))
        v[SESSION_TIME] = v[TIME]
        if not console:
            v[UA] = cli
        n = rng.randint(3, 8)
        offsets = sorted(rng.randrange(20_000, span) for _ in range(n))
        for (source, name), off in zip(
            rng.choices(self.calls, self.weights, k=n), offsets, strict=True
        ):
            if name == "PutObject" and role in ("ReadOnly", "SecurityAudit"):
                name = "GetObject"
            if name == "CreateTags" and role not in ("Developer", "PlatformAdmin"):
                source, name = "ec2.amazonaws.com", "DescribeInstances"
            ms = t + off
            self._ids_ct(ms)
            tpl = templates.call(source, name, role, rng.randrange(3), console)
            day.ct.append((ms // 1000 * 1000, tpl.render(v)))

    def services(self, day: _Day, start_ms: int, count: int) -> None:
        """``count`` service-account calls spread over the day's service window."""
        rng = self.rng
        for _ in range(count):
            ms = start_ms + rng.randrange(86_400_000)
            self._ids_ct(ms)
            tpl = self.templates.service(rng.randrange(len(_SERVICE_USERS)))
            day.ct.append((ms // 1000 * 1000, tpl.render(self.values)))


def _uuid(bits: int, version: bytes = b"4") -> bytes:
    h = b"%032x" % bits
    return b"%s-%s-%s%s-%s%s-%s" % (
        h[:8], h[8:12], version, h[13:16], b"89ab"[h[16] & 3 : (h[16] & 3) + 1], h[17:20], h[20:]
    )  # fmt: skip


def _parse_ms(value: str, fmt: str) -> int:
    return int(datetime.strptime(value, fmt).replace(tzinfo=UTC).timestamp() * 1000)


def write_bench_corpus(
    out_dir: Path,
    n_events: int,
    attacks: int,
    seed: int,
    *,
    start: datetime = datetime(2026, 3, 2, tzinfo=UTC),
    people: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> BenchCorpus:
    """Write a benchmark corpus of exactly ``n_events`` records with ``attacks`` attacks.

    About 30 % of the records are Okta, the rest CloudTrail; people (2,000 at full scale) work
    on consecutive simulated days from ``start``; each attack hits a different person on a
    different day after their first. ``progress`` is called with the running record count
    after each day.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n_people = people or max(attacks * 3 + 10, min(2000, n_events // 300))
    population = _make_people(n_people, seed)
    gen = _Generator(seed, population)
    per_day = n_people * 18.5 * 0.92
    service_per_day = max(4, int(per_day * 0.04))
    est_days = max(1, -(-n_events // int(per_day + service_per_day)))
    plan_rng = random.Random(f"{seed}:attack-plan")
    victims = plan_rng.sample(population, min(attacks, len(population)))
    # Attacks start on the third day, so every victim has more than a day of history: the
    # job's default baseline learning period.
    first_day = 2 if est_days > 3 else 0
    last_day = max(first_day, int(est_days * 0.8) - 1)
    plan: dict[int, list[Person]] = {}
    attack_day: dict[str, int] = {}
    for i, victim in enumerate(victims):
        d = first_day + (i * (last_day - first_day + 1)) // max(1, len(victims))
        plan.setdefault(d, []).append(victim)
        attack_day[victim.key] = d
    start_ms = int(start.astimezone(UTC).timestamp() * 1000)
    truths: list[AttackTruth] = []
    okta_path = out_dir / "okta.jsonl"
    ct_path = out_dir / "cloudtrail.jsonl"
    written = okta_n = ct_n = okta_bytes = ct_bytes = 0
    day_index = 0
    with (
        okta_path.open("wb", buffering=1 << 20) as okta_f,
        ct_path.open("wb", buffering=1 << 20) as ct_f,
    ):
        while written < n_events:
            day = _Day()
            day_ms = start_ms + day_index * 86_400_000
            for person in population:
                # A victim works every day up to its attack: one absent first day would leave
                # it inside the baseline's learning period, where nothing is "new".
                if attack_day.get(person.key, -1) >= day_index or gen.rng.random() < 0.92:
                    gen.person_day(day, person, day_ms)
            gen.services(day, day_ms + 9_900_000, service_per_day)
            for k, victim in enumerate(plan.get(day_index, [])):
                at = datetime.fromtimestamp(day_ms / 1000, UTC) + timedelta(
                    hours=10 + 2 * k, minutes=27, seconds=41, milliseconds=386
                )
                geo = Geo(
                    ATTACK_GEO.city, ATTACK_GEO.state, ATTACK_GEO.country, ATTACK_GEO.postal,
                    ATTACK_GEO.lat, ATTACK_GEO.lon, (f"185.243.217.{46 + len(truths)}",),
                    ATTACK_GEO.utc_offset, ATTACK_GEO.asn, ATTACK_GEO.as_org, ATTACK_GEO.isp,
                    ATTACK_GEO.domain,
                )  # fmt: skip
                okta, cts, truth = attack_records(
                    victim, at, rng=random.Random(f"{seed}:attack:{len(truths)}"), geo=geo
                )
                truths.append(truth)
                for rec in okta:
                    line = orjson.dumps(rec)
                    day.pinned.add(line)
                    day.okta.append((_parse_ms(rec["published"], "%Y-%m-%dT%H:%M:%S.%fZ"), line))
                for rec in cts:
                    line = orjson.dumps(rec)
                    day.pinned.add(line)
                    day.ct.append((_parse_ms(rec["eventTime"], "%Y-%m-%dT%H:%M:%SZ"), line))
            day.okta.sort(key=itemgetter(0))
            day.ct.sort(key=itemgetter(0))
            okta_lines, ct_lines = _trim(day, n_events - written)
            okta_f.write(b"\n".join(okta_lines) + (b"\n" if okta_lines else b""))
            ct_f.write(b"\n".join(ct_lines) + (b"\n" if ct_lines else b""))
            okta_n += len(okta_lines)
            ct_n += len(ct_lines)
            okta_bytes += sum(map(len, okta_lines)) + len(okta_lines)
            ct_bytes += sum(map(len, ct_lines)) + len(ct_lines)
            written += len(okta_lines) + len(ct_lines)
            day_index += 1
            if progress is not None:
                progress(written)
    identities_path = out_dir / "identities.yaml"
    identities_path.write_text(
        yaml.safe_dump(sample_identities(population), sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    return BenchCorpus(
        okta_path=okta_path,
        cloudtrail_path=ct_path,
        identities_path=identities_path,
        okta_records=okta_n,
        cloudtrail_records=ct_n,
        okta_bytes=okta_bytes,
        cloudtrail_bytes=ct_bytes,
        people=n_people,
        days=day_index,
        attacks=truths,
    )


def _trim(day: _Day, budget: int) -> tuple[list[bytes], list[bytes]]:
    """The day's lines, cut to ``budget`` records by dropping the latest unpinned ones."""
    if len(day) <= budget:
        return [line for _, line in day.okta], [line for _, line in day.ct]
    merged = sorted(
        [(ms, 0, i) for i, (ms, _) in enumerate(day.okta)]
        + [(ms, 1, i) for i, (ms, _) in enumerate(day.ct)]
    )
    pinned = day.pinned
    sources = (day.okta, day.ct)
    n_pinned = sum(1 for _, src, i in merged if sources[src][i][1] in pinned)
    room = budget - n_pinned
    keep: list[set[int]] = [set(), set()]
    for _, src, i in merged:
        if sources[src][i][1] in pinned:
            keep[src].add(i)
        elif room > 0:
            keep[src].add(i)
            room -= 1
    return (
        [line for i, (_, line) in enumerate(day.okta) if i in keep[0]],
        [line for i, (_, line) in enumerate(day.ct) if i in keep[1]],
    )


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m seamwatch.sample.stream OUT_DIR [--events N] [--attacks N] [--seed N]``."""
    parser = argparse.ArgumentParser(description="Write the benchmark corpus.")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--attacks", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    corpus = write_bench_corpus(args.out_dir, args.events, args.attacks, args.seed)
    took = time.perf_counter() - began
    print(
        f"{corpus.records} records ({corpus.okta_records} Okta, {corpus.cloudtrail_records}"
        f" CloudTrail; {(corpus.okta_bytes + corpus.cloudtrail_bytes) / 1e6:.0f} MB),"
        f" {corpus.people} people, {corpus.days} days, {len(corpus.attacks)} attacks"
        f" in {took:.1f} s"
    )


if __name__ == "__main__":
    main()
