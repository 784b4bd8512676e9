"""Records read as text that no rule needs, dropped in the JVM (``seamwatch.jobs.jvm_drop``).

The Java function may only drop a record the Python step would have turned into an ``N`` row
(one event, not dead-lettered, no rule or baseline wants it) and that a file run would have
staged as a brief line (``sql_readable``). The ``flink`` tests run it on a local mini-cluster
over the third-party corpus, generated traffic and damaged or unusual variants of a record no
rule needs, and hold every answer against the Python step's own decision on the same text.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from seamwatch.jobs.jvm_drop import FUNCTION, drop_spec, drop_specs, keep_sql
from seamwatch.jobs.settings import DEFAULT_RULES_DIR
from seamwatch.rules.relevance import Relevance
from seamwatch.rules.rulebook import Rule, load_rules
from seamwatch.sample.stream import write_bench_corpus
from seamwatch.sources.timeguard import DEFAULT_CLOCK_SECONDS, ahead_of_clock
from seamwatch.udfs.identity import IdentityGraph, OktaUserKeys, resolve
from seamwatch.udfs.normalize import normalize_text
from seamwatch.udfs.records import Rejected
from seamwatch.udfs.sqlfields import sql_readable
from tests.conftest import CORPUS_DIR

SOURCES = ("cloudtrail", "okta")


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    return load_rules(DEFAULT_RULES_DIR)


def python_not_needed(source: str, text: str, relevance: Relevance) -> bool:
    """What the Python step does with ``text``: True when it makes one ``N`` row of it."""
    items = normalize_text(source, text, "test:1")
    if len(items) != 1 or isinstance(items[0], Rejected):
        return False
    event = items[0]
    now_ms = time.time_ns() // 1_000_000
    if ahead_of_clock(event.event_time, now_ms, DEFAULT_CLOCK_SECONDS * 1000) is not None:
        return False
    return not relevance.wants(resolve(event, IdentityGraph(), OktaUserKeys()))


def file_run_brief(source: str, text: str) -> bool:
    """Whether a file run would read the record by its fields (a brief line when not needed)."""
    try:
        return sql_readable(source, orjson.loads(text))
    except orjson.JSONDecodeError:
        return False


# --- the spec and the SQL, no Flink -------------------------------------------------------------


def test_spec_names_the_wanted_actions_and_the_objects_read(rules: list[Rule]) -> None:
    relevance = Relevance(rules)
    spec = orjson.loads(drop_spec("cloudtrail", relevance, 300) or "")
    exact, _ = relevance.actions("cloudtrail") or (frozenset(), ())
    assert set(spec["exact"]) == exact and "CreateAccessKey" in spec["exact"]
    assert (spec["name"], spec["time"], spec["id"]) == ("eventName", "eventTime", "eventID")
    assert spec["clock_ms"] == 300_000
    assert "Records" in spec["reject"] and "detail-type" in spec["reject"]
    objects = {tuple(path): set(keys) for path, keys in spec["objects"]}
    assert {"type", "arn", "sessionContext"} <= objects[("userIdentity",)]
    okta = orjson.loads(drop_spec("okta", relevance, None) or "")
    assert okta["clock_ms"] == -1 and "user.session.start" in okta["prefixes"]
    assert "data" in okta["reject"] and okta["lists"] == ["target"]


def test_no_spec_where_nothing_can_be_dropped(rules: list[Rule]) -> None:
    relevance = Relevance(rules)
    assert drop_spec("entra", relevance, 300) is None  # no fields table: its shapes vary
    assert drop_spec("windows", relevance, 300) is None
    # Fields tables drop by their own filter; only text tables get a spec.
    specs = drop_specs({"cloudtrail": True, "okta": False, "entra": False}, relevance, 300)
    assert set(specs) == {"okta"}
    assert keep_sql("{}", "payload") == f"NOT {FUNCTION}('{{}}', payload)"


# --- the Java function against the Python step, on a mini-cluster -------------------------------


def _java_answers(t_env: Any, source: str, spec: str, texts: list[str], tmp: Path) -> list[bool]:
    """The function's answer for each text (one line each), in order."""
    folder = tmp / source
    folder.mkdir()
    (folder / "lines.txt").write_text(
        "".join(f"{i:08d}{text}\n" for i, text in enumerate(texts)), encoding="utf-8"
    )
    table = f"texts_{source}"
    t_env.execute_sql(
        f"CREATE TEMPORARY TABLE {table} (line STRING) WITH ("
        f"'connector' = 'filesystem', 'path' = '{folder}', 'format' = 'raw')"
    ).wait()
    query = (
        f"SELECT CAST(SUBSTRING(line, 1, 8) AS INT), "
        f"{FUNCTION}('{spec.replace(chr(39), chr(39) * 2)}', SUBSTRING(line, 9)) FROM {table}"
    )
    answers: dict[int, bool] = {}
    with t_env.sql_query(query).execute().collect() as rows:
        for row in rows:
            answers[row[0]] = row[1]
    assert len(answers) == len(texts)
    return [answers[i] for i in range(len(texts))]


def _base_record(source: str, texts: list[str], relevance: Relevance) -> dict[str, Any]:
    for text in texts:
        if python_not_needed(source, text, relevance) and file_run_brief(source, text):
            doc: dict[str, Any] = orjson.loads(text)
            return doc
    raise AssertionError(f"no {source} record no rule needs in the generated traffic")


def _variants(source: str, base: dict[str, Any], relevance: Relevance) -> dict[str, str]:
    """Unusual or damaged forms of a record no rule needs, by what was done to it."""
    name_key, time_key, id_key = (
        ("eventName", "eventTime", "eventID")
        if source == "cloudtrail"
        else ("eventType", "published", "uuid")
    )
    text = orjson.dumps(base).decode()
    exact, _ = relevance.actions(source) or (frozenset(), ())
    future = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))

    def changed(**updates: Any) -> str:
        return orjson.dumps({**base, **updates}).decode()

    out = {
        "as is": text,
        "wanted action": changed(**{name_key: sorted(exact)[0]}),
        "padded action": changed(**{name_key: f" {base[name_key]}"}),
        "action not a string": changed(**{name_key: 7}),
        "no action": orjson.dumps({k: v for k, v in base.items() if k != name_key}).decode(),
        "time ahead of the clock": changed(**{time_key: future}),
        "time lower-case t": changed(**{time_key: base[time_key].replace("T", "t")}),
        "time not a time": changed(**{time_key: "2021-02-30T10:00:00Z"}),
        "time in epoch": changed(**{time_key: 1_700_000_000}),
        "placeholder id": changed(**{id_key: "UNKNOWN"}),
        "bracketed id": changed(**{id_key: "<id>"}),
        "blank id": changed(**{id_key: "  "}),
        "id not a string": changed(**{id_key: 12345}),
        "trailing text": text + " x",
        "two records": text + text,
        "truncated": text[: len(text) // 2],
        "array of it": f"[{text}]",
        "lone surrogate escape": text[:-1] + ', "note": "\\ud800"}',
        "integer beyond 64 bits": text[:-1] + ', "n": 123456789012345678901234567890}',
        "infinite number": text[:-1] + ', "n": 1e400}',
        "NaN": text[:-1] + ', "n": NaN}',
        "lower-cased key beside": text[:-1] + f', "{name_key.lower()}": "x"}}',
        "empty": "",
        "null": "null",
    }
    if source == "cloudtrail":
        out |= {
            "S3 log file": orjson.dumps({"Records": [base]}).decode(),
            "EventBridge envelope": orjson.dumps(
                {"detail-type": "AWS API Call via CloudTrail", "detail": base}
            ).decode(),
            "Insights": changed(eventType="AwsCloudTrailInsight"),
            "identity a string": changed(userIdentity="arn:aws:iam::1:user/x"),
            "identity key case": changed(
                userIdentity={**base.get("userIdentity", {}), "ARN": "arn:aws:iam::1:user/y"}
            ),
            "digest keys": changed(digestStartTime="x", digestEndTime="y", logFiles=[]),
            "sign-in result echo": changed(responseElements={base[name_key].lower(): "Success"}),
        }
    else:
        out |= {
            "event-hook delivery": orjson.dumps({"data": {"events": [base]}}).decode(),
            "target an object": changed(target={"id": "x"}),
            "actor a list": changed(actor=[base.get("actor")]),
            "client key case": changed(client={**base.get("client", {}), "IPADDRESS": "1.2.3.4"}),
        }
    return out


# Variants the function must leave to Python: it dead-letters, expands, or reads them otherwise.
MUST_ASK_PYTHON = (
    "wanted action",
    "time ahead of the clock",
    "time not a time",
    "placeholder id",
    "bracketed id",
    "trailing text",
    "two records",
    "truncated",
    "array of it",
    "lone surrogate escape",
    "integer beyond 64 bits",
    "NaN",
    "empty",
    "null",
    "S3 log file",
    "EventBridge envelope",
    "Insights",
    "identity a string",
    "event-hook delivery",
    "target an object",
)


@pytest.mark.flink
def test_java_drops_only_what_python_finds_not_needed(rules: list[Rule], tmp_path: Path) -> None:
    from seamwatch.jobs.jvm_drop import register
    from seamwatch.jobs.runtime import create_environments

    relevance = Relevance(rules)
    generated = write_bench_corpus(tmp_path / "generated", 3000, 2, 5)
    _, t_env = create_environments(1, "thread")
    register(t_env)
    for source in SOURCES:
        spec = drop_spec(source, relevance, DEFAULT_CLOCK_SECONDS)
        assert spec is not None
        traffic = generated.okta_path if source == "okta" else generated.cloudtrail_path
        traffic_texts = traffic.read_text(encoding="utf-8").splitlines()
        variants = _variants(source, _base_record(source, traffic_texts, relevance), relevance)
        corpus: list[str] = []
        if CORPUS_DIR.is_dir():
            for path in sorted((CORPUS_DIR / source).glob("*.jsonl")):
                corpus += [line for line in path.read_text(encoding="utf-8").splitlines() if line]
        texts = [*traffic_texts, *variants.values(), *corpus]
        answers = _java_answers(t_env, source, spec, texts, tmp_path)
        python = [python_not_needed(source, text, relevance) for text in texts]
        for text, dropped, not_needed in zip(texts, answers, python, strict=True):
            if dropped:
                assert not_needed, f"{source}: dropped a record Python keeps: {text[:300]}"
                assert file_run_brief(source, text), f"{source}: not a brief line: {text[:300]}"
        by_variant = dict(zip(variants, answers[len(traffic_texts) :], strict=False))
        assert by_variant["as is"], f"{source}: the plain record no rule needs was kept"
        asked = [name for name in MUST_ASK_PYTHON if by_variant.get(name)]
        assert not asked, f"{source}: dropped instead of asking Python: {asked}"
        # Generated traffic is plain vendor records: all those no rule needs are dropped.
        missed = [
            text
            for text, dropped, not_needed in zip(traffic_texts, answers, python, strict=False)
            if not_needed and not dropped
        ]
        assert not missed, f"{source}: {len(missed)} plain records kept, e.g. {missed[0][:300]}"
        assert any(answers[: len(traffic_texts)]), f"{source}: nothing dropped"
        corpus_answers = answers[len(traffic_texts) + len(variants) :]
        corpus_python = python[len(traffic_texts) + len(variants) :]
        print(
            f"{source}: generated {sum(answers[: len(traffic_texts)])} of {len(traffic_texts)} "
            f"dropped; third-party corpus {sum(corpus_answers)} dropped of "
            f"{sum(corpus_python)} Python finds not needed ({len(corpus)} records)"
        )
