"""The watermark's Java time reader (``io.seamwatch.udf.WatermarkTime``) against the SQL it
replaces, run by Flink SQL: the same time for every text, the usual form and the odd ones."""

from __future__ import annotations

import pytest

from seamwatch.sources.timeguard import bounded_time_sql, watermark_time_sql

pytestmark = pytest.mark.flink

TEXTS = [
    "2026-03-04T10:27:41Z",
    "2026-03-04T10:27:41.123456Z",
    "2026-03-04 10:27:41",
    "2026-03-04T10:27:41+09:00",
    "2024-02-29T23:59:59Z",  # a leap day
    "2023-02-29T10:00:00Z",  # no such day: the formatter's own resolution decides
    "2026-04-31T10:00:00Z",
    "2026-13-01T10:00:00Z",
    "2026-03-04T24:00:00Z",
    "2026-03-04T10:60:00Z",
    "0000-01-01T00:00:00Z",  # year 0 is no year of the era
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2026-3-4T1:2:3Z",  # one-digit fields
    "2026-03-04",
    "2026-03-04T10:27",
    "2026-03-04X10:27:41Z",
    "2026-03-04t10:27:41Z",
    "20260304T102741Z",
    "1772532000000",
    "yesterday",
    "",
    "\uff12\uff10\uff12\uff16-03-04T10:27:41Z",  # full-width digits
    "2026-03-04T10:27:4\u0661Z",  # an Arabic-Indic digit
    "2026-03-04T10:27:41\U0001f600",
    "\U0001f600026-03-04T10:27:41",
]


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _old_sql(column: str) -> str:
    """The expression the function replaces (the staged tables' watermark until 2026-12)."""
    return (
        f"COALESCE(TO_TIMESTAMP(SUBSTRING(REPLACE({column}, 'T', ' ') FROM 1 FOR 19)), "
        "TIMESTAMP '1970-01-01 00:00:00')"
    )


def test_the_function_reads_every_text_as_the_sql_did() -> None:
    from seamwatch.jobs.javaudf import register_watermark_time
    from seamwatch.jobs.runtime import create_environments

    _, t_env = create_environments(1)
    register_watermark_time(t_env)
    texts = [*TEXTS, None]
    selects = []
    for i, text in enumerate(texts):
        value = "CAST(NULL AS STRING)" if text is None else _sql_literal(text)
        selects.append(
            f"SELECT {i} AS n, CAST({_old_sql('v')} AS STRING) AS old_time, "
            f"CAST({watermark_time_sql('v', None)} AS STRING) AS new_time, "
            f"CAST({bounded_time_sql(_old_sql('v'), 300)} AS STRING) AS old_bounded, "
            f"CAST({watermark_time_sql('v', 300)} AS STRING) AS new_bounded "
            f"FROM (SELECT {value} AS v)"
        )
    with t_env.sql_query(" UNION ALL ".join(selects)).execute().collect() as rows:
        got = {row[0]: tuple(row[1:]) for row in rows}
    for i, text in enumerate(texts):
        old, new, old_bounded, new_bounded = got[i]
        assert (new, new_bounded) == (old, old_bounded), text
    readings = {text: got[i][1] for i, text in enumerate(texts)}
    # What a watermark follows: the time to the second, the offset not applied; the epoch for
    # no time at all, and (bounded) for a time ahead of the clock.
    assert readings["2026-03-04T10:27:41.123456Z"] == "2026-03-04 10:27:41.000"
    assert readings["2026-03-04T10:27:41+09:00"] == "2026-03-04 10:27:41.000"
    assert readings["yesterday"] == readings[None] == "1970-01-01 00:00:00.000"
    assert got[TEXTS.index("9999-12-31T23:59:59Z")][3] == "1970-01-01 00:00:00.000"
