"""Identity resolution: coverage by method over a set of logs, and the resolve step's speed.

    python bench/identity_resolution.py [--corpus ../shared/corpus] [--events 200000]

Coverage runs the job's own logic (normalize, static / normalized resolution, learned key
links) over every Okta and CloudTrail record of the corpus. Speed is measured on generated
records (the bench corpus, with its identity file): normalization is done first and not timed;
the timed loop is ``resolve`` plus the learned-link lookup, per event.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

from seamwatch.jobs.settings import REPO_ROOT
from seamwatch.rules.coverage_report import measure, resolve_in_time_order
from seamwatch.sample.stream import write_bench_corpus
from seamwatch.udfs.identity import IdentityGraph, load_identity_file
from seamwatch.udfs.normalize import normalize_text
from seamwatch.udfs.records import Event


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REPO_ROOT.parent / "shared" / "corpus")
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args(argv)

    if args.corpus.is_dir():
        inputs = {s: [str(args.corpus / s)] for s in ("okta", "cloudtrail")}
        coverage = measure(inputs, IdentityGraph())
        print(f"corpus {args.corpus}: {coverage.events} events, no identity file")
        for method in ("static", "learned", "normalized", "unresolved"):
            per_source = ", ".join(
                f"{source} {counts[method]}"
                for source, counts in sorted(coverage.by_source.items())
            )
            print(f"  {method:<11} {coverage.share(method):6.1%}  ({per_source})")
        print(f"  dead-lettered records: {coverage.dead_letters}")
    else:
        print(f"corpus not found at {args.corpus}: coverage skipped")

    with tempfile.TemporaryDirectory() as tmp:
        corpus = write_bench_corpus(Path(tmp), args.events, attacks=5, seed=3)
        graph = load_identity_file(corpus.identities_path)
        events: list[Event] = []
        for source, path in (("okta", corpus.okta_path), ("cloudtrail", corpus.cloudtrail_path)):
            with path.open() as handle:
                for i, line in enumerate(islice(handle, args.events)):
                    events.extend(
                        e
                        for e in normalize_text(source, line, f"{path}:{i}")
                        if isinstance(e, Event)
                    )
        started = time.perf_counter()
        resolved = list(resolve_in_time_order(events, graph))
        seconds = time.perf_counter() - started
    methods: dict[str, int] = {}
    for event in resolved:
        methods[event.resolved_by] = methods.get(event.resolved_by, 0) + 1
    print(
        f"resolve step alone: {len(resolved):,} events in {seconds:.2f}s = "
        f"{len(resolved) / seconds:,.0f} events/s (incl. sorting by event time); "
        f"methods {methods}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
