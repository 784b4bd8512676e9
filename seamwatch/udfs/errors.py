"""What the vendor normalizers share: the error they raise and the small field helpers.

The helpers read vendor JSON defensively: keys are looked up case-insensitively (Panther's data
lake lower-cases keys: ``eventname``, ``useridentity``, ``authenticationcontext``), explicit
``null`` and absent keys are the same thing, and documentation placeholders (``"redacted"``,
``"<Attacker source IP>"``, ``HIDDEN_DUE_TO_SECURITY_REASONS``) count as absent.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Mapping
from typing import Any

import orjson

from seamwatch.udfs.records import Identifier

__all__ = [
    "IdentifierList",
    "NormalizeError",
    "clean",
    "clean_ip",
    "fallback_event_id",
    "fold_email",
    "get_ci",
    "get_map",
    "get_str",
    "is_placeholder",
]


class NormalizeError(ValueError):
    """The record is not a usable event of its source; ``str(err)`` is the dead-letter reason."""


_MISSING = object()

# Values that stand for "no value" in the corpus (compared lower-cased).
_PLACEHOLDERS = frozenset(
    {"", "null", "none", "redacted", "unknown", "...", "hidden_due_to_security_reasons"}
)

# Deliberately loose: one "@", no blanks, a dot in the domain.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


def get_ci(m: Mapping[str, Any], key: str) -> Any:
    """``m[key]`` with the key matched case-insensitively; None when absent.

    The exact spelling and the all-lower-case spelling are tried first (two dict look-ups);
    only when both miss are the keys scanned (~2 us for a 20-key record: callers looking for
    keys that are usually absent and have one fixed spelling should test ``in`` first).
    """
    value = m.get(key, _MISSING)
    if value is not _MISSING:
        return value
    lowered = key.lower()
    value = m.get(lowered, _MISSING)
    if value is not _MISSING:
        return value
    for k, v in m.items():
        if k.lower() == lowered:
            return v
    return None


def get_map(m: Mapping[str, Any] | None, *path: str) -> Mapping[str, Any] | None:
    """The object at ``path`` below ``m`` (case-insensitive keys), or None if any step is not one.

    A string holding a JSON object is accepted as that object (one Panther CloudTrail test has
    ``requestParameters`` serialised as a string).
    """
    current: Any = m
    for key in path:
        if current is None or not (type(current) is dict or isinstance(current, Mapping)):
            return None
        current = get_ci(current, key)
        if type(current) is str and current[:1] == "{":
            try:
                current = orjson.loads(current)
            except orjson.JSONDecodeError:
                return None
    if type(current) is dict or isinstance(current, Mapping):
        return current
    return None


def get_str(m: Mapping[str, Any] | None, *path: str) -> str | None:
    """The non-blank string at ``path`` below ``m`` (stripped), else None.

    Integers (an account id written as a number) are returned as their decimal string;
    placeholders are *not* filtered here, see :func:`clean`.
    """
    if m is None:
        return None
    if len(path) != 1:
        if not path:
            return None
        parent = get_map(m, *path[:-1])
        if parent is None:
            return None
        m = parent
    value = get_ci(m, path[-1])
    if type(value) is str:
        value = value.strip()
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def is_placeholder(value: str | None) -> bool:
    """True for None and values that stand for "no value" (``redacted``, ``<Victim IP>``...)."""
    if value is None:
        return True
    if value.lower() in _PLACEHOLDERS:
        return True
    return value[0] == "<" and value[-1] == ">"


def clean(value: str | None) -> str | None:
    """``value`` unless it is a placeholder (see :func:`is_placeholder`)."""
    if value is None or value.lower() in _PLACEHOLDERS:
        return None
    if value[0] == "<" and value[-1] == ">":
        return None
    return value


def clean_ip(value: str | None) -> str | None:
    """The canonical spelling of ``value`` if it is an IP address, else None.

    IPv4 octets with leading zeros (Datadog's anonymised ``08.1.250.216``) are read as decimal
    and written without the zeros; IPv6 is written in compressed form.
    """
    if not value:
        return None
    parts = value.split(".")
    if len(parts) == 4:
        octets: list[int] = []
        for part in parts:
            if not (0 < len(part) <= 3 and part.isascii() and part.isdigit()):
                return None
            octet = int(part)
            if octet > 255:
                return None
            octets.append(octet)
        return ".".join(map(str, octets))
    if ":" not in value:
        return None
    try:
        return ipaddress.IPv6Address(value).compressed
    except ValueError:
        return None


def fold_email(value: str | None) -> str | None:
    """The canonical email for ``value``, or None when it does not look like an email.

    Lower-cased, with a ``+alias`` suffix removed from the local part
    (``Jane.Doe+admin@Example.com`` -> ``jane.doe@example.com``).
    """
    if not value or _EMAIL.fullmatch(value) is None:
        return None
    local, _, domain = value.lower().rpartition("@")
    local = local.split("+", 1)[0]
    if not local:
        return None
    return f"{local}@{domain}"


def fallback_event_id(rec: Mapping[str, Any]) -> str:
    """A stable id for a record without one: sha1 of its canonical JSON, first 20 hex digits."""
    canonical = orjson.dumps(
        rec if isinstance(rec, dict) else dict(rec), option=orjson.OPT_SORT_KEYS
    )
    return hashlib.sha1(canonical).hexdigest()[:20]


class IdentifierList:
    """Collects identifiers, drops placeholders and duplicates, and orders them by kind.

    ``ranks`` maps each kind to its strength (0 = strongest); the result is sorted by rank,
    keeping the insertion order within a kind.
    """

    __slots__ = ("_items", "_ranks", "_seen")

    def __init__(self, ranks: Mapping[str, int]) -> None:
        self._ranks = ranks
        self._seen: set[tuple[str, str]] = set()
        self._items: list[tuple[int, int, Identifier]] = []

    def add(self, kind: str, value: str | None) -> None:
        if value is None or is_placeholder(value):
            return
        key = (kind, value)
        if key in self._seen:
            return
        self._seen.add(key)
        self._items.append((self._ranks[kind], len(self._items), Identifier(kind, value)))

    def result(self) -> list[Identifier]:
        return [item[2] for item in sorted(self._items, key=lambda item: item[:2])]
