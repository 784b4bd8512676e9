"""Absence steps: "no such event within a time after (or before) the sequence".

SQL CEP silently drops timed-out partial matches, so it cannot say "nothing came". The job
matches the rule's present steps with ``MATCH_RECOGNIZE``, then a keyed function (one key per
rule and group) decides here, in event time:

- ``after`` (the absent step is the rule's last): a match anchored at its last event ``t``
  waits until event time passes ``t + window``; an absent-step event in ``(t, t + window]`` that
  satisfies the step's ``same``/``differ`` constraints cancels it. It never fires early.
- ``before`` (the absent step is the rule's first): a match anchored at its first event ``t``
  alerts unless an absent-step event fell in ``[t - window, t)``. Matches and candidates come
  on two inputs with no order between them, so the decision also waits for event time to pass
  ``t``: by then every earlier candidate within the watermark bound has arrived.

Candidates are the absent step's events, selected from the flagged events in SQL
(:func:`seamwatch.rules.compiler.compile_absence_candidates`: the step name, the event id and
the fields the step's constraints compare, keyed by the rule's group as text), and kept only
as long as a match still to come can need them (see :func:`on_candidate`), so a person who
signs in to Okta all day does not grow one large value rewritten at every sign-in.

The state is plain data (:class:`AbsenceState`) so the Flink function only loads, calls,
stores and sets timers.

**State format.** :meth:`AbsenceState.encode` writes one JSON object,
``{"version": 1, "pending": [[deadline, anchor, events], ...], "candidates": [[time, event],
...]}`` (:data:`STATE_VERSION`), kept in Flink ``ValueState`` across checkpoints. Readable:
version 1, and version 0, the same object without ``version`` (what releases before the
marker wrote). Any other version, or text that is not such an object, raises
:class:`~seamwatch.udfs.errors.StateFormatError` naming the version: the job fails loudly
rather than go on without the state. Unlike the baseline's, which restarts learning, this
state cannot be rebuilt: a waiting match dropped is an absence alert never raised, and nothing
would say so. Only a newer release's savepoint (a downgrade) or damaged state can hold another
version; the fix is to restore with the release that wrote it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from seamwatch.udfs.errors import StateFormatError

MAX_CANDIDATES = 64
# The version :meth:`AbsenceState.encode` writes; :meth:`AbsenceState.decode` also reads 0.
STATE_VERSION = 1


@dataclass(frozen=True)
class AbsenceSpec:
    """The absent step of one rule, as the keyed function needs it."""

    rule_id: str
    mode: Literal["after", "before"]
    window_ms: int
    same: Mapping[str, str] = field(default_factory=dict)  # field -> step name
    differ: Mapping[str, str] = field(default_factory=dict)
    # The rule's ``within``: a match's first event lies at most this far before its last.
    within_ms: int = field(kw_only=True)

    @property
    def lookback_ms(self) -> int:
        """How far behind the watermark a candidate can still matter to a later match."""
        return self.within_ms + self.window_ms


@dataclass
class Pending:
    deadline: int
    anchor: int
    events: list[dict[str, Any]]


@dataclass
class AbsenceState:
    pending: list[Pending] = field(default_factory=list)
    candidates: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def encode(self) -> str:
        """The state as the ``ValueState`` text, in version :data:`STATE_VERSION`."""
        return orjson.dumps(
            {
                "version": STATE_VERSION,
                "pending": [[p.deadline, p.anchor, p.events] for p in self.pending],
                "candidates": [[t, e] for t, e in self.candidates],
            }
        ).decode()

    @classmethod
    def decode(cls, text: str | None) -> AbsenceState:
        """The state :meth:`encode` wrote, in this version or version 0 (no ``version`` key);
        an empty state for ``None`` or empty text (the key holds nothing).

        Raises :class:`~seamwatch.udfs.errors.StateFormatError` for another version or for
        text that is not a state of a version it knows.
        """
        if not text:
            return cls()
        version: object = "unreadable"
        try:
            raw = orjson.loads(text)
            version = raw.get("version", 0)
            if version not in (0, STATE_VERSION) or isinstance(version, bool):
                raise ValueError(version)
            return cls(
                pending=[Pending(int(d), int(a), list(e)) for d, a, e in raw["pending"]],
                candidates=[(int(t), dict(e)) for t, e in raw["candidates"]],
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            known = version in (0, STATE_VERSION) and not isinstance(version, bool)
            problem = "is damaged" if known else "is not one this release reads"
            raise StateFormatError(
                f"absence state: format version {version!r} {problem}"
                f" (it reads 0 and {STATE_VERSION}): {text[:120]!r}"
            ) from exc


def _fits(spec: AbsenceSpec, events: list[dict[str, Any]], candidate: Mapping[str, Any]) -> bool:
    """Whether the candidate satisfies the absent step's constraints against the match."""
    by_step = {event.get("step"): event for event in events}
    for name, step in spec.same.items():
        if candidate.get(name) != by_step.get(step, {}).get(name):
            return False
    for name, step in spec.differ.items():
        if candidate.get(name) == by_step.get(step, {}).get(name):
            return False
    return True


def _cancels(spec: AbsenceSpec, pending: Pending, time: int, event: Mapping[str, Any]) -> bool:
    if spec.mode == "after":
        inside = pending.anchor < time <= pending.deadline
    else:
        inside = pending.anchor - spec.window_ms <= time < pending.anchor
    return inside and _fits(spec, pending.events, event)


def on_match(state: AbsenceState, spec: AbsenceSpec, events: list[dict[str, Any]]) -> int | None:
    """A present-step match arrived: the event time to decide it at, or None when an absent-step
    event already in state cancels it.

    A match is never decided on arrival: the absent event may still come, so it waits in
    ``state.pending`` until event time reaches the returned deadline (:func:`take_due`).
    """
    times = [int(e["event_time"]) for e in events]
    if spec.mode == "after":
        anchor = max(times)
        pending = Pending(anchor + spec.window_ms, anchor, events)
    else:
        anchor = min(times)
        pending = Pending(anchor, anchor, events)
    if any(_cancels(spec, pending, t, e) for t, e in state.candidates):
        return None
    state.pending.append(pending)
    return pending.deadline


def on_candidate(
    state: AbsenceState, spec: AbsenceSpec, time: int, event: dict[str, Any], watermark: int
) -> None:
    """An absent-step event arrived: it cancels waiting matches and is kept for later ones.

    A match still to come ends after ``watermark`` (the matcher emits a match before the
    watermark passes its last event), so it reaches back at most ``spec.lookback_ms`` behind
    it: older candidates, this one included, are not kept.
    """
    state.pending = [p for p in state.pending if not _cancels(spec, p, time, event)]
    horizon = watermark - spec.lookback_ms
    kept = [(t, e) for t, e in state.candidates if t >= horizon]
    if time >= horizon:
        kept.append((time, event))
        kept.sort(key=lambda item: item[0])
    state.candidates = kept[-MAX_CANDIDATES:]


def take_due(state: AbsenceState, spec: AbsenceSpec, now: int) -> list[Pending]:
    """Event time reached ``now``: the waiting matches whose deadline passed with no cancel
    (removed from the state), with their deadlines."""
    due = [p for p in state.pending if p.deadline <= now]
    state.pending = [p for p in state.pending if p.deadline > now]
    # Candidates older than any match still to come can reach are forgotten.
    horizon = now - spec.lookback_ms
    state.candidates = [(t, e) for t, e in state.candidates if t >= horizon]
    return due


def on_timer(state: AbsenceState, spec: AbsenceSpec, now: int) -> list[list[dict[str, Any]]]:
    """Event time reached ``now``: matches whose deadline passed with no cancel alert."""
    return [p.events for p in take_due(state, spec, now)]


def settle_at_end(
    decided: list[dict[str, Any]], last_event_time: int | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Absence decisions the end of a bounded input forced (``{"closes_at": ms, "alert":
    {...}}``, one each): the alerts whose window closed by the last event time the input
    held, and the pending ones, whose window was still open when the input ended (never
    alerts: nothing says the absent event would not have come)."""
    alerts: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    for item in decided:
        closes = int(item["closes_at"])
        if last_event_time is not None and closes <= last_event_time:
            alerts.append(item["alert"])
        else:
            pending.append({**item, "input_ends_at": last_event_time})
    return alerts, pending
