"""The run summary's figures, from the rows the job emits (no Flink)."""

from __future__ import annotations

from pathlib import Path

from seamwatch.cli.app import summary_lines
from seamwatch.jobs.local import Counts, RunResult
from seamwatch.sources.staging import StagedSource


def _result(counts: Counts, records: int) -> RunResult:
    return RunResult(
        alerts=[],
        dead_letters=[],
        staged=[StagedSource("cloudtrail", Path("x"), records, 1)],
        rules=[],
        output=Path("a.jsonl"),
        dead_letter_path=Path("a.dead-letter.jsonl"),
        counts=counts,
    )


def test_window_rows_and_late_rows_add_up_by_kind() -> None:
    counts = Counts()
    counts.add_window({"kind": "E", "events": 5, "last_event_time": 2000})
    counts.add_window({"kind": "N", "events": 7, "last_event_time": 3000})
    counts.add_window({"kind": "E", "events": 1, "last_event_time": 1000})
    counts.add_late({"needed": True})
    counts.add_late({"needed": False})
    assert (counts.on_time, counts.not_needed, counts.late) == (6, 8, 1)
    assert counts.normalized == 15 and counts.last_event_time == 3000


def test_the_summary_says_when_records_are_not_accounted_for() -> None:
    counts = Counts(on_time=6, not_needed=8, late=1, dead_lettered=2)
    assert len(summary_lines(_result(counts, 17))) == 1
    (line, missing) = summary_lines(_result(counts, 20))
    assert "15 normalized (6 matched, 8 not needed by any rule" in line
    assert "3 records read are not accounted for" in missing
