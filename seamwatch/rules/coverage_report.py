"""Identity resolution coverage over a set of logs (``seamwatch identities coverage``).

The first thing a user checks when connecting a new account: what share of events resolves,
by which method, and which identifiers resolve to nothing. It runs the job's own logic
(normalize, resolve, learned key links) in the client, in event-time order, without Flink.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from seamwatch.sources.inputs import expand_paths, iter_raw_records, replay_order
from seamwatch.udfs.identity import IdentityGraph, resolve
from seamwatch.udfs.links import Link, apply_link, teaches, waits_for_link
from seamwatch.udfs.normalize import normalize_text
from seamwatch.udfs.records import Event, Rejected

METHODS = ("static", "learned", "normalized", "unresolved")


@dataclass
class Coverage:
    """Counts of events by resolution method, overall and per source."""

    by_method: Counter[str] = field(default_factory=Counter)
    by_source: dict[str, Counter[str]] = field(default_factory=dict)
    unresolved: Counter[str] = field(default_factory=Counter)
    entity_types: Counter[str] = field(default_factory=Counter)
    dead_letters: int = 0
    # Okta user id -> the entities its events resolved to (several: a renamed login).
    okta_entities: dict[str, set[str]] = field(default_factory=dict)

    @property
    def events(self) -> int:
        return sum(self.by_method.values())

    def share(self, method: str) -> float:
        return self.by_method[method] / self.events if self.events else 0.0

    def add(self, event: Event) -> None:
        self.by_method[event.resolved_by] += 1
        self.by_source.setdefault(event.source, Counter())[event.resolved_by] += 1
        self.entity_types[event.entity_type] += 1
        if event.resolved_by == "unresolved":
            self.unresolved[event.resolved_via or event.entity_id or "?"] += 1
        if event.source == "okta" and event.identifiers and event.entity_id:
            first = event.identifiers[0]
            if first.kind == "okta_user_id":
                self.okta_entities.setdefault(first.value, set()).add(event.entity_id)

    @property
    def split_okta_users(self) -> dict[str, list[str]]:
        """Okta user ids whose events resolved to several entities (a login renamed while no
        graph entry names the id), with those entities."""
        return {
            okta_id: sorted(found)
            for okta_id, found in sorted(self.okta_entities.items())
            if len(found) > 1
        }


def resolve_in_time_order(events: Iterable[Event], graph: IdentityGraph) -> Iterator[Event]:
    """Static and normalized resolution, then learned key links, as the job does them."""
    links: dict[str, Link] = {}
    for event in sorted(events, key=lambda e: e.event_time):
        resolve(event, graph)
        key = event.access_key_id
        if key and waits_for_link(event):
            link = links.get(key)
            if link is not None and link.valid_at(key, event.event_time):
                apply_link(event, link)
        taught = teaches(event, graph)
        if taught is not None:
            links[taught[0]] = taught[1]
        yield event


def measure(inputs: Mapping[str, Sequence[str]], graph: IdentityGraph) -> Coverage:
    """Coverage of every record in ``inputs`` (source -> path specs)."""
    coverage = Coverage()
    events: list[Event] = []
    for source, specs in inputs.items():
        paths: list[Path] = replay_order(p for spec in specs for p in expand_paths(spec))
        for ref, text in iter_raw_records(source, paths):
            for item in normalize_text(source, text, ref):
                if isinstance(item, Rejected):
                    coverage.dead_letters += 1
                else:
                    events.append(item)
    for event in resolve_in_time_order(events, graph):
        coverage.add(event)
    return coverage
