"""Which staged records are the same record, and which only share an event id.

CloudTrail delivers some records twice (the same record in two log files); test data and
hand-edited records reuse placeholder ids (``"1"``, ``"1111"``, one UUID for many records).
Staging, which parses every record of a file run anyway, tells them apart by the record's
*source, event id and content* (its text as read, surrounding white space ignored; members of a
container are re-serialised compactly, so the same record in two S3 files has one text):

- the same source, id and content as a record seen before: a **duplicate**, skipped (counted);
- the same source and id as a record seen before but other content: a **distinct** record,
  whose id becomes ``<id>~<first 12 hex digits of its content digest>`` (a 64-bit BLAKE2b
  digest of the text: the same in every run), so it never shares an alert id or an alert's
  context with the other one. The first record seen with an id keeps
  it unchanged (records are staged in replay order, so the choice is deterministic);
- a record without an id (the normalizer then hashes the whole record for one) is only checked
  for being a duplicate.

The memory is bounded: 64-bit hashes of the last :data:`DEFAULT_CAPACITY` ids and contents
staged (the oldest forgotten first), about 90 MB of the client's memory at capacity. A repeat
further back than that (for a trail of 100 records/s: about 45 minutes of records) is staged
again. The memory keeps Python's own string hashes (SipHash, keyed per process: one staging run
is one process), about a sixth of the BLAKE2b digest's cost on a 2 KB record; only a distinct
record's new id needs the digest that is the same in every run.
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

Verdict = Literal["new", "duplicate", "distinct"]
DEFAULT_CAPACITY = 1 << 18
SUFFIX_SEPARATOR = "~"


_MASK64 = (1 << 64) - 1


def content_digest(text: str) -> int:
    """64-bit digest of a record's text (surrounding white space ignored), the same in every
    run: the suffix of a distinct record's id (:func:`distinct_id`)."""
    data = text.strip().encode("utf-8", "surrogateescape")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def _hash64(text: str) -> int:
    """This process's 64-bit hash of ``text`` (see the module docstring)."""
    return hash(text) & _MASK64


def distinct_id(event_id: str, digest: int) -> str:
    """The id a record gets when another record with other content already has ``event_id``."""
    return f"{event_id}{SUFFIX_SEPARATOR}{digest:016x}"[: len(event_id) + 13]


@dataclass
class _Bounded:
    """A dict of at most ``capacity`` int keys; the oldest key goes first."""

    capacity: int
    values: dict[int, int] = field(default_factory=dict)
    order: deque[int] = field(default_factory=deque)

    def add(self, key: int, value: int) -> None:
        if len(self.order) >= self.capacity:
            self.values.pop(self.order.popleft(), None)
        self.values[key] = value
        self.order.append(key)


@dataclass
class RecordIds:
    """The ids and contents seen so far, bounded to ``capacity`` ids (oldest forgotten)."""

    capacity: int = DEFAULT_CAPACITY
    _seen: _Bounded = field(init=False)  # (id, content) digests seen
    _first: _Bounded = field(init=False)  # id digest -> content digest of its first record

    def __post_init__(self) -> None:
        self._seen = _Bounded(self.capacity)
        self._first = _Bounded(self.capacity)

    def check(self, source: str, event_id: str | None, text: str) -> Verdict:
        """What the record is (see the module docstring). A ``distinct`` record's new id is
        ``distinct_id(event_id, content_digest(text))``."""
        content = _hash64(text.strip())
        marker = "\x1f" if event_id is not None else "\x1e"
        id_key = _hash64(f"{source}{marker}{event_id or ''}")
        seen_key = (id_key << 64) | content
        if seen_key in self._seen.values:
            return "duplicate"
        self._seen.add(seen_key, 0)
        if event_id is None:
            return "new"
        first = self._first.values.get(id_key)
        if first is None:
            self._first.add(id_key, content)
            return "new"
        return "new" if first == content else "distinct"
