"""Every line of the third-party corpus (``/work/shared/corpus``) through ``normalize_text``.

The corpus is read in place. A record whose event time parses must become an Event; any other
record must become a Rejected with a reason. Failures list the offending lines and reasons.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from seamwatch.udfs.normalize import normalize_text
from seamwatch.udfs.records import Event, Rejected
from seamwatch.udfs.timeparse import parse_time
from tests.conftest import CORPUS_DIR

SOURCES = ("okta", "cloudtrail")
TIME_KEYS = {"okta": ("published",), "cloudtrail": ("eventTime", "@timestamp")}
ACTION_KEYS = {"okta": "eventType", "cloudtrail": "eventName"}

FILES = [(s, p.name) for s in SOURCES for p in sorted((CORPUS_DIR / s).glob("*.jsonl"))]
PARAMS = [pytest.param(s, n, id=f"{s}/{n}") for s, n in FILES] or [
    pytest.param("okta", "", id="corpus-missing")
]


def _field(rec: dict[str, Any], key: str, lower_cased: bool) -> Any:
    return rec.get(key.lower() if lower_cased else key)


def _expect_event(source: str, rec: object, lower_cased: bool) -> bool:
    """The test's own, independent statement of which records must become Events."""
    if not isinstance(rec, dict) or _field(rec, ACTION_KEYS[source], lower_cased) is None:
        return False
    return any(parse_time(_field(rec, key, lower_cased)) is not None for key in TIME_KEYS[source])


@pytest.mark.parametrize(("source", "name"), PARAMS)
def test_corpus_file(corpus_dir: Path, source: str, name: str) -> None:
    path = corpus_dir / source / name
    lower_cased = "lowercased" in name
    wrong: list[str] = []
    rejected: Counter[str] = Counter()
    events = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        ref = f"{name}:{number}"
        try:
            results = normalize_text(source, line, ref)
        except Exception as err:  # normalize_text promises never to raise
            wrong.append(f"{ref}: raised {type(err).__name__}: {err}")
            continue
        if len(results) != 1:
            wrong.append(f"{ref}: {len(results)} results for one record")
            continue
        [result] = results
        assert result.raw_ref == ref
        must_be_event = _expect_event(source, orjson.loads(line), lower_cased)
        if isinstance(result, Event):
            events += 1
            if not must_be_event:
                wrong.append(f"{ref}: became an Event but has no parseable time/action")
            if result.source != source or result.event_time <= 0 or not result.event_id:
                wrong.append(f"{ref}: implausible event {result}")
        else:
            assert isinstance(result, Rejected)
            rejected[result.reason] += 1
            if must_be_event:
                wrong.append(f"{ref}: rejected: {result.reason}")
            if result.raw != line:
                wrong.append(f"{ref}: Rejected.raw is not the line")
    summary = f"{events} events, rejected {sum(rejected.values())}: {dict(rejected)}"
    assert not wrong, f"{name} ({summary}):\n" + "\n".join(wrong)
    assert events > 0, summary


def test_corpus_is_present(corpus_dir: Path) -> None:
    for source in SOURCES:
        assert list((corpus_dir / source).glob("*.jsonl")), f"no {source} files in {corpus_dir}"


def test_rejection_reasons_are_the_expected_ones(corpus_dir: Path) -> None:
    """Pins down the corpus outcome: a new kind of rejection shows up here with its lines."""
    allowed_prefixes = (
        "no usable event time: ",
        "not an Okta event: no eventType",
        "not a CloudTrail event: no eventName",
    )
    unexpected: list[str] = []
    totals: Counter[str] = Counter()
    for source in SOURCES:
        for path in sorted((corpus_dir / source).glob("*.jsonl")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                for result in normalize_text(source, line, f"{path.name}:{number}"):
                    totals[type(result).__name__] += 1
                    if isinstance(result, Rejected) and not result.reason.startswith(
                        allowed_prefixes
                    ):
                        unexpected.append(f"{result.raw_ref}: {result.reason}")
    assert not unexpected, "\n".join(unexpected)
    assert totals["Event"] > 10 * totals["Rejected"], dict(totals)
