"""State size per group and speed of the absence check (``seamwatch.udfs.absence``).

Feeds the absence rules of the loaded catalog what a busy person gives them: an absent-step
event (an Okta SSO to AWS, an MFA factor activation) every ``--every`` minutes over a working
day, for ``--days`` days, the watermark ``--lag`` minutes behind. Each step is what the Flink
function does per candidate: decode the group's state, call ``on_candidate``, encode it.

Prints, per rule, the time per candidate and the encoded state's mean and maximum size. Usage::

    python bench/absence_state.py [--rules rules] [--every 4] [--days 5] [--lag 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from seamwatch.jobs.pipeline import absence_specs
from seamwatch.jobs.settings import DEFAULT_RULES_DIR
from seamwatch.rules.rulebook import load_rules
from seamwatch.udfs.absence import AbsenceSpec, AbsenceState, on_candidate

MINUTE_MS = 60_000
DAY_MS = 1440 * MINUTE_MS


def candidate(spec: AbsenceSpec, step: str, number: int) -> dict[str, object]:
    """One candidate as ``compile_absence_candidates`` selects it."""
    fields = {name: f"value-{number % 3}" for name in (*spec.same, *spec.differ)}
    return {"step": step, "event_id": f"{number:08d}-0000-4000-8000-000000000000", **fields}


def run(spec: AbsenceSpec, step: str, every: int, days: int, lag: int) -> tuple[float, list[int]]:
    """Seconds per candidate and the state's encoded size after each."""
    stored = AbsenceState().encode()
    sizes: list[int] = []
    number = 0
    started = time.perf_counter()
    for day in range(days):
        for minute in range(8 * 60, 18 * 60, every):
            t = day * DAY_MS + minute * MINUTE_MS
            state = AbsenceState.decode(stored)
            on_candidate(state, spec, t, candidate(spec, step, number), t - lag * MINUTE_MS)
            stored = state.encode()
            sizes.append(len(stored))
            number += 1
    return (time.perf_counter() - started) / max(number, 1), sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=Path, default=DEFAULT_RULES_DIR)
    parser.add_argument("--every", type=int, default=4, help="minutes between candidates")
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--lag", type=int, default=5, help="watermark lag, minutes")
    args = parser.parse_args()
    rules = load_rules(args.rules)
    steps = {r.id: r.absent_step.name for r in rules if r.absent_step is not None}
    for rule_id, spec in absence_specs(rules).items():
        seconds, sizes = run(spec, steps[rule_id], args.every, args.days, args.lag)
        print(
            f"{rule_id}: {len(sizes):,} candidates, {seconds * 1e6:.1f} us each; state "
            f"mean {statistics.fmean(sizes):,.0f} bytes, max {max(sizes):,} "
            f"(lookback {spec.lookback_ms // MINUTE_MS} min)"
        )


if __name__ == "__main__":
    main()
