"""Which records count, and where they came from: staging's checks without Flink.

Duplicates counted once, records sharing an id kept apart, non-events skipped and counted by
kind, refs relative to the input root, and files given as the wrong source refused before the
job starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from seamwatch.sources.input_check import WrongSourceError, input_root, looks_like
from seamwatch.sources.inputs import InputError
from seamwatch.sources.record_ids import RecordIds
from seamwatch.sources.staging import NeededActions, skipped_summary, stage_inputs
from seamwatch.sources.timeguard import FutureBounds
from seamwatch.udfs.normalize import normalize_text
from seamwatch.udfs.records import Event
from seamwatch.udfs.shapes import not_event_kind, record_source
from tests.s3_dump import S3_TEST_EVENT, digest_file, insight, s3_notification, write_s3_dump


def _ct(
    event_id: str, name: str = "ListBuckets", at: str = "2026-03-04T14:01:00Z"
) -> dict[str, Any]:
    return {
        "eventVersion": "1.08",
        "eventTime": at,
        "eventSource": "s3.amazonaws.com",
        "eventName": name,
        "eventID": event_id,
        "sourceIPAddress": "203.0.113.7",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/dana"},
    }


def _staged(staged_dir: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for f in sorted(staged_dir.glob("*.jsonl")) for line in f.open("rb")]


# --- shapes --------------------------------------------------------------------------------


def test_digest_files_s3_notifications_and_the_s3_test_event_are_recognized() -> None:
    assert not_event_kind(digest_file("2026-03-04T14:00:00Z", "2026-03-04T15:00:00Z")) == (
        "cloudtrail_digest"
    )
    (member,) = s3_notification("k", "2026-03-04T14:00:00Z")["Records"]
    assert not_event_kind(member) == "s3_event_notification"
    assert not_event_kind(s3_notification("k", "2026-03-04T14:00:00Z")) == "s3_event_notification"
    assert not_event_kind(S3_TEST_EVENT) == "s3_test_event"
    # A CloudTrail record of an S3 call is an event, whatever it is about.
    assert not_event_kind(_ct("e1", "PutBucketNotificationConfiguration")) is None
    assert not_event_kind(insight("2026-03-04T14:30:00Z", "i1")) is None


def test_record_source_tells_okta_from_cloudtrail_in_every_shape() -> None:
    okta = {"uuid": "u1", "published": "2026-03-04T14:00:00Z", "eventType": "user.session.start"}
    assert record_source(okta) == "okta"
    assert record_source({"data": {"events": [okta]}}) == "okta"
    assert record_source([okta]) == "okta"
    assert record_source(_ct("e1")) == "cloudtrail"
    assert record_source({"Records": [_ct("e1")]}) == "cloudtrail"
    assert record_source({"detail-type": "AWS API Call via CloudTrail", "detail": _ct("e1")}) == (
        "cloudtrail"
    )
    assert record_source({k.lower(): v for k, v in _ct("e1").items()}) == "cloudtrail"
    assert record_source(insight("2026-03-04T14:30:00Z", "i1")) == "cloudtrail"
    assert record_source({"hello": "world"}) is None


def test_insights_records_are_events_of_their_own_kind() -> None:
    text = orjson.dumps(insight("2026-03-04T14:30:00Z", "ins-1")).decode()
    (event,) = normalize_text("cloudtrail", text, "i.json:1")
    assert isinstance(event, Event)
    assert (event.action, event.service, event.account_id, event.region) == (
        "AwsCloudTrailInsight",
        "iam.amazonaws.com",
        "111122223333",
        "us-east-1",
    )
    assert event.principal is None and event.event_id == "ins-1"


# --- duplicates and shared ids -------------------------------------------------------------


def test_the_same_record_counts_once_and_a_shared_id_with_other_content_stays_apart() -> None:
    ids = RecordIds()
    a, b = orjson.dumps(_ct("1")).decode(), orjson.dumps(_ct("1", "GetObject")).decode()
    assert ids.check("cloudtrail", "1", a) == "new"
    assert ids.check("cloudtrail", "1", a) == "duplicate"
    assert ids.check("cloudtrail", "1", b) == "distinct"
    assert ids.check("cloudtrail", "1", b) == "duplicate"  # a repeat of the second one
    assert ids.check("okta", "1", a) == "new"  # another source's id space
    assert ids.check("cloudtrail", None, "not json") == "new"
    assert ids.check("cloudtrail", None, "not json") == "duplicate"


def test_the_memory_of_ids_is_bounded() -> None:
    ids = RecordIds(capacity=2)
    for i in range(3):
        ids.check("cloudtrail", f"e{i}", f"text {i}")
    assert ids.check("cloudtrail", "e0", "text 0") == "new"  # forgotten: counted again
    assert ids.check("cloudtrail", "e2", "text 2") == "duplicate"


def test_staging_keeps_records_sharing_a_placeholder_id_apart(tmp_path: Path) -> None:
    records = [_ct("1", "ConsoleLogin"), _ct("1", "StopLogging"), _ct("1", "ConsoleLogin")]
    path = tmp_path / "ct.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    (staged,) = stage_inputs({"cloudtrail": [str(path)]}, tmp_path / "out")
    ids = [r["eventID"] for r in _staged(staged.path)]
    assert (staged.records, staged.duplicates, staged.distinct_ids) == (2, 1, 1)
    # The second record's id carries its content's BLAKE2b digest: the same in every run and
    # every process, so its alerts keep their ids when the logs are replayed.
    assert ids == ["1", "1~2fe9e5fc5026"]
    assert skipped_summary([staged]) == (
        "1 duplicate cloudtrail records skipped; 1 cloudtrail records sharing an id kept apart"
    )


def test_placeholder_ids_of_real_test_data_stay_distinct(corpus_dir: Path, tmp_path: Path) -> None:
    path = corpus_dir / "cloudtrail" / "panther-analysis_rule-tests.jsonl"
    lines = path.read_bytes().splitlines()
    shared = sum(1 for line in lines if orjson.loads(line).get("eventID") == "1")
    assert shared > 1
    # Panther's test events are unrelated records in no time order: the future-time guard
    # would hold back those far ahead of the records after them, which is not under test here.
    no_guard = FutureBounds(clock_seconds=None, next_seconds=200 * 365 * 86400)
    (staged,) = stage_inputs({"cloudtrail": [str(path)]}, tmp_path / "out", bounds=no_guard)
    rows = _staged(staged.path)
    # The corpus was deduplicated by its curators: every record stays, each id once.
    assert staged.records == len(lines) and staged.duplicates == 0
    placeholder = [r for r in rows if str(r.get("eventID", "")).split("~")[0] == "1"]
    assert len(placeholder) == shared
    assert len({r["eventID"] for r in placeholder}) == shared


# --- non-events in an S3 dump, and refs ----------------------------------------------------


def test_an_s3_dump_stages_events_once_and_counts_what_is_no_event(tmp_path: Path) -> None:
    records = [_ct(f"e{i}", at=f"2026-03-04T14:0{i}:00Z") for i in range(3)]
    held = write_s3_dump(tmp_path / "s3-dump", records)
    (staged,) = stage_inputs({"cloudtrail": [str(tmp_path / "s3-dump" / "**")]}, tmp_path / "out")
    assert staged.records == len(records) + held["insights"]
    assert staged.duplicates == held["duplicates"]
    assert staged.not_events == {
        kind: held[kind] for kind in ("cloudtrail_digest", "s3_event_notification", "s3_test_event")
    }
    refs = sorted(r["_ref"] for r in _staged(staged.path))
    # Relative to the input root (the glob's directory), never the machine's absolute path.
    assert (
        "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/04/"
        "111122223333_CloudTrail_us-east-1_20260304T1400Z_a1.json.gz:1#0"
    ) in refs
    assert not any(str(tmp_path) in ref for ref in refs)


@pytest.mark.parametrize(
    ("spec", "root"),
    [
        ("s3-dump", "s3-dump"),
        ("s3-dump/**/*.json.gz", "s3-dump"),
        ("logs/okta/api.json", "logs/okta"),
        ("*.jsonl", "."),
    ],
)
def test_the_input_root_of_each_kind_of_spec(tmp_path: Path, spec: str, root: str) -> None:
    (tmp_path / "s3-dump").mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        assert input_root(spec) == Path(root)


# --- swapped or wrong inputs ---------------------------------------------------------------


def test_an_okta_file_given_as_cloudtrail_stops_the_run_naming_the_file(
    corpus_dir: Path, tmp_path: Path
) -> None:
    okta = corpus_dir / "okta" / "panther-analysis_scenario_okta-add-administrator.jsonl"
    ct = corpus_dir / "cloudtrail" / "awsdocs_iam-user-guide_examples.jsonl"
    with pytest.raises(WrongSourceError) as caught:
        stage_inputs({"okta": [str(ct)], "cloudtrail": [str(okta)]}, tmp_path / "out")
    message = str(caught.value)
    assert isinstance(caught.value, InputError) and "\n" not in message
    assert str(ct) in message and "CloudTrail records" in message
    assert not (tmp_path / "out").exists()  # refused before anything was staged


def test_a_file_of_neither_source_is_refused_and_a_mixed_file_is_not(
    corpus_dir: Path, tmp_path: Path
) -> None:
    entra = corpus_dir / "entra" / "panther-analysis_rule-tests_signin.jsonl"
    assert looks_like("okta", entra) is not None
    assert "neither" in str(looks_like("okta", entra))
    mixed = tmp_path / "mixed.jsonl"
    lines = entra.read_bytes().splitlines()[:3]
    okta = corpus_dir / "okta" / "panther-analysis_rule-tests.jsonl"
    lines.append(okta.read_bytes().splitlines()[0])
    mixed.write_bytes(b"\n".join(lines) + b"\n")
    assert looks_like("okta", mixed) is None  # some of its records are Okta's: dead letters
    junk = tmp_path / "junk.jsonl"
    junk.write_text("not json\nat all\n")
    assert looks_like("okta", junk) is None  # no JSON at all: damaged, not another source


def test_seamwatch_run_with_swapped_inputs_exits_at_once_with_one_line(
    corpus_dir: Path, tmp_path: Path
) -> None:
    import time

    from typer.testing import CliRunner

    from seamwatch.cli.app import app

    okta = corpus_dir / "okta" / "panther-analysis_scenario_okta-add-administrator.jsonl"
    ct = corpus_dir / "cloudtrail" / "awsdocs_iam-user-guide_examples.jsonl"
    started = time.monotonic()
    result = CliRunner().invoke(
        app,
        ["run", "-i", f"okta={ct}", "-i", f"cloudtrail={okta}", "-o", str(tmp_path / "o.jsonl")],
    )
    assert result.exit_code != 0
    assert time.monotonic() - started < 20  # no Flink job was started
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert "given as okta input" in " ".join(lines)
    assert ct.name in result.output.replace("\n", "")
    assert not (tmp_path / "o.jsonl").exists()


def test_without_staging_a_notification_is_dead_lettered_as_no_event_not_normalized() -> None:
    text = orjson.dumps(s3_notification("k", "2026-03-04T14:00:00Z")).decode()
    (rejected,) = normalize_text("cloudtrail", text, "topic/0@1")
    assert not isinstance(rejected, Event)
    assert rejected.reason == "not an event: s3_event_notification"
    digest = orjson.dumps(digest_file("2026-03-04T14:00:00Z", "2026-03-04T15:00:00Z")).decode()
    (rejected,) = normalize_text("cloudtrail", digest, "topic/0@2")
    assert not isinstance(rejected, Event) and rejected.reason == "not an event: cloudtrail_digest"


# --- brief lines ---------------------------------------------------------------------------


def test_records_the_job_only_counts_are_staged_as_their_action_time_and_id(
    tmp_path: Path,
) -> None:
    """A record whose action no rule needs is dropped by the job's table before Python, which
    reads only its action, time and ref: staging writes just those (and its id). Records a
    rule needs, and records the table cannot read by their fields, stay whole."""
    unreadable = {**_ct("3", "GetObject"), "userIdentity": "not an object"}
    records = [_ct("1", "ConsoleLogin"), _ct("2", "GetObject"), unreadable]
    path = tmp_path / "ct.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    needed = {"cloudtrail": NeededActions(frozenset({"ConsoleLogin"}), ())}
    (staged,) = stage_inputs({"cloudtrail": [str(path)]}, tmp_path / "out", needed=needed)
    whole, brief, raw = _staged(staged.path)
    assert whole == {"_ref": "ct.jsonl:1", **records[0]}
    assert brief == {
        "_ref": "ct.jsonl:2",
        "eventName": "GetObject",
        "eventTime": "2026-03-04T14:01:00Z",
        "eventID": "2",
    }
    assert raw["_ref"] == "ct.jsonl:3" and orjson.loads(raw["_raw"]) == unreadable
    assert staged.records == 3
    # Without the rules' needs (a staged corpus for a later replay), every record stays whole.
    (replay,) = stage_inputs({"cloudtrail": [str(path)]}, tmp_path / "replay")
    assert _staged(replay.path)[1] == {"_ref": "ct.jsonl:2", **records[1]}


def test_needed_actions_follow_the_job_filter_prefix_by_prefix() -> None:
    okta = NeededActions.of((frozenset({"user.account.lock"}), ("user.session.",)))
    assert okta is not None
    assert okta.wants("user.session.start") and okta.wants("user.account.lock")
    assert not okta.wants("user.lifecycle.create") and not okta.wants("user.session")
    assert NeededActions.of(None) is None  # some step takes every action
    # A prefix LIKE would read as a pattern: the job's filter is no prefix test then.
    assert NeededActions.of((frozenset(), ("user_session.",))) is None
    assert NeededActions.of((frozenset(), ("100%",))) is None
