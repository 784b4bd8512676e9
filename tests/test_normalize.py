from __future__ import annotations

import random
from typing import Any

import orjson
import pytest

from seamwatch.udfs import normalize as normalize_module
from seamwatch.udfs.fields import Keys, get_ci
from seamwatch.udfs.normalize import explode, normalize_text
from seamwatch.udfs.records import Event, Rejected

CT: dict[str, Any] = {
    "eventTime": "2024-07-30T21:31:21Z",
    "eventName": "ListBuckets",
    "eventSource": "s3.amazonaws.com",
    "eventID": "ev-1",
    "userIdentity": {"type": "Root", "accountId": "210987654321"},
}
OKTA: dict[str, Any] = {
    "uuid": "u-1",
    "published": "2024-03-01T12:00:00.000Z",
    "eventType": "user.session.start",
    "actor": {"id": "00u1", "type": "User", "alternateId": "a@example.org"},
}


def dumps(obj: object) -> str:
    return orjson.dumps(obj).decode()


@pytest.mark.parametrize(
    ("source", "doc", "expected"),
    [
        ("cloudtrail", {"Records": [1, 2]}, [1, 2]),
        ("cloudtrail", [1, 2, 3], [1, 2, 3]),
        ("cloudtrail", [{"Records": [1]}, {"Records": [2, 3]}], [1, 2, 3]),
        ("cloudtrail", {"Records": []}, []),
        ("cloudtrail", {"Records": "not a list"}, [{"Records": "not a list"}]),
        ("cloudtrail", {"data": {"events": [1]}}, [{"data": {"events": [1]}}]),
        ("okta", [1, 2], [1, 2]),
        ("okta", {"eventType": "com.okta.event_hook", "data": {"events": [1, 2]}}, [1, 2]),
        ("okta", {"Records": [1]}, [{"Records": [1]}]),
        ("okta", {"data": None}, [{"data": None}]),
        ("okta", "text", ["text"]),
        ("entra", [1, 2], [1, 2]),
    ],
)
def test_explode(source: str, doc: object, expected: list[object]) -> None:
    assert explode(source, doc) == expected


def test_explode_single_record_is_returned_as_is() -> None:
    assert explode("cloudtrail", CT)[0] is CT


def test_single_record_keeps_ref_and_text() -> None:
    [event] = normalize_text("cloudtrail", dumps(CT), "f.jsonl:7")
    assert isinstance(event, Event)
    assert (event.raw_ref, event.event_id, event.action) == ("f.jsonl:7", "ev-1", "ListBuckets")


def test_bytes_input() -> None:
    [event] = normalize_text("okta", dumps(OKTA).encode(), "k/0@1")
    assert isinstance(event, Event) and event.source == "okta"


def test_s3_file_members_get_indexed_refs() -> None:
    bad_member = {"eventName": "ListBuckets"}  # no time
    text = dumps({"Records": [CT, bad_member, "oops"]})
    results = normalize_text("cloudtrail", text, "s3.json:1")
    assert [r.raw_ref for r in results] == ["s3.json:1#0", "s3.json:1#1", "s3.json:1#2"]
    assert isinstance(results[0], Event)
    assert results[1] == Rejected(
        "cloudtrail", "no usable event time: missing eventTime", dumps(bad_member), "s3.json:1#1"
    )
    assert results[2] == Rejected("cloudtrail", "not a JSON object: str", '"oops"', "s3.json:1#2")


def test_okta_api_array_and_event_hook() -> None:
    second = {**OKTA, "uuid": "u-2"}
    for text in (dumps([OKTA, second]), dumps({"data": {"events": [OKTA, second]}})):
        results = normalize_text("okta", text, "p:1")
        assert [(r.raw_ref, getattr(r, "event_id", None)) for r in results] == [
            ("p:1#0", "u-1"),
            ("p:1#1", "u-2"),
        ]


def test_empty_container_gives_nothing() -> None:
    assert normalize_text("cloudtrail", '{"Records": []}', "r") == []
    assert normalize_text("okta", "[]", "r") == []


@pytest.mark.parametrize(
    ("source", "text", "reason"),
    [
        ("cloudtrail", "", "empty record"),
        ("okta", "  \n", "empty record"),
        ("cloudtrail", b"", "empty record"),
        ("okta", '{"published": "2024-03-01T12:00:00Z"}', "not an Okta event: no eventType"),
        ("cloudtrail", "{}", "not a CloudTrail event: no eventName"),
        ("cloudtrail", "null", "not a JSON object: null"),
        ("cloudtrail", "42", "not a JSON object: int"),
        (
            "okta",
            '{"eventType": "x", "published": "redacted"}',
            "no usable event time: published='redacted'",
        ),
    ],
)
def test_rejections(source: str, text: str | bytes, reason: str) -> None:
    [rejected] = normalize_text(source, text, "f:9")
    assert isinstance(rejected, Rejected)
    raw = text if isinstance(text, str) else text.decode()
    assert rejected == Rejected(source, reason, raw, "f:9")


@pytest.mark.parametrize("text", ['{"eventName": ', "not json", '{"a": 1} trailing'])
def test_invalid_json(text: str) -> None:
    [rejected] = normalize_text("cloudtrail", text, "f:2")
    assert isinstance(rejected, Rejected)
    assert rejected.reason.startswith("invalid JSON: ")
    assert (rejected.raw, rejected.raw_ref) == (text, "f:2")


def test_invalid_utf8_bytes() -> None:
    [rejected] = normalize_text("okta", b'{"eventType": "\xff"}', "f:3")
    assert isinstance(rejected, Rejected)
    assert rejected.reason.startswith("invalid JSON: ")
    assert rejected.raw == '{"eventType": "\ufffd"}'


def test_unknown_source() -> None:
    [rejected] = normalize_text("gcp", dumps(CT), "f:1")
    assert isinstance(rejected, Rejected)
    assert rejected.reason == "unknown source 'gcp' (known: cloudtrail, entra, okta, windows)"
    assert rejected.source == "gcp"


def test_unexpected_exception_becomes_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(rec: Any, raw_ref: str) -> Event:
        raise KeyError("surprise")

    monkeypatch.setitem(normalize_module.NORMALIZERS, "cloudtrail", broken)
    [rejected] = normalize_text("cloudtrail", dumps(CT), "f:1")
    assert isinstance(rejected, Rejected)
    assert rejected.reason == "normalizer failed: KeyError: 'surprise'"


def test_deep_nesting_stops() -> None:
    results = normalize_text("cloudtrail", "[[[[[[1]]]]]]", "f:1")
    assert len(results) == 1 and isinstance(results[0], Rejected)
    assert results[0].reason == "not a JSON object: list"


def _spellings(key: str, rng: random.Random) -> list[str]:
    """Other spellings of ``key``: lower, upper, random casing; a Kelvin sign for "k"."""
    mixed = "".join(c.upper() if rng.random() < 0.5 else c for c in key)
    odd = key.replace("k", "\u212a").replace("i", "\u0130")
    return [key.lower(), key.upper(), mixed, odd]


def test_keys_view_reads_what_get_ci_reads() -> None:
    """Keys.view(obj).get(k) == get_ci(obj, k) for objects with keys in any casing, in any
    order, duplicated in several casings, with known and unknown neighbours."""
    rng = random.Random(3)
    wanted = ("eventName", "accessKeyId", "userName", "arn", "invokedBy")
    keys = Keys(wanted, ("eventVersion", "tlsDetails", "EventName"))
    pool = [*wanted, "eventVersion", "tlsDetails", "other", "usernames", "arnx"]
    for _ in range(3000):
        obj: dict[str, int] = {}
        for key in rng.sample(pool, rng.randint(0, len(pool))):
            choices = [key, *_spellings(key, rng)]
            for spelling in rng.sample(choices, rng.randint(1, 3)):
                obj[spelling] = rng.randint(0, 9)
        view = keys.view(obj)
        for key in wanted:
            assert view.get(key) == get_ci(obj, key), (obj, key)


def test_keys_rejects_ambiguous_or_non_ascii_wanted_keys() -> None:
    with pytest.raises(ValueError, match="differ only in case"):
        Keys(("userName", "username"))
    with pytest.raises(ValueError, match="ASCII"):
        Keys(("us\u00e9r",))
