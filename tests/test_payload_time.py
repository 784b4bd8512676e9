"""The watermark time of raw-text tables (Kafka topics, watched directories), run by Flink SQL."""

from __future__ import annotations

import pytest

from seamwatch.jobs.sources import payload_time_sql

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


def test_the_time_is_read_from_the_text_without_parsing_it() -> None:
    from seamwatch.jobs.runtime import create_environments

    _, t_env = create_environments(1)
    literals = [("'" + text.replace("'", "''") + "'", want) for text, want in CASES]
    union = " UNION ALL ".join(
        f"SELECT {i} AS n, CAST({payload_time_sql('cloudtrail', lit)} AS STRING) AS t"
        for i, (lit, _) in enumerate(literals)
    )
    with t_env.sql_query(union).execute().collect() as rows:
        got = {row[0]: row[1] for row in rows}
    assert [got[i] for i in range(len(CASES))] == [want for _, want in CASES]
    okta = payload_time_sql("okta", "p")
    assert "published" in okta and "eventTime" not in okta
