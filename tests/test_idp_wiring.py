"""The Entra ID and Windows sources on the client side of the file path, without Flink:
containers, staging with the watermark time, identifiers, countries, relevance, rule tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from seamwatch.jobs.rule_tests import identity_entities, materialize
from seamwatch.jobs.settings import DEFAULT_RULES_DIR, DEFAULT_WATERMARK_SECONDS
from seamwatch.rules.coverage_report import measure
from seamwatch.rules.relevance import Relevance
from seamwatch.rules.rulebook import Rule, load_rules
from seamwatch.sources.inputs import iter_records
from seamwatch.sources.raw import record_time, staged_time
from seamwatch.sources.staging import check_source, stage_inputs, staged_table_ddl
from seamwatch.sources.timeguard import WATERMARK_TIME_FUNCTION, FutureBounds
from seamwatch.udfs.geo import country_name, enrich
from seamwatch.udfs.identity import IdentityGraph, index_key, load_identity_file, resolve
from seamwatch.udfs.normalize import NORMALIZERS, explode, normalize_text
from seamwatch.udfs.records import Event, Rejected
from tests.idp_scenario import IDENTITIES, write_files

SIGN_IN = {
    "createdDateTime": "2031-01-05T10:00:00.1234567Z",
    "userPrincipalName": "ana@example.com",
    "userId": "0b5e0000-0000-4000-8000-0000000000a1",
    "ipAddress": "86.105.9.46",
    "status": {"errorCode": 0},
    "location": {"countryOrRegion": "RO", "city": "Bucharest"},
}


def _events(source: str, doc: object) -> list[Event | Rejected]:
    return normalize_text(source, orjson.dumps(doc), "t:1")


def test_both_sources_are_known_everywhere_sources_are_checked() -> None:
    assert check_source("entra") == "entra" and check_source("windows") == "windows"
    assert {"entra", "windows"} <= set(NORMALIZERS) <= set(DEFAULT_WATERMARK_SECONDS)
    # Entra's diagnostic exports arrive late: a wider bound than Okta's polled log.
    assert DEFAULT_WATERMARK_SECONDS["entra"] > DEFAULT_WATERMARK_SECONDS["okta"]


def test_entra_containers_are_unpacked_like_cloudtrail_records() -> None:
    batch = {
        "records": [
            {"time": "2031-01-05T10:00:01Z", "category": "SignInLogs", "properties": SIGN_IN}
        ]
        * 2
    }
    assert len(explode("entra", batch)) == 2
    assert len(explode("entra", {"value": [SIGN_IN, SIGN_IN, SIGN_IN]})) == 3
    # A record that has a "value" field of its own is one record.
    record = {"time": "2031-01-05T10:00:01Z", "category": "AuditLogs", "value": []}
    assert explode("entra", record) == [record]
    events = _events("entra", {"value": [SIGN_IN, {**SIGN_IN, "status": {"errorCode": 50126}}]})
    assert [(e.raw_ref, e.outcome) for e in events if isinstance(e, Event)] == [
        ("t:1#0", "success"),
        ("t:1#1", "failure"),
    ]
    # Windows events come in arrays only.
    assert len(explode("windows", [{"EventID": 4624}, {"EventID": 4625}])) == 2


def test_a_pretty_printed_graph_response_is_split_into_sign_ins(tmp_path: Path) -> None:
    path = tmp_path / "signins.json"
    path.write_bytes(orjson.dumps({"value": [SIGN_IN, SIGN_IN]}, option=orjson.OPT_INDENT_2))
    refs = [ref for ref, _, _ in iter_records("entra", [path])]
    assert refs == [f"{path}:1#0", f"{path}:1#1"]


def test_staged_time_is_the_normalizers_time() -> None:
    nxlog = {
        "EventID": 4624,
        "EventTime": "2031-01-05 12:00:00",  # the collector's local time, UTC+2
        "EventReceivedTime": "2031-01-05 12:00:03",
        "@timestamp": "2031-01-05T10:00:03.120Z",
    }
    assert staged_time("windows", nxlog) == "2031-01-05 10:00:00"
    adfs = {
        "time": "2031-01-05T10:00:07Z",
        "category": "ADFSSignInLogs",
        "properties": {"createdDateTime": "1/5/2031 9:59:58 AM"},
    }
    assert staged_time("entra", adfs) == "2031-01-05 09:59:58"
    assert staged_time("entra", SIGN_IN) == "2031-01-05 10:00:00"
    assert record_time("windows", {"EventID": 4624}) is None
    assert staged_time("entra", "not an object") is None


def test_raw_sources_are_staged_as_text_with_their_time(tmp_path: Path) -> None:
    path = tmp_path / "entra.jsonl"
    path.write_bytes(orjson.dumps(SIGN_IN) + b"\n{not json\n")
    # The record is dated 2031: no clock check here (the future-time guard is tested apart).
    no_clock = FutureBounds(clock_seconds=None)
    [staged] = stage_inputs({"entra": [str(path)]}, tmp_path / "staged", bounds=no_clock)
    rows = [orjson.loads(line) for line in (staged.path / "part-0.jsonl").read_bytes().splitlines()]
    assert [(r["_ref"], r["_time"]) for r in rows] == [
        ("entra.jsonl:1", "2031-01-05 10:00:00"),
        ("entra.jsonl:2", None),
    ]
    assert orjson.loads(rows[0]["_raw"]) == SIGN_IN and rows[1]["_raw"] == "{not json"
    ddl = staged_table_ddl("entra_staged", staged, 900)
    assert "`_time` STRING" in ddl and "INTERVAL '0 00:15:00'" in ddl
    # The watermark reads the staged time with the Java function, the clock bound inside it.
    assert f"{WATERMARK_TIME_FUNCTION}(`_time`, " in ddl
    assert "`userPrincipalName`" not in ddl  # no field columns: the text goes to Python


def test_identifier_kinds_and_case() -> None:
    assert index_key("ad_account", "CORP\\JSmith") == index_key("ad_account", "corp\\jsmith")
    assert index_key("entra_object_id", "6F1C2B9A") == index_key("entra_object_id", "6f1c2b9a")
    assert index_key("ad_sid", "S-1-5-21-1-2-3-500") != index_key("ad_sid", "s-1-5-21-1-2-3-500")


def test_one_person_resolves_across_the_four_sources(tmp_path: Path) -> None:
    files = write_files(tmp_path / "in")
    coverage = measure(files.inputs, load_identity_file(files.identities))
    assert {s: dict(c) for s, c in coverage.by_source.items()} == {
        "okta": {"static": 1},
        "entra": {"static": 2},
        "windows": {"static": 4},
        "cloudtrail": {"static": 2},
    }
    assert coverage.dead_letters == 2  # a RiskyUsers record, a 4658


def test_entra_country_codes_become_the_names_others_use() -> None:
    assert country_name("US") == "United States" and country_name("gb") == "United Kingdom"
    assert country_name("Romania") == "Romania" and country_name(None) is None
    [event] = _events("entra", SIGN_IN)
    assert isinstance(event, Event)
    located = enrich(event)
    assert (located.country, located.geo_source) == ("Romania", "entra")


def test_entra_sign_ins_teach_the_baseline_windows_events_only_when_a_rule_wants_them() -> None:
    relevance = Relevance(load_rules(DEFAULT_RULES_DIR))
    graph = IdentityGraph()
    [sign_in] = _events("entra", SIGN_IN)
    assert isinstance(sign_in, Event) and relevance.wants(resolve(sign_in, graph))
    ntlm = {
        "EventID": 4776,
        "TimeCreated": "2031-01-05T10:00:00Z",
        "Computer": "DC01",
        "TargetUserName": "ana",
        "Workstation": "WKS1",
        "Status": "0x0",
    }
    [validation] = _events("windows", ntlm)
    assert isinstance(validation, Event) and not relevance.wants(resolve(validation, graph))
    tgs = {
        "EventID": 4769,
        "TimeCreated": "2031-01-05T10:00:00Z",
        "Computer": "DC01",
        "TargetUserName": "ana@CORP.LOCAL",
        "ServiceName": "svc-sql",
        "TicketEncryptionType": "0x17",
        "Status": "0x0",
    }
    [ticket] = _events("windows", tgs)
    assert isinstance(ticket, Event) and relevance.wants(resolve(ticket, graph))


def _rule(rule_id: str) -> Rule:
    return next(r for r in load_rules(DEFAULT_RULES_DIR) if r.id == rule_id)


@pytest.mark.parametrize(
    ("rule_id", "source"),
    [
        ("entra-risky-sign-in-saml-iam-persistence", "entra"),
        ("golden-saml-key-theft-then-entra-app-credentials", "entra"),
        ("kerberoasting-then-aws-activity", "windows"),
    ],
)
def test_rule_test_events_get_their_time_and_normalize(rule_id: str, source: str) -> None:
    rule = _rule(rule_id)
    start = datetime(2030, 1, 1, tzinfo=UTC)
    records = materialize(rule, rule.tests[0], start, 0)
    times = []
    for i, (record_source, record) in enumerate(records):
        [event] = normalize_text(record_source, orjson.dumps(record), "t")
        assert isinstance(event, Event), event
        times.append(event.event_time - int(start.timestamp() * 1000))
        if record_source == source:
            assert event.event_id.endswith(f"{rule_id}-0-{i}")
    assert times == [e.offset_seconds * 1000 for e in rule.tests[0].events]


def test_rule_test_identities_merge_and_conflicts_are_refused() -> None:
    rule = _rule("kerberoasting-then-aws-activity")
    entities = identity_entities([(rule, t) for t in rule.tests])
    assert [e["id"] for e in entities] == ["ad-merry"]
    other = rule.tests[0].model_copy(
        update={"identities": [{**IDENTITIES["entities"][0], "id": "ad-merry"}]}
    )
    with pytest.raises(ValueError, match="ad-merry"):
        identity_entities([(rule, rule.tests[0]), (rule, other)])


# The bulk Windows security channel (.jsonl.gz, 120k records) is left out: 30 s of a shared CPU
# for no shape the attack datasets lack.
@pytest.mark.parametrize(("source", "pattern"), [("entra", "*"), ("windows", "*.jsonl")])
def test_corpus_stages_with_a_time_and_every_record_normalizes_or_says_why(
    source: str, pattern: str, corpus_dir: Path, tmp_path: Path
) -> None:
    spec = str(corpus_dir / source / pattern)
    [staged] = stage_inputs({source: [spec]}, tmp_path / "staged")
    rows = [orjson.loads(line) for line in (staged.path / "part-0.jsonl").read_bytes().splitlines()]
    assert len(rows) == staged.records > 0
    assert all(row["_time"] is not None for row in rows)  # every record moves the watermark
    normalized = 0
    for row in rows:
        for item in normalize_text(source, row["_raw"], row["_ref"]):
            if isinstance(item, Rejected):
                assert item.reason
            else:
                normalized += 1
                assert staged_time(source, orjson.loads(row["_raw"])) == datetime.fromtimestamp(
                    item.event_time // 1000, tz=UTC
                ).strftime("%Y-%m-%d %H:%M:%S")
    assert normalized > 0


def test_replay_to_kafka_takes_entra_and_refuses_an_unknown_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from seamwatch.cli.app import app

    path = tmp_path / "entra.jsonl"
    path.write_bytes(orjson.dumps(SIGN_IN) + b"\n")
    unknown = CliRunner().invoke(
        app, ["replay", "--kafka", "127.0.0.1:1", "--input", f"ldap={path}"]
    )
    assert unknown.exit_code != 0 and "unknown log source 'ldap'" in unknown.output
    # Entra has its topic (tests/test_kafka_idp.py replays to it): only the broker is missing.
    monkeypatch.setenv("SEAMWATCH_BROKER_TIMEOUT", "1")
    entra = CliRunner().invoke(
        app, ["replay", "--kafka", "127.0.0.1:1", "--input", f"entra={path}"]
    )
    assert entra.exit_code != 0 and "no Kafka broker answered" in entra.output
