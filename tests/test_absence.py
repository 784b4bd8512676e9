"""Absence steps decided in event time: never early, cancelled by the event that was missing."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from seamwatch.udfs.absence import (
    STATE_VERSION,
    AbsenceSpec,
    AbsenceState,
    Pending,
    on_candidate,
    on_match,
    on_timer,
    settle_at_end,
    take_due,
)
from seamwatch.udfs.errors import StateFormatError

H = 3_600_000
AFTER = AbsenceSpec("mfa-gone", "after", 12 * H, within_ms=60_000)
BEFORE = AbsenceSpec("console-no-sso", "before", 15 * 60_000, within_ms=60_000)
NO_WATERMARK = -(2**63)


def _event(step: str, t: int, **fields: Any) -> dict[str, Any]:
    return {"step": step, "event_id": f"{step}-{t}", "event_time": t, **fields}


def test_after_fires_only_when_event_time_passes_the_deadline() -> None:
    state = AbsenceState()
    match = [_event("deactivate", 10 * H)]
    assert on_match(state, AFTER, match) == 22 * H
    # Nothing is decided on arrival: the match waits in state for its deadline.
    assert [(p.deadline, p.anchor, p.events) for p in state.pending] == [(22 * H, 10 * H, match)]
    assert on_timer(state, AFTER, 22 * H - 1) == []
    assert on_timer(state, AFTER, 22 * H) == [match]
    assert state.pending == []


def test_after_is_cancelled_by_the_missing_event_inside_the_window() -> None:
    state = AbsenceState()
    on_match(state, AFTER, [_event("deactivate", 10 * H)])
    on_candidate(state, AFTER, 21 * H, _event("reactivate", 21 * H), NO_WATERMARK)
    assert on_timer(state, AFTER, 22 * H) == []


def test_after_ignores_the_event_once_the_window_is_over() -> None:
    state = AbsenceState()
    on_match(state, AFTER, [_event("deactivate", 10 * H)])
    on_candidate(state, AFTER, 23 * H, _event("reactivate", 23 * H), NO_WATERMARK)
    assert len(on_timer(state, AFTER, 23 * H)) == 1


def test_after_candidate_arriving_before_the_match_still_cancels() -> None:
    state = AbsenceState()
    on_candidate(state, AFTER, 11 * H, _event("reactivate", 11 * H), NO_WATERMARK)
    assert on_match(state, AFTER, [_event("deactivate", 10 * H)]) is None
    # Cancelled for good: nothing waits, so no later timer can alert on it.
    assert state.pending == []
    assert on_timer(state, AFTER, 30 * H) == []


def test_after_respects_same_constraints() -> None:
    spec = AbsenceSpec("r", "after", H, same={"src_ip": "login"}, within_ms=60_000)
    state = AbsenceState()
    on_match(state, spec, [_event("login", 0, src_ip="192.0.2.1")])
    on_candidate(state, spec, 60_000, _event("other", 60_000, src_ip="198.51.100.9"), NO_WATERMARK)
    assert len(on_timer(state, spec, H)) == 1


def test_before_alerts_when_event_time_passes_the_match_with_nothing_before() -> None:
    state = AbsenceState()
    # 20 minutes before the match: outside the window.
    on_candidate(state, BEFORE, 0, _event("sso", 0), NO_WATERMARK)
    match = [_event("console", 20 * 60_000)]
    assert on_match(state, BEFORE, match) == 20 * 60_000
    assert on_timer(state, BEFORE, 20 * 60_000) == [match]


def test_before_is_suppressed_by_an_event_inside_the_window() -> None:
    state = AbsenceState()
    on_candidate(state, BEFORE, 10 * 60_000, _event("sso", 10 * 60_000), NO_WATERMARK)
    assert on_match(state, BEFORE, [_event("console", 20 * 60_000)]) is None
    assert state.pending == []
    assert on_timer(state, BEFORE, 40 * 60_000) == []


def test_before_candidate_arriving_after_the_match_still_suppresses() -> None:
    state = AbsenceState()
    on_match(state, BEFORE, [_event("console", 20 * 60_000)])
    on_candidate(state, BEFORE, 10 * 60_000, _event("sso", 10 * 60_000), NO_WATERMARK)
    assert on_timer(state, BEFORE, 20 * 60_000) == []


def test_state_round_trips() -> None:
    state = AbsenceState()
    on_match(state, AFTER, [_event("deactivate", 5)])
    on_candidate(state, AFTER, 1, _event("reactivate", 1), NO_WATERMARK)
    again = AbsenceState.decode(state.encode())
    assert again == state
    assert orjson.loads(state.encode())["version"] == STATE_VERSION == 1


# Written by AbsenceState.encode before the format had a version (commit c58aee3): version 0.
V0_STATE = (
    '{"pending":[[1772663447000,1772620247000,[{"step":"factor_removed","event_id":"o-1",'
    '"event_time":1772620247000,"source":"okta","action":"user.mfa.factor.deactivate"}]]],'
    '"candidates":[[1772620100000,{"step":"factor_restored","event_id":"o-0"}]]}'
)


def test_state_of_the_format_before_the_version_marker_is_read_and_acts() -> None:
    state = AbsenceState.decode(V0_STATE)
    removed = {
        "step": "factor_removed",
        "event_id": "o-1",
        "event_time": 1772620247000,
        "source": "okta",
        "action": "user.mfa.factor.deactivate",
    }
    assert state == AbsenceState(
        pending=[Pending(1772663447000, 1772620247000, [removed])],
        candidates=[(1772620100000, {"step": "factor_restored", "event_id": "o-0"})],
    )
    # The waiting match it held is decided as it would have been: due at its deadline.
    assert on_timer(state, AFTER, 1772663447000 - 1) == []
    assert on_timer(state, AFTER, 1772663447000) == [[removed]]
    # Stored again, it is the current version.
    assert orjson.loads(AbsenceState.decode(V0_STATE).encode())["version"] == STATE_VERSION


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('{"version":2,"pending":[],"candidates":[]}', "format version 2 is not one"),
        ('{"version":true,"pending":[],"candidates":[]}', "format version True is not one"),
        ('{"version":1,"pending":[[1,2]],"candidates":[]}', "format version 1 is damaged"),
        ("[1, 2]", "format version 'unreadable'"),
        ("not json", "format version 'unreadable'"),
    ],
)
def test_state_of_another_version_fails_loudly_naming_it(text: str, named: str) -> None:
    with pytest.raises(StateFormatError, match=named):
        AbsenceState.decode(text)


def test_candidates_are_kept_only_as_long_as_a_match_to_come_can_reach_them() -> None:
    # A sign-in every ten minutes all day, the watermark a minute behind: only the sign-ins a
    # later match could still fall after (its first event is at most the rule's minute before
    # a last event ahead of the watermark, and looks back 15 minutes) stay in state.
    state = AbsenceState()
    for minute in range(0, 24 * 60, 10):
        t = minute * 60_000
        on_candidate(state, BEFORE, t, _event("sso", t), t - 60_000)
    last = (24 * 60 - 10) * 60_000
    watermark = last - 60_000
    assert [t for t, _ in state.candidates] == [last - 10 * 60_000, last]
    # The oldest one kept is still the one that suppresses the earliest match still possible.
    earliest_anchor = watermark - BEFORE.within_ms + 1
    assert earliest_anchor - BEFORE.window_ms <= last - 10 * 60_000 < earliest_anchor
    assert on_match(state, BEFORE, [_event("console", earliest_anchor)]) is None


def test_a_candidate_at_the_horizon_is_kept_and_one_before_it_is_not() -> None:
    watermark = 10 * H
    horizon = watermark - BEFORE.lookback_ms
    state = AbsenceState()
    on_candidate(state, BEFORE, horizon - 1, _event("sso", horizon - 1), watermark)
    assert state.candidates == []
    on_candidate(state, BEFORE, horizon, _event("sso", horizon), watermark)
    assert [t for t, _ in state.candidates] == [horizon]


def test_end_of_input_settles_only_what_the_input_reached() -> None:
    closed = {"closes_at": 10 * H, "alert": {"alert_id": "a"}}
    open_ = {"closes_at": 12 * H, "alert": {"alert_id": "b"}}
    alerts, pending = settle_at_end([closed, open_], last_event_time=10 * H)
    assert alerts == [{"alert_id": "a"}]
    assert pending == [{**open_, "input_ends_at": 10 * H}]
    # An input with no on-time event reached nothing.
    alerts, pending = settle_at_end([closed], last_event_time=None)
    assert alerts == [] and pending[0]["alert"] == {"alert_id": "a"}


def test_take_due_returns_the_deadlines() -> None:
    state = AbsenceState()
    match = [{"step": "removed", "event_time": 10 * H}]
    timer = on_match(state, AFTER, match)
    (due,) = take_due(state, AFTER, 23 * H)
    assert (due.deadline, due.events) == (timer, match)
    assert state.pending == []
