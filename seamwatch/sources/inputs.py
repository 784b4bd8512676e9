"""Client-side reading of user log files into one raw text per vendor record.

The job turns each ``(raw_ref, text)`` pair into events (or dead letters) with
:func:`seamwatch.udfs.normalize.normalize_text`; this module only finds the files, splits them
into records and names each record's origin:

* ``"<path>:<line>"`` (1-based) for a record that is one line of a JSON Lines file, yielded as
  the original line text (without the line break);
* ``"<path>:<line>#<i>"`` for member ``i`` (0-based) of a container (S3 ``{"Records": [...]}``
  file, API array, Okta event-hook delivery) starting at ``line``, re-serialised compactly;
* ``"<path>#<record id>"`` for a record of a Windows event log file (``.evtx``, recognised by
  its ``ElfFile`` signature), read with the ``evtx`` parser (pyevtx-rs): its JSON, the shape
  :mod:`seamwatch.udfs.windows_shapes` reads first, keyed by the record's ``EventRecordID``.

A file whose first record is not valid JSON on its own line is read as one JSON document
(pretty-printed S3 file or array); when that fails too, it is read line by line. Lines that are
not valid JSON are yielded verbatim so that the job dead-letters them with their ref; blank
lines are skipped. ``.gz`` files are decompressed on the fly. A damaged file (truncated or
corrupt ``.gz``, unreadable) yields what can be read and then a notice naming the damage; an
empty container yields a notice too (:class:`~seamwatch.sources.damage.InputNotice`). A damaged
``.evtx`` (no valid header, a corrupt chunk or record) yields every record the parser can
read and a notice per damage, with the parser's reason.
"""

from __future__ import annotations

import glob
import re
import struct
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO

import orjson
from evtx import PyEvtxParser

from seamwatch.errors import SeamwatchError
from seamwatch.sources.damage import (
    InputNotice,
    SalvagingReader,
    has_invalid_utf8,
    open_salvaging,
    replace_invalid,
    salvage_members,
)
from seamwatch.udfs.normalize import explode

__all__ = [
    "EVTX_SIGNATURE",
    "INPUT_SUFFIXES",
    "NOT_JSON",
    "InputError",
    "expand_paths",
    "is_evtx",
    "iter_raw_records",
    "iter_records",
]

INPUT_SUFFIXES: tuple[str, ...] = (".json", ".jsonl", ".gz", ".evtx")
# The first bytes of a Windows event log file (the EVTX file header's signature).
EVTX_SIGNATURE = b"ElfFile\x00"
# The EVTX file header: its size read here, where its block size and chunk count are, and
# the size of a chunk.
_EVTX_HEADER_BYTES = 128
_EVTX_BLOCK_SIZE_OFFSET = 40
_EVTX_CHUNK_BYTES = 65536
# Parser errors in a row after which the rest of an .evtx file is given up as damaged.
_EVTX_MAX_ERRORS_IN_A_ROW = 64
_GLOB_CHARS = frozenset("*?[")


# The parsed value of a record whose text is not JSON (see iter_records).
NOT_JSON: object = object()


class InputError(SeamwatchError):
    """The input specification names no readable file."""


def _files_under(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.is_file() and p.name.endswith(INPUT_SUFFIXES)]


def expand_paths(spec: str) -> list[Path]:
    """The input files ``spec`` names, sorted.

    ``spec`` is a file (taken whatever its name), a directory (searched recursively for
    ``*.json``, ``*.jsonl``, ``*.gz`` and ``*.evtx``) or a glob pattern (``**`` recurses;
    directories it matches are searched as above). Raises :class:`InputError` when nothing matches.
    """
    path = Path(spec).expanduser()
    if path.is_file():
        return [path]
    if path.is_dir():
        found = _files_under(path)
        if not found:
            suffixes = ", ".join(f"*{s}" for s in INPUT_SUFFIXES)
            raise InputError(f"directory {spec!r} holds no input files ({suffixes})")
        return sorted(found)
    if not _GLOB_CHARS.intersection(spec):
        raise InputError(f"no such file or directory: {spec!r}")
    matches: set[Path] = set()
    for name in glob.glob(str(path), recursive=True):
        match = Path(name)
        if match.is_file():
            matches.add(match)
        elif match.is_dir():
            matches.update(_files_under(match))
    if not matches:
        raise InputError(f"no input file matches {spec!r}")
    return sorted(matches)


# CloudTrail's S3 object names carry the delivery time:
# <account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<unique>.json.gz
_CLOUDTRAIL_DELIVERY = re.compile(r"_CloudTrail_[a-z0-9-]+_(\d{8}T\d{4}Z)_")


def replay_order(paths: Iterable[Path]) -> list[Path]:
    """Files in the order they were delivered, so a replay keeps event time roughly in order.

    CloudTrail log files are ordered by the delivery time in their name (an S3 dump lists one
    account after the other, days apart, which no watermark bound could absorb); other files
    come after them, by path.
    """

    def key(path: Path) -> tuple[int, str, str]:
        match = _CLOUDTRAIL_DELIVERY.search(path.name)
        return (0, match.group(1), str(path)) if match else (1, "", str(path))

    return sorted(set(paths), key=key)


def _open_text(path: Path) -> tuple[IO[str], SalvagingReader]:
    """``path`` as text; gzip is recognised by its magic bytes, not only by the name. Damage
    ends the text early (see :mod:`seamwatch.sources.damage`)."""
    return open_salvaging(path)


def _members_of(
    source: str, text: str, ref: str, reader: SalvagingReader | None = None
) -> Iterator[tuple[str, str, object]]:
    """One line's record(s): the line itself, or the members if it is a container."""
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError:
        yield from _unparsed_line(source, text, ref, reader)
        return
    members = explode(source, doc)
    if not members:
        yield ref, text, _EMPTY
        return
    if len(members) == 1 and members[0] is doc:
        yield ref, text, doc
        return
    for i, member in enumerate(members):
        yield f"{ref}#{i}", orjson.dumps(member).decode(), member


def _parses(text: str) -> bool:
    return _loads(text) is not NOT_JSON


def is_evtx(path: Path) -> bool:
    """Whether ``path`` is a Windows event log file: named ``.evtx`` (read as one, so that a
    damaged header is reported as such), or carrying the signature whatever its name."""
    if path.suffix.lower() == ".evtx":
        return True
    try:
        with path.open("rb") as handle:
            return handle.read(len(EVTX_SIGNATURE)) == EVTX_SIGNATURE
    except OSError:
        return False


def _evtx_truncation(path: Path) -> str | None:
    """Why ``path`` is shorter than its header says, or None. The parser skips a chunk cut
    short without a word (a copy cut at 40 KB of a one-chunk log gives no record and no
    error), so the header's chunk count is checked against the size: a 4 KiB file header,
    then 64 KiB chunks. A file may be longer than that (space allocated ahead), not shorter.
    """
    try:
        with path.open("rb") as handle:
            header = handle.read(_EVTX_HEADER_BYTES)
        size = path.stat().st_size
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"
    if len(header) < _EVTX_HEADER_BYTES:
        return None  # the parser refuses a file without a whole header itself
    block_size, chunks = struct.unpack_from("<HH", header, _EVTX_BLOCK_SIZE_OFFSET)
    expected = block_size + chunks * _EVTX_CHUNK_BYTES
    if size >= expected:
        return None
    return (
        f"cut short: {size} bytes where its header names {chunks} chunks ({expected} bytes); "
        "the records past its last whole chunk are lost"
    )


def _iter_evtx(path: Path) -> Iterator[tuple[str, str, object]]:
    """The records of an ``.evtx`` file as the ``evtx`` parser's JSON (``records_json``).

    The parser reads chunk by chunk and goes on after a chunk or record it cannot read; each
    such failure becomes a ``damaged`` notice naming the file and the parser's reason, so the
    records around it are still read and the loss is counted.
    """
    damaged = f"damaged .evtx file {path.name}"
    try:
        records = iter(PyEvtxParser(str(path)).records_json())
    except (OSError, RuntimeError, ValueError) as exc:
        reason = f"{damaged}: {exc}"
        yield str(path), reason, InputNotice("damaged", reason)
        return
    truncation = _evtx_truncation(path)
    errors_in_a_row = 0
    while True:
        try:
            record = next(records)
        except StopIteration:
            if truncation is not None:
                reason = f"{damaged}: {truncation}"
                yield str(path), reason, InputNotice("damaged", reason)
            return
        except (OSError, RuntimeError, ValueError) as exc:
            reason = f"{damaged}: {exc}"
            yield str(path), reason, InputNotice("damaged", reason)
            errors_in_a_row += 1
            if errors_in_a_row >= _EVTX_MAX_ERRORS_IN_A_ROW:
                reason = f"{damaged}: {errors_in_a_row} errors in a row, the rest is not read"
                yield str(path), reason, InputNotice("damaged", reason)
                return
            continue
        errors_in_a_row = 0
        if not isinstance(record, dict):  # the parser yields dicts; anything else is damage
            reason = f"{damaged}: the parser gave {type(record).__name__}, not a record"
            yield str(path), reason, InputNotice("damaged", reason)
            continue
        text = str(record.get("data", ""))
        yield f"{path}#{record.get('event_record_id')}", text, _loads(text)


def _iter_file(source: str, path: Path) -> Iterator[tuple[str, str, object]]:
    if is_evtx(path):
        yield from _iter_evtx(path)
        return
    try:
        handle, reader = _open_text(path)
    except OSError as exc:
        reason = f"unreadable file: {exc.strerror or exc}"
        yield str(path), reason, InputNotice("damaged", reason)
        return
    with handle:
        yield from _iter_handle(source, path, handle, reader)
    if reader.damage is not None:
        yield str(path), reader.damage, InputNotice("damaged", reader.damage)


def _iter_handle(
    source: str, path: Path, handle: IO[str], reader: SalvagingReader
) -> Iterator[tuple[str, str, object]]:
    numbered = enumerate(handle, 1)
    first_no, first = next(((n, t) for n, t in numbered if t.strip()), (0, ""))
    if not first_no:
        return  # empty or blank file
    first = first.rstrip("\r\n")
    if _parses(first) or not first.lstrip().startswith(("{", "[")):
        yield from _iter_lines(source, path, first_no, first, numbered, reader)
        return
    # Probably one document spread over many lines (pretty-printed S3 file or array).
    rest = handle.read()
    whole = first + "\n" + rest
    doc = _loads(whole)
    if doc is NOT_JSON:
        if reader.damage is not None:
            yield from _unparsed_line(source, whole, f"{path}:{first_no}", reader)
            return
        rest_lines = enumerate(rest.split("\n"), first_no + 1)
        yield from _iter_lines(source, path, first_no, first, rest_lines, reader)
        return
    ref = f"{path}:{first_no}"
    members = explode(source, doc)
    if not members:
        yield ref, whole, _EMPTY
        return
    if len(members) == 1 and members[0] is doc:
        yield ref, orjson.dumps(doc).decode(), doc
        return
    for i, member in enumerate(members):
        yield f"{ref}#{i}", orjson.dumps(member).decode(), member


def _iter_lines(
    source: str,
    path: Path,
    first_no: int,
    first: str,
    lines: Iterator[tuple[int, str]],
    reader: SalvagingReader | None = None,
) -> Iterator[tuple[str, str, object]]:
    yield from _members_of(source, first, f"{path}:{first_no}", reader)
    for number, line in lines:
        text = line.rstrip("\r\n")
        if text.strip():
            yield from _members_of(source, text, f"{path}:{number}", reader)


def iter_records(source: str, paths: Sequence[Path]) -> Iterator[tuple[str, str, object]]:
    """Yield ``(raw_ref, text, parsed)`` for every vendor record in ``paths``, in file order.

    ``parsed`` is the record as ``orjson`` reads it, or :data:`NOT_JSON` when the text does not
    parse. ``source`` (``okta``, ``cloudtrail``) decides which containers are expanded (see
    :func:`~seamwatch.udfs.normalize.explode`). Nothing is dropped except blank lines: an empty
    container comes as ``parsed`` an :class:`~seamwatch.sources.damage.InputNotice` of kind
    ``empty``, and a file that could not be read to its end, after its readable records, as one
    of kind ``damaged`` with the file's path as ``raw_ref`` and the reason as ``text``. Text
    holding bytes that are not UTF-8 keeps them as lone surrogates (``surrogateescape``) when it
    is yielded as :data:`NOT_JSON`; a record that parses once they are replaced is yielded
    replaced.
    """
    for path in paths:
        yield from _iter_file(source, path)


def iter_raw_records(source: str, paths: Sequence[Path]) -> Iterator[tuple[str, str]]:
    """Yield ``(raw_ref, text)`` for every vendor record in ``paths``, in file order.

    Text that does not parse is yielded as it is, for the job to dead-letter; notices (empty
    containers, damaged files) are left out.
    """
    for ref, text, parsed in iter_records(source, paths):
        if not isinstance(parsed, InputNotice):
            yield ref, text


# ------------------------------------------------------------------------------------------
# Text that does not parse: bytes that are not UTF-8, containers cut short by damage
# ------------------------------------------------------------------------------------------

_EMPTY = InputNotice("empty", "empty container")


def _loads(text: str) -> object:
    """``text`` parsed (after replacing bytes that are not UTF-8), or :data:`NOT_JSON`."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    if not has_invalid_utf8(text):
        return NOT_JSON
    try:
        return orjson.loads(replace_invalid(text))
    except orjson.JSONDecodeError:
        return NOT_JSON


def _unparsed_line(
    source: str, text: str, ref: str, reader: SalvagingReader | None
) -> Iterator[tuple[str, str, object]]:
    """A record text orjson refused: replaced bytes that were not UTF-8 may make it parse; the
    members of a container that damage cut short are kept, the cut rest goes on as text."""
    if has_invalid_utf8(text):
        fixed = replace_invalid(text)
        if _loads(fixed) is not NOT_JSON:
            yield from _members_of(source, fixed, ref, reader)
            return
    if reader is None or reader.damage is None:
        yield ref, text, NOT_JSON
        return
    readable = replace_invalid(text) if has_invalid_utf8(text) else text
    salvaged = salvage_members(readable)
    if salvaged is None or not salvaged[0]:
        yield ref, text, NOT_JSON
        return
    members, cut = salvaged
    kept = [m for member in members for m in explode(source, member)]
    for i, member in enumerate(kept):
        yield f"{ref}#{i}", orjson.dumps(member).decode(), member
    yield f"{ref}#{len(kept)}", readable[cut:].rstrip("\r\n"), NOT_JSON
