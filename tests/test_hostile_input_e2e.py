"""Hostile and damaged input mixed into the bundled examples, through the real job.

One run over a copy of ``examples/`` with, added to it: a CloudTrail record dated 9999, another
dated months after its neighbours (yet before the clock), a truncated and a corrupt ``.gz``, an
invalid line of 3 MB, a line that is not UTF-8, and empty containers in both sources. The demo's
alerts must come out unchanged, and each addition must be a dead letter naming where it was,
or (the empty containers) be counted.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from seamwatch.jobs.local import RunResult, run_files
from seamwatch.jobs.settings import EXAMPLES_DIR, JobSettings
from seamwatch.sample.scenario import build_sample
from seamwatch.sources.inputs import iter_raw_records

pytestmark = pytest.mark.flink

RULE = "okta-new-country-saml-access-key"
ACCOUNT_DIR = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/02"


def _first_record() -> dict[str, Any]:
    first = sorted((EXAMPLES_DIR / "cloudtrail").rglob("*.json.gz"))[0]
    record: dict[str, Any] = orjson.loads(gzip.decompress(first.read_bytes()))["Records"][0]
    return record


def _copies(count: int, tag: str) -> list[dict[str, Any]]:
    """Copies of an ordinary example record (same principal, call and address), a second apart."""
    base = _first_record()
    start = datetime.fromisoformat(base["eventTime"].replace("Z", "+00:00"))
    out = []
    for i in range(count):
        at = datetime.fromtimestamp(start.timestamp() + i, tz=UTC)
        out.append(
            {**base, "eventID": f"{tag}-{i}", "eventTime": at.strftime("%Y-%m-%dT%H:%M:%SZ")}
        )
    return out


class Added:
    def __init__(self, root: Path) -> None:
        ct = root / "cloudtrail" / ACCOUNT_DIR
        self.hostile = ct / "111122223333_CloudTrail_us-east-1_20260302T1200Z_hostile.json.gz"
        self.cut = ct / "111122223333_CloudTrail_us-east-1_20260302T0110Z_cut.json.gz"
        self.corrupt = ct / "111122223333_CloudTrail_us-east-1_20260302T0120Z_corrupt.json.gz"
        self.lines = root / "cloudtrail" / "exported.jsonl"
        self.huge = b'{"eventName": "' + b"A" * (3 * 1024 * 1024)
        self.latin = b'{"eventName": "Get\xff\xfeCallerIdentity", "eventTime": '

    def write(self) -> None:
        base = _first_record()
        future = [
            {**base, "eventID": "evil-9999", "eventTime": "9999-12-31T23:59:59Z"},
            {**base, "eventID": "evil-september", "eventTime": "2026-09-01T00:00:00Z"},
        ]
        self.hostile.write_bytes(gzip.compress(orjson.dumps({"Records": future}), mtime=0))
        cut = gzip.compress(orjson.dumps({"Records": _copies(400, "cut")}), mtime=0)
        self.cut.write_bytes(cut[: len(cut) // 2])
        corrupt = bytearray(gzip.compress(orjson.dumps({"Records": _copies(400, "bad")})))
        for at in range(len(corrupt) // 3, len(corrupt) // 3 + 48):
            corrupt[at] ^= 0x5A
        self.corrupt.write_bytes(bytes(corrupt))
        self.lines.write_bytes(self.huge + b"\n" + self.latin + b"\n" + b'{"Records": []}\n')


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Added, int]:
    root = tmp_path_factory.mktemp("hostile")
    shutil.copytree(EXAMPLES_DIR / "okta", root / "okta")
    shutil.copytree(EXAMPLES_DIR / "cloudtrail", root / "cloudtrail")
    (root / "okta" / "empty-page.json").write_text("[]")
    examples = sum(
        1
        for source in ("okta", "cloudtrail")
        for _ in iter_raw_records(source, sorted((EXAMPLES_DIR / source).rglob("*.*")))
    )
    added = Added(root)
    added.write()
    settings = JobSettings(
        inputs={"okta": [str(root / "okta")], "cloudtrail": [str(root / "cloudtrail")]},
        identities=EXAMPLES_DIR / "identities.yaml",
        output=root / "out" / "alerts.jsonl",
    )
    return run_files(settings), added, examples


def test_the_demo_still_alerts_on_the_woven_attack(
    hostile_run: tuple[RunResult, Added, int],
) -> None:
    result, _, _ = hostile_run
    sample = build_sample()
    truth, hybrid = sample.attack, sample.hybrid
    assert hybrid is not None
    alerts = {a["rule_id"]: a for a in result.alerts}
    # Okta and CloudTrail only (the copy leaves Entra and Windows out): the second attack shows
    # only in its Okta -> AWS alert.
    reused = "okta-session-reused-from-another-country"
    assert sorted(alerts) == ["okta-anomalous-login-iam-persistence", RULE, reused]
    assert alerts[RULE]["entity"]["id"] == truth.entity
    assert alerts["okta-anomalous-login-iam-persistence"]["entity"]["id"] == truth.entity
    assert alerts[reused]["entity"]["id"] == hybrid.entity
    assert tuple(e["event_id"] for e in alerts[RULE]["events"]) == truth.event_ids


def _letters(result: RunResult, added: Added) -> dict[str, dict[str, Any]]:
    """Dead letters by the absolute path of their record (refs are relative to the input root,
    here the cloudtrail directory, which holds ``added.lines``)."""
    root = added.lines.parent
    return {
        str(root / d["raw_ref"]) if d["source"] == "cloudtrail" else d["raw_ref"]: d
        for d in result.dead_letters
    }


def test_future_dated_records_are_dead_lettered_with_the_reason(
    hostile_run: tuple[RunResult, Added, int],
) -> None:
    result, added, _ = hostile_run
    letters = _letters(result, added)
    evil = letters[f"{added.hostile}:1#0"]
    assert orjson.loads(evil["raw"])["eventID"] == "evil-9999"
    assert "9999-12-31T23:59:59Z" in evil["reason"] and "ahead of the clock" in evil["reason"]
    september = letters[f"{added.hostile}:1#1"]
    assert orjson.loads(september["raw"])["eventID"] == "evil-september"
    assert "ahead of the 16 records after it" in september["reason"]


def test_damaged_files_are_dead_letters_and_their_readable_part_is_processed(
    hostile_run: tuple[RunResult, Added, int],
) -> None:
    result, added, examples = hostile_run
    letters = _letters(result, added)
    assert "truncated" in letters[str(added.cut)]["reason"]
    assert "damaged file" in letters[str(added.corrupt)]["reason"]
    # The member the cut went through is a dead letter of its own; none before it is.
    cut_members = [ref for ref in letters if ref.startswith(f"{added.cut}:1#")]
    assert len(cut_members) == 1
    salvaged = int(cut_members[0].rsplit("#", 1)[1])
    assert salvaged > 50
    # Records in: the examples, the two future records, the salvaged members and the cut one,
    # the damage of two files, the readable records of the corrupt file, the two bad lines.
    corrupt_read = result.records_in - examples - 2 - (salvaged + 1) - 2 - 2
    assert 0 <= corrupt_read <= 400
    assert result.records_in == examples + 2 + salvaged + 1 + 2 + corrupt_read + 2


def test_oversize_and_non_utf8_lines_are_bounded_and_byte_exact(
    hostile_run: tuple[RunResult, Added, int],
) -> None:
    result, added, _ = hostile_run
    letters = _letters(result, added)
    huge = letters[f"{added.lines}:1"]
    assert huge["raw_truncated"] is True and huge["raw_bytes"] == len(added.huge)
    assert huge["raw_sha256"] == hashlib.sha256(added.huge).hexdigest()
    latin = letters[f"{added.lines}:2"]
    assert base64.b64decode(latin["raw_base64"]) == added.latin
    written = result.dead_letter_path.read_bytes().splitlines()
    assert len(written) == len(result.dead_letters)


def test_empty_containers_are_counted(hostile_run: tuple[RunResult, Added, int]) -> None:
    result, _, _ = hostile_run
    assert result.empty_containers == 2
    by_source = {s.source: s.empty_containers for s in result.staged}
    assert by_source == {"okta": 1, "cloudtrail": 1}
