"""Tests of the synthetic log generator (``seamwatch.sample``)."""

from __future__ import annotations

import gzip
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from seamwatch.jobs.settings import DEFAULT_LEARNING_DAYS
from seamwatch.sample.factories import (
    EVERYDAY_CALLS,
    Geo,
    Person,
    ct_assume_role_by_service,
    ct_assume_role_with_saml,
    ct_call,
    ct_console_login,
    ct_create_access_key,
    ct_iam_user_call,
    everyday_request,
    okta_mfa,
    okta_push_denied,
    okta_session_end,
    okta_session_start,
    okta_sso_aws,
    okta_user_id,
)
from seamwatch.sample.scenario import Sample, build_sample, write_sample
from seamwatch.sample.stream import write_bench_corpus

ACCOUNT = "111122223333"
AT = datetime(2026, 3, 4, 10, 0, 1, 234000, tzinfo=UTC)
GEO = Geo("Denver", "Colorado", "United States", "80205", 39.7589, -104.9661, ("73.14.2.9",), -7)
DANA = Person(
    key="dana.whitfield",
    display_name="Dana Whitfield",
    email="dana.whitfield@example.com",
    okta_id=okta_user_id("dana.whitfield"),
    home=GEO,
    roles=("PlatformAdmin",),
)
OKTA_ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
CT_ISO_S = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
CT_FILE = re.compile(r"^\d{12}_CloudTrail_us-east-1_\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$")


def _size(record: dict[str, Any]) -> int:
    return len(orjson.dumps(record))


def _okta_records(rng: random.Random) -> list[dict[str, Any]]:
    ip = GEO.ips[0]
    return [
        okta_session_start(DANA, AT, ip, GEO, rng=rng),
        okta_session_start(DANA, AT, ip, GEO, "FAILURE", rng=rng),
        okta_mfa(DANA, AT, ip, GEO, rng=rng),
        okta_push_denied(DANA, AT, ip, GEO, rng=rng),
        okta_sso_aws(DANA, AT, ip, GEO, rng=rng),
        okta_session_end(DANA, AT, ip, GEO, rng=rng),
    ]


def test_okta_builders_shape_and_size() -> None:
    records = _okta_records(random.Random(1))
    for record in records:
        assert 2048 <= _size(record) <= 4096, record["eventType"]
        assert OKTA_ISO_MS.match(record["published"])
        for key in (
            "uuid", "eventType", "version", "severity", "displayMessage", "actor", "client",
            "device", "authenticationContext", "outcome", "transaction", "debugContext",
            "legacyEventType", "securityContext", "request", "target",
        ):  # fmt: skip
            assert key in record, (record["eventType"], key)
        assert set(record["actor"]) == {"id", "type", "alternateId", "displayName", "detailEntry"}
        client = record["client"]
        assert client["ipAddress"] == GEO.ips[0]
        assert set(client["userAgent"]) == {"rawUserAgent", "os", "browser"}
        assert client["geographicalContext"]["country"] == "United States"
        assert set(client["geographicalContext"]["geolocation"]) == {"lat", "lon"}
        assert {"asNumber", "asOrg", "isp", "domain", "isProxy"} <= set(record["securityContext"])
        debug = record["debugContext"]["debugData"]
        assert {"requestId", "requestUri", "url"} <= set(debug)
        assert record["transaction"]["id"] == debug["requestId"]
        assert record["request"]["ipChain"][0]["ip"] == GEO.ips[0]
        assert record["actor"]["id"].startswith("00u") and len(record["actor"]["id"]) == 20
    start, fail, mfa, deny, sso, end = records
    assert start["eventType"] == "user.session.start"
    assert start["outcome"] == {"result": "SUCCESS", "reason": None}
    assert fail["outcome"] == {"result": "FAILURE", "reason": "INVALID_CREDENTIALS"}
    assert mfa["eventType"] == "user.authentication.auth_via_mfa"
    assert deny["eventType"] == "user.mfa.okta_verify.deny_push"
    assert deny["outcome"]["result"] == "FAILURE"
    assert sso["eventType"] == "user.authentication.sso"
    assert sso["target"][0]["type"] == "AppInstance"
    assert sso["target"][0]["displayName"] == "AWS Account Federation"
    assert end["eventType"] == "user.session.end"


def test_cloudtrail_builders_shape_and_size() -> None:
    rng = random.Random(2)
    ip = "73.14.2.9"
    issued = ct_assume_role_with_saml(DANA, AT, ip, ACCOUNT, "PlatformAdmin", rng=rng)
    saml = issued.record
    assert saml["eventName"] == "AssumeRoleWithSAML"
    assert saml["userIdentity"]["type"] == "SAMLUser"
    assert saml["userIdentity"]["userName"] == DANA.email
    assert saml["userIdentity"]["principalId"].endswith(":" + DANA.email)
    assert saml["userIdentity"]["identityProvider"] == f"arn:aws:iam::{ACCOUNT}:saml-provider/Okta"
    creds = saml["responseElements"]["credentials"]
    assert creds["accessKeyId"] == issued.access_key_id
    assert issued.access_key_id.startswith("ASIA") and len(issued.access_key_id) == 20
    assert re.match(r"^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d\d:\d\d [AP]M$", creds["expiration"])
    assert saml["responseElements"]["assumedRoleUser"]["arn"] == issued.session_arn
    assert issued.session_arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/PlatformAdmin/{DANA.email}"
    assert saml["requestParameters"]["roleArn"] == f"arn:aws:iam::{ACCOUNT}:role/PlatformAdmin"

    call = ct_call(
        DANA, AT, ip, "sts.amazonaws.com", "GetCallerIdentity", ACCOUNT, "PlatformAdmin",
        issued.access_key_id, rng=rng,
    )  # fmt: skip
    identity = call["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert identity["arn"] == issued.session_arn
    assert identity["accessKeyId"] == issued.access_key_id
    assert identity["sessionContext"]["sessionIssuer"]["userName"] == "PlatformAdmin"
    assert call["readOnly"] is True

    create = ct_create_access_key(
        DANA, AT, ip, ACCOUNT, "PlatformAdmin", issued.access_key_id, "svc-backup", rng=rng
    )
    key = create["responseElements"]["accessKey"]
    assert key["accessKeyId"].startswith("AKIA") and len(key["accessKeyId"]) == 20
    assert key["userName"] == "svc-backup" and key["status"] == "Active"
    assert create["readOnly"] is False and create["eventSource"] == "iam.amazonaws.com"

    svc = ct_iam_user_call(
        "svc-backup", AT, "52.44.18.201", ACCOUNT, "s3.amazonaws.com", "ListBuckets",
        key["accessKeyId"], rng=rng, request_parameters={"Host": "s3.us-east-1.amazonaws.com"},
        additional_event_data=everyday_request(
            "s3.amazonaws.com", "ListBuckets", rng=rng, account_id=ACCOUNT, region="us-east-1"
        )[3],
    )  # fmt: skip
    assert svc["userIdentity"]["arn"] == f"arn:aws:iam::{ACCOUNT}:user/svc-backup"
    aws = ct_assume_role_by_service("lambda.amazonaws.com", AT, ACCOUNT, "fn-exec", "fn", rng=rng)
    assert aws["userIdentity"] == {"type": "AWSService", "invokedBy": "lambda.amazonaws.com"}
    assert aws["sourceIPAddress"] == "lambda.amazonaws.com"
    console = ct_console_login(DANA, AT, ip, ACCOUNT, "PlatformAdmin", rng=rng)
    assert console["eventType"] == "AwsConsoleSignIn"
    assert console["responseElements"] == {"ConsoleLogin": "Success"}
    assert {"MFAUsed", "LoginTo", "SamlProviderArn"} <= set(console["additionalEventData"])

    everyday = []
    for source, name, _ in EVERYDAY_CALLS:
        params, response, resources, extra = everyday_request(
            source, name, rng=rng, account_id=ACCOUNT, region="us-east-1"
        )
        everyday.append(
            ct_call(
                DANA,
                AT,
                ip,
                source,
                name,
                ACCOUNT,
                "PlatformAdmin",
                issued.access_key_id,
                params,
                response,
                rng=rng,
                resources=resources,
                additional_event_data=extra,
            )
        )
    for record in [saml, call, create, svc, aws, console, *everyday]:
        assert 1024 <= _size(record) <= 3072, record["eventName"]
        assert record["eventVersion"] in ("1.08", "1.09")
        assert CT_ISO_S.match(record["eventTime"])
        for key_name in (
            "userIdentity", "eventSource", "eventName", "awsRegion", "sourceIPAddress",
            "userAgent", "requestParameters", "responseElements", "eventID", "readOnly",
            "eventType", "managementEvent", "recipientAccountId", "eventCategory",
        ):  # fmt: skip
            assert key_name in record, (record["eventName"], key_name)


def test_builders_reject_naive_time() -> None:
    with pytest.raises(ValueError):
        okta_session_start(DANA, datetime(2026, 3, 4), "1.2.3.4", GEO, rng=random.Random(0))


def test_builders_are_deterministic() -> None:
    assert _okta_records(random.Random(5)) == _okta_records(random.Random(5))


@pytest.fixture(scope="module")
def sample() -> Sample:
    return build_sample()


def _okta_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _ct_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def test_sample_size_and_population(sample: Sample) -> None:
    assert 2000 <= len(sample.okta) + len(sample.cloudtrail) <= 9000
    humans = [p for p in sample.people if p.kind == "human"]
    services = [p for p in sample.people if p.kind == "service"]
    assert 18 <= len(humans) <= 24 and 3 <= len(services) <= 4
    ids = {e["id"] for e in sample.identities["entities"]}
    assert ids == {p.key for p in sample.people}
    kinds = {r["userIdentity"]["type"] for r in sample.cloudtrail}
    assert {"SAMLUser", "AssumedRole", "IAMUser", "AWSService"} <= kinds


def test_sample_contains_attack_in_order(sample: Sample) -> None:
    attack = sample.attack
    assert attack.entity == "dana.whitfield"
    login = next(r for r in sample.okta if r["uuid"] == attack.event_ids[0])
    assume = next(r for r in sample.cloudtrail if r["eventID"] == attack.event_ids[1])
    create = next(r for r in sample.cloudtrail if r["eventID"] == attack.event_ids[2])
    assert login["eventType"] == "user.session.start"
    assert login["outcome"]["result"] == "SUCCESS"
    assert login["actor"]["alternateId"] == "dana.whitfield@example.com"
    assert assume["eventName"] == "AssumeRoleWithSAML"
    assert assume["userIdentity"]["userName"] == "dana.whitfield@example.com"
    assert create["eventName"] == "CreateAccessKey"
    assert create["userIdentity"]["accessKeyId"] == attack.session_access_key_id
    assert create["requestParameters"]["userName"] == attack.target_user
    t_login = _okta_time(login["published"])
    t_assume = _ct_time(assume["eventTime"])
    t_create = _ct_time(create["eventTime"])
    assert t_login <= t_assume <= t_create <= t_login + timedelta(minutes=15)
    assert t_assume - t_login <= timedelta(minutes=3)
    ip = login["client"]["ipAddress"]
    assert ip == assume["sourceIPAddress"] == create["sourceIPAddress"] == attack.ip
    country = login["client"]["geographicalContext"]["country"]
    assert country == attack.country != "United States"
    earlier = [
        r
        for r in sample.okta
        if r["actor"]["alternateId"] == "dana.whitfield@example.com"
        and _okta_time(r["published"]) < t_login
        and r["client"]["geographicalContext"]["country"] == country
        and r["eventType"] == "user.session.start"
    ]
    assert earlier == []
    assert any(
        r["actor"]["alternateId"] == "dana.whitfield@example.com"
        and _okta_time(r["published"]) < t_login
        and r["eventType"] == "user.session.start"
        for r in sample.okta
    ), "the victim should have a sign-in history before the attack"


def test_benign_traffic_has_no_attack_pattern(sample: Sample) -> None:
    seen: dict[str, set[str]] = {}
    new_country_logins: dict[str, list[datetime]] = {}
    travel = 0
    for r in sample.okta:  # sorted by published
        if r["eventType"] != "user.session.start" or r["outcome"]["result"] != "SUCCESS":
            continue
        if r["uuid"] == sample.attack.login_uuid:
            continue
        email = r["actor"]["alternateId"]
        country = r["client"]["geographicalContext"]["country"]
        countries = seen.setdefault(email, set())
        if country not in countries:
            new_country_logins.setdefault(email, []).append(_okta_time(r["published"]))
            if countries:
                travel += 1
        countries.add(country)
    assert travel >= 1, "expected at least one benign travel day"
    benign_creates = [
        r
        for r in sample.cloudtrail
        if r["eventName"] == "CreateAccessKey" and r["eventID"] != sample.attack.event_ids[2]
    ]
    assert benign_creates, "expected a benign key rotation"
    for r in benign_creates:
        email = r["userIdentity"]["arn"].rsplit("/", 1)[-1]
        at = _ct_time(r["eventTime"])
        for login in new_country_logins.get(email, []):
            assert not (login <= at <= login + timedelta(minutes=15)), (email, at)


def test_sample_is_deterministic(tmp_path: Path, sample: Sample) -> None:
    write_sample(sample, tmp_path / "a")
    write_sample(build_sample(), tmp_path / "b")
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*"))
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.*"))
    assert files_a == files_b
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    other = build_sample(seed=8)
    assert other.okta[0]["uuid"] != sample.okta[0]["uuid"]


def test_write_sample_round_trips(tmp_path: Path, sample: Sample) -> None:
    write_sample(sample, tmp_path)
    lines = (tmp_path / "okta" / "system-log.jsonl").read_bytes().splitlines()
    okta = [orjson.loads(line) for line in lines]
    assert len(okta) == len(sample.okta)
    assert [r["published"] for r in okta] == sorted(r["published"] for r in okta)
    files = sorted((tmp_path / "cloudtrail").rglob("*.json.gz"))
    assert len(files) >= 24
    records: list[dict[str, Any]] = []
    unsorted_files = 0
    replay: list[tuple[str, list[str]]] = []
    for path in files:
        assert CT_FILE.match(path.name), path.name
        account = path.name[:12]
        assert path.parent.relative_to(tmp_path / "cloudtrail").parts[:4] == (
            "AWSLogs",
            account,
            "CloudTrail",
            "us-east-1",
        )
        body = orjson.loads(gzip.decompress(path.read_bytes()))
        assert list(body) == ["Records"] and isinstance(body["Records"], list)
        times = [r["eventTime"] for r in body["Records"]]
        unsorted_files += times != sorted(times)
        assert {r["recipientAccountId"] for r in body["Records"]} == {account}
        # Every record was delivered 1-8 minutes after its call, in this 5-minute window.
        window_end = datetime.strptime(path.name.split("_")[3], "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
        for t in times:
            lag = window_end - datetime.fromisoformat(t)
            assert timedelta(minutes=1) <= lag <= timedelta(minutes=13), (path.name, t)
        replay.append((path.name.split("_")[3], times))
        records.extend(body["Records"])
    assert unsorted_files > 0
    # Replayed in delivery order, event time is out of order by less than 15 minutes.
    newest = ""
    worst = timedelta(0)
    for _, times in sorted(replay, key=lambda item: item[0]):
        for t in times:
            if newest:
                worst = max(worst, datetime.fromisoformat(newest) - datetime.fromisoformat(t))
            newest = max(newest, t)
    assert worst < timedelta(minutes=15)
    assert sorted(r["eventID"] for r in records) == sorted(r["eventID"] for r in sample.cloudtrail)
    identities = yaml.safe_load((tmp_path / "identities.yaml").read_text(encoding="utf-8"))
    assert identities == sample.identities
    first = identities["entities"][0]
    assert [i["kind"] for i in first["identifiers"]] == ["email", "okta_user_id", "okta_login"]
    service = next(e for e in identities["entities"] if e["id"] == "svc-backup")
    assert service == {
        "id": "svc-backup",
        "type": "service",
        "name": "Backup job",
        "identifiers": [{"kind": "aws_arn", "value": f"arn:aws:iam::{ACCOUNT}:user/svc-backup"}],
    }


def test_bench_corpus_small(tmp_path: Path) -> None:
    corpus = write_bench_corpus(tmp_path, n_events=2000, attacks=2, seed=3)
    assert corpus.records == 2000
    assert len(corpus.attacks) == 2
    assert len({a.entity for a in corpus.attacks}) == 2
    okta_lines = corpus.okta_path.read_bytes().splitlines()
    ct_lines = corpus.cloudtrail_path.read_bytes().splitlines()
    assert len(okta_lines) == corpus.okta_records and len(ct_lines) == corpus.cloudtrail_records
    assert corpus.okta_bytes == corpus.okta_path.stat().st_size
    assert 0.2 <= corpus.okta_records / corpus.records <= 0.4
    okta = [orjson.loads(line) for line in okta_lines]
    cloudtrail = [orjson.loads(line) for line in ct_lines]
    assert [r["published"] for r in okta] == sorted(r["published"] for r in okta)
    assert [r["eventTime"] for r in cloudtrail] == sorted(r["eventTime"] for r in cloudtrail)
    assert all(2048 <= len(line) <= 4096 for line in okta_lines)
    assert sum(1024 <= len(line) <= 3072 for line in ct_lines) >= 0.98 * len(ct_lines)
    assert len({r["uuid"] for r in okta}) == len(okta)
    assert len({r["eventID"] for r in cloudtrail}) == len(cloudtrail)
    okta_ids = {r["uuid"] for r in okta}
    ct_ids = {r["eventID"] for r in cloudtrail}
    for attack in corpus.attacks:
        assert attack.event_ids[0] in okta_ids
        assert attack.event_ids[1] in ct_ids and attack.event_ids[2] in ct_ids
    again = write_bench_corpus(tmp_path / "again", n_events=2000, attacks=2, seed=3)
    assert again.okta_path.read_bytes() == corpus.okta_path.read_bytes()
    assert again.cloudtrail_path.read_bytes() == corpus.cloudtrail_path.read_bytes()


def test_bench_victims_have_a_baseline_before_their_attack(tmp_path: Path) -> None:
    """Every victim has more than the job's learning period of history before its attack, so
    the field rule can see the attack's country as new (seed 14 once gave a victim that was
    absent on the first day)."""
    corpus = write_bench_corpus(tmp_path, n_events=3000, attacks=4, seed=14)
    okta = [orjson.loads(line) for line in corpus.okta_path.read_bytes().splitlines()]
    by_id = {r["uuid"]: r for r in okta}
    for attack in corpus.attacks:
        login = by_id[attack.event_ids[0]]
        email = login["actor"]["alternateId"]
        first = min(
            r["published"]
            for r in okta
            if r["actor"]["alternateId"] == email and r["outcome"]["result"] == "SUCCESS"
        )
        history = datetime.fromisoformat(login["published"]) - datetime.fromisoformat(first)
        assert history > timedelta(days=DEFAULT_LEARNING_DAYS), email


def test_the_second_attack_is_one_person_across_the_four_sources(sample: Sample) -> None:
    from seamwatch.udfs.cloudtrail import normalize_cloudtrail
    from seamwatch.udfs.entra import normalize_entra
    from seamwatch.udfs.identity import IdentityGraph, entity_from_mapping, resolve
    from seamwatch.udfs.okta import normalize_okta
    from seamwatch.udfs.windows import normalize_windows

    hybrid = sample.hybrid
    assert hybrid is not None and hybrid.entity == "felix.wagner"
    felix = next(p for p in sample.people if p.key == hybrid.entity)
    graph = IdentityGraph.from_entities(
        entity_from_mapping(e) for e in sample.identities["entities"]
    )
    windows = [normalize_windows(r, "w") for r in sample.windows]
    entra = [normalize_entra(r, "e") for r in sample.entra]
    okta = [normalize_okta(r, "o") for r in sample.okta]
    cloudtrail = [normalize_cloudtrail(r, "c") for r in sample.cloudtrail]
    by_id = {e.event_id: resolve(e, graph) for e in [*windows, *entra, *okta, *cloudtrail]}
    chain = [
        by_id[hybrid.key_read],
        by_id[hybrid.app_secret],
        by_id[hybrid.okta_session],
        by_id[hybrid.okta_sso],
        by_id[hybrid.assume_role],
        by_id[hybrid.attach_policy],
    ]
    assert [(e.source, e.action) for e in chain] == [
        ("windows", "adfs_dkm_key_read"),
        ("entra", "Update application \u2013 Certificates and secrets management"),
        ("okta", "user.session.start"),
        ("okta", "user.authentication.sso"),
        ("cloudtrail", "AssumeRoleWithSAML"),
        ("cloudtrail", "AttachUserPolicy"),
    ]
    # SID, Entra object id, Okta user id and SAML subject all lead to the one person.
    assert {e.entity_id for e in chain} == {"felix.wagner"}
    assert [e.resolved_via for e in chain[:3]] == [
        "ad_sid:S-1-5-21-1004336348-1177238915-682003330-1147",
        f"entra_object_id:{chain[1].identifiers[0].value}",
        f"okta_user_id:{felix.okta_id}",
    ]
    times = [e.event_time for e in chain]
    assert times == sorted(times)
    # The session is the victim's own, from home; the replay comes three minutes later from
    # abroad, and the Okta -> AWS rule's window is five minutes.
    assert chain[2].src_ip != hybrid.ip == chain[3].src_ip == chain[4].src_ip
    assert chain[4].event_time - chain[2].event_time <= 5 * 60_000
    # The background of the three domain admins resolves too: no Windows or Entra event of the
    # sample is left on an identifier's own key.
    assert {by_id[e.event_id].resolved_by for e in [*windows, *entra]} == {"static"}


def test_the_second_attack_leaves_the_first_attacks_files_as_they_were(
    tmp_path: Path, sample: Sample
) -> None:
    import dataclasses

    hybrid = sample.hybrid
    assert hybrid is not None
    without = dataclasses.replace(
        sample,
        okta=[r for r in sample.okta if r["uuid"] != hybrid.okta_sso],
        cloudtrail=[r for r in sample.cloudtrail if r["eventID"] not in hybrid.cloudtrail],
        entra=[],
        windows=[],
        hybrid=None,
    )
    write_sample(without, tmp_path / "one")
    write_sample(sample, tmp_path / "two")
    one = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*.json.gz"))
    two = {p.relative_to(tmp_path / "two") for p in (tmp_path / "two").rglob("*.json.gz")}
    assert len(two) == len(one) + 2 and set(one) <= two
    for rel in one:
        assert (tmp_path / "one" / rel).read_bytes() == (tmp_path / "two" / rel).read_bytes()
    # The Okta log gains one line, after the first attack: its records keep their line numbers.
    okta_one = (tmp_path / "one" / "okta" / "system-log.jsonl").read_bytes().splitlines()
    okta_two = (tmp_path / "two" / "okta" / "system-log.jsonl").read_bytes().splitlines()
    inserted = next(i for i, line in enumerate(okta_two) if hybrid.okta_sso.encode() in line)
    assert okta_two[:inserted] == okta_one[:inserted]
    login = sample.attack.login_uuid.encode()
    assert any(login in line for line in okta_two[:inserted])
