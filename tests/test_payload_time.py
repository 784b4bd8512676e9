"""The watermark time of raw-text tables (Kafka topics, watched directories), run by Flink SQL."""

from __future__ import annotations

from typing import Any

import pytest

from seamwatch.sources.staging import payload_time_sql

pytestmark = pytest.mark.flink

CASES = [
    ('{"eventVersion":"1.08","eventTime":"2026-03-04T10:27:41Z"}', "2026-03-04 10:27:41.000"),
    (
        '{"detail-type":"AWS API Call","detail":{"eventTime": "2026-03-04T10:27:42Z"}}',
        "2026-03-04 10:27:42.000",
    ),
    ('{"@timestamp":"2020-09-14T01:19:40.123Z"}', "2020-09-14 01:19:40.000"),
    ("not json at all", "1970-01-01 00:00:00.000"),
    # A field's content cannot pose as the key: its quotes are escaped in the text.
    (
        '{"userAgent":"a\\\\"eventTime\\\\":\\\\"9999-01-01T00:00:00","eventTime":"2026-03-04T10:27:43Z"}',
        "2026-03-04 10:27:43.000",
    ),
]


def _t_env() -> Any:
    """A table environment with the watermark's Java function registered, as jobs register it."""
    from seamwatch.jobs.javaudf import register_watermark_time
    from seamwatch.jobs.runtime import create_environments

    _, t_env = create_environments(1)
    register_watermark_time(t_env)
    return t_env


def _times(t_env: Any, expressions: list[str]) -> list[str]:
    union = " UNION ALL ".join(
        f"SELECT {i} AS n, CAST({sql} AS STRING) AS t" for i, sql in enumerate(expressions)
    )
    with t_env.sql_query(union).execute().collect() as rows:
        got = {row[0]: row[1] for row in rows}
    return [got[i] for i in range(len(expressions))]


def test_the_time_is_read_from_the_text_without_parsing_it() -> None:
    t_env = _t_env()
    sqls = [payload_time_sql("cloudtrail", _literal(text), None) for text, _ in CASES]
    assert _times(t_env, sqls) == [want for _, want in CASES]
    okta = payload_time_sql("okta", "p", None)
    assert "published" in okta and "eventTime" not in okta


def test_a_payload_time_ahead_of_the_clock_reads_as_the_epoch() -> None:
    t_env = _t_env()
    texts = ['{"eventTime":"9999-01-01T00:00:00Z"}', '{"eventTime":"2026-03-04T10:27:41Z"}']
    bounded = [payload_time_sql("cloudtrail", _literal(text), 300) for text in texts]
    unbounded = [payload_time_sql("cloudtrail", _literal(text), None) for text in texts]
    assert _times(t_env, bounded + unbounded) == [
        "1970-01-01 00:00:00.000",
        "2026-03-04 10:27:41.000",
        "9999-01-01 00:00:00.000",
        "2026-03-04 10:27:41.000",
    ]


# Entra ID and Windows records as their topics carry them: the time keys their normalizers read.
RAW_CASES = [
    # Diagnostic settings: the sign-in's own time before the envelope's (Event Hub delivery).
    (
        "entra",
        '{"time":"2026-03-10T09:20:00.1234567Z","category":"SignInLogs",'
        '"properties":{"createdDateTime":"2026-03-10T09:05:11.1234567Z"}}',
        "2026-03-10 09:05:11.000",
    ),
    # Panther lower-cases keys; Log Analytics capitalises them.
    ("entra", '{"createddatetime": "2025-01-15 09:30:45.123"}', "2025-01-15 09:30:45.000"),
    (
        "entra",
        '{"Type":"AuditLogs","ActivityDateTime":"2026-03-10T07:00:01Z"}',
        "2026-03-10 07:00:01.000",
    ),
    # AD FS's US date is no time to SQL: Log Analytics' TimeGenerated is read instead.
    (
        "entra",
        '{"Type":"ADFSSignInLogs","CreatedDateTime":"12/12/2025 3:03:58 PM",'
        '"TimeGenerated":"2025-12-12T15:04:30Z"}',
        "2025-12-12 15:04:30.000",
    ),
    # evtx JSON (the Rust parser, pretty-printed) and xmltodict's attribute spelling.
    (
        "windows",
        '{"Event": {"System": {"TimeCreated": {"#attributes": {"SystemTime": '
        '"2013-10-23T16:22:39.973500Z"}}}}}',
        "2013-10-23 16:22:39.000",
    ),
    (
        "windows",
        '{"Event":{"System":{"TimeCreated":{"@SystemTime":"2019-05-01T10:00:00Z"}}}}',
        "2019-05-01 10:00:00.000",
    ),
    # NXLog through Logstash: the UTC @timestamp, not the collector's local EventTime.
    (
        "windows",
        '{"EventTime":"2026-03-10 11:00:00","EventID":4624,'
        '"@timestamp":"2026-03-10T09:00:02.000Z"}',
        "2026-03-10 09:00:02.000",
    ),
    (
        "windows",
        '{"EventID":4624,"TimeGenerated":"2026-03-10T09:00:05Z"}',
        "2026-03-10 09:00:05.000",
    ),
    ("windows", '{"EventID": 4624}', "1970-01-01 00:00:00.000"),
]


def test_entra_and_windows_times_are_read_from_their_own_keys() -> None:
    sqls = [payload_time_sql(source, _literal(text), None) for source, text, _ in RAW_CASES]
    assert _times(_t_env(), sqls) == [want for _, _, want in RAW_CASES]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
