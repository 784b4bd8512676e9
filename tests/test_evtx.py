"""Windows event log files (``.evtx``) read directly with the ``evtx`` parser (pyevtx-rs).

The corpus (``../shared/corpus``) holds no ``.evtx`` today (its hayabusa file was converted to
JSON before it was stored), and no real one ships with this repository. The tests on real files
read every ``*.evtx`` under the corpus and under ``$SEAMWATCH_EVTX_DIR`` (for example the
``samples/`` of the evtx parser's own repository) and skip, saying so, when there is none.
Damage needs no real file: it must become a dead letter naming the file, never a crash.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from seamwatch.sources.damage import InputNotice
from seamwatch.sources.inputs import EVTX_SIGNATURE, NOT_JSON, iter_records
from seamwatch.sources.staging import stage_inputs
from seamwatch.udfs.normalize import normalize_text
from seamwatch.udfs.records import Event, Rejected
from tests.conftest import CORPUS_DIR

CHUNK = 65536


def _real_evtx_files() -> list[Path]:
    roots = [CORPUS_DIR]
    if os.environ.get("SEAMWATCH_EVTX_DIR"):
        roots.append(Path(os.environ["SEAMWATCH_EVTX_DIR"]))
    return sorted(p for root in roots if root.is_dir() for p in root.rglob("*.evtx"))


REAL = _real_evtx_files()
needs_real = pytest.mark.skipif(
    not REAL,
    reason=f"no .evtx under {CORPUS_DIR} or $SEAMWATCH_EVTX_DIR: the reader is untested on a "
    "real file in this run",
)


def _header(chunks: int) -> bytes:
    """An EVTX file header (4 KiB) naming ``chunks`` chunks, none of which follows."""
    fields = struct.pack("<QQQIHHHH", 0, max(chunks - 1, 0), 1, 128, 1, 3, 4096, chunks)
    return (EVTX_SIGNATURE + fields).ljust(4096, b"\0")


def _stage_windows(tmp_path: Path, *files: Path) -> list[dict[str, object]]:
    staged = stage_inputs({"windows": [str(f) for f in files]}, tmp_path / "staged")
    (windows,) = staged
    assert windows.records == 0
    return list(windows.rejected)


def test_a_file_named_evtx_that_is_not_one_is_a_dead_letter_naming_it(tmp_path: Path) -> None:
    bogus = tmp_path / "dc01-Security.evtx"
    bogus.write_bytes(b"this is no event log\n" * 10)
    letters = _stage_windows(tmp_path, bogus)
    assert len(letters) == 1
    assert letters[0]["source"] == "windows"
    assert letters[0]["raw_ref"] == "dc01-Security.evtx"
    assert str(letters[0]["reason"]).startswith("damaged .evtx file dc01-Security.evtx: ")


def test_an_evtx_cut_after_its_header_is_a_dead_letter_naming_it(tmp_path: Path) -> None:
    cut = tmp_path / "cut.evtx"
    cut.write_bytes(_header(chunks=3) + b"ElfChnk\0" + b"\0" * 1000)
    letters = _stage_windows(tmp_path, cut)
    assert [letter["raw_ref"] for letter in letters] == ["cut.evtx"]
    reason = str(letters[0]["reason"])
    assert reason.startswith("damaged .evtx file cut.evtx: ")


def test_an_evtx_by_its_signature_whatever_its_name(tmp_path: Path) -> None:
    renamed = tmp_path / "export.log"
    renamed.write_bytes(_header(chunks=1))
    found = list(iter_records("windows", [renamed]))
    assert found and all(isinstance(parsed, InputNotice) for _, _, parsed in found)
    assert all("export.log" in text for _, text, _ in found)


@needs_real
@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_every_record_of_a_real_evtx_is_normalized_or_dead_lettered_with_a_reason(
    path: Path,
) -> None:
    events = rejected = 0
    for ref, text, parsed in iter_records("windows", [path]):
        if isinstance(parsed, InputNotice):  # damage the parser met: the file and why
            assert parsed.kind == "damaged" and path.name in parsed.reason
            rejected += 1
            continue
        assert parsed is not NOT_JSON, ref
        assert ref.startswith(f"{path}#")
        assert ref.rsplit("#", 1)[1].isdigit()  # the record's number in the file
        (result,) = normalize_text("windows", text, ref)
        if isinstance(result, Event):
            # The event points back to its record; its id is host, event id and the
            # EventRecordID Windows wrote in it.
            assert result.raw_ref == ref
            assert result.source == "windows" and result.event_code
            assert result.event_id.split(":")[1] == result.event_code
            events += 1
        else:
            assert isinstance(result, Rejected) and result.reason, ref
            rejected += 1
    assert events + rejected > 0


@needs_real
def test_a_real_evtx_cut_short_keeps_its_whole_chunks_and_says_so(tmp_path: Path) -> None:
    big = next((p for p in REAL if p.stat().st_size > 4096 + 2 * CHUNK), None)
    if big is None:
        pytest.skip("no real .evtx of more than one chunk")
    whole = [t for _, t, parsed in iter_records("windows", [big]) if parsed is not NOT_JSON]
    cut = tmp_path / big.name
    cut.write_bytes(big.read_bytes()[: 4096 + CHUNK + 1000])
    found = list(iter_records("windows", [cut]))
    records = [text for _, text, parsed in found if not isinstance(parsed, InputNotice)]
    notices = [parsed for _, _, parsed in found if isinstance(parsed, InputNotice)]
    assert records and records == whole[: len(records)]
    assert len(notices) == 1 and "cut short" in notices[0].reason
    assert big.name in notices[0].reason
