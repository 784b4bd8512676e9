"""Damaged input files: read what can be read, and say what could not.

A truncated or corrupt ``.gz`` (a copy cut short, a flipped byte), a file that vanished or
cannot be opened, bytes that are not UTF-8: none of these may stop a run. The reader below
stops at the damage as at the end of the file, so every record before it is processed, and
keeps the reason; :func:`seamwatch.sources.inputs.iter_records` then yields an
:class:`InputNotice` naming the file, which staging turns into a dead letter. When the damage
cuts a container in two (a CloudTrail S3 file is one line, ``{"Records": [...]}``), the
members read whole before the cut are kept (:func:`salvage_members`).

Text is decoded with ``surrogateescape``, so a byte that is not UTF-8 survives decoding and the
dead letter can carry the original bytes (:func:`original_bytes`); :func:`replace_invalid` gives
the text as a reader shows it (U+FFFD for each such byte).
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal, cast

__all__ = [
    "InputNotice",
    "SalvagingReader",
    "has_invalid_utf8",
    "open_salvaging",
    "original_bytes",
    "replace_invalid",
    "salvage_members",
]

_DAMAGE = (EOFError, zlib.error, gzip.BadGzipFile, OSError)


@dataclass(frozen=True)
class InputNotice:
    """Something about the input that is no record: ``damaged`` (the file could not be read to
    its end; ``reason`` says why) or ``empty`` (a container holding no record)."""

    kind: Literal["damaged", "empty"]
    reason: str


class SalvagingReader(io.RawIOBase):
    """A byte stream that ends, instead of raising, where the stream under it is damaged.

    ``damage`` is then the reason (None while all is well); ``delivered`` counts the bytes
    handed out before it.
    """

    def __init__(self, inner: IO[bytes]) -> None:
        super().__init__()
        self._inner = inner
        self.damage: str | None = None
        self.delivered = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.damage is not None:
            return 0
        try:
            data = self._inner.read(len(buffer))
        except _DAMAGE as exc:
            self.damage = _describe(exc, self.delivered)
            return 0
        size = len(data)
        buffer[:size] = data
        self.delivered += size
        return size

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            super().close()


def _describe(exc: Exception, delivered: int) -> str:
    what = {
        EOFError: "truncated (the compressed stream ends early)",
        zlib.error: "corrupt compressed data",
        gzip.BadGzipFile: "not a valid gzip stream",
    }.get(type(exc), "unreadable")
    return f"damaged file: {what}: {type(exc).__name__}: {exc}; read up to byte {delivered:,}"


def open_salvaging(path: Path) -> tuple[IO[str], SalvagingReader]:
    """``path`` as text (gzip recognised by its magic bytes) and the reader that records damage.

    Raises ``OSError`` only when the file cannot be opened at all.
    """
    raw = path.open("rb")
    try:
        magic = raw.read(2)
        raw.seek(0)
    except OSError:
        raw.close()
        raise
    inner = cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb")) if magic == b"\x1f\x8b" else raw
    reader = SalvagingReader(inner)
    # utf-8-sig drops a byte-order mark; bytes that are not UTF-8 are kept as lone surrogates.
    text = io.TextIOWrapper(
        io.BufferedReader(reader), encoding="utf-8-sig", errors="surrogateescape", newline=None
    )
    return text, reader


def has_invalid_utf8(text: str) -> bool:
    """Whether ``text`` holds bytes that were not UTF-8 (decoded with ``surrogateescape``)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def original_bytes(text: str) -> bytes:
    """The bytes ``text`` was decoded from (``surrogateescape``)."""
    return text.encode("utf-8", "surrogateescape")


def replace_invalid(text: str) -> str:
    """``text`` with each byte that was not UTF-8 as U+FFFD (what a reader shows)."""
    return original_bytes(text).decode("utf-8", "replace")


_DECODER = json.JSONDecoder()


def _skip_blank(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t\r\n":
        at += 1
    return at


def _array_start(text: str) -> int | None:
    """Where the members of the container ``text`` opens begin: after ``[`` of a top-level
    array, or of the array that is the first value of a top-level object (``{"Records": [``)."""
    at = _skip_blank(text, 0)
    if text.startswith("[", at):
        return at + 1
    if not text.startswith("{", at):
        return None
    at = _skip_blank(text, at + 1)
    try:
        key, at = _DECODER.raw_decode(text, at)
    except ValueError:
        return None
    at = _skip_blank(text, at)
    if not isinstance(key, str) or not text.startswith(":", at):
        return None
    at = _skip_blank(text, at + 1)
    return at + 1 if text.startswith("[", at) else None


def salvage_members(text: str) -> tuple[list[object], int] | None:
    """The members read whole at the start of a container cut short, and the offset where the
    unreadable rest begins; None when ``text`` does not open a container."""
    at = _array_start(text)
    if at is None:
        return None
    members: list[object] = []
    while True:
        start = _skip_blank(text, at)
        try:
            member, end = _DECODER.raw_decode(text, start)
        except ValueError:
            return members, start
        members.append(member)
        at = _skip_blank(text, end)
        if not text.startswith(",", at):
            return members, at
        at += 1
