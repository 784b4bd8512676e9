"""First-seen geography per entity: the "new country" flag rules use.

The state of one entity is the tuple of countries it has been seen in, most recent last, at
most :data:`MAX_COUNTRIES` long (the least recently seen falls off). An event's country is
*new* when the entity already has a history and the country is not in it: the very first
country of an entity is its baseline, not an anomaly, so a person's first login does not alert.
"""

from __future__ import annotations

MAX_COUNTRIES = 16

CountryHistory = tuple[str, ...]


def observe_country(history: CountryHistory, country: str | None) -> tuple[CountryHistory, bool]:
    """Whether ``country`` is new for an entity with ``history``, and the updated history."""
    if not country:
        return history, False
    is_new = bool(history) and country not in history
    if history and history[-1] == country:
        return history, is_new
    updated = (*(c for c in history if c != country), country)
    return updated[-MAX_COUNTRIES:], is_new
