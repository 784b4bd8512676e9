"""Event times too far ahead: which records may move a watermark (no Flink, no wall clock)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from seamwatch.sources.staging import stage_inputs, staged_table_ddl
from seamwatch.sources.timeguard import (
    LOOKAHEAD,
    FutureBounds,
    FutureGuard,
    bounded_time_sql,
    watermark_time,
)
from seamwatch.udfs.behaviour import BaselineConfig
from seamwatch.udfs.hotrow import OUTPUT_FIELDS, prepare
from seamwatch.udfs.identity import IdentityGraph
from seamwatch.udfs.records import Event

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
T0 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def decide(times: Sequence[int | None], bounds: FutureBounds | None = None) -> list[str | None]:
    """The guard's verdict for each record (named by its index), in input order."""
    guard: FutureGuard[int] = FutureGuard(ms(NOW), bounds)
    out: list[tuple[int, str | None]] = []
    for i, at in enumerate(times):
        out.extend(guard.push(i, at))
    out.extend(guard.finish())
    assert [i for i, _ in out] == list(range(len(times))), "records keep their order"
    return [reason for _, reason in out]


def minutes(*offsets: float) -> list[int | None]:
    return [ms(T0 + timedelta(minutes=m)) for m in offsets]


def test_a_record_in_9999_among_ordinary_ones_is_refused_against_the_clock() -> None:
    times = minutes(*range(40))
    times[10] = ms(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC))
    verdicts = decide(times)
    assert [i for i, v in enumerate(verdicts) if v] == [10]
    assert "9999-12-31T23:59:59Z" in str(verdicts[10])
    assert "ahead of the clock" in str(verdicts[10])


def test_a_replayed_record_months_ahead_of_the_records_after_it_is_refused() -> None:
    """Before the clock (a replay of March in November), yet three months ahead of its file."""
    times = minutes(*range(40))
    times[5] = ms(T0 + timedelta(days=90))
    verdicts = decide(times)
    assert [i for i, v in enumerate(verdicts) if v] == [5]
    assert "ahead of the 16 records after it" in str(verdicts[5])


def test_two_adjacent_hostile_records_are_both_refused() -> None:
    times = minutes(*range(40))
    times[5] = times[6] = ms(T0 + timedelta(days=30))
    assert [i for i, v in enumerate(decide(times)) if v] == [5, 6]


def test_a_quiet_weekend_between_two_files_is_no_attack() -> None:
    """A jump in time that the records after it confirm passes; so do the last records of a
    source, which no record after them contradicts (and which make nothing late)."""
    times = minutes(*range(20)) + [ms(T0 + timedelta(days=3, minutes=m)) for m in range(20)]
    times.append(ms(T0 + timedelta(days=9)))  # last record, days after the rest: kept
    assert decide(times) == [None] * len(times)


def test_records_within_the_bound_and_without_time_pass_in_order() -> None:
    times: list[int | None] = minutes(*range(30))
    times[3] = ms(T0 + timedelta(minutes=3 + 50))  # 50 minutes ahead: within the 1h bound
    times[4] = None
    times[7] = None
    assert decide(times) == [None] * len(times)
    # A tighter bound refuses it.
    tight = decide(times, FutureBounds(next_seconds=1800))
    assert [i for i, v in enumerate(tight) if v] == [3]


def test_without_a_clock_bound_only_the_neighbours_count() -> None:
    """``rules test`` lays its cases out from 2030 on: the clock check is off."""
    later = [ms(datetime(2030, 1, 1, tzinfo=UTC) + timedelta(minutes=m)) for m in range(30)]
    assert decide(later, FutureBounds(clock_seconds=None)) == [None] * 30
    assert all(decide(later))  # with the clock check, all of 2030 is refused in 2026


def test_the_lookahead_is_bounded() -> None:
    guard: FutureGuard[int] = FutureGuard(ms(NOW))
    decided: list[tuple[int, str | None]] = []
    for i, at in enumerate(minutes(*range(LOOKAHEAD * 3))):
        decided.extend(guard.push(i, at))
    assert len(decided) == LOOKAHEAD * 2  # held back: only the lookahead


def test_the_time_compared_is_the_latest_reading_of_the_field() -> None:
    # The watermark's SQL reads the first 19 characters (the local time of an offset).
    local = watermark_time("2026-03-04T10:00:00+09:00")
    assert local == ms(datetime(2026, 3, 4, 10, 0, tzinfo=UTC))
    assert watermark_time("9999-12-31T23:59:59Z") == ms(
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    )
    assert watermark_time("1772532000000") == 1772532000000
    assert watermark_time("yesterday") is None and watermark_time(None) is None


def test_the_watermark_column_ignores_times_ahead_of_the_clock() -> None:
    assert bounded_time_sql("t", None) == "t"
    sql = bounded_time_sql("t", 300)
    assert "TIMESTAMPADD(SECOND, 300, LOCALTIMESTAMP)" in sql
    assert "TIMESTAMP '1970-01-01 00:00:00'" in sql


def _ct(event_id: str, at: str) -> dict[str, Any]:
    return {
        "eventVersion": "1.09",
        "eventTime": at,
        "eventName": "GetCallerIdentity",
        "eventSource": "sts.amazonaws.com",
        "eventID": event_id,
        "sourceIPAddress": "198.51.100.7",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/bob"},
    }


def test_staging_dead_letters_the_record_and_stages_the_rest(tmp_path: Path) -> None:
    records = [_ct(f"ev-{i}", f"2026-03-03T09:{i:02d}:00Z") for i in range(30)]
    records.insert(12, _ct("ev-evil", "9999-12-31T23:59:59Z"))
    path = tmp_path / "ct.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))

    (staged,) = stage_inputs({"cloudtrail": [str(path)]}, tmp_path / "out", now_ms=ms(NOW))
    lines = (staged.path / "part-0.jsonl").read_bytes().splitlines()
    assert [orjson.loads(line)["eventID"] for line in lines] == [f"ev-{i}" for i in range(30)]
    (dead,) = staged.rejected
    assert dead["raw_ref"] == f"{path.name}:13"  # relative to the input root
    assert orjson.loads(dead["raw"])["eventID"] == "ev-evil"
    assert "ahead of the clock" in dead["reason"]
    assert (staged.records, staged.records_read) == (30, 31)


def test_the_staged_table_bounds_its_watermark_column(tmp_path: Path) -> None:
    (staged,) = stage_inputs({"cloudtrail": [str(_one(tmp_path))]}, tmp_path / "out")
    assert "ts AS seamwatch_watermark_time(`eventTime`, 300)," in staged_table_ddl("t", staged, 900)
    assert "ts AS seamwatch_watermark_time(`eventTime`)," in staged_table_ddl(
        "t", staged, 900, None
    )


def _one(tmp_path: Path) -> Path:
    path = tmp_path / "one.jsonl"
    path.write_bytes(orjson.dumps(_ct("ev-1", "2026-03-03T09:00:00Z")) + b"\n")
    return path


def test_the_python_step_dead_letters_an_event_ahead_of_the_clock() -> None:
    """Live input (Kafka): the raw text is checked against the clock where it is normalized."""
    names = [name for name, _ in OUTPUT_FIELDS]
    raw = orjson.dumps(_ct("ev-evil", "9999-12-31T23:59:59Z")).decode()

    def ahead(event_time: int) -> str | None:
        return "too far ahead" if event_time > ms(NOW) else None

    def wants(event: Event) -> bool:
        return True

    out = prepare(
        "cloudtrail", "t/0@7", raw, (), IdentityGraph(), wants, BaselineConfig(), ahead_of=ahead
    )
    (row,) = out.rows
    dead = orjson.loads(dict(zip(names, row, strict=True))["detail"])
    assert (dead["reason"], dead["raw_ref"], dead["raw"]) == ("too far ahead", "t/0@7", raw)
    assert (out.normalized, out.dead_lettered) == (0, 1)
    fine = orjson.dumps(_ct("ev-1", "2026-03-03T09:00:00Z")).decode()
    kept = prepare(
        "cloudtrail", "t/0@8", fine, (), IdentityGraph(), wants, BaselineConfig(), ahead_of=ahead
    )
    assert kept.normalized == 1 and kept.dead_lettered == 0
