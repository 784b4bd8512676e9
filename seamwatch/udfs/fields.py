"""Field helpers the vendor normalizers share: reading vendor JSON defensively, and fast.

Vendor JSON is read defensively: keys are matched case-insensitively (Panther's data lake
lower-cases keys: ``eventname``, ``useridentity``, ``authenticationcontext``), explicit ``null``
and absent keys are the same thing, and documentation placeholders (``"redacted"``,
``"<Attacker source IP>"``, ``HIDDEN_DUE_TO_SECURITY_REASONS``) count as absent.

Speed: the normalizers run for every record, and almost every record uses the vendor's own
key casing. :class:`Keys` lists the keys a normalizer reads from one kind of object and
checks each object *once* (one C-level set test) for a key that could shadow one of them in
another casing; when there is none, which is nearly always, the object is read with plain
``dict.get``. Only objects with such a key pay for the case-insensitive look-up
(:func:`get_ci`), once per key read. Either way the value found is the one :func:`get_ci`
would find.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Hashable, Iterable, Mapping
from typing import Any, Generic, TypeVar

import orjson

from seamwatch.udfs.records import Identifier

__all__ = [
    "Keys",
    "Memo",
    "as_map",
    "clean",
    "clean_ip",
    "clean_text",
    "fallback_event_id",
    "fold_email",
    "get_ci",
    "get_map",
    "identifier_list",
    "text",
]

_MISSING = object()

# Values that stand for "no value" in the corpus (compared lower-cased).
_PLACEHOLDERS = frozenset(
    {"", "null", "none", "redacted", "unknown", "...", "hidden_due_to_security_reasons"}
)
# A value lower-cases to one of these ASCII strings only if it has the same length (str.lower()
# changes the length of U+0130 alone, into "i" and a non-ASCII U+0307): testing the length
# first spares lower-casing almost every value.
_PLACEHOLDER_LENGTHS = frozenset(map(len, _PLACEHOLDERS))

# Deliberately loose: one "@", no blanks, a dot in the domain.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")

# An IPv4 address already in canonical form (decimal octets, no leading zeros). [0-9], not
# \d: \d matches other scripts' digits, which the slow path rejects.
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
_CANONICAL_IPV4 = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}")


def get_ci(m: Mapping[str, Any], key: str) -> Any:
    """``m[key]`` with the key matched case-insensitively; None when absent.

    The exact spelling and the all-lower-case spelling are tried first (two dict look-ups);
    only when both miss are the keys scanned (the first match in ``m``'s order wins). Objects
    read many times should go through :meth:`Keys.view` instead.
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


def as_map(value: object) -> Mapping[str, Any] | None:
    """``value`` if it is an object; a string holding a JSON object is parsed (None if broken).

    One Panther CloudTrail test has ``requestParameters`` serialised as a string.
    """
    if type(value) is dict:
        return value
    if value is None:
        return None
    if type(value) is str and value[:1] == "{":
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    if type(value) is dict or isinstance(value, Mapping):
        return value
    return None


def get_map(m: Mapping[str, Any] | None, *path: str) -> Mapping[str, Any] | None:
    """The object at ``path`` below ``m`` (case-insensitive keys), or None if any step is not one.

    A string holding a JSON object is accepted as that object (see :func:`as_map`).
    """
    current = as_map(m)
    for key in path:
        if current is None:
            return None
        current = as_map(get_ci(current, key))
    return current


def text(value: object) -> str | None:
    """``value`` as a non-blank string (stripped), else None.

    Integers (an account id written as a number) give their decimal string; placeholders are
    *not* filtered here, see :func:`clean_text`.
    """
    if type(value) is str:
        value = value.strip()
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def clean_text(value: object) -> str | None:
    """``clean(text(value))`` in one step: a usable string value, else None."""
    if type(value) is str:
        value = value.strip()
        if not value:
            return None
        if len(value) in _PLACEHOLDER_LENGTHS and value.lower() in _PLACEHOLDERS:
            return None
        if value[0] == "<" and value[-1] == ">":
            return None
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # digits and maybe a sign: never a placeholder
    return None


def clean(value: str | None) -> str | None:
    """``value`` unless it is None or stands for "no value" (``redacted``, ``<Victim IP>``...)."""
    if value is None:
        return None
    if len(value) in _PLACEHOLDER_LENGTHS and value.lower() in _PLACEHOLDERS:
        return None
    if value[0] == "<" and value[-1] == ">":
        return None
    return value


class Keys:
    """The keys a normalizer reads from one kind of JSON object, in the vendor's spelling.

    ``wanted`` are the keys read; ``known`` are other keys the vendor documents for that
    object (optional: they only spare a lower-casing when present). :meth:`view` gives a
    mapping on which ``.get(key)`` for a wanted key returns what ``get_ci(obj, key)`` would.
    """

    __slots__ = ("_lengths", "_lowered", "_safe", "wanted")

    def __init__(self, wanted: Iterable[str], known: Iterable[str] = ()) -> None:
        self.wanted: tuple[str, ...] = tuple(wanted)
        if not all(key.isascii() for key in self.wanted):
            raise ValueError(f"wanted keys must be ASCII: {self.wanted}")
        lowered = [key.lower() for key in self.wanted]
        if len(set(lowered)) != len(lowered):
            raise ValueError(f"wanted keys differ only in case: {self.wanted}")
        self._lowered = frozenset(lowered)
        # Only a key of the same length can lower-case to an ASCII wanted key: str.lower()
        # lengthens just U+0130, to "i" and a non-ASCII U+0307.
        self._lengths = frozenset(map(len, lowered))
        # Keys that can never shadow a wanted key: the wanted spellings themselves, and known
        # keys whose lower-case form is not that of a wanted key.
        self._safe = frozenset(self.wanted) | frozenset(
            key for key in known if key.lower() not in self._lowered
        )

    def view(self, obj: Mapping[str, Any]) -> Mapping[str, Any]:
        """``obj`` itself when plain look-ups find what :func:`get_ci` finds, else a copy.

        Plain ``obj.get(key)`` differs from ``get_ci(obj, key)`` only when ``key`` is absent
        and another spelling of it is present. So ``obj`` is returned as is unless it has a
        key, outside the wanted and known ones, whose lower-case form is a wanted key's;
        otherwise the result maps each wanted key to ``get_ci(obj, key)``.
        """
        if self._safe.issuperset(obj):
            return obj
        return self._check(obj)

    def _check(self, obj: Mapping[str, Any]) -> Mapping[str, Any]:
        """:meth:`view` for an object with keys outside the wanted and known ones."""
        lengths = self._lengths
        if lengths.isdisjoint(map(len, obj)):  # no key could shadow: all in C
            return obj
        safe = self._safe
        lowered = self._lowered
        for key in obj:
            if len(key) in lengths and key not in safe and key.lower() in lowered:
                return {wanted: get_ci(obj, wanted) for wanted in self.wanted}
        return obj

    def child(self, parent: Mapping[str, Any] | None, key: str) -> Mapping[str, Any] | None:
        """The view (see :meth:`view`) of the object at ``parent[key]``, None if not one.

        ``parent`` is a view itself; a JSON object in a string is parsed (see :func:`as_map`).
        """
        if parent is None:
            return None
        value = parent.get(key)
        if type(value) is not dict:
            value = as_map(value)
            if value is None:
                return None
        if self._safe.issuperset(value):
            return value
        return self._check(value)


def clean_ip(value: str | None) -> str | None:
    """The canonical spelling of ``value`` if it is an IP address, else None.

    IPv4 octets with leading zeros (Datadog's anonymised ``08.1.250.216``) are read as decimal
    and written without the zeros; IPv6 is written in compressed form.
    """
    if not value:
        return None
    if _CANONICAL_IPV4.fullmatch(value) is not None:
        return value
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
    (``Jane.Doe+admin@Example.com`` -> ``jane.doe@example.com``). Memoized: logins and
    session names recur.
    """
    if not value or "@" not in value:
        return None
    folded = _FOLDED.get(value)
    if folded is None:
        folded = _fold_email(value) or ""  # "": not an email
        _FOLDED.put(value, folded)
    return folded or None


def _fold_email(value: str) -> str | None:
    if _EMAIL.fullmatch(value) is None:
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


def identifier_list(pairs: Iterable[tuple[str, str | None]]) -> list[Identifier]:
    """The :class:`Identifier` list for ``(kind, value)`` pairs given strongest kind first.

    Pairs of one kind must be adjacent; within a kind the first of equal values is kept.
    ``None`` values are skipped; other values must already be clean (no placeholders, see
    :func:`clean`): this is the hot path, so it does not check them again.
    """
    out: list[Identifier] = []
    last_kind = ""
    kept: list[str] = []
    for kind, value in pairs:
        if value is None:
            continue
        if kind != last_kind:
            last_kind = kind
            kept = [value]
        elif value in kept:
            continue
        else:
            kept.append(value)
        out.append(Identifier(kind, value))
    return out


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """A bounded memo for what the normalizers derive from values that recur (a caller's
    identity, an actor): emptied when it holds ``limit`` entries; ``limit=0`` turns it off.

    Values are shared by every hit, so they must not be mutated.
    """

    __slots__ = ("_data", "get", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._data: dict[K, V] = {}
        self.get = self._data.get  # the hot path: no method of ours in between

    def put(self, key: K, value: V) -> None:
        if self.limit <= 0:
            return
        if len(self._data) >= self.limit:
            self._data.clear()
        self._data[key] = value

    def clear(self) -> None:
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


_FOLDED: Memo[str, str] = Memo(4096)
