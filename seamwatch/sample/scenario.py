"""The bundled sample: a few days of a small company's Okta, CloudTrail, Entra ID and Windows
logs with two attacks.

:func:`build_sample` simulates about twenty people working from their home cities (US offices
plus Dublin and Berlin), three IAM-user service accounts and some AWS-service activity, and
weaves in one attack: a sign-in from a country the victim has never signed in from, followed
within minutes by ``AssumeRoleWithSAML`` from the same address and ``iam:CreateAccessKey`` for a
service account. :func:`write_sample` writes it the way the vendors deliver it (Okta System Log
as JSON lines, CloudTrail as gzipped ``{"Records": [...]}`` files of about an hour each).
Three of the people also administer the Windows domain and the Entra ID tenant: their Entra
sign-ins and domain-controller events, and a second attack that crosses all four sources, come
from :mod:`seamwatch.sample.identity_logs`.

Run ``python -m seamwatch.sample.scenario OUT_DIR`` to (re)generate ``examples/``.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import io
import random
import string
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import yaml

from seamwatch.sample.factories import (
    BROWSERS,
    CLI_USER_AGENTS,
    SDK_USER_AGENTS,
    Geo,
    JsonDict,
    Person,
    ct_assume_role_by_service,
    ct_assume_role_with_saml,
    ct_call,
    ct_console_login,
    ct_create_access_key,
    ct_iam_user_call,
    everyday_request,
    make_access_key_id,
    okta_mfa,
    okta_push_denied,
    okta_session_end,
    okta_session_id,
    okta_session_start,
    okta_sso_app,
    okta_sso_aws,
    okta_user_id,
    pick_everyday_call,
)
from seamwatch.sample.identity_logs import (
    DOMAIN_ADMINS,
    HYBRID_VICTIM,
    HybridTruth,
    IdentityLogs,
    admin_days,
    hybrid_attack,
    identity_entries,
)

PROD_ACCOUNT = "111122223333"
DEV_ACCOUNT = "444455556666"
REGION = "us-east-1"
EMAIL_DOMAIN = "example.com"

#: Which account each federated role lives in.
ROLE_ACCOUNT: dict[str, str] = {
    "PlatformAdmin": PROD_ACCOUNT,
    "DataAnalyst": PROD_ACCOUNT,
    "ReadOnly": PROD_ACCOUNT,
    "SecurityAudit": PROD_ACCOUNT,
    "Developer": DEV_ACCOUNT,
}

#: Other Okta SAML apps people sign in to during the day: (label, Okta app type).
OTHER_APPS: tuple[tuple[str, str], ...] = (
    ("Slack", "slack"),
    ("Google Workspace", "google"),
    ("Atlassian Cloud", "atlassian"),
    ("GitHub Enterprise Cloud", "githubcloud"),
)


def _city(
    city: str,
    state: str,
    country: str,
    postal: str,
    lat: float,
    lon: float,
    offset: int,
    isp: tuple[int, str, str, str],
) -> Geo:
    asn, as_org, isp_name, domain = isp
    return Geo(city, state, country, postal, lat, lon, (), offset, asn, as_org, isp_name, domain)


_COMCAST = (
    7922,
    "comcast cable communications, llc",
    "comcast cable communications llc",
    "comcast.net",
)
_SPECTRUM = (20115, "charter communications inc", "charter communications", "spectrum.com")
_ATT = (7018, "at&t corp.", "at&t services inc", "sbcglobal.net")
_VERIZON = (701, "verizon business", "verizon fios", "verizon.net")
_EIR = (5466, "eircom limited", "eir broadband", "eircom.net")
_TELEKOM = (3320, "deutsche telekom ag", "deutsche telekom ag", "t-ipconnect.de")
_MEO = (3243, "meo - servicos de comunicacoes e multimedia s.a.", "meo", "telepac.pt")
_TELMEX = (8151, "uninet s.a. de c.v.", "telmex", "prod-infinitum.com.mx")

#: Home cities, with the residential address block people there get addresses from.
CITIES: dict[str, tuple[Geo, str]] = {
    "denver": (
        _city("Denver", "Colorado", "United States", "80205", 39.7589, -104.9661, -7, _COMCAST),
        "73.14",
    ),
    "seattle": (
        _city("Seattle", "Washington", "United States", "98103", 47.6686, -122.3425, -8, _COMCAST),
        "73.53",
    ),
    "sf": (
        _city(
            "San Francisco", "California", "United States", "94110", 37.7486, -122.4158, -8, _ATT
        ),
        "99.113",
    ),
    "berlin": (
        _city("Berlin", "Land Berlin", "Germany", "10115", 52.5323, 13.3846, 1, _TELEKOM),
        "91.64",
    ),
    "dublin": (_city("Dublin", "Leinster", "Ireland", "D02", 53.3382, -6.2591, 0, _EIR), "86.44"),
    "atlanta": (
        _city("Atlanta", "Georgia", "United States", "30309", 33.7982, -84.3871, -5, _ATT),
        "99.108",
    ),
    "nyc": (
        _city("New York", "New York", "United States", "11215", 40.6681, -73.9806, -5, _VERIZON),
        "108.41",
    ),
    "austin": (
        _city("Austin", "Texas", "United States", "78704", 30.2433, -97.7658, -6, _SPECTRUM),
        "24.28",
    ),
    "boston": (
        _city("Boston", "Massachusetts", "United States", "02130", 42.3097, -71.1151, -5, _COMCAST),
        "73.219",
    ),
    "chicago": (
        _city("Chicago", "Illinois", "United States", "60614", 41.9227, -87.6533, -6, _COMCAST),
        "73.44",
    ),
    "portland": (
        _city("Portland", "Oregon", "United States", "97214", 45.5147, -122.6425, -8, _COMCAST),
        "73.96",
    ),
    "raleigh": (
        _city(
            "Raleigh", "North Carolina", "United States", "27605", 35.7905, -78.6530, -5, _SPECTRUM
        ),
        "174.99",
    ),
    "minneapolis": (
        _city(
            "Minneapolis", "Minnesota", "United States", "55408", 44.9472, -93.2862, -6, _COMCAST
        ),
        "73.65",
    ),
    "phoenix": (
        _city("Phoenix", "Arizona", "United States", "85016", 33.5062, -112.0311, -7, _SPECTRUM),
        "174.71",
    ),
    "sandiego": (
        _city(
            "San Diego", "California", "United States", "92104", 32.7403, -117.1301, -8, _SPECTRUM
        ),
        "24.250",
    ),
    "slc": (
        _city("Salt Lake City", "Utah", "United States", "84105", 40.7372, -111.8588, -7, _COMCAST),
        "73.98",
    ),
}

#: Places visited on the benign travel days: (geo, address block).
TRAVEL: dict[str, tuple[Geo, str]] = {
    "lisbon": (
        _city("Lisbon", "Lisbon", "Portugal", "1100-148", 38.7139, -9.1394, 0, _MEO),
        "85.243",
    ),
    "mexico": (
        _city("Mexico City", "Mexico City", "Mexico", "06600", 19.4270, -99.1676, -6, _TELMEX),
        "189.203",
    ),
}

#: Where the attacker signs in from: a hosting range in Bucharest (names are invented).
ATTACK_GEO = Geo(
    "Bucharest",
    "Bucuresti",
    "Romania",
    "010011",
    44.4354,
    26.1033,
    ("86.105.9.46",),
    2,
    200019,
    "danubehost srl",
    "danubehost srl",
    "danubehost.ro",
)

# key, display name, city, roles, browser
_PEOPLE: tuple[tuple[str, str, str, tuple[str, ...], str], ...] = (
    ("dana.whitfield", "Dana Whitfield", "denver", ("PlatformAdmin", "ReadOnly"), "chrome-mac"),
    ("marcus.oyelaran", "Marcus Oyelaran", "seattle", ("Developer", "ReadOnly"), "chrome-mac"),
    ("priya.raman", "Priya Raman", "sf", ("DataAnalyst",), "safari-mac"),
    ("tomas.lindqvist", "Tomas Lindqvist", "berlin", ("Developer", "ReadOnly"), "firefox-linux"),
    ("aoife.brennan", "Aoife Brennan", "dublin", ("PlatformAdmin", "Developer"), "chrome-mac"),
    ("jamal.carter", "Jamal Carter", "atlanta", ("ReadOnly",), "edge-win"),
    ("elena.sokolova", "Elena Sokolova", "nyc", ("DataAnalyst", "ReadOnly"), "chrome-win"),
    ("kenji.watanabe", "Kenji Watanabe", "austin", ("Developer",), "chrome-mac"),
    ("rachel.goldberg", "Rachel Goldberg", "boston", ("SecurityAudit", "ReadOnly"), "chrome-mac"),
    ("diego.alvarez", "Diego Alvarez", "chicago", ("Developer", "ReadOnly"), "chrome-win"),
    ("hannah.mueller", "Hannah Müller", "berlin", ("DataAnalyst",), "chrome-win"),
    ("liam.oconnor", "Liam O'Connor", "dublin", ("Developer",), "safari-mac"),
    ("grace.kim", "Grace Kim", "portland", ("PlatformAdmin", "ReadOnly"), "chrome-mac"),
    ("samuel.okafor", "Samuel Okafor", "raleigh", ("Developer",), "chrome-mac"),
    ("olivia.hart", "Olivia Hart", "minneapolis", ("ReadOnly",), "edge-win"),
    ("nathan.brooks", "Nathan Brooks", "phoenix", ("Developer", "ReadOnly"), "firefox-linux"),
    ("sofia.rossi", "Sofia Rossi", "nyc", ("DataAnalyst",), "safari-mac"),
    ("ben.adler", "Ben Adler", "sandiego", ("Developer",), "chrome-mac"),
    ("maya.patel", "Maya Patel", "slc", ("Developer", "ReadOnly"), "chrome-win"),
    ("felix.wagner", "Felix Wagner", "berlin", ("PlatformAdmin", "Developer"), "chrome-mac"),
)

#: IAM-user service accounts: (user name, entity name, source addresses).
_SERVICES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("svc-backup", "Backup job", ("52.44.18.201", "52.44.18.202")),
    ("svc-ci-deploy", "CI deploy pipeline", ("3.92.140.17", "3.92.140.18", "3.92.140.19")),
    ("svc-metrics", "Metrics collector", ("34.203.77.45",)),
)

_DATACENTER = Geo(
    "Ashburn",
    "Virginia",
    "United States",
    "20149",
    39.0438,
    -77.4874,
    (),
    -5,
    14618,
    "amazon.com, inc.",
    "amazon.com",
    "amazonaws.com",
)

ATTACK_VICTIM = "dana.whitfield"
ATTACK_TARGET_USER = "svc-backup"
ATTACK_ROLE = "PlatformAdmin"
#: When the attacker's Okta session starts (day 3 of the default window, 03:27 in Denver).
ATTACK_DAY = 2
ATTACK_TIME_OF_DAY = timedelta(hours=10, minutes=27, seconds=41, milliseconds=386)
KEY_ROTATOR = "grace.kim"
#: The day (from 0) of the attack across the four sources (seamwatch.sample.identity_logs).
HYBRID_DAY = 3


@dataclass(frozen=True, slots=True)
class AttackTruth:
    """Ground truth of the injected attack.

    ``event_ids`` are, in order, the Okta ``uuid`` of the new-country sign-in, the CloudTrail
    ``eventID`` of the ``AssumeRoleWithSAML`` and the ``eventID`` of the ``CreateAccessKey``.
    """

    entity: str
    event_ids: tuple[str, str, str]
    ip: str
    country: str
    city: str
    account_id: str
    role_name: str
    target_user: str
    session_access_key_id: str
    new_access_key_id: str
    login_time: str
    assume_role_time: str
    create_access_key_time: str

    @property
    def login_uuid(self) -> str:
        """Okta ``uuid`` of the sign-in from the new country."""
        return self.event_ids[0]

    @property
    def assume_role_event_id(self) -> str:
        """CloudTrail ``eventID`` of the ``AssumeRoleWithSAML``."""
        return self.event_ids[1]

    @property
    def create_access_key_event_id(self) -> str:
        """CloudTrail ``eventID`` of the ``CreateAccessKey``."""
        return self.event_ids[2]


@dataclass(slots=True)
class Sample:
    """A generated sample: raw records of the four sources, the principals and the ground truth
    of both attacks (``hybrid``: the one across the four sources, when the sample's days reach
    it)."""

    okta: list[JsonDict]
    cloudtrail: list[JsonDict]
    people: list[Person]
    identities: dict[str, Any]
    attack: AttackTruth
    seed: int = 7
    start: datetime = field(default_factory=lambda: datetime(2026, 3, 2, tzinfo=UTC))
    days: int = 4
    entra: list[JsonDict] = field(default_factory=list)
    windows: list[JsonDict] = field(default_factory=list)
    hybrid: HybridTruth | None = None


# --------------------------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------------------------


def _addresses(rng: random.Random, block: str, n: int) -> tuple[str, ...]:
    return tuple(f"{block}.{rng.randrange(1, 255)}.{rng.randrange(2, 254)}" for _ in range(n))


def make_people(seed: int = 7) -> list[Person]:
    """The sample's people (humans first, then the IAM-user service accounts)."""
    people: list[Person] = []
    for key, name, city, roles, browser in _PEOPLE:
        rng = random.Random(f"{seed}:addr:{key}")
        geo, block = CITIES[city]
        home = dataclasses.replace(geo, ips=_addresses(rng, block, 2))
        people.append(
            Person(
                key=key,
                display_name=name,
                email=f"{key}@{EMAIL_DOMAIN}",
                okta_id=okta_user_id(key),
                home=home,
                roles=roles,
                kind="human",
                browser=browser,
            )
        )
    for user, label, ips in _SERVICES:
        people.append(
            Person(
                key=user,
                display_name=label,
                email="",
                okta_id="",
                home=dataclasses.replace(_DATACENTER, ips=ips),
                roles=(),
                kind="service",
                browser="",
                iam_user_arn=f"arn:aws:iam::{PROD_ACCOUNT}:user/{user}",
            )
        )
    return people


def sample_identities(people: Iterable[Person]) -> dict[str, Any]:
    """The identity file (``identities.yaml``) that maps the people to their identifiers."""
    entities: list[dict[str, Any]] = []
    for person in people:
        if person.kind == "human":
            identifiers = [
                {"kind": "email", "value": person.email},
                {"kind": "okta_user_id", "value": person.okta_id},
                {"kind": "okta_login", "value": person.email},
            ]
        else:
            identifiers = [{"kind": "aws_arn", "value": person.iam_user_arn or ""}]
        if person.key in DOMAIN_ADMINS:
            identifiers += identity_entries(person.key)
        entities.append(
            {
                "id": person.key,
                "type": person.kind,
                "name": person.display_name,
                "identifiers": identifiers,
            }
        )
    return {"entities": entities}


# --------------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------------


class _Log:
    """Collects records of both sources."""

    def __init__(self) -> None:
        self.okta: list[JsonDict] = []
        self.cloudtrail: list[JsonDict] = []


def _error_code(event_source: str) -> str:
    if event_source == "ec2.amazonaws.com":
        return "Client.UnauthorizedOperation"
    if event_source in ("logs.amazonaws.com", "lambda.amazonaws.com", "dynamodb.amazonaws.com"):
        return "AccessDeniedException"
    return "AccessDenied"


def _aws_session(
    log: _Log,
    person: Person,
    *,
    at: datetime,
    ip: str,
    geo: Geo,
    session_id: str,
    role: str,
    rng: random.Random,
    new_geo: bool,
    n_calls: int,
    span: timedelta,
) -> None:
    """SSO to AWS, AssumeRoleWithSAML from the same address and a run of everyday calls."""
    account = ROLE_ACCOUNT[role]
    log.okta.append(
        okta_sso_aws(person, at, ip, geo, rng=rng, session_id=session_id, new_geo=new_geo)
    )
    t = at + timedelta(seconds=rng.uniform(1.5, 6.0))
    console = rng.random() < 0.5
    cli_agent = CLI_USER_AGENTS[hash_index(person.key, len(CLI_USER_AGENTS))]
    issued = ct_assume_role_with_saml(person, t, ip, account, role, rng=rng)
    log.cloudtrail.append(issued.record)
    created = t
    if console:
        t += timedelta(seconds=rng.uniform(1.0, 4.0))
        log.cloudtrail.append(ct_console_login(person, t, ip, account, role, rng=rng))
    times = sorted(rng.uniform(20, span.total_seconds()) for _ in range(n_calls))
    for offset in times:
        source, name = pick_everyday_call(rng)
        if name == "PutObject" and role in ("ReadOnly", "SecurityAudit"):
            source, name = "s3.amazonaws.com", "GetObject"
        if name in ("StartInstances", "CreateTags") and role not in ("Developer", "PlatformAdmin"):
            source, name = "ec2.amazonaws.com", "DescribeInstances"
        params, response, resources, extra = everyday_request(
            source, name, rng=rng, account_id=account, region=REGION
        )
        error = _error_code(source) if rng.random() < 0.03 else None
        log.cloudtrail.append(
            ct_call(
                person,
                created + timedelta(seconds=offset),
                ip,
                source,
                name,
                account,
                role,
                issued.access_key_id,
                params,
                response,
                error,
                rng=rng,
                session_created=created,
                user_agent=None if console else cli_agent,
                region=REGION,
                from_console=console,
                resources=resources,
                additional_event_data=extra,
            )
        )


def hash_index(key: str, n: int) -> int:
    """A stable index in ``range(n)`` for ``key`` (independent of ``PYTHONHASHSEED``)."""
    return sum(key.encode()) % n


def _workday(
    log: _Log,
    person: Person,
    day_start: datetime,
    *,
    rng: random.Random,
    geo: Geo,
    ip: str,
    new_geo: bool,
    force: bool = False,
) -> datetime | None:
    """One working day of a person: Okta sign-in, app SSO and one to three AWS sessions.

    Returns the time of the (last) successful sign-in, or ``None`` if the person took the day
    off.
    """
    if not force and rng.random() < 0.08:
        return None
    local_midnight = day_start - timedelta(hours=geo.utc_offset)
    t = local_midnight + timedelta(hours=8, seconds=rng.uniform(0, 6300))
    t = t.replace(microsecond=rng.randrange(1_000_000))
    session_id = okta_session_id(rng)
    if rng.random() < 0.07:  # mistyped password first
        log.okta.append(
            okta_session_start(
                person,
                t - timedelta(seconds=rng.uniform(25, 70)),
                ip,
                geo,
                "FAILURE",
                rng=rng,
                new_geo=new_geo,
            )
        )
    if rng.random() < 0.04:  # pushed the wrong button on the first push
        log.okta.append(
            okta_push_denied(
                person,
                t - timedelta(seconds=rng.uniform(20, 40)),
                ip,
                geo,
                rng=rng,
                session_id=session_id,
                new_geo=new_geo,
            )
        )
    log.okta.append(
        okta_mfa(
            person,
            t - timedelta(seconds=rng.uniform(3, 12)),
            ip,
            geo,
            rng=rng,
            session_id=session_id,
            new_geo=new_geo,
        )
    )
    log.okta.append(
        okta_session_start(person, t, ip, geo, rng=rng, session_id=session_id, new_geo=new_geo)
    )
    login = t
    for app, app_key in rng.sample(OTHER_APPS, rng.randint(1, 2)):
        log.okta.append(
            okta_sso_app(
                person,
                t + timedelta(seconds=rng.uniform(20, 400)),
                ip,
                geo,
                rng=rng,
                app_name=app,
                app_key=app_key,
                session_id=session_id,
                new_geo=new_geo,
            )
        )
    cursor = t + timedelta(minutes=rng.uniform(2, 20))
    end_of_day = local_midnight + timedelta(hours=17, minutes=rng.uniform(0, 75))
    for _ in range(rng.choice((1, 2, 2, 3))):
        if cursor > end_of_day - timedelta(minutes=30):
            break
        span = timedelta(minutes=rng.uniform(10, 55))
        _aws_session(
            log,
            person,
            at=cursor,
            ip=ip,
            geo=geo,
            session_id=session_id,
            role=rng.choice(person.roles),
            rng=rng,
            new_geo=new_geo,
            n_calls=rng.randint(6, 26),
            span=span,
        )
        cursor += span + timedelta(minutes=rng.uniform(40, 150))
    if rng.random() < 0.5:
        log.okta.append(
            okta_session_end(person, end_of_day, ip, geo, rng=rng, session_id=session_id)
        )
    return login


def _rotate_key(
    log: _Log, person: Person, at: datetime, ip: str, *, rng: random.Random, user: str
) -> tuple[str, datetime]:
    """A benign key rotation by a platform admin from home; returns the new key and its time."""
    geo = person.home
    session_id = okta_session_id(rng)
    log.okta.append(okta_sso_aws(person, at, ip, geo, rng=rng, session_id=session_id))
    t = at + timedelta(seconds=4)
    issued = ct_assume_role_with_saml(person, t, ip, PROD_ACCOUNT, "PlatformAdmin", rng=rng)
    log.cloudtrail.append(issued.record)
    agent = CLI_USER_AGENTS[0]
    key = issued.access_key_id

    def call(dt: float, source: str, name: str, params: JsonDict | None) -> None:
        log.cloudtrail.append(
            ct_call(
                person,
                t + timedelta(seconds=dt),
                ip,
                source,
                name,
                PROD_ACCOUNT,
                "PlatformAdmin",
                key,
                params,
                rng=rng,
                session_created=t,
                user_agent=agent,
            )
        )

    call(35, "iam.amazonaws.com", "ListAccessKeys", {"userName": user})
    new_at = t + timedelta(seconds=71)
    record = ct_create_access_key(
        person,
        new_at,
        ip,
        PROD_ACCOUNT,
        "PlatformAdmin",
        key,
        user,
        rng=rng,
        session_created=t,
        user_agent=agent,
    )
    log.cloudtrail.append(record)
    new_key: str = record["responseElements"]["accessKey"]["accessKeyId"]
    call(1260, "iam.amazonaws.com", "UpdateAccessKey", {"userName": user, "status": "Inactive"})
    call(1330, "iam.amazonaws.com", "ListAccessKeys", {"userName": user})
    return new_key, new_at + timedelta(minutes=12)


def _service_activity(
    log: _Log, start: datetime, days: int, seed: int, rotation: tuple[str, datetime] | None
) -> dict[str, str]:
    """Steady API calls of the service accounts and AWS services; returns user -> first key."""
    rng = random.Random(f"{seed}:services")
    keys = {user: make_access_key_id(rng, temporary=False) for user, _, _ in _SERVICES}
    ips = {user: addrs for user, _, addrs in _SERVICES}
    end = start + timedelta(days=days)

    def svc(user: str, at: datetime, source: str, name: str, **kw: Any) -> None:
        key = keys[user]
        if user == "svc-metrics" and rotation is not None and at >= rotation[1]:
            key = rotation[0]
        params, response, resources, extra = everyday_request(
            source, name, rng=rng, account_id=PROD_ACCOUNT, region=REGION
        )
        log.cloudtrail.append(
            ct_iam_user_call(
                user,
                at,
                rng.choice(ips[user]),
                PROD_ACCOUNT,
                source,
                name,
                key,
                rng=rng,
                request_parameters=kw.get("params", params),
                response_elements=kw.get("response", response),
                resources=kw.get("resources", resources),
                additional_event_data=extra,
                user_agent=kw.get("agent", SDK_USER_AGENTS[hash_index(user, 3)]),
            )
        )

    # svc-backup: hourly, list buckets then upload a few backup objects.
    t = start + timedelta(minutes=5)
    while t < end:
        at = t + timedelta(seconds=rng.uniform(0, 90))
        svc("svc-backup", at, "s3.amazonaws.com", "ListBuckets")
        for i in range(rng.randint(2, 4)):
            obj = f"pg/orders/{at:%Y/%m/%d/%H}/base-{i:02d}.tar.zst"
            bucket = "acme-backups-prod"
            svc(
                "svc-backup",
                at + timedelta(seconds=10 + 25 * i),
                "s3.amazonaws.com",
                "PutObject",
                params={
                    "bucketName": bucket,
                    "Host": f"{bucket}.s3.{REGION}.amazonaws.com",
                    "key": obj,
                    "x-amz-storage-class": "STANDARD_IA",
                },
                resources=[
                    {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{obj}"},
                    {
                        "accountId": PROD_ACCOUNT,
                        "type": "AWS::S3::Bucket",
                        "ARN": f"arn:aws:s3:::{bucket}",
                    },
                ],
            )
        t += timedelta(hours=1)
    # svc-metrics: every 15 minutes.
    t = start + timedelta(minutes=2)
    while t < end:
        at = t + timedelta(seconds=rng.uniform(0, 20))
        svc("svc-metrics", at, "cloudwatch.amazonaws.com", "GetMetricData")
        svc("svc-metrics", at + timedelta(seconds=2), "ec2.amazonaws.com", "DescribeInstances")
        t += timedelta(minutes=15)
    # svc-ci-deploy: deploys during US working hours.
    for day in range(days):
        t = start + timedelta(days=day, hours=14, minutes=rng.uniform(0, 40))
        while t < start + timedelta(days=day + 1, hours=1):
            svc("svc-ci-deploy", t, "sts.amazonaws.com", "GetCallerIdentity", params=None)
            svc(
                "svc-ci-deploy",
                t + timedelta(seconds=3),
                "ecr.amazonaws.com",
                "GetAuthorizationToken",
                params={"registryIds": [PROD_ACCOUNT]},
                response=None,
            )
            svc(
                "svc-ci-deploy",
                t + timedelta(seconds=40),
                "cloudformation.amazonaws.com",
                "DescribeStacks",
            )
            service = rng.choice(("checkout", "orders", "catalog"))
            svc(
                "svc-ci-deploy",
                t + timedelta(seconds=95),
                "ecs.amazonaws.com",
                "UpdateService",
                params={
                    "cluster": "prod",
                    "service": service,
                    "taskDefinition": f"{service}:{rng.randrange(100, 400)}",
                    "forceNewDeployment": False,
                },
                response=None,
            )
            svc(
                "svc-ci-deploy", t + timedelta(seconds=130), "ecs.amazonaws.com", "DescribeServices"
            )
            t += timedelta(minutes=rng.uniform(35, 110))
    # AWS services: Lambda and EC2 assuming their execution roles.
    t = start
    while t < end:
        log.cloudtrail.append(
            ct_assume_role_by_service(
                "lambda.amazonaws.com",
                t + timedelta(seconds=rng.uniform(0, 600)),
                PROD_ACCOUNT,
                "orders-api-exec",
                "orders-api",
                rng=rng,
            )
        )
        if rng.random() < 0.5:
            log.cloudtrail.append(
                ct_assume_role_by_service(
                    "ec2.amazonaws.com",
                    t + timedelta(seconds=rng.uniform(600, 1800)),
                    PROD_ACCOUNT,
                    "web-tier-instance",
                    rng.choice(("i-03f1c9a7e2b4d6f801", "i-08a2e4c6b1d3f5a7c9")),
                    rng=rng,
                )
            )
        t += timedelta(minutes=45)
    return keys


def attack_records(
    victim: Person, at: datetime, *, rng: random.Random, geo: Geo = ATTACK_GEO
) -> tuple[list[JsonDict], list[JsonDict], AttackTruth]:
    """The attack on ``victim`` with its sign-in at ``at``: ``(okta, cloudtrail, truth)``.

    MFA fatigue (two denied pushes, then an approval), a sign-in from ``geo`` (first address),
    SSO to AWS, ``AssumeRoleWithSAML`` from the same address about a minute later, recon
    (GetCallerIdentity, ListUsers, ListAttachedUserPolicies, ListAccessKeys) and
    ``CreateAccessKey`` for ``svc-backup`` about nine minutes after the sign-in; then the
    attacker tries the new key from the same address.
    """
    log = _Log()
    truth = _attack(log, victim, at, rng, geo)
    return log.okta, log.cloudtrail, truth


def _attack(
    log: _Log, victim: Person, at: datetime, rng: random.Random, geo: Geo = ATTACK_GEO
) -> AttackTruth:
    """Append the attack to ``log`` (see :func:`attack_records`)."""
    ip = geo.ips[0]
    attacker = dataclasses.replace(victim, browser="firefox-linux")
    session_id = okta_session_id(rng)
    for back in (191.2, 118.7):
        log.okta.append(
            okta_push_denied(
                attacker,
                at - timedelta(seconds=back),
                ip,
                geo,
                rng=rng,
                session_id=session_id,
                new_geo=True,
            )
        )
    log.okta.append(
        okta_mfa(
            attacker,
            at - timedelta(seconds=7.9),
            ip,
            geo,
            rng=rng,
            session_id=session_id,
            new_geo=True,
        )
    )
    login = okta_session_start(attacker, at, ip, geo, rng=rng, session_id=session_id, new_geo=True)
    log.okta.append(login)
    log.okta.append(
        okta_sso_aws(
            attacker,
            at + timedelta(seconds=62.4),
            ip,
            geo,
            rng=rng,
            session_id=session_id,
            new_geo=True,
        )
    )
    assume_at = (at + timedelta(seconds=66)).replace(microsecond=0)
    issued = ct_assume_role_with_saml(
        attacker,
        assume_at,
        ip,
        PROD_ACCOUNT,
        ATTACK_ROLE,
        rng=rng,
        user_agent=BROWSERS["firefox-linux"].raw,
    )
    log.cloudtrail.append(issued.record)
    log.cloudtrail.append(
        ct_console_login(
            attacker, assume_at + timedelta(seconds=2), ip, PROD_ACCOUNT, ATTACK_ROLE, rng=rng
        )
    )
    key = issued.access_key_id
    agent = BROWSERS["firefox-linux"].raw

    def call(dt: int, source: str, name: str, params: JsonDict | None) -> JsonDict:
        record = ct_call(
            attacker,
            assume_at + timedelta(seconds=dt),
            ip,
            source,
            name,
            PROD_ACCOUNT,
            ATTACK_ROLE,
            key,
            params,
            rng=rng,
            session_created=assume_at,
            user_agent=agent,
            from_console=True,
        )
        log.cloudtrail.append(record)
        return record

    call(104, "sts.amazonaws.com", "GetCallerIdentity", None)
    call(205, "iam.amazonaws.com", "ListUsers", {"maxItems": 1000})
    call(259, "iam.amazonaws.com", "ListAttachedUserPolicies", {"userName": ATTACK_TARGET_USER})
    call(306, "iam.amazonaws.com", "ListAccessKeys", {"userName": ATTACK_TARGET_USER})
    create_at = assume_at + timedelta(seconds=477)  # about nine minutes after the sign-in
    create = ct_create_access_key(
        attacker,
        create_at,
        ip,
        PROD_ACCOUNT,
        ATTACK_ROLE,
        key,
        ATTACK_TARGET_USER,
        rng=rng,
        session_created=assume_at,
        user_agent=agent,
        from_console=True,
    )
    log.cloudtrail.append(create)
    new_key: str = create["responseElements"]["accessKey"]["accessKeyId"]
    # The attacker then tries the backdoor key from the same address.
    for dt, source, name in (
        (412, "sts.amazonaws.com", "GetCallerIdentity"),
        (431, "s3.amazonaws.com", "ListBuckets"),
    ):
        params, _, _, extra = everyday_request(
            source, name, rng=rng, account_id=PROD_ACCOUNT, region=REGION
        )
        log.cloudtrail.append(
            ct_iam_user_call(
                ATTACK_TARGET_USER,
                create_at + timedelta(seconds=dt),
                ip,
                PROD_ACCOUNT,
                source,
                name,
                new_key,
                rng=rng,
                request_parameters=params,
                additional_event_data=extra,
                user_agent=CLI_USER_AGENTS[1],
            )
        )
    return AttackTruth(
        entity=victim.key,
        event_ids=(login["uuid"], issued.record["eventID"], create["eventID"]),
        ip=ip,
        country=geo.country,
        city=geo.city,
        account_id=PROD_ACCOUNT,
        role_name=ATTACK_ROLE,
        target_user=ATTACK_TARGET_USER,
        session_access_key_id=key,
        new_access_key_id=new_key,
        login_time=login["published"],
        assume_role_time=issued.record["eventTime"],
        create_access_key_time=create["eventTime"],
    )


def build_sample(
    seed: int = 7, start: datetime = datetime(2026, 3, 2, tzinfo=UTC), days: int = 4
) -> Sample:
    """Simulate ``days`` days from ``start`` (UTC midnight) and weave in the attack.

    The attack happens on the third day (or the last one if ``days`` < 3).
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    start = start.astimezone(UTC)
    people = make_people(seed)
    humans = [p for p in people if p.kind == "human"]
    log = _Log()
    travel_plan = {("marcus.oyelaran", 1): "lisbon", ("diego.alvarez", min(3, days - 1)): "mexico"}
    rotation: tuple[str, datetime] | None = None
    for person in humans:
        for day in range(days):
            rng = random.Random(f"{seed}:{person.key}:{day}")
            day_start = start + timedelta(days=day)
            trip = travel_plan.get((person.key, day)) if day > 0 else None
            if trip is not None:
                geo, block = TRAVEL[trip]
                geo = dataclasses.replace(geo, ips=_addresses(rng, block, 1))
                ip = geo.ips[0]
            else:
                geo = person.home
                ip = rng.choice(geo.ips)
            force = day == 0 or (person.key == KEY_ROTATOR and day == 1) or trip is not None
            _workday(
                log,
                person,
                day_start,
                rng=rng,
                geo=geo,
                ip=ip,
                new_geo=trip is not None,
                force=force,
            )
            if person.key == KEY_ROTATOR and day == min(1, days - 1) and days > 1:
                at = day_start - timedelta(hours=geo.utc_offset) + timedelta(hours=15, minutes=42)
                rotation = _rotate_key(log, person, at, ip, rng=rng, user="svc-metrics")
    _service_activity(log, start, days, seed, rotation)
    victim = next(p for p in humans if p.key == ATTACK_VICTIM)
    attack_day = min(ATTACK_DAY, days - 1)
    attack_at = start + timedelta(days=attack_day) + ATTACK_TIME_OF_DAY
    attack = _attack(log, victim, attack_at, random.Random(f"{seed}:attack"))
    # The second attack, on the fourth day (after the first, whose records stay as they were).
    identity_logs = IdentityLogs()
    record_ids = admin_days(people, start, days, seed, identity_logs)
    hybrid = None
    if days > HYBRID_DAY:
        hybrid_victim = next(p for p in humans if p.key == HYBRID_VICTIM)
        okta_extra, ct_extra, hybrid_logs, hybrid = hybrid_attack(
            hybrid_victim,
            start + timedelta(days=HYBRID_DAY),
            log.okta,
            PROD_ACCOUNT,
            record_ids,
            rng=random.Random(f"{seed}:hybrid"),
        )
        log.okta.extend(okta_extra)
        log.cloudtrail.extend(ct_extra)
        identity_logs.entra.extend(hybrid_logs.entra)
        identity_logs.windows.extend(hybrid_logs.windows)
    identity_logs.sort()
    okta = sorted(log.okta, key=lambda r: (r["published"], r["uuid"]))
    cloudtrail = sorted(log.cloudtrail, key=lambda r: (r["eventTime"], r["eventID"]))
    return Sample(
        okta=okta,
        cloudtrail=cloudtrail,
        people=people,
        identities=sample_identities(people),
        attack=attack,
        seed=seed,
        start=start,
        days=days,
        entra=identity_logs.entra,
        windows=identity_logs.windows,
        hybrid=hybrid,
    )


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _parse_ct_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _gzip(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return buf.getvalue()


def cloudtrail_files(
    records: Sequence[JsonDict], seed: int, stream: str = "delivery"
) -> list[tuple[str, list[JsonDict]]]:
    """Group records into S3 delivery files as CloudTrail writes them: ``[(path, records)]``.

    Each record reaches S3 1-8 minutes after its call; CloudTrail writes one file per account,
    region and 5-minute delivery window, under the usual S3 key layout
    ``AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_
    <YYYYMMDDTHHMMZ>_<16 chars>.json.gz``. Records inside a file are in delivery order, so
    only roughly in time order; across files, event time is out of order by at most the
    delivery lag plus the window (under 15 minutes). ``stream`` names the random stream of the
    delivery lags and file names.
    """
    rng = random.Random(f"{seed}:{stream}")
    groups: dict[tuple[str, str, datetime], list[tuple[float, JsonDict]]] = defaultdict(list)
    for record in records:
        delivered = _parse_ct_time(record["eventTime"]).timestamp() + rng.uniform(60, 480)
        window = datetime.fromtimestamp(delivered - delivered % 300 + 300, tz=UTC)
        groups[(record["recipientAccountId"], record["awsRegion"], window)].append(
            (delivered, record)
        )
    files: list[tuple[str, list[JsonDict]]] = []
    for (account, region, window), group in sorted(groups.items()):
        suffix = "".join(rng.choices(string.ascii_letters + string.digits, k=16))
        folder = f"AWSLogs/{account}/CloudTrail/{region}/{window:%Y/%m/%d}"
        name = f"{folder}/{account}_CloudTrail_{region}_{window:%Y%m%dT%H%MZ}_{suffix}.json.gz"
        files.append((name, [record for _, record in sorted(group, key=lambda x: x[0])]))
    return files


def _json_lines(records: Iterable[JsonDict]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def write_sample(sample: Sample, out_dir: Path) -> None:
    """Write ``okta/system-log.jsonl``, ``cloudtrail/*.json.gz``, ``entra/diagnostic-logs.jsonl``,
    ``windows/security.jsonl`` and ``identities.yaml``.

    The second attack's CloudTrail records are delivered in files of their own (their own
    random stream), so that adding it left every file of the first attack's sample as it was.
    """
    out_dir = Path(out_dir)
    okta_dir = out_dir / "okta"
    ct_dir = out_dir / "cloudtrail"
    for directory in (okta_dir, ct_dir, out_dir / "entra", out_dir / "windows"):
        directory.mkdir(parents=True, exist_ok=True)
    for stale in ct_dir.rglob("*.json.gz"):
        stale.unlink()
    okta = sorted(sample.okta, key=lambda r: (r["published"], r["uuid"]))
    (okta_dir / "system-log.jsonl").write_bytes(_json_lines(okta))
    second = set(sample.hybrid.cloudtrail) if sample.hybrid is not None else set()
    first = [r for r in sample.cloudtrail if r["eventID"] not in second]
    files = cloudtrail_files(first, sample.seed)
    files += cloudtrail_files(
        [r for r in sample.cloudtrail if r["eventID"] in second], sample.seed, "delivery:hybrid"
    )
    for name, records in files:
        target = ct_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_gzip(orjson.dumps({"Records": records})))
    # One diagnostic-settings export, sign-ins and audits together in time order (a file
    # read after another is checked against it: seamwatch/sources/timeguard.py).
    (out_dir / "entra" / "diagnostic-logs.jsonl").write_bytes(_json_lines(sample.entra))
    (out_dir / "windows" / "security.jsonl").write_bytes(_json_lines(sample.windows))
    (out_dir / "identities.yaml").write_text(
        yaml.safe_dump(sample.identities, sort_keys=False, allow_unicode=True, width=100),
        encoding="utf-8",
    )


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m seamwatch.sample.scenario OUT_DIR [--seed N] [--days N]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=4)
    args = parser.parse_args(argv)
    sample = build_sample(seed=args.seed, days=args.days)
    write_sample(sample, args.out_dir)
    a = sample.attack
    print(
        f"wrote {len(sample.okta)} Okta, {len(sample.cloudtrail)} CloudTrail, "
        f"{len(sample.entra)} Entra and {len(sample.windows)} Windows records to "
        f"{args.out_dir}; attack on {a.entity} from {a.ip} ({a.country}) at {a.login_time}: "
        f"{' -> '.join(a.event_ids)}"
    )
    if sample.hybrid is not None:
        h = sample.hybrid
        print(
            f"attack across the four sources on {h.entity}: {h.key_read} -> {h.app_secret} -> "
            f"{h.okta_session} -> {h.assume_role} -> {h.attach_policy} (from {h.ip})"
        )


if __name__ == "__main__":
    main()
