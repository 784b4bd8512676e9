"""First-seen geography per entity: the "new country" flag rules use.

The state of one entity is a short list of the countries it has been seen in, each with the
time it was first seen and whether it was *novel* then (seen after the entity already had a
baseline). An event is flagged ``new_country`` when its country is not in the list, or when it
was first seen as novel less than :data:`NOVELTY_SECONDS` ago: an Okta sign-in writes an MFA
event, then ``user.session.start``, then SSO events, and all of them come from the new place.

- The first country of an entity is its baseline, not an anomaly: a person's first login does
  not alert.
- Only successful events teach the baseline: an attacker's denied attempts from abroad must not
  make the country usual before the attacker gets in.
- At most :data:`MAX_COUNTRIES` countries are kept, the least recently seen fall off.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_COUNTRIES = 16
NOVELTY_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class Seen:
    country: str
    first_seen_ms: int
    novel: bool


CountryHistory = tuple[Seen, ...]


def observe_country(
    history: CountryHistory,
    country: str | None,
    event_time_ms: int,
    succeeded: bool = True,
    novelty_seconds: int = NOVELTY_SECONDS,
) -> tuple[CountryHistory, bool]:
    """Whether ``country`` is new for an entity with ``history``, and the updated history."""
    if not country:
        return history, False
    known = next((seen for seen in history if seen.country == country), None)
    if known is None:
        is_new = bool(history)
    else:
        is_new = known.novel and event_time_ms - known.first_seen_ms < novelty_seconds * 1000
    if not succeeded or (history and history[-1].country == country):
        return history, is_new
    entry = known or Seen(country, event_time_ms, is_new)
    updated = (*(seen for seen in history if seen.country != country), entry)
    return updated[-MAX_COUNTRIES:], is_new


def encode_history(history: CountryHistory) -> str:
    """Compact text form for Flink state: one ``country|first_seen_ms|novel`` per line."""
    return "\n".join(f"{s.country}|{s.first_seen_ms}|{int(s.novel)}" for s in history)


def decode_history(text: str | None) -> CountryHistory:
    if not text:
        return ()
    out = []
    for line in text.split("\n"):
        country, first_seen, novel = line.rsplit("|", 2)
        out.append(Seen(country, int(first_seen), novel == "1"))
    return tuple(out)
