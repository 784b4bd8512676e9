"""The Java aggregate of a rule's authentication context (``io.seamwatch.udf.RecentList``)
against the ``LISTAGG`` over the last rows it replaces, both run by Flink SQL on the same
rows: the same list for every row that asks, nothing for the others."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from seamwatch.rules.compiler import RECENT_LIST_FUNCTION

pytestmark = pytest.mark.flink

ROWS = 21  # the current row and the 20 before it, as MAX_CONTEXT_EVENTS + 1


def _rows(seed: int) -> list[dict[str, Any]]:
    """Three groups, times with ties, values missing often, a few rows asking for the list."""
    rng = random.Random(seed)
    rows = []
    for seq in range(600):
        group = rng.choice(["ann", "bob", "cid"])
        value = None if rng.random() < 0.4 else orjson.dumps({"n": seq, "g": group}).decode()
        rows.append(
            {
                "seq": seq,
                "g": group,
                "t": 1_700_000_000_000 + seq // 3 * 1000,  # three rows share each second
                "v": value,
                "w": rng.random() < 0.3,
            }
        )
    return rows


def _collect(t_env: Any, sql: str) -> dict[int, str | None]:
    with t_env.execute_sql(sql).collect() as results:
        return {int(row[0]): row[1] for row in results}


def test_the_list_is_listaggs_for_the_rows_that_ask_and_null_for_the_others(
    tmp_path: Path,
) -> None:
    from seamwatch.jobs.javaudf import register_recent_list
    from seamwatch.jobs.runtime import create_environments

    rows = _rows(7)
    data = tmp_path / "rows.jsonl"
    data.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    _, t_env = create_environments(1)
    register_recent_list(t_env)
    t_env.execute_sql(
        # Rows of one second tie; a minute's bound keeps every row on time.
        "CREATE TEMPORARY TABLE rows_in (seq INT, g STRING, t BIGINT, v STRING, w BOOLEAN, "
        "rowtime AS TO_TIMESTAMP_LTZ(t, 3), "
        "WATERMARK FOR rowtime AS rowtime - INTERVAL '1' MINUTE) "
        f"WITH ('connector' = 'filesystem', 'path' = '{data}', 'format' = 'json')"
    ).wait()
    window = "PARTITION BY g ORDER BY rowtime ROWS BETWEEN"
    listagg = _collect(
        t_env,
        f"SELECT seq, LISTAGG(v, ',') OVER ({window} {ROWS - 1} PRECEDING AND CURRENT ROW) "
        "FROM rows_in",
    )
    recent = _collect(
        t_env,
        f"SELECT seq, {RECENT_LIST_FUNCTION}({ROWS}, v, w) "
        f"OVER ({window} UNBOUNDED PRECEDING AND CURRENT ROW) FROM rows_in",
    )
    assert set(recent) == set(listagg) == {row["seq"] for row in rows}
    asked = [row["seq"] for row in rows if row["w"]]
    assert {seq: recent[seq] for seq in asked} == {seq: listagg[seq] for seq in asked}
    assert all(recent[row["seq"]] is None for row in rows if not row["w"])
    # The test has teeth: long lists, bounded by the window's rows (not the group's history).
    lengths = [len(text.split("},{")) for seq in asked if (text := listagg[seq])]
    assert 10 <= max(lengths) <= ROWS
