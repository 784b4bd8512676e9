from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest

from seamwatch.sources.inputs import InputError, expand_paths, iter_raw_records

REC_A: dict[str, Any] = {"eventName": "A", "eventTime": "2024-07-30T21:31:21Z"}
REC_B: dict[str, Any] = {"eventName": "B", "eventTime": "2024-07-30T21:31:22Z"}


def compact(obj: object) -> str:
    return orjson.dumps(obj).decode()


def records(path: Path, source: str = "cloudtrail") -> list[tuple[str, str]]:
    return list(iter_raw_records(source, [path]))


def test_expand_paths_file_dir_glob(tmp_path: Path) -> None:
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    files = [
        tmp_path / "b.jsonl",
        tmp_path / "a.json",
        tmp_path / "sub" / "c.json.gz",
        tmp_path / "sub" / "deeper" / "d.jsonl",
    ]
    for f in files:
        f.write_text("{}\n")
    (tmp_path / "notes.txt").write_text("skip me")

    assert expand_paths(str(tmp_path / "notes.txt")) == [tmp_path / "notes.txt"]
    assert expand_paths(str(tmp_path)) == sorted(files)
    assert expand_paths(str(tmp_path / "*.json*")) == [tmp_path / "a.json", tmp_path / "b.jsonl"]
    assert expand_paths(str(tmp_path / "**" / "*.jsonl")) == [
        tmp_path / "b.jsonl",
        tmp_path / "sub" / "deeper" / "d.jsonl",
    ]
    assert expand_paths(str(tmp_path / "su*")) == sorted(files[2:])


def test_expand_paths_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or directory"):
        expand_paths(str(tmp_path / "missing.jsonl"))
    with pytest.raises(InputError, match="no input file matches"):
        expand_paths(str(tmp_path / "*.jsonl"))
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.md").write_text("x")
    with pytest.raises(InputError, match="holds no input files"):
        expand_paths(str(tmp_path / "empty"))


def test_json_lines_keep_their_text_and_line_numbers(tmp_path: Path) -> None:
    line_a = '{"eventName": "A",  "eventTime": "2024-07-30T21:31:21Z"}'  # odd spacing kept
    path = tmp_path / "ct.jsonl"
    path.write_text(f'{line_a}\n\n{compact(REC_B)}\r\nnot json at all\n{{"truncated": \n')
    assert records(path) == [
        (f"{path}:1", line_a),
        (f"{path}:3", compact(REC_B)),
        (f"{path}:4", "not json at all"),
        (f"{path}:5", '{"truncated": '),
    ]


def test_garbage_first_line_then_records(tmp_path: Path) -> None:
    path = tmp_path / "ct.jsonl"
    path.write_text(f"{{broken\n{compact(REC_A)}\n")
    assert records(path) == [(f"{path}:1", "{broken"), (f"{path}:2", compact(REC_A))]


def test_container_on_one_line_is_exploded(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text(f"{compact(REC_A)}\n{compact({'Records': [REC_A, REC_B]})}\n[]\n")
    assert records(path) == [
        (f"{path}:1", compact(REC_A)),
        (f"{path}:2#0", compact(REC_A)),
        (f"{path}:2#1", compact(REC_B)),
    ]


def test_pretty_printed_s3_file(tmp_path: Path) -> None:
    path = tmp_path / "s3.json"
    pretty = orjson.dumps({"Records": [REC_A, REC_B]}, option=orjson.OPT_INDENT_2).decode()
    path.write_text("\n" + pretty + "\n")
    assert records(path) == [(f"{path}:2#0", compact(REC_A)), (f"{path}:2#1", compact(REC_B))]


def test_pretty_printed_single_record(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(orjson.dumps(REC_A, option=orjson.OPT_INDENT_2).decode())
    assert records(path) == [(f"{path}:1", compact(REC_A))]


def test_pretty_printed_okta_api_array(tmp_path: Path) -> None:
    events = [{"eventType": "a"}, {"eventType": "b"}]
    path = tmp_path / "okta.json"
    path.write_text(orjson.dumps(events, option=orjson.OPT_INDENT_2).decode())
    assert records(path, "okta") == [
        (f"{path}:1#0", compact(events[0])),
        (f"{path}:1#1", compact(events[1])),
    ]


def test_broken_multi_line_document_falls_back_to_lines(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "Records": [\n\n  {"eventName": "A"}\n')
    assert records(path) == [
        (f"{path}:1", "{"),
        (f"{path}:2", '  "Records": ['),
        (f"{path}:4", '  {"eventName": "A"}'),
    ]


def test_gzip_of_json_lines_and_of_a_document(tmp_path: Path) -> None:
    lines = tmp_path / "lines.jsonl.gz"
    lines.write_bytes(gzip.compress(f"{compact(REC_A)}\n{compact(REC_B)}\n".encode()))
    assert records(lines) == [(f"{lines}:1", compact(REC_A)), (f"{lines}:2", compact(REC_B))]

    doc = tmp_path / "123456789012_CloudTrail_eu-north-1_20240730T2130Z_abc.json.gz"
    pretty = orjson.dumps({"Records": [REC_B]}, option=orjson.OPT_INDENT_2)
    doc.write_bytes(gzip.compress(pretty))
    assert records(doc) == [(f"{doc}:1#0", compact(REC_B))]


def test_gzip_detected_by_content_and_bom_dropped(tmp_path: Path) -> None:
    disguised = tmp_path / "no-suffix"
    disguised.write_bytes(gzip.compress(compact(REC_A).encode()))
    assert records(disguised) == [(f"{disguised}:1", compact(REC_A))]
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + compact(REC_A).encode() + b"\n")
    assert records(bom) == [(f"{bom}:1", compact(REC_A))]


def test_empty_and_blank_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n  \n\n")
    assert list(iter_raw_records("okta", [empty, blank])) == []


def test_several_files_in_order(tmp_path: Path) -> None:
    first, second = tmp_path / "1.jsonl", tmp_path / "2.jsonl"
    first.write_text(compact(REC_A) + "\n")
    second.write_text(compact(REC_B) + "\n")
    refs = [ref for ref, _ in iter_raw_records("cloudtrail", [second, first])]
    assert refs == [f"{second}:1", f"{first}:1"]
