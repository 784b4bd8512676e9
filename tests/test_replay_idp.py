"""``seamwatch replay`` and the Kafka options for Entra ID and Windows records (no broker).

What Kafka does with them is ``tests/test_kafka_idp.py``; here, what the client decides: each
record's time by its normalizer's rules, ``--shift-to-now`` moving every time in a record
together, and the options choosing the topics read and their idle timeouts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from seamwatch.jobs.cluster import argument_parser, settings_from_args
from seamwatch.jobs.kafka_job import KafkaSettings, source_table_ddl
from seamwatch.jobs.settings import idle_timeouts_from
from seamwatch.kafka.config import KafkaConfigError
from seamwatch.kafka.tools import ReplayRecord, load_files, plan_replay, shift_record
from seamwatch.udfs.entra import normalize_entra
from seamwatch.udfs.windows import normalize_windows
from tests.idp_scenario import T0, write_files

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _millis(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def test_replay_orders_the_four_sources_by_the_normalizers_times(tmp_path: Path) -> None:
    files = write_files(tmp_path)
    planned = plan_replay(load_files(files.inputs), shift_to_now=False, now=NOW)
    assert {r.source for r in planned} == {"okta", "cloudtrail", "entra", "windows"}
    times = [r.event_time for r in planned]
    assert all(t is not None for t in times)
    assert times == sorted(t for t in times if t is not None)
    # NXLog's logon: the collector's local EventTime (UTC+2) read as the normalizer reads it.
    logon = next(r for r in planned if b'"EventID":4624' in r.value)
    assert logon.event_time == T0 - timedelta(minutes=10)


def test_shift_to_now_moves_every_time_of_a_windows_record_together(tmp_path: Path) -> None:
    files = write_files(tmp_path)
    planned = plan_replay(load_files(files.inputs), shift_to_now=True, now=NOW)
    assert max(r.event_time for r in planned if r.event_time is not None) == NOW
    logon = next(r for r in planned if b'"EventID":4624' in r.value)
    doc = orjson.loads(logon.value)
    # Local EventTime and Logstash's UTC @timestamp moved alike: the offset still reads as
    # two hours, and the normalizer gives the time replay ordered it by.
    assert doc["EventTime"].count(":") == 2 and "T" not in doc["EventTime"]
    event = normalize_windows(doc, "r")
    assert logon.event_time is not None and event.event_time == _millis(logon.event_time)


def test_shift_keeps_each_times_format_entra_included() -> None:
    doc = {
        "time": "2026-03-10T09:31:00.000Z",
        "category": "SignInLogs",
        "properties": {
            "id": "s1",
            "createdDateTime": "2026-03-10T09:30:00.1234567Z",
            "userPrincipalName": "a@b.com",
            "status": {"errorCode": 0},
            "note": "not a time",
        },
    }
    record = ReplayRecord("entra", orjson.dumps(doc), datetime(2026, 3, 10, 9, 30, tzinfo=UTC))
    moved = shift_record(record, timedelta(days=1, hours=1).total_seconds())
    out = orjson.loads(moved.value)
    assert out["time"] == "2026-03-11T10:31:00.000Z"
    assert out["properties"]["createdDateTime"] == "2026-03-11T10:30:00.1234567Z"
    assert out["properties"]["note"] == "not a time"
    # Times are milliseconds for the job, as for the normalizer.
    moved_to = datetime(2026, 3, 11, 10, 30, 0, 123000, tzinfo=UTC)
    assert moved.event_time == moved_to
    assert normalize_entra(out, "r").event_time == _millis(moved_to)
    us = ReplayRecord(
        "entra",
        orjson.dumps({"Type": "ADFSSignInLogs", "CreatedDateTime": "12/12/2025 3:03:58 PM"}),
        datetime(2025, 12, 12, 15, 3, 58, tzinfo=UTC),
    )
    assert orjson.loads(shift_record(us, 3600).value)["CreatedDateTime"] == "12/12/2025 04:03:58 PM"


def test_a_kafka_run_reads_the_topics_asked_for_with_their_idle_timeouts() -> None:
    sources = ("entra", "cloudtrail")
    timeouts = idle_timeouts_from(["entra=20m"])
    assert timeouts == {"okta": 60, "cloudtrail": 900, "entra": 1200, "windows": 60}
    # A bare duration is every source's; SOURCE=DURATION wins over it, whatever the order.
    for order in (["2m", "windows=30s"], ["windows=30s", "2m"]):
        assert idle_timeouts_from(order) == {
            "okta": 120,
            "cloudtrail": 120,
            "entra": 120,
            "windows": 30,
        }
    settings = KafkaSettings(bootstrap="b:9092", sources=sources, idle_timeout_seconds=timeouts)
    assert settings.source_topics() == {
        "cloudtrail": "seamwatch.cloudtrail",
        "entra": "seamwatch.entra",
    }
    ddl = source_table_ddl("t", "entra", "seamwatch.entra", settings)
    assert "'scan.watermark.idle-timeout' = '1200000 ms'" in ddl
    assert "INTERVAL '0 00:15:00' DAY TO SECOND" in ddl  # Entra's default: three times Okta's
    with pytest.raises(KafkaConfigError, match="ldap"):
        KafkaSettings(bootstrap="b:9092", sources=("ldap",)).source_topics()


def test_the_cluster_entry_point_takes_the_same_options() -> None:
    args = argument_parser().parse_args(
        [
            "kafka",
            "--kafka",
            "b:9092",
            "--source",
            "windows",
            "--source",
            "cloudtrail",
            "--idle-timeout",
            "10m",
            "--idle-timeout",
            "windows=2m",
            "--watermark",
            "windows=10m",
            "--learning-days",
            "7",
            "--max-ahead-of-clock",
            "10m",
        ]
    )
    settings = settings_from_args(args)
    assert settings.idle_timeout_seconds == {
        "okta": 600,
        "cloudtrail": 600,
        "entra": 600,
        "windows": 120,
    }
    assert settings.watermark_seconds["windows"] == 600
    from seamwatch.jobs.cluster import _kafka_settings

    kafka = _kafka_settings(args, settings)
    # What every entry point takes reaches the Kafka job's settings.
    assert kafka.baseline.learning_days == 7
    assert kafka.future_bounds.clock_seconds == 600
    assert kafka.idle_timeout("windows") == 120 and kafka.watermark_bound("windows") == 600
    assert kafka.source_topics() == {
        "cloudtrail": "seamwatch.cloudtrail",
        "windows": "seamwatch.windows",
    }


def test_submit_passes_the_topics_and_idle_timeouts_to_the_cluster() -> None:
    from seamwatch.cli.deploy import SubmitOptions, job_arguments

    options = SubmitOptions(
        mode="kafka",
        bootstrap="b:9092",
        sources=["entra", "okta"],
        idle_timeouts=["entra=20m"],
        watermarks=["entra=30m"],
    )
    args = argument_parser().parse_args(job_arguments(options))
    settings = settings_from_args(args)
    assert settings.idle_timeout_seconds["entra"] == 1200
    assert settings.watermark_seconds["entra"] == 1800
    assert args.source == ["entra", "okta"]


def test_submit_passes_the_python_mode_and_the_cluster_keeps_thread_without_it() -> None:
    from seamwatch.cli.deploy import SubmitOptions, job_arguments

    options = SubmitOptions(mode="kafka", bootstrap="b:9092")
    assert argument_parser().parse_args(job_arguments(options)).python_mode == "thread"
    options = SubmitOptions(mode="kafka", bootstrap="b:9092", python_mode="process")
    assert argument_parser().parse_args(job_arguments(options)).python_mode == "process"
    with pytest.raises(SystemExit):
        argument_parser().parse_args(["kafka", "--kafka", "b:9092", "--python-mode", "fibre"])
