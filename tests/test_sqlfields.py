"""The fields the source tables read give the same Event as the whole record.

For every record of the third-party corpus and of the bundled examples that staging sends the
SQL way (``sql_readable``), the values are read here as Flink's ``json`` format reads them
(:func:`flink_value`: numbers and containers in a STRING column become their text) and
normalized by ``normalize_fields``; the Event must equal what ``normalize_text`` makes of the
raw record. Records staged the raw way must be exactly those SQL could misread.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest

from seamwatch.sources.inputs import NOT_JSON, iter_records
from seamwatch.sources.staging import staged_line
from seamwatch.udfs import sqlfields
from seamwatch.udfs.normalize import normalize_text
from seamwatch.udfs.records import Event
from seamwatch.udfs.sqlfields import (
    SOURCE_ACTION_FIELD,
    SOURCE_FIELDS,
    FieldPath,
    normalize_fields,
    sql_readable,
)
from tests.conftest import CORPUS_DIR

REPO = Path(__file__).resolve().parent.parent
SOURCES = ("okta", "cloudtrail")


def flink_value(doc: dict[str, Any], field: FieldPath) -> Any:
    """What Flink's json format gives for ``field`` of ``doc`` (None where it gives NULL)."""
    node: Any = doc
    for key in field.path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    if node is None:
        return None
    if field.sql_type in ("STRING", "JSON"):
        if isinstance(node, str):
            return node
        if isinstance(node, bool):
            return "true" if node else "false"
        if isinstance(node, int | float):
            return str(node)
        return orjson.dumps(node).decode()
    if field.sql_type == "BIGINT":
        return node if isinstance(node, int) and not isinstance(node, bool) else None
    if field.sql_type == "DOUBLE":
        return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else None
    raise AssertionError(field.sql_type)


def _records(source: str) -> list[tuple[str, str, object]]:
    paths = sorted((CORPUS_DIR / source).glob("*.jsonl"))
    paths += sorted((REPO / "examples" / source).rglob("*.json*"))
    paths += sorted((REPO / "examples" / source).rglob("*.gz"))
    return list(iter_records(source, paths))


@pytest.mark.parametrize("source", SOURCES)
def test_sql_fields_normalize_like_the_whole_record(source: str) -> None:
    records = _records(source)
    if not records:
        pytest.skip("neither the corpus nor examples/ is present")
    fast = 0
    mismatches = []
    for ref, text, doc in records:
        if doc is NOT_JSON or not sql_readable(source, doc):
            continue
        assert isinstance(doc, dict)
        fast += 1
        values = [flink_value(doc, field) for field in SOURCE_FIELDS[source]]
        (got,) = normalize_fields(source, ref, None, values)
        (want,) = normalize_text(source, text, ref)
        if got != want:
            mismatches.append((ref, got, want))
    assert not mismatches, mismatches[:3]
    # Most real records take the SQL way (this must not pass by skipping them all).
    assert fast > len(records) / 2, (fast, len(records))


def test_shapes_sql_cannot_read_go_the_raw_way() -> None:
    event = {"eventName": "GetObject", "eventTime": "2026-03-04T10:00:00Z", "eventID": "e1"}
    assert sql_readable("cloudtrail", event)
    assert not sql_readable("cloudtrail", {**event, "eventTime": "yesterday"})
    assert not sql_readable("cloudtrail", {**event, "eventID": "redacted"})
    assert not sql_readable("cloudtrail", {**event, "userIdentity": "{}"})
    assert not sql_readable("cloudtrail", {**event, "detail-type": "AWS API Call via CloudTrail"})
    assert not sql_readable("cloudtrail", {k.lower(): v for k, v in event.items()})
    signin = {**event, "eventName": "CheckMfa", "responseElements": {"CheckMfa": "Failure"}}
    assert not sql_readable("cloudtrail", signin)
    okta = {"eventType": "user.session.start", "published": "2026-03-04T10:00:00Z", "uuid": "u"}
    assert sql_readable("okta", okta)
    assert not sql_readable("okta", {**okta, "target": {"id": 1}})
    assert not sql_readable("okta", [okta])


def test_a_key_read_in_another_case_is_refused_after_harmless_keys() -> None:
    # sql_readable remembers key names it found harmless; a read key spelt in another case
    # must still send the record the raw way, at the top and in a nested object.
    event = {"eventName": "GetObject", "eventTime": "2026-03-04T10:00:00Z", "eventID": "e1"}
    identity = {"type": "IAMUser", "arn": "arn:aws:iam::1:user/a", "extraKey": 1}
    for i in range(sqlfields._HARMLESS_LIMIT + 10):
        assert sql_readable("cloudtrail", {**event, f"vendorKey{i}": 1, "userIdentity": identity})
    assert not sql_readable("cloudtrail", {**event, "EVENTSOURCE": "s3.amazonaws.com"})
    assert not sql_readable("cloudtrail", {**event, "userIdentity": {**identity, "ARN": "x"}})
    # The names remembered stay bounded, whatever the input holds.
    assert len(sqlfields._HARMLESS["cloudtrail"][()]) <= sqlfields._HARMLESS_LIMIT


def test_staged_lines_keep_the_ref_and_the_record() -> None:
    event = {"eventName": "GetObject", "eventTime": "2026-03-04T10:00:00Z", "eventID": "e1"}
    text = orjson.dumps(event).decode()
    line = orjson.loads(staged_line("a.json:3", text, event, "cloudtrail"))
    assert line == {"_ref": "a.json:3", **event}
    raw = orjson.loads(staged_line("a.json:4", "not json {", NOT_JSON, "cloudtrail"))
    assert raw == {"_ref": "a.json:4", "_raw": "not json {"}
    ours = {**event, "_raw": "x"}
    line = orjson.loads(staged_line("a.json:6", orjson.dumps(ours).decode(), ours, "cloudtrail"))
    assert line == {"_ref": "a.json:6", "_raw": orjson.dumps(ours).decode()}
    odd = {**event, "eventID": "redacted"}
    line = orjson.loads(staged_line("a.json:5", orjson.dumps(odd).decode(), odd, "cloudtrail"))
    assert line == {"_ref": "a.json:5", "_raw": orjson.dumps(odd).decode()}


def test_a_rejected_fast_row_keeps_what_was_read() -> None:
    values: list[Any] = [None] * len(SOURCE_FIELDS["okta"])
    values[1] = "2026-03-04T10:00:00Z"  # published, but no eventType
    (rejected,) = normalize_fields("okta", "o.json:1", None, values)
    assert not isinstance(rejected, Event)
    assert rejected.reason == "not an Okta event: no eventType"
    assert orjson.loads(rejected.raw) == {"published": "2026-03-04T10:00:00Z"}


def test_gzip_members_stage_as_records(tmp_path: Path) -> None:
    event = {"eventName": "GetObject", "eventTime": "2026-03-04T10:00:00Z", "eventID": "e1"}
    path = tmp_path / "ct.json.gz"
    path.write_bytes(gzip.compress(orjson.dumps({"Records": [event, event]})))
    refs = [ref for ref, _, _ in iter_records("cloudtrail", [path])]
    assert refs == [f"{path}:1#0", f"{path}:1#1"]


def test_the_action_field_is_the_name_the_prefilter_reads() -> None:
    names = {s: SOURCE_FIELDS[s][i].path for s, i in SOURCE_ACTION_FIELD.items()}
    assert names == {"cloudtrail": ("eventName",), "okta": ("eventType",)}
    padded = {"eventName": " GetObject", "eventTime": "2026-03-04T10:00:00Z", "eventID": "e1"}
    assert not sql_readable("cloudtrail", padded)


def test_staging_deals_records_to_its_parts_in_turn(tmp_path: Path) -> None:
    from seamwatch.sources.staging import stage_inputs

    records = [
        {"eventName": "GetObject", "eventTime": f"2026-03-04T10:00:0{i}Z", "eventID": f"e{i}"}
        for i in range(5)
    ]
    path = tmp_path / "ct.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    (staged,) = stage_inputs({"cloudtrail": [str(path)]}, tmp_path / "out", parts=2)
    assert (staged.records, staged.files) == (5, 1)
    parts = [
        [orjson.loads(line)["eventID"] for line in (staged.path / f"part-{i}.jsonl").open("rb")]
        for i in range(2)
    ]
    assert parts == [["e0", "e2", "e4"], ["e1", "e3"]]
