"""The correlation job end to end on a real Flink mini-cluster.

One job run holds several people, each a scenario: the field attack, which must alert, and the
near misses beside it, which must not. A second run feeds the same scenarios in other input
shapes, shuffled within the watermark bound, with malformed records in front of them.
"""

from __future__ import annotations

import gzip
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from seamwatch.jobs.local import RunResult, run_files
from seamwatch.jobs.settings import DEFAULT_RULES_DIR, JobSettings
from seamwatch.udfs.alerts import iso_ms
from seamwatch.udfs.geo import BUNDLED, GeoDatabases
from tests.mmdb import asn_record, city_record, write_mmdb
from tests.s3_dump import insight, write_s3_dump
from tests.scenarios import ABROAD, HOME, Scenario, field_attack

pytestmark = pytest.mark.flink

RULE = "okta-new-country-saml-access-key"


def _scenario() -> Scenario:
    scenario = Scenario()
    field_attack(scenario, "ava.stone", seed=1)
    # Same sequence, but CreateAccessKey 20 minutes after the login: outside the 15 min window.
    field_attack(scenario, "liam.late", key_after=timedelta(minutes=20), expect_alert=False, seed=2)
    # AssumeRoleWithSAML from another IP than the Okta login.
    field_attack(scenario, "ivy.elsewhere", assume_ip="198.51.100.77", expect_alert=False, seed=3)
    # Login from the person's usual country.
    field_attack(scenario, "hal.home", login_geo=HOME, expect_alert=False, seed=4)
    return scenario


def _run(
    tmp: Path, scenario: Scenario, okta: Path, cloudtrail: Path, geo: GeoDatabases = BUNDLED
) -> RunResult:
    identities = tmp / "identities.yaml"
    identities.write_text(yaml.safe_dump(scenario.identities()))
    settings = JobSettings(
        inputs={"okta": [str(okta)], "cloudtrail": [str(cloudtrail)]},
        rules_dir=DEFAULT_RULES_DIR,
        identities=identities,
        output=tmp / "out" / "alerts.jsonl",
        geo=geo,
    )
    return run_files(settings)


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return _scenario()


@pytest.fixture(scope="module")
def ordered_run(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    """Okta as a System Log API array, CloudTrail as a gzipped S3 log file, in time order."""
    tmp = tmp_path_factory.mktemp("ordered")
    okta = tmp / "okta-api-page.json"
    okta.write_bytes(orjson.dumps(sorted(scenario.okta, key=lambda r: r["published"])))
    cloudtrail = tmp / "111122223333_CloudTrail_us-east-1_20260304T1400Z_a1.json.gz"
    records = sorted(scenario.cloudtrail, key=lambda r: r["eventTime"])
    cloudtrail.write_bytes(gzip.compress(orjson.dumps({"Records": records}), mtime=0))
    return _run(tmp, scenario, okta, cloudtrail)


@pytest.fixture(scope="module")
def shuffled_run(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    """Okta as event-hook deliveries, CloudTrail as EventBridge envelopes, one per line.

    The records of the attack day are shuffled (they span less than the watermark bound), and
    malformed lines come first.
    """
    tmp = tmp_path_factory.mktemp("shuffled")
    rng = random.Random(5)
    okta_history, okta_day = _split_by_day(scenario.okta, "published")
    ct_history, ct_day = _split_by_day(scenario.cloudtrail, "eventTime")
    rng.shuffle(okta_day)
    rng.shuffle(ct_day)
    okta = tmp / "okta-hook.jsonl"
    with okta.open("wb") as out:
        out.write(b'{"eventType": "user.session.start", "published": \n')  # truncated JSON
        out.write(b'{"hello": "world"}\n')  # JSON, but not an Okta event
        for record in okta_history + okta_day:
            out.write(
                orjson.dumps({"eventType": "com.okta.event_hook", "data": {"events": [record]}})
            )
            out.write(b"\n")
    cloudtrail = tmp / "eventbridge.jsonl"
    with cloudtrail.open("wb") as out:
        out.write(b"not json at all\n")
        out.write(b'{"eventName": "CreateAccessKey", "eventTime": "yesterday"}\n')
        for record in ct_history + ct_day:
            envelope = {
                "version": "0",
                "detail-type": "AWS API Call via CloudTrail",
                "source": "aws." + record["eventSource"].split(".")[0],
                "time": record["eventTime"],
                "detail": record,
            }
            out.write(orjson.dumps(envelope) + b"\n")
    return _run(tmp, scenario, okta, cloudtrail)


@pytest.fixture(scope="module")
def s3_dump_run(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    """CloudTrail as a bucket copied to disk: each log file delivered twice, digest files, S3
    notifications, an Insights file whose record reuses the attack key's event id."""
    tmp = tmp_path_factory.mktemp("s3dump")
    okta = tmp / "okta-api-page.json"
    okta.write_bytes(orjson.dumps(sorted(scenario.okta, key=lambda r: r["published"])))
    records = sorted(scenario.cloudtrail, key=lambda r: r["eventTime"])
    write_s3_dump(tmp / "s3-dump", records)
    key_id = scenario.expected["ava.stone"][2]
    clash = tmp / "s3-dump" / "AWSLogs" / "111122223333" / "CloudTrail-Insight" / "clash.json"
    clash.write_bytes(orjson.dumps({"Records": [insight("2026-03-04T14:20:00Z", key_id)]}))
    return _run(tmp, scenario, okta, tmp / "s3-dump")


@pytest.fixture(scope="module")
def current_geo_run(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    """The ordered input, located with user-supplied City and ASN databases."""
    tmp = tmp_path_factory.mktemp("geo")
    block = ABROAD.ips[0].rsplit(".", 1)[0] + ".0/24"
    city = write_mmdb(
        tmp / "City.mmdb",
        "GeoLite2-City",
        {block: city_record("Romania", "RO", "Cluj-Napoca", 46.77, 23.6)},
    )
    asn = write_mmdb(tmp / "ASN.mmdb", "GeoLite2-ASN", {block: asn_record(9009, "M247 Europe")})
    okta = tmp / "okta-api-page.json"
    okta.write_bytes(orjson.dumps(sorted(scenario.okta, key=lambda r: r["published"])))
    cloudtrail = tmp / "cloudtrail.json"
    cloudtrail.write_bytes(
        orjson.dumps({"Records": sorted(scenario.cloudtrail, key=lambda r: r["eventTime"])})
    )
    return _run(tmp, scenario, okta, cloudtrail, GeoDatabases(city=str(city), asn=str(asn)))


def _split_by_day(
    records: list[dict[str, Any]], time_key: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    ordered = sorted(records, key=lambda r: r[time_key])
    history = [r for r in ordered if r[time_key] < "2026-03-04"]
    return history, [r for r in ordered if r[time_key] >= "2026-03-04"]


def _field_alerts(result: RunResult) -> list[dict[str, Any]]:
    """Alerts of the field rule (the catalog's broader rules may also see these scenarios)."""
    return [a for a in result.alerts if a["rule_id"] == RULE]


def _alerts_by_entity(result: RunResult) -> dict[str, list[dict[str, Any]]]:
    by_entity: dict[str, list[dict[str, Any]]] = {}
    for alert in _field_alerts(result):
        by_entity.setdefault(alert["entity"]["id"], []).append(alert)
    return by_entity


def test_field_attack_alerts_once_with_the_three_events_in_order(
    ordered_run: RunResult, scenario: Scenario
) -> None:
    alerts = _alerts_by_entity(ordered_run)
    assert list(alerts) == ["ava.stone"], "only the field attack may alert"
    (alert,) = alerts["ava.stone"]
    assert alert["rule_id"] == RULE
    assert alert["techniques"] == ["T1078.004", "T1550", "T1098.001"]
    assert tuple(e["event_id"] for e in alert["events"]) == scenario.expected["ava.stone"]
    assert [(e["source"], e["action"]) for e in alert["events"]] == [
        ("okta", "user.session.start"),
        ("cloudtrail", "AssumeRoleWithSAML"),
        ("cloudtrail", "CreateAccessKey"),
    ]
    login, assume, key = alert["events"]
    assert login["country"] == "Romania" and login["new_country"] is True
    assert login["src_ip"] == assume["src_ip"] == ABROAD.ips[0]
    assert alert["window_seconds"] == 900
    assert alert["first_event_time"] == login["event_time"]
    assert alert["last_event_time"] == key["event_time"]
    assert key["event_time"] - login["event_time"] == 9 * 60 * 1000


def test_alert_names_the_entity_and_its_identifiers(ordered_run: RunResult) -> None:
    (alert,) = _field_alerts(ordered_run)
    entity = alert["entity"]
    assert (entity["id"], entity["type"], entity["name"]) == ("ava.stone", "human", "Ava Stone")
    values = {i["value"] for i in entity["identifiers"]}
    assert "ava.stone@example.com" in values
    assert any(v.startswith("arn:aws:sts::111122223333:assumed-role/") for v in values)
    assert entity["resolved_by"] == "static"


def test_events_point_back_to_their_raw_records(ordered_run: RunResult) -> None:
    (alert,) = _field_alerts(ordered_run)
    refs = [e["raw_ref"] for e in alert["events"]]
    assert "okta-api-page.json:1#" in refs[0]
    assert all("_CloudTrail_us-east-1_" in ref and "#" in ref for ref in refs[1:])


def test_alert_file_is_written_and_nothing_is_dead_lettered(ordered_run: RunResult) -> None:
    lines = ordered_run.output.read_bytes().splitlines()
    assert [orjson.loads(line)["alert_id"] for line in lines] == [
        a["alert_id"] for a in ordered_run.alerts
    ]
    assert len(_field_alerts(ordered_run)) == 1
    assert ordered_run.dead_letters == []
    # Okta and CloudTrail only: a rule that needs Windows events is not run, one that needs
    # only these two is.
    assert ordered_run.idle_rules["kerberoasting-then-aws-activity"] == ("windows",)
    assert "okta-new-country-saml-access-key" not in ordered_run.idle_rules
    assert ordered_run.dead_letter_path.read_bytes() == b""


def test_shuffled_input_and_other_shapes_give_the_same_alert(
    ordered_run: RunResult, shuffled_run: RunResult
) -> None:
    assert sorted(a["alert_id"] for a in shuffled_run.alerts) == sorted(
        a["alert_id"] for a in ordered_run.alerts
    )
    assert [a["entity"]["id"] for a in _field_alerts(shuffled_run)] == ["ava.stone"]


def test_malformed_records_are_dead_lettered_with_reason_and_counted(
    shuffled_run: RunResult,
) -> None:
    dead = shuffled_run.dead_letters
    by_ref = {d["raw_ref"].rsplit("/", 1)[-1]: d for d in dead}
    assert set(by_ref) == {
        "okta-hook.jsonl:1",
        "okta-hook.jsonl:2",
        "eventbridge.jsonl:1",
        "eventbridge.jsonl:2",
    }
    assert by_ref["eventbridge.jsonl:1"]["raw"] == "not json at all"
    assert "JSON" in by_ref["eventbridge.jsonl:1"]["reason"]
    assert "time" in by_ref["eventbridge.jsonl:2"]["reason"]
    written = shuffled_run.dead_letter_path.read_bytes().splitlines()
    assert len(written) == 4
    # Records in = normalized + dead-lettered: the staged count includes the bad lines.
    assert shuffled_run.records_in == len(_scenario().okta) + len(_scenario().cloudtrail) + 4


def test_alert_events_say_account_region_service_device_and_iso_times(
    ordered_run: RunResult,
) -> None:
    (alert,) = _field_alerts(ordered_run)
    login, assume, key = alert["events"]
    assert (assume["account_id"], assume["service"]) == ("111122223333", "sts.amazonaws.com")
    assert (key["account_id"], key["service"]) == ("111122223333", "iam.amazonaws.com")
    assert assume["region"] and key["error_code"] is None
    assert login["as_org"] and login["asn"]  # Okta's own AS of the sign-in address
    # Every event shows the device its new_device flag compared (never null when flagged).
    assert all(e["device"] for e in alert["events"])
    for event in alert["events"]:
        assert event["event_time_iso"] == iso_ms(event["event_time"])
    assert alert["first_event_time_iso"].startswith("2026-03-04T")


def test_refs_are_relative_to_the_input_root(ordered_run: RunResult) -> None:
    (alert,) = _field_alerts(ordered_run)
    refs = [e["raw_ref"] for e in alert["events"]]
    assert refs[0].startswith("okta-api-page.json:1#")
    assert refs[1].startswith("111122223333_CloudTrail_us-east-1_20260304T1400Z_a1.json.gz:1#")
    assert not any(str(ordered_run.output.parents[1]) in ref for ref in refs)


def test_time_to_detect_on_a_replay_is_the_jobs_latency(ordered_run: RunResult) -> None:
    (alert,) = _field_alerts(ordered_run)
    # The events are from March 2026; the alert measures from their arrival in the job.
    assert 0 <= alert["time_to_detect_ms"] < ordered_run.seconds * 1000 + 60_000


def test_an_s3_dump_counts_each_record_once_and_skips_what_is_no_event(
    ordered_run: RunResult, s3_dump_run: RunResult, scenario: Scenario
) -> None:
    assert sorted(a["alert_id"] for a in s3_dump_run.alerts) == sorted(
        a["alert_id"] for a in ordered_run.alerts
    )
    (alert,) = _field_alerts(s3_dump_run)
    assert tuple(e["event_id"] for e in alert["events"]) == scenario.expected["ava.stone"]
    (staged,) = [s for s in s3_dump_run.staged if s.source == "cloudtrail"]
    assert staged.duplicates == len(scenario.cloudtrail)
    assert staged.not_events == {
        "cloudtrail_digest": 2,
        "s3_event_notification": 2,
        "s3_test_event": 1,
    }
    # The Insights records are normalized, the one reusing an event id under an id of its own.
    assert staged.records == len(scenario.cloudtrail) + 2 and staged.distinct_ids == 1
    assert s3_dump_run.dead_letters == []


def test_user_supplied_geo_databases_locate_the_aws_side(
    ordered_run: RunResult, current_geo_run: RunResult
) -> None:
    (alert,) = _field_alerts(current_geo_run)
    login, assume, _ = alert["events"]
    assert (assume["country"], assume["city"]) == ("Romania", "Cluj-Napoca")
    assert (assume["asn"], assume["as_org"]) == (9009, "M247 Europe")
    assert login["geo_source"] == "okta"  # Okta's own geography still wins for Okta events
    (before,) = _field_alerts(ordered_run)
    assert alert["alert_id"] == before["alert_id"]
    assert before["events"][1]["city"] != "Cluj-Napoca"
