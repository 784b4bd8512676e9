"""Identity resolution v1: static graph, deterministic normalizers, own keys when unresolved."""

from __future__ import annotations

from pathlib import Path

import pytest

from seamwatch.udfs.identity import (
    Entity,
    IdentityGraph,
    index_key,
    load_identity_file,
    resolve,
)
from seamwatch.udfs.records import Event, Identifier
from seamwatch.yamlfile import ConfigError

GRAPH_YAML = """\
entities:
  - id: jsmith
    type: human
    name: Jane Smith
    identifiers:
      - {kind: email, value: JSmith@Corp.com}
      - {kind: okta_user_id, value: 00u1abc}
      - {kind: aws_arn, value: "arn:aws:iam::123456789012:user/jsmith"}
  - id: svc-backup
    type: service
    identifiers:
      - {kind: aws_arn, value: "arn:aws:iam::123456789012:user/svc-backup"}
"""


def _event(*identifiers: tuple[str, str], principal_type: str | None = None) -> Event:
    return Event(
        event_id="e1",
        source="cloudtrail",
        event_time=0,
        action="GetCallerIdentity",
        outcome="success",
        raw_ref="f:1",
        principal_type=principal_type,
        identifiers=[Identifier(k, v) for k, v in identifiers],
    )


@pytest.fixture
def graph(tmp_path: Path) -> IdentityGraph:
    path = tmp_path / "identities.yaml"
    path.write_text(GRAPH_YAML)
    return load_identity_file(path)


@pytest.mark.parametrize(
    ("identifiers", "entity", "method", "confidence"),
    [
        ([("aws_arn", "arn:aws:iam::123456789012:user/jsmith")], "jsmith", "static", 1.0),
        ([("okta_user_id", "00u1abc")], "jsmith", "static", 1.0),
        # An Okta login is an email; case does not matter.
        ([("okta_login", "jsmith@corp.com")], "jsmith", "static", 1.0),
        # Email derived from an assumed-role session name: static, but derived.
        (
            [
                ("aws_arn", "arn:aws:sts::123456789012:assumed-role/Finance/jsmith@corp.com"),
                ("email", "jsmith@corp.com"),
            ],
            "jsmith",
            "static",
            0.9,
        ),
        ([("aws_arn", "arn:aws:iam::123456789012:user/svc-backup")], "svc-backup", "static", 1.0),
        # Not in the graph, but an email: Okta and CloudTrail still meet on it.
        ([("email", "Stranger@Corp.com")], "email:stranger@corp.com", "normalized", 0.6),
        # Nothing known: its own key, never a shared one.
        (
            [("aws_arn", "arn:aws:iam::999:user/ghost"), ("aws_access_key", "AKIAGHOST")],
            "unresolved:aws_arn:arn:aws:iam::999:user/ghost",
            "unresolved",
            0.0,
        ),
    ],
)
def test_resolution_order(
    graph: IdentityGraph,
    identifiers: list[tuple[str, str]],
    entity: str,
    method: str,
    confidence: float,
) -> None:
    event = resolve(_event(*identifiers), graph)
    assert (event.entity_id, event.resolved_by, event.confidence) == (entity, method, confidence)


def test_static_entity_carries_type_and_name(graph: IdentityGraph) -> None:
    human = resolve(_event(("okta_user_id", "00u1abc")), graph)
    service = resolve(_event(("aws_arn", "arn:aws:iam::123456789012:user/svc-backup")), graph)
    assert (human.entity_type, human.entity_name) == ("human", "Jane Smith")
    assert service.entity_type == "service"
    assert human.resolved_via == "okta_user_id:00u1abc"


def test_unresolved_events_never_share_a_key(graph: IdentityGraph) -> None:
    a = resolve(_event(("aws_arn", "arn:aws:iam::1:user/a")), graph)
    b = resolve(_event(("aws_arn", "arn:aws:iam::1:user/b")), graph)
    bare = resolve(_event(), graph)
    assert len({a.entity_id, b.entity_id, bare.entity_id}) == 3
    assert bare.entity_id == "unresolved:event:cloudtrail:e1"


def test_aws_service_is_marked(graph: IdentityGraph) -> None:
    event = resolve(
        _event(("aws_service", "ec2.amazonaws.com"), principal_type="AWSService"), graph
    )
    assert event.entity_type == "aws_service"
    assert event.resolved_by == "unresolved"


def test_upsert_and_remove_change_later_resolution() -> None:
    graph = IdentityGraph()
    ident = Identifier("email", "new.hire@corp.com")
    graph.upsert(Entity("new.hire", "human", None, (ident,)))
    assert resolve(_event(("email", "new.hire@corp.com")), graph).entity_id == "new.hire"
    graph.remove("new.hire")
    assert resolve(_event(("email", "new.hire@corp.com")), graph).resolved_by == "normalized"


def test_index_key_folds_email_kinds() -> None:
    assert index_key("okta_login", " A@B.com ") == index_key("email", "a@b.com")
    assert index_key("aws_arn", "arn:X") != index_key("aws_arn", "arn:x")


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (
            "entities:\n  - id: a\n    type: robot\n    identifiers: [{kind: email, value: x}]\n",
            3,
            "type",
        ),
        (
            "entities:\n  - id: a\n    type: human\n    identifiers:\n"
            "      - {kind: emial, value: x}\n",
            5,
            "kind",
        ),
        (
            "entities:\n  - id: a\n    type: human\n    identifiers: [{kind: email, value: x@y}]\n"
            "  - id: b\n    type: human\n    identifiers:\n      - {kind: email, value: X@Y}\n",
            8,
            "already belongs to 'a'",
        ),
        ("entities: [\n", 2, "invalid YAML"),
    ],
)
def test_bad_identity_file_names_file_line_and_reason(
    tmp_path: Path, text: str, line: int, reason: str
) -> None:
    path = tmp_path / "ids.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_identity_file(path)
    assert caught.value.path == str(path)
    assert caught.value.line == line
    assert reason in caught.value.reason


def test_csv_export_loads_with_several_values_per_cell(tmp_path: Path) -> None:
    path = tmp_path / "hr.csv"
    path.write_text(
        "id,type,name,email,okta_user_id,aws_arn\n"
        "jsmith,human,Jane Smith,jsmith@corp.com;jane.smith@corp.com,00u1abc,\n"
        "svc-backup,service,,,,arn:aws:iam::1:user/svc-backup\n"
    )
    graph = load_identity_file(path)
    assert set(graph.entities) == {"jsmith", "svc-backup"}
    assert resolve(_event(("email", "Jane.Smith@corp.com")), graph).entity_id == "jsmith"
    assert graph.entities["svc-backup"].name is None


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("id,type,emial\na,human,x@y\n", 1, "unknown column 'emial'"),
        ("name,email\nA,x@y\n", 1, "missing column(s) id, type"),
        ("id,type,email\na,human,a@y\nb,robot,b@y\n", 3, "type"),
        ("id,type,email\na,human,a@y\nb,human,A@Y\n", 3, "already belongs to 'a'"),
    ],
)
def test_bad_csv_export_names_the_line(tmp_path: Path, text: str, line: int, reason: str) -> None:
    path = tmp_path / "hr.csv"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_identity_file(path)
    assert (caught.value.line, reason in caught.value.reason) == (line, True), caught.value
