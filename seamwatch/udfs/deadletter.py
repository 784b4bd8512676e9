"""The dead-letter record: what went wrong, where the record came from, and the record itself.

Keys, always: ``source``, ``reason``, ``raw_ref`` (``path:line[#member]``, a file's path for
damage to the file itself, or ``topic/partition@offset``) and ``raw``, the record's text.

Two cases keep more:

* **bytes that are not UTF-8**: ``raw`` shows each as U+FFFD, and ``raw_base64`` holds the
  original bytes, base64-encoded, so the record can be recovered byte for byte;
* **oversize records** (over :data:`RAW_LIMIT_BYTES` of UTF-8): ``raw`` (and ``raw_base64``)
  keep only the first :data:`RAW_LIMIT_BYTES`, ``raw_truncated`` is true, ``raw_bytes`` is the
  whole record's size and ``raw_sha256`` the hex SHA-256 of all its bytes. No record's size can
  then stop a run (Flink's collect sink refuses a record over 2 MB; a Kafka topic has a limit).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

__all__ = ["RAW_LIMIT_BYTES", "dead_letter"]

# Room for JSON escaping (up to 6 bytes a character) under Flink's 2 MB collect limit.
RAW_LIMIT_BYTES = 128 * 1024


def _utf8(text: str) -> tuple[bytes, bool]:
    """The bytes of ``text`` (lone surrogates as the bytes they escape), and whether all of them
    were UTF-8."""
    try:
        return text.encode("utf-8"), True
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape"), False


def dead_letter(
    source: str, reason: str, raw_ref: str, raw: str | bytes, **extra: Any
) -> dict[str, Any]:
    """The dead-letter record (module docstring). ``raw`` is text (bytes that were not UTF-8
    as lone surrogates, ``surrogateescape``) or the original bytes."""
    if isinstance(raw, bytes):
        data = raw
        valid = _is_utf8(data)
    else:
        data, valid = _utf8(raw)
        if valid and len(data) <= RAW_LIMIT_BYTES:
            return {"source": source, "reason": reason, "raw_ref": raw_ref, "raw": raw, **extra}
    kept = data[:RAW_LIMIT_BYTES]
    record: dict[str, Any] = {
        "source": source,
        "reason": reason,
        "raw_ref": raw_ref,
        "raw": kept.decode("utf-8", "replace"),
    }
    if not valid:
        record["raw_base64"] = base64.b64encode(kept).decode("ascii")
    if len(data) > RAW_LIMIT_BYTES:
        # A multi-byte character cut by the limit shows as U+FFFD at the end of "raw".
        record["raw_truncated"] = True
        record["raw_bytes"] = len(data)
        record["raw_sha256"] = hashlib.sha256(data).hexdigest()
    record.update(extra)
    return record


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
