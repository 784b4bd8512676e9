"""Every record of the Entra and Windows corpus (``/work/shared/corpus``) through the new
normalizers, read in place.

Each record must become an Event or be refused with a stated reason, and the test says on its
own (from the raw record, not from the normalizer) which: a Windows event of the Security
channel with an id the normalizer reads is an Event (a 4662 only with replication rights or the
AD FS key), everything else is "not of interest" with its event id or channel named; no record
is an error. Per-id counts are checked against the counts PROVENANCE.md states for each file.
"""

from __future__ import annotations

import gzip
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from seamwatch.udfs.entra import entra_records, normalize_entra
from seamwatch.udfs.errors import NormalizeError, NotOfInterest
from seamwatch.udfs.normalize import Normalizer
from seamwatch.udfs.records import Event
from seamwatch.udfs.windows import ACTIONS, normalize_windows, windows_records
from tests.conftest import CORPUS_DIR

# What wiring will register in seamwatch.udfs.normalize.NORMALIZERS (mypy checks the signature).
NEW_NORMALIZERS: dict[str, Normalizer] = {"entra": normalize_entra, "windows": normalize_windows}

WINDOWS_FILES = sorted(p.name for p in (CORPUS_DIR / "windows").glob("*.jsonl*"))
ENTRA_FILES = sorted(p.name for p in (CORPUS_DIR / "entra").glob("*.jsonl"))
# DS-Replication-Get-Changes, -Get-Changes-All, -Get-Changes-In-Filtered-Set.
DCSYNC_GUIDS = (
    "1131f6aa-9c07-11d1-f79f-00c04fc2dcd2",
    "1131f6ad-9c07-11d1-f79f-00c04fc2dcd2",
    "89e95b76-444d-4c62-991a-0facbeda640c",
)
SKIP_REASON = re.compile(
    r"not of interest: (?:event id [0-9]+ is not read|channel '[^']+' is not Security"
    r"|event 4662 without replication rights or AD FS key access"
    r"|AD FS event 501 without a caller's name or SID claim"
    r"|AD FS event 120[0-3] without a UserId)"
)
# AD FS's own claim types naming the caller of a token (event 501).
CALLER_CLAIMS = ("/identity/claims/name", "/identity/claims/primarysid", "/identity/claims/upn")
DKM_GUID = "8d3bca50-1d7e-11d0-a081-00aa006c33ed"

# Event counts PROVENANCE.md gives per file ("Top types"), for the ids read.
PROVENANCE_COUNTS = {
    "yamato-security_hayabusa-sample-evtx_evtx-to-mitre-attack_security.jsonl": {
        "4624": 191,
        "4771": 78,
        "4768": 73,
        "4672": 55,
        "4769": 46,
        "1102": 31,
        "4625": 28,
        "4738": 21,
        "4756": 21,
        "4728": 15,
    },
    "otrf_security-datasets_purplesharp_ad_playbook_I.jsonl": {
        "4624": 49,
        "4672": 43,
        "4769": 17,
        "4625": 7,
        "4776": 7,
    },
    "otrf_security-datasets_bulk-security-channel.jsonl.gz": {"4624": 1019, "4672": 860},
}


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    opener: Any = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        yield from enumerate(handle, 1)


def _windows_facts(rec: dict[str, Any]) -> tuple[int | None, str | None, str]:
    """The test's own reading of a raw event: its id, its channel and its 4662 properties."""
    event = rec.get("Event")
    if isinstance(event, dict):
        system = event["System"]
        raw_id, channel = system.get("EventID"), system.get("Channel")
        data = event.get("EventData") or {}
    elif "event_data" in rec:
        raw_id, channel, data = rec.get("event_id"), rec.get("log_name"), rec["event_data"]
    else:
        raw_id, channel, data = rec.get("EventID"), rec.get("Channel") or rec.get("EventLog"), rec
    if isinstance(raw_id, dict):
        raw_id = raw_id.get("#text")
    event_id = int(raw_id) if raw_id is not None and str(raw_id).isdigit() else None
    properties = str(data.get("Properties") or "") + str(data.get("ObjectType") or "")
    return event_id, channel, properties.lower()


def _expect_windows_event(rec: dict[str, Any]) -> bool:
    event_id, channel, properties = _windows_facts(rec)
    if channel is not None and channel.lower() != "security":
        return False
    if event_id == 4662:
        return any(guid in properties for guid in DCSYNC_GUIDS) or DKM_GUID in properties
    if event_id == 501:  # only the part of a long claim list that names the caller
        text = orjson.dumps(rec).decode()
        return any(claim in text for claim in CALLER_CLAIMS)
    return event_id in ACTIONS


@pytest.mark.parametrize("name", WINDOWS_FILES or ["corpus-missing"])
def test_every_windows_record_is_an_event_or_not_of_interest(corpus_dir: Path, name: str) -> None:
    wrong: list[str] = []
    codes: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    for number, line in _lines(corpus_dir / "windows" / name):
        ref = f"{name}:{number}"
        for rec in windows_records(orjson.loads(line)):
            assert isinstance(rec, dict)
            expected = _expect_windows_event(rec)
            try:
                event: Event | None = normalize_windows(rec, ref)
            except NotOfInterest as err:
                event = None
                reason = str(err)
                if SKIP_REASON.fullmatch(reason) is None:
                    wrong.append(f"{ref}: unexpected reason {reason}")
                skipped[reason] += 1
            except NormalizeError as err:
                wrong.append(f"{ref}: error {err}")
                continue
            if expected != (event is not None):
                wrong.append(f"{ref}: expected {'an Event' if expected else 'a skip'}")
            if event is not None:
                codes[event.event_code or ""] += 1
                assert event.source == "windows" and event.raw_ref == ref
                assert event.event_time > 0 and event.host
    assert not wrong, "\n".join(wrong[:20])
    assert codes or skipped
    for code, count in PROVENANCE_COUNTS.get(name, {}).items():
        assert codes[code] == count, (code, codes[code], count)


@pytest.mark.parametrize("name", ENTRA_FILES or ["corpus-missing"])
def test_every_entra_record_is_an_event(corpus_dir: Path, name: str) -> None:
    """All Entra corpus records are sign-ins or audit records: none may be refused."""
    lines = (corpus_dir / "entra" / name).read_bytes().splitlines()
    events = []
    for number, line in enumerate(lines, 1):
        for rec in entra_records(orjson.loads(line)):
            assert isinstance(rec, dict)
            events.append(normalize_entra(rec, f"{name}:{number}"))
    assert len(events) == len(lines)
    for event in events:
        assert event.source == "entra" and event.event_time > 0
        assert event.identifiers, event.raw_ref
        assert event.outcome in ("success", "failure", "unknown")
