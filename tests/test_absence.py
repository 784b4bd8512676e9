"""Absence steps decided in event time: never early, cancelled by the event that was missing."""

from __future__ import annotations

from typing import Any

from seamwatch.udfs.absence import AbsenceSpec, AbsenceState, on_candidate, on_match, on_timer

H = 3_600_000
AFTER = AbsenceSpec("mfa-gone", "after", 12 * H)
BEFORE = AbsenceSpec("console-no-sso", "before", 15 * 60_000)


def _event(step: str, t: int, **fields: Any) -> dict[str, Any]:
    return {"step": step, "event_id": f"{step}-{t}", "event_time": t, **fields}


def test_after_fires_only_when_event_time_passes_the_deadline() -> None:
    state = AbsenceState()
    match = [_event("deactivate", 10 * H)]
    emit, timer = on_match(state, AFTER, match)
    assert (emit, timer) == (None, 22 * H)
    assert on_timer(state, AFTER, 22 * H - 1) == []
    assert on_timer(state, AFTER, 22 * H) == [match]
    assert state.pending == []


def test_after_is_cancelled_by_the_missing_event_inside_the_window() -> None:
    state = AbsenceState()
    on_match(state, AFTER, [_event("deactivate", 10 * H)])
    on_candidate(state, AFTER, 21 * H, _event("reactivate", 21 * H))
    assert on_timer(state, AFTER, 22 * H) == []


def test_after_ignores_the_event_once_the_window_is_over() -> None:
    state = AbsenceState()
    on_match(state, AFTER, [_event("deactivate", 10 * H)])
    on_candidate(state, AFTER, 23 * H, _event("reactivate", 23 * H))
    assert len(on_timer(state, AFTER, 23 * H)) == 1


def test_after_candidate_arriving_before_the_match_still_cancels() -> None:
    state = AbsenceState()
    on_candidate(state, AFTER, 11 * H, _event("reactivate", 11 * H))
    emit, timer = on_match(state, AFTER, [_event("deactivate", 10 * H)])
    assert (emit, timer) == (None, None)


def test_after_respects_same_constraints() -> None:
    spec = AbsenceSpec("r", "after", H, same={"src_ip": "login"})
    state = AbsenceState()
    on_match(state, spec, [_event("login", 0, src_ip="192.0.2.1")])
    on_candidate(state, spec, 60_000, _event("other", 60_000, src_ip="198.51.100.9"))
    assert len(on_timer(state, spec, H)) == 1


def test_before_alerts_when_event_time_passes_the_match_with_nothing_before() -> None:
    state = AbsenceState()
    on_candidate(state, BEFORE, 0, _event("sso", 0))  # 20 minutes before: outside the window
    match = [_event("console", 20 * 60_000)]
    assert on_match(state, BEFORE, match) == (None, 20 * 60_000)
    assert on_timer(state, BEFORE, 20 * 60_000) == [match]


def test_before_is_suppressed_by_an_event_inside_the_window() -> None:
    state = AbsenceState()
    on_candidate(state, BEFORE, 10 * 60_000, _event("sso", 10 * 60_000))
    assert on_match(state, BEFORE, [_event("console", 20 * 60_000)]) == (None, None)


def test_before_candidate_arriving_after_the_match_still_suppresses() -> None:
    state = AbsenceState()
    on_match(state, BEFORE, [_event("console", 20 * 60_000)])
    on_candidate(state, BEFORE, 10 * 60_000, _event("sso", 10 * 60_000))
    assert on_timer(state, BEFORE, 20 * 60_000) == []


def test_state_round_trips() -> None:
    state = AbsenceState()
    on_match(state, AFTER, [_event("deactivate", 5)])
    on_candidate(state, AFTER, 1, _event("reactivate", 1))
    again = AbsenceState.decode(state.encode())
    assert again == state
