"""The verdict store: append-only JSON lines, the last verdict of an alert wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from seamwatch.triage.verdicts import (
    DEFAULT_STORE,
    VerdictError,
    append_verdict,
    default_store,
    load_verdicts,
    make_verdict,
)


def test_the_last_verdict_of_an_alert_wins_and_every_line_is_kept(tmp_path: Path) -> None:
    store = tmp_path / "nested" / "verdicts.jsonl"
    append_verdict(store, make_verdict("a1", "benign", recorded_at=1, analyst="kim"))
    append_verdict(store, make_verdict("b2", "duplicate", recorded_at=2))
    append_verdict(
        store, make_verdict("a1", "confirmed", recorded_at=3, note="key used from Romania")
    )
    log = load_verdicts(store)
    assert {k: v.verdict for k, v in log.latest.items()} == {"a1": "confirmed", "b2": "duplicate"}
    assert log.latest["a1"].note == "key used from Romania"
    assert log.latest["a1"].analyst is None
    assert log.lines == 3
    assert len(store.read_text().splitlines()) == 3


def test_a_damaged_line_is_skipped_and_reported_not_fatal(tmp_path: Path) -> None:
    store = tmp_path / "verdicts.jsonl"
    append_verdict(store, make_verdict("a1", "benign", recorded_at=1))
    with store.open("a") as handle:
        handle.write('{"alert_id": "a1", "verdict": "maybe", "recorded_at": 2}\n')
        handle.write("not json\n")
    log = load_verdicts(store)
    assert log.latest["a1"].verdict == "benign"
    assert len(log.skipped) == 2
    assert "maybe" in log.skipped[0]


@pytest.mark.parametrize(
    ("alert_id", "verdict", "message"),
    [
        ("a1", "maybe", "choose one of confirmed, benign, duplicate"),
        ("", "benign", "is not an alert id"),
        ("a b", "benign", "is not an alert id"),
        ("a1\n{}", "benign", "is not an alert id"),
    ],
)
def test_bad_verdicts_are_refused(alert_id: str, verdict: str, message: str) -> None:
    with pytest.raises(VerdictError, match=message):
        make_verdict(alert_id, verdict, recorded_at=1)


def test_a_missing_store_is_empty_and_the_environment_chooses_the_store(tmp_path: Path) -> None:
    assert load_verdicts(tmp_path / "none.jsonl").latest == {}
    assert default_store({}) == DEFAULT_STORE
    assert default_store({"SEAMWATCH_VERDICTS": "/x/v.jsonl"}) == Path("/x/v.jsonl")
