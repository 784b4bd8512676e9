"""Which staged records are the same record, and which only share an event id.

CloudTrail delivers some records twice (the same record in two log files); test data and
hand-edited records reuse placeholder ids (``"1"``, ``"1111"``, one UUID for many records).
Staging, which parses every record of a file run anyway, tells them apart by the record's
*source, event id and content* (a 64-bit BLAKE2b digest of the record's text as read; members
of a container are re-serialised compactly, so the same record in two S3 files has one text):

- the same source, id and content as a record seen before: a **duplicate**, skipped (counted);
- the same source and id as a record seen before but other content: a **distinct** record,
  whose id becomes ``<id>~<first 12 hex digits of its content digest>``, so it never shares an
  alert id or an alert's context with the other one. The first record seen with an id keeps
  it unchanged (records are staged in replay order, so the choice is deterministic);
- a record without an id (the normalizer then hashes the whole record for one) is only checked
  for being a duplicate.

The memory is bounded (:data:`DEFAULT_CAPACITY` ids, the oldest forgotten first, about 25 MB):
CloudTrail's repeats arrive within the same hour's files, far inside that bound; a repeat
further apart than the bound is counted as a new record again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal, TypeVar

K = TypeVar("K")
V = TypeVar("V")
Verdict = Literal["new", "duplicate", "distinct"]
DEFAULT_CAPACITY = 1 << 18
SUFFIX_SEPARATOR = "~"


def content_digest(text: str) -> int:
    """64-bit digest of a record's text (surrounding white space ignored)."""
    digest = hashlib.blake2b(text.strip().encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def distinct_id(event_id: str, digest: int) -> str:
    """The id a record gets when another record with other content already has ``event_id``."""
    return f"{event_id}{SUFFIX_SEPARATOR}{digest:016x}"[: len(event_id) + 13]


@dataclass
class RecordIds:
    """The ids and contents seen so far, bounded to ``capacity`` ids (oldest forgotten)."""

    capacity: int = DEFAULT_CAPACITY
    _seen: dict[tuple[str, str | None, int], None] = field(default_factory=dict)
    _first: dict[tuple[str, str], int] = field(default_factory=dict)

    def check(self, source: str, event_id: str | None, text: str) -> tuple[Verdict, int]:
        """What the record is (see the module docstring), and its content digest."""
        digest = content_digest(text)
        key = (source, event_id, digest)
        if key in self._seen:
            return "duplicate", digest
        _remember(self._seen, key, None, self.capacity)
        if event_id is None:
            return "new", digest
        first = self._first.get((source, event_id))
        if first is None:
            _remember(self._first, (source, event_id), digest, self.capacity)
            return "new", digest
        return ("new" if first == digest else "distinct"), digest


def _remember(table: dict[K, V], key: K, value: V, capacity: int) -> None:
    """Add ``key`` to ``table``, forgetting the oldest entry when it holds ``capacity``."""
    if len(table) >= capacity:
        del table[next(iter(table))]
    table[key] = value
