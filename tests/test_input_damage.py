"""Damaged files, empty containers, oversize and non-UTF-8 records: read, staged, dead-lettered."""

from __future__ import annotations

import base64
import gzip
import hashlib
from pathlib import Path
from typing import Any

import orjson

from seamwatch.sources.damage import InputNotice, salvage_members
from seamwatch.sources.inputs import NOT_JSON, iter_raw_records, iter_records
from seamwatch.sources.staging import stage_inputs
from seamwatch.udfs.deadletter import RAW_LIMIT_BYTES, dead_letter


def _ct(i: int) -> dict[str, Any]:
    return {
        "eventTime": f"2026-03-03T09:{i % 60:02d}:{i // 60:02d}Z",
        "eventName": "GetCallerIdentity",
        "eventSource": "sts.amazonaws.com",
        "eventID": f"ev-{i}",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/bob"},
    }


def _lines(count: int) -> bytes:
    return b"".join(orjson.dumps(_ct(i)) + b"\n" for i in range(count))


def _notices(items: list[tuple[str, str, object]]) -> list[tuple[str, InputNotice]]:
    return [(ref, p) for ref, _, p in items if isinstance(p, InputNotice)]


def test_a_truncated_gzip_yields_what_it_holds_then_names_the_damage(tmp_path: Path) -> None:
    whole = gzip.compress(_lines(3000), mtime=0)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])

    items = list(iter_records("cloudtrail", [path]))
    records = [(ref, text, p) for ref, text, p in items if not isinstance(p, InputNotice)]
    ids = [p["eventID"] for _, _, p in records if isinstance(p, dict)]
    assert len(ids) > 100 and ids == [f"ev-{i}" for i in range(len(ids))]
    # The line the cut went through is text for the job to dead-letter, with its own ref.
    assert records[-1][2] is NOT_JSON and records[-1][0] == f"{path}:{len(ids) + 1}"
    ((ref, notice),) = _notices(items)
    assert ref == str(path) and notice.kind == "damaged"
    assert "truncated" in notice.reason and "EOFError" in notice.reason
    assert items[-1][2] is notice  # after the readable records


def test_a_corrupt_gzip_is_a_notice_not_a_traceback(tmp_path: Path) -> None:
    data = bytearray(gzip.compress(_lines(2000), mtime=0))
    for at in range(len(data) // 3, len(data) // 3 + 64):
        data[at] ^= 0x5A
    path = tmp_path / "corrupt.json.gz"
    path.write_bytes(bytes(data))
    ((ref, notice),) = _notices(list(iter_records("cloudtrail", [path])))
    assert ref == str(path) and notice.kind == "damaged"
    assert "damaged file" in notice.reason


def test_a_cut_s3_file_keeps_the_records_read_whole(tmp_path: Path) -> None:
    """CloudTrail's S3 files are one line: the members before the cut are still records."""
    body = orjson.dumps({"Records": [_ct(i) for i in range(500)]})
    whole = gzip.compress(body, mtime=0)
    path = tmp_path / "111122223333_CloudTrail_us-east-1_20260303T0910Z_x.json.gz"
    path.write_bytes(whole[: len(whole) * 2 // 3])
    items = list(iter_records("cloudtrail", [path]))
    members = [p for _, _, p in items if isinstance(p, dict)]
    assert len(members) > 100 and members == [_ct(i) for i in range(len(members))]
    assert [ref for ref, _, _ in items[:2]] == [f"{path}:1#0", f"{path}:1#1"]
    rest_ref, rest, rest_parsed = items[-2]
    assert rest_parsed is NOT_JSON and rest_ref == f"{path}:1#{len(members)}"
    assert rest.startswith('{"eventTime"') and rest in body.decode()  # the member cut in two
    assert isinstance(items[-1][2], InputNotice)


def test_salvage_members_reads_arrays_and_first_key_arrays() -> None:
    assert salvage_members('[{"a": 1}, {"b": 2}, {"c"') == ([{"a": 1}, {"b": 2}], 21)
    assert salvage_members('{"Records": [{"a": 1},') == ([{"a": 1}], 22)
    assert salvage_members('{"eventName": "x"') is None
    assert salvage_members("not json") is None


def test_a_file_that_cannot_be_opened_is_a_notice(tmp_path: Path) -> None:
    ((ref, notice),) = _notices(list(iter_records("okta", [tmp_path])))
    assert ref == str(tmp_path) and "unreadable file" in notice.reason


def test_empty_containers_are_noticed_not_dropped(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text('[]\n{"Records": []}\n' + orjson.dumps(_ct(1)).decode() + "\n")
    items = list(iter_records("cloudtrail", [path]))
    assert [(ref, p.kind) for ref, p in _notices(items)] == [
        (f"{path}:1", "empty"),
        (f"{path}:2", "empty"),
    ]
    assert [ref for ref, _ in iter_raw_records("cloudtrail", [path])] == [f"{path}:3"]
    pretty = tmp_path / "empty-s3.json"
    pretty.write_text('{\n  "Records": [\n  ]\n}\n')
    assert [p.kind for _, p in _notices(list(iter_records("cloudtrail", [pretty])))] == ["empty"]


def test_staging_counts_damage_and_empty_containers(tmp_path: Path) -> None:
    whole = gzip.compress(_lines(3000), mtime=0)
    (tmp_path / "in").mkdir()
    cut = tmp_path / "in" / "a-cut.jsonl.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    (tmp_path / "in" / "b-empty.json").write_text('{"Records": []}')
    (tmp_path / "in" / "c-good.jsonl").write_bytes(_lines(10))

    (staged,) = stage_inputs({"cloudtrail": [str(tmp_path / "in")]}, tmp_path / "out")
    assert staged.empty_containers == 1
    (damage,) = [d for d in staged.rejected if d["raw_ref"] == cut.name]  # relative to in/
    assert "truncated" in damage["reason"] and damage["raw"] == ""
    staged_lines = (staged.path / "part-0.jsonl").read_bytes().splitlines()
    # The readable records of the cut file, its cut line (for the job), and the good file.
    assert len(staged_lines) == staged.records > 100 + 10
    assert staged.records_read == staged.records + len(staged.rejected)


def test_text_that_is_not_utf8_is_dead_lettered_byte_exact(tmp_path: Path) -> None:
    garbage = b'{"eventName": "Get\xff\xfeCallerIdentity", "eventTime": '
    readable = orjson.dumps(_ct(2)).replace(b"GetCallerIdentity", b"Get\xe9CallerIdentity")
    path = tmp_path / "latin.jsonl"
    path.write_bytes(orjson.dumps(_ct(1)) + b"\n" + garbage + b"\n" + readable + b"\n")

    (staged,) = stage_inputs({"cloudtrail": [str(path)]}, tmp_path / "out")
    (dead,) = staged.rejected
    assert dead["raw_ref"] == f"{path.name}:2"  # relative to the input root
    assert base64.b64decode(dead["raw_base64"]) == garbage
    assert dead["raw"] == garbage.decode("utf-8", "replace")
    assert "UTF-8" in dead["reason"]
    # A record that reads as JSON once the bad byte is replaced is processed, not refused.
    staged_ids = [
        orjson.loads(line).get("eventID")
        for line in (staged.path / "part-0.jsonl").read_bytes().splitlines()
    ]
    assert staged_ids == ["ev-1", "ev-2"]


def test_an_oversize_invalid_line_is_a_bounded_dead_letter(tmp_path: Path) -> None:
    huge = b'{"eventName": "' + b"A" * (3 * 1024 * 1024)  # 3 MB, cut-off JSON
    path = tmp_path / "huge.jsonl"
    path.write_bytes(huge + b"\n" + orjson.dumps(_ct(1)) + b"\n")
    (staged,) = stage_inputs({"cloudtrail": [str(path)]}, tmp_path / "out")
    (dead,) = staged.rejected
    assert dead["raw_ref"] == f"{path.name}:1" and "oversize" in dead["reason"]
    assert dead["raw_truncated"] is True and dead["raw_bytes"] == len(huge)
    assert dead["raw_sha256"] == hashlib.sha256(huge).hexdigest()
    assert dead["raw"].encode() == huge[:RAW_LIMIT_BYTES]
    assert len(orjson.dumps(dead)) < 2 * 1024 * 1024
    assert staged.records == 1


def test_dead_letter_keeps_small_valid_text_as_it_is() -> None:
    assert dead_letter("okta", "why", "f:1", "caf\u00e9") == {
        "source": "okta",
        "reason": "why",
        "raw_ref": "f:1",
        "raw": "caf\u00e9",
    }
    original = b"\x00\x1b[2J\xc3"
    letter = dead_letter("okta", "why", "f:1", original)
    assert base64.b64decode(letter["raw_base64"]) == original
    assert "raw_truncated" not in letter
    # Worst-case JSON escaping of a bounded prefix stays under Flink's 2 MB collect limit.
    controls = dead_letter("okta", "why", "f:1", "\x01" * (4 * RAW_LIMIT_BYTES))
    assert len(orjson.dumps(controls)) < 2 * 1024 * 1024


def test_replay_reads_a_damaged_file_and_keeps_bytes_exact(tmp_path: Path) -> None:
    """``seamwatch replay`` produces the readable records, bytes as they were, and names the
    damaged file."""
    from seamwatch.kafka.tools import read_source_records

    whole = gzip.compress(_lines(3000), mtime=0)
    cut = tmp_path / "a-cut.jsonl.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    latin = b'{"eventName": "Get\xffCallerIdentity"'
    (tmp_path / "b-latin.jsonl").write_bytes(latin + b"\n")
    damaged: list[tuple[str, str]] = []
    records = read_source_records("cloudtrail", [str(tmp_path)], damaged)
    assert [path for path, _ in damaged] == [str(cut)]
    assert records[0].value == orjson.dumps(_ct(0)) and len(records) > 100
    assert records[-1].value == latin
