"""State written in the format before the version markers, read by this release inside Flink.

A real savepoint of the previous release cannot be kept as a fixture (it is binary and bound to
the Flink version and the job graph), so each test puts the previous format's text where a
restored savepoint puts it, and runs this release's code on it in a Flink job:

- **Learned links** live in the link hops' ``OVER`` windows (``LAST_VALUE`` of the link rows'
  ``detail``). Link rows whose ``detail`` is the literal text the previous release wrote
  (version 0), this release's version 1, and an unknown version go through the real hop views
  (:func:`seamwatch.jobs.links_sql.link_views_sql`) with events signed by their keys: the window
  state then holds exactly what a restored one would, and the events show which links SQL
  applied. A second hop also reads the link the first hop's SQL taught for a chained role.
- **The keyed absence / alert function** (:class:`seamwatch.jobs.operators.MatchesToAlerts`):
  a subclass adds one input kind, ``SEED``, that writes a previous-format text verbatim into
  its ``ValueState`` (and registers the timer the previous job would have had for a waiting
  match), as a restore would; the later rows and the end-of-input timers then run the
  unchanged code of this release on it: Flink's state backend hands the text back, and
  :meth:`AbsenceState.decode` / :func:`decode_open_alert` read it.

What this does not prove: that a savepoint of the previous release's job graph restores into
this one (operator ids, Flink's own serializers); ``tests/test_session_cluster.py`` stops and
resumes this release's own job from a savepoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from seamwatch.jobs.operators import PENDING_OUTPUT, MatchesToAlerts, decision_key
from seamwatch.udfs.absence import AbsenceSpec
from seamwatch.udfs.alerts import RuleMeta
from seamwatch.udfs.hotrow import EVENT_ROW, OUTPUT_FIELDS, _row, link_row
from seamwatch.udfs.identity import IdentityGraph
from seamwatch.udfs.links import Link
from tests.test_absence import V0_STATE
from tests.test_alert_fields import V0_OPEN_ALERT
from tests.test_links import V0_LINKS

pytestmark = pytest.mark.flink

_TYPES = {"STRING": "STRING", "BIGINT": "LONG", "DOUBLE": "DOUBLE", "BOOLEAN": "BOOLEAN"}
SEED_ABSENCE, SEED_OPEN = "SEED_ABSENCE", "SEED_OPEN"
H = 3_600_000


@pytest.fixture(scope="module")
def flink() -> tuple[Any, Any]:
    from seamwatch.jobs.runtime import create_environments

    return create_environments(1, "thread")


# --- learned links in the SQL hops -------------------------------------------------------------


def _signed(event_id: str, key: str, at: int, **fields: Any) -> tuple[Any, ...]:
    """A CloudTrail event signed by ``key`` that only a session name resolved."""
    values = {
        "event_id": event_id,
        "source": "cloudtrail",
        "action": "GetCallerIdentity",
        "outcome": "success",
        "raw_ref": f"ct:{event_id}",
        "access_key_id": key,
        "entity_id": f"session:{event_id}",
        "entity_type": "unknown",
        "resolved_by": "normalized",
        "confidence": 0.5,
        **fields,
    }
    return _row(EVENT_ROW, None, at, **values)  # type: ignore[arg-type]


def test_the_link_hops_apply_links_of_the_previous_format_and_of_this_one(
    flink: tuple[Any, Any],
) -> None:
    from pyflink.common import Row, Types
    from pyflink.table import DataTypes, Schema

    from seamwatch.jobs.links_sql import link_views_sql

    env, t_env = flink
    (v0_text, v0_link), (v0_unnamed_text, _) = V0_LINKS
    t0 = v0_link.issued_at
    v1_link = Link("rae", "human", "Rae", 0.9, "evt-v1", t0)
    rows = [
        link_row("ASIAV0", v0_text, t0, v0_link.taught_by),
        link_row("AKIAV0NONAME", v0_unnamed_text, t0, "evt-key-2"),
        link_row("ASIAV1", v1_link.encode(), t0, "evt-v1"),
        link_row("ASIAV9", f"{v0_text}\tv9", t0, "evt-v9"),
        # Signed by the version-0 key, it assumes a role: hop 0 resolves it and teaches its
        # issued key to hop 1 in SQL (the current version, written by the SQL side).
        _signed("chain", "ASIAV0", t0 + 60_000, action="AssumeRole", issued_access_key="ASIACHAIN"),
        _signed("uses-v0", "ASIAV0", t0 + 120_000),
        _signed("uses-v0-unnamed", "AKIAV0NONAME", t0 + 120_000),
        _signed("uses-v1", "ASIAV1", t0 + 120_000),
        _signed("uses-v9", "ASIAV9", t0 + 120_000),
        _signed("uses-chain", "ASIACHAIN", t0 + 180_000),
    ]
    names = [name for name, _ in OUTPUT_FIELDS]
    types = [getattr(Types, _TYPES[t])() for _, t in OUTPUT_FIELDS]
    builder = Schema.new_builder()
    for name, sql_type in OUTPUT_FIELDS:
        builder = builder.column(name, getattr(DataTypes, sql_type)())
    schema = (
        builder.column_by_expression("rowtime", "TO_TIMESTAMP_LTZ(event_time, 3)")
        .watermark("rowtime", "rowtime - INTERVAL '1' SECOND")
        .build()
    )
    stream = env.from_collection(
        [Row(*row) for row in sorted(rows, key=lambda r: r[names.index("event_time")])],
        type_info=Types.ROW_NAMED(names, types),
    )
    t_env.create_temporary_view("link_input", t_env.from_data_stream(stream, schema))
    views = link_views_sql("link_input", 2)
    for name, sql in views:
        t_env.create_temporary_view(name, t_env.sql_query(sql))
    query = (
        "SELECT event_id, entity_id, entity_name, resolved_by, resolved_via, confidence"
        f" FROM {views[-1][0]}"
    )
    with t_env.sql_query(query).execute().collect() as results:
        found = {row[0]: tuple(row[1:]) for row in results}

    assert found == {
        "chain": ("dana.whitfield", "Dana Whitfield", "learned", "aws_access_key:ASIAV0", 0.855),
        "uses-v0": ("dana.whitfield", "Dana Whitfield", "learned", "aws_access_key:ASIAV0", 0.855),
        "uses-v0-unnamed": (
            "unresolved:aws_arn:arn:aws:iam::111122223333:user/ops",
            None,
            "learned",
            "aws_access_key:AKIAV0NONAME",
            0.95,
        ),
        "uses-v1": ("rae", "Rae", "learned", "aws_access_key:ASIAV1", 0.9),
        # A link of a version this release does not know is not applied.
        "uses-v9": ("session:uses-v9", None, "normalized", None, 0.5),
        # The second hop read the link the first hop's SQL wrote for the chained role's key.
        "uses-chain": (
            "dana.whitfield",
            "Dana Whitfield",
            "learned",
            "aws_access_key:ASIACHAIN",
            round(0.855 * 0.95, 4),
        ),
    }


# --- the keyed absence and alert function ------------------------------------------------------


class SeededMatchesToAlerts(MatchesToAlerts):
    """:class:`MatchesToAlerts` that can also be handed its state verbatim (see the module
    docstring); every other row goes to the real function."""

    def process_element(self, value: Any, ctx: Any) -> Iterator[Any]:
        if value[0] == SEED_ABSENCE:
            self._absence.update(value[3])
            ctx.timer_service().register_event_time_timer(value[4])
            return iter(())
        if value[0] == SEED_OPEN:
            self._open.update(value[3])
            return iter(())
        return super().process_element(value, ctx)


MFA_RULE = "okta-mfa-factor-removed-not-restored"
SUPPRESSING_RULE = "r"
# V0_STATE's waiting match: the factor removed at 1772620247000, decided 12 hours later.
V0_ANCHOR, V0_DEADLINE = 1772620247000, 1772663447000


def _restored(value: dict[str, Any]) -> dict[str, Any]:
    return {"step": "factor_restored", "event_id": "o-restored", **value}


def test_the_keyed_function_reads_absence_and_open_alert_state_of_the_previous_format(
    flink: tuple[Any, Any],
) -> None:
    from pyflink.common import Row, Types

    from seamwatch.rules.compiler import CANDIDATE, MATCH

    env, _ = flink
    metas = {
        MFA_RULE: RuleMeta(MFA_RULE, "t", "d", ("T1556.006",), "medium", 60, "entity_id"),
        SUPPRESSING_RULE: RuleMeta(
            SUPPRESSING_RULE, "t", "d", ("T1098.001",), "high", 900, "entity_id", 3600
        ),
    }
    specs = {MFA_RULE: AbsenceSpec(MFA_RULE, "after", 12 * H, within_ms=60_000)}
    later_match = [
        {
            "step": "create_key",
            "event_id": "ct-2",
            "source": "cloudtrail",
            "event_time": 1772620604000 + 600_000,
            "action": "CreateAccessKey",
            "outcome": "success",
            "entity_id": "dana",
            "entity_type": "human",
            "resolved_by": "static",
            "confidence": 0.9,
            "raw_ref": "ct.jsonl:2",
        }
    ]
    rows = [
        # "kept": its waiting match is decided at its deadline (the end of the input here).
        Row(SEED_ABSENCE, MFA_RULE, "kept", V0_STATE, V0_DEADLINE),
        # "restored": the same state, then the factor is activated again inside the window.
        Row(SEED_ABSENCE, MFA_RULE, "restored", V0_STATE, V0_DEADLINE),
        Row(CANDIDATE, MFA_RULE, "restored", orjson.dumps(_restored({})).decode(), V0_ANCHOR + H),
        # An open alert stored bare, then a match inside its suppression period.
        Row(SEED_OPEN, SUPPRESSING_RULE, "dana", V0_OPEN_ALERT, None),
        Row(MATCH, SUPPRESSING_RULE, "dana", orjson.dumps(later_match).decode(), None),
    ]
    row_type = Types.ROW(
        [Types.STRING(), Types.STRING(), Types.STRING(), Types.STRING(), Types.LONG()]
    )
    alerts = (
        env.from_collection(rows, type_info=row_type)
        .key_by(decision_key, key_type=Types.STRING())
        .process(SeededMatchesToAlerts(metas, specs, IdentityGraph()), output_type=Types.STRING())
    )
    pending = alerts.get_side_output(PENDING_OUTPUT)
    out = alerts.map(lambda text: "alert " + text, output_type=Types.STRING()).union(
        pending.map(lambda text: "pending " + text, output_type=Types.STRING())
    )
    with out.execute_and_collect() as results:
        found = [(text.split(" ", 1)[0], orjson.loads(text.split(" ", 1)[1])) for text in results]

    alerts_out = [value for kind, value in found if kind == "alert"]
    decided = [value for kind, value in found if kind == "pending"]
    # The bare open alert counted the new match: same alert, second match.
    assert [(a["alert_id"], a["match_count"]) for a in alerts_out] == [
        ("a43bff996c1be1108f0e8dd441bf6f5e", 2)
    ]
    # Only the group whose factor was not restored is decided, at the stored deadline, with
    # the stored match's event.
    assert [(d["closes_at"], d["alert"]["group_key"]) for d in decided] == [(V0_DEADLINE, "kept")]
    assert [e["event_id"] for e in decided[0]["alert"]["events"]] == ["o-1"]
