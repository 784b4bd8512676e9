"""Which entity a record resolves to, from the raw record (normalizer + resolver, no Flink)."""

from __future__ import annotations

from typing import Any

import pytest

from seamwatch.udfs.cloudtrail import normalize_cloudtrail
from seamwatch.udfs.identity import (
    Entity,
    IdentityGraph,
    OktaUserKeys,
    entity_from_mapping,
    resolve,
)
from seamwatch.udfs.links import teaches
from seamwatch.udfs.okta import normalize_okta
from seamwatch.udfs.records import Event, Identifier

ACCOUNT = "111122223333"
ANAYA = f"arn:aws:iam::{ACCOUNT}:user/anaya"
IDC_USER = "9067642ac7-1f2e3d4c-5b6a-7980-a1b2-c3d4e5f6a7b8"
STORE = f"arn:aws:identitystore::{ACCOUNT}:identitystore/d-9067642ac7"


def _cloudtrail(name: str, identity: dict[str, Any], **fields: Any) -> Event:
    rec: dict[str, Any] = {
        "eventTime": "2026-03-10T09:00:00Z",
        "eventSource": "signin.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "192.0.2.10",
        "userIdentity": identity,
        "eventID": f"{name}-1",
        "recipientAccountId": ACCOUNT,
        **fields,
    }
    return normalize_cloudtrail(rec, "r")


def _anaya(with_arn: bool) -> dict[str, Any]:
    identity = {
        "type": "IAMUser",
        "principalId": "AIDACKCEVSQ6C2EXAMPLE",
        "accountId": ACCOUNT,
        "accessKeyId": "",
        "userName": "anaya",
    }
    return {**identity, "arn": ANAYA} if with_arn else identity


def _iam_user_records() -> list[Event]:
    return [
        _cloudtrail(
            "ConsoleLogin",
            _anaya(False),
            responseElements={"ConsoleLogin": "Failure"},
            errorMessage="Failed authentication",
        ),
        _cloudtrail(
            "CheckMfa",
            _anaya(False),
            responseElements={"CheckMfa": "Success"},
            additionalEventData={"MfaType": "Virtual MFA"},
        ),
        _cloudtrail("ConsoleLogin", _anaya(True), responseElements={"ConsoleLogin": "Success"}),
    ]


@pytest.mark.parametrize("in_graph", [False, True])
def test_an_iam_user_without_arn_is_the_user_with_it(in_graph: bool) -> None:
    graph = IdentityGraph()
    if in_graph:
        graph.upsert(Entity("anaya", "human", None, (Identifier("aws_arn", ANAYA),)))
    events = [resolve(e, graph) for e in _iam_user_records()]
    expected = "anaya" if in_graph else f"unresolved:aws_arn:{ANAYA}"
    assert [e.entity_id for e in events] == [expected] * 3
    assert [e.outcome for e in events] == ["failure", "success", "success"]
    if in_graph:
        assert {(e.resolved_by, e.confidence) for e in events} == {("static", 1.0)}


def test_a_user_with_a_path_needs_both_arns_in_the_graph() -> None:
    """The path is in no record without an ARN (documented): the graph joins the two."""
    with_path = f"arn:aws:iam::{ACCOUNT}:user/engineering/anaya"
    failure, _, _ = _iam_user_records()
    success = _cloudtrail("ConsoleLogin", {**_anaya(True), "arn": with_path})
    alone = IdentityGraph()
    assert resolve(failure, alone).entity_id != resolve(success, alone).entity_id
    graph = IdentityGraph.from_entities(
        [
            Entity(
                "anaya",
                "human",
                None,
                (Identifier("aws_arn", with_path), Identifier("aws_arn", ANAYA)),
            )
        ]
    )
    assert resolve(failure, graph).entity_id == resolve(success, graph).entity_id == "anaya"


def test_a_key_created_in_china_belongs_to_the_user_of_that_partition() -> None:
    account = "222233334444"
    graph = IdentityGraph.from_entities(
        [
            Entity(
                "svc-cn",
                "service",
                None,
                (Identifier("aws_arn", f"arn:aws-cn:iam::{account}:user/svc-cn"),),
            )
        ]
    )
    caller = {
        "type": "IAMUser",
        "arn": f"arn:aws-cn:iam::{account}:user/admin",
        "accountId": account,
        "userName": "admin",
    }
    event = _cloudtrail(
        "CreateAccessKey",
        caller,
        eventSource="iam.amazonaws.com",
        awsRegion="cn-north-1",
        recipientAccountId=account,
        requestParameters={"userName": "svc-cn"},
        responseElements={"accessKey": {"accessKeyId": "AKIAEXAMPLECN000001"}},
    )
    taught = teaches(resolve(event, graph), graph)
    assert taught is not None
    assert taught[0] == "AKIAEXAMPLECN000001"
    assert taught[1].entity_id == "svc-cn"


def _identity_center_flow() -> tuple[Event, Event]:
    on_behalf_of = {"userId": IDC_USER, "identityStoreArn": STORE}
    credentials = _cloudtrail(
        "GetRoleCredentials",
        {
            "type": "IdentityCenterUser",
            "accountId": ACCOUNT,
            "onBehalfOf": on_behalf_of,
            "credentialId": "AAAAAExampleCredential",
        },
        eventSource="sso.amazonaws.com",
        responseElements=None,
        serviceEventDetails={"role_name": "AdministratorAccess", "account_id": ACCOUNT},
    )
    session = _cloudtrail(
        "GetCallerIdentity",
        {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLESSO:kim.ng@example.com",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Admin_7a1b/"
            "kim.ng@example.com",
            "accountId": ACCOUNT,
            "accessKeyId": "ASIAEXAMPLEKIM00001",
            "onBehalfOf": on_behalf_of,
        },
        eventSource="sts.amazonaws.com",
    )
    return credentials, session


@pytest.mark.parametrize(
    "identifiers",
    [
        [{"kind": "aws_principal_id", "value": IDC_USER}],
        [
            {"kind": "aws_principal_id", "value": IDC_USER},
            {"kind": "email", "value": "kim.ng@example.com"},
        ],
    ],
    ids=["user-id", "user-id-and-email"],
)
def test_identity_center_credentials_and_role_session_are_one_person(
    identifiers: list[dict[str, str]],
) -> None:
    graph = IdentityGraph.from_entities(
        [entity_from_mapping({"id": "kim", "type": "human", "identifiers": identifiers})]
    )
    credentials, session = (resolve(e, graph) for e in _identity_center_flow())
    assert credentials.entity_id == session.entity_id == "kim"
    assert credentials.resolved_via == f"aws_principal_id:{IDC_USER}"


def _okta(actor_id: str, login: str) -> Event:
    rec = {
        "uuid": f"{actor_id}-{login}",
        "published": "2026-03-10T09:00:00.000Z",
        "eventType": "user.session.start",
        "actor": {"id": actor_id, "type": "User", "alternateId": login},
        "outcome": {"result": "SUCCESS"},
    }
    return normalize_okta(rec, "r")


def test_an_okta_user_whose_login_is_no_address_is_keyed_by_its_okta_id() -> None:
    graph = IdentityGraph()
    before, after = (
        resolve(_okta("00u1jdoe", "jdoe"), graph),
        resolve(_okta("00u1jdoe", "jd2"), graph),
    )
    assert before.entity_id == after.entity_id == "unresolved:okta_user_id:00u1jdoe"
    # Its login is still one of its identifiers.
    assert Identifier("okta_login", "jd2") in after.identifiers


def test_an_unlisted_okta_user_with_an_address_meets_aws_on_it() -> None:
    """Without a graph entry, the address is the seam to AWS sessions named after it; a renamed
    address is then another entity (documented: list the Okta id in the graph)."""
    okta = resolve(_okta("00u1maya", "Maya@example.com"), IdentityGraph())
    assert okta.entity_id == "email:maya@example.com"


def test_a_person_in_the_graph_stays_that_person_across_a_login_rename() -> None:
    okta_id = {"kind": "okta_user_id", "value": "00u1maria"}
    maria: dict[str, Any] = {
        "id": "maria",
        "type": "human",
        "identifiers": [okta_id, {"kind": "okta_login", "value": "maria.silva@example.com"}],
    }
    graph = IdentityGraph.from_entities([entity_from_mapping(maria)])
    old, new = _okta("00u1maria", "maria.silva@example.com"), _okta("00u1maria", "maria.costa@x.io")
    assert resolve(old, graph).entity_id == resolve(new, graph).entity_id == "maria"
    # The mapping topic renames her: the old login leaves the entity, a new hire gets it.
    renamed = {
        **maria,
        "identifiers": [okta_id, {"kind": "okta_login", "value": "maria.costa@x.io"}],
    }
    graph.upsert(entity_from_mapping(renamed))
    hire = {
        "id": "maria.silva",
        "type": "human",
        "identifiers": [
            {"kind": "okta_user_id", "value": "00u2hire"},
            {"kind": "okta_login", "value": "maria.silva@example.com"},
        ],
    }
    graph.upsert(entity_from_mapping(hire))
    # A late event of her old login is still hers (the Okta id decides), the hire's is the hire's.
    assert resolve(_okta("00u1maria", "maria.silva@example.com"), graph).entity_id == "maria"
    assert resolve(_okta("00u2hire", "maria.silva@example.com"), graph).entity_id == "maria.silva"


def test_an_unlisted_okta_user_renamed_keeps_its_first_address_entity() -> None:
    graph, keys = IdentityGraph(), OktaUserKeys()
    old = resolve(_okta("00u1maya", "maya@example.com"), graph, keys)
    new = resolve(_okta("00u1maya", "Maya.Berg@example.com"), graph, keys)
    assert old.entity_id == new.entity_id == "email:maya@example.com"
    assert (old.resolved_by, old.resolved_via) == ("normalized", "okta_login:maya@example.com")
    assert (new.resolved_by, new.resolved_via) == ("normalized", "okta_user_id:00u1maya")
    # The new login is still one of the event's identifiers (the alert entity shows it).
    assert Identifier("okta_login", "maya.berg@example.com") in new.identifiers
    # Another Okta user is untouched, and without learned keys a rename is two entities.
    other = resolve(_okta("00u1ola", "maya.berg@example.com"), graph, keys)
    assert other.entity_id == "email:maya.berg@example.com"
    alone = resolve(_okta("00u1maya", "maya.berg@example.com"), graph)
    assert alone.entity_id == "email:maya.berg@example.com"


def test_a_listed_okta_user_is_the_graphs_and_teaches_nothing() -> None:
    maria = {
        "id": "maria",
        "type": "human",
        "identifiers": [{"kind": "okta_user_id", "value": "00u1maria"}],
    }
    graph, keys = IdentityGraph.from_entities([entity_from_mapping(maria)]), OktaUserKeys()
    for login in ("maria.silva@example.com", "maria.costa@example.com"):
        event = resolve(_okta("00u1maria", login), graph, keys)
        assert (event.entity_id, event.resolved_by) == ("maria", "static")
    assert len(keys) == 0


def test_a_deleted_mapping_is_not_kept_alive_by_learned_keys() -> None:
    """The live topic maps Zoe by her Okta id, then a tombstone deletes her: her next events
    resolve by address, never to the deleted entity."""
    zoe = {
        "id": "zoe.contractor",
        "type": "human",
        "identifiers": [{"kind": "okta_user_id", "value": "00u1zoe"}],
    }
    graph, keys = IdentityGraph.from_entities([entity_from_mapping(zoe)]), OktaUserKeys()
    assert resolve(_okta("00u1zoe", "zoe@example.com"), graph, keys).entity_id == "zoe.contractor"
    graph.remove("zoe.contractor")
    after = resolve(_okta("00u1zoe", "zoe.q@example.com"), graph, keys)
    assert (after.entity_id, after.resolved_by) == ("email:zoe.q@example.com", "normalized")
    # A key learned before the graph listed her is dropped once she is listed again.
    graph.upsert(entity_from_mapping(zoe))
    assert resolve(_okta("00u1zoe", "zoe@example.com"), graph, keys).resolved_by == "static"
    graph.remove("zoe.contractor")
    again = resolve(_okta("00u1zoe", "zoe@example.com"), graph, keys)
    assert again.entity_id == "email:zoe@example.com"


def test_a_learned_address_the_graph_lists_later_is_learned_again() -> None:
    graph, keys = IdentityGraph(), OktaUserKeys()
    resolve(_okta("00u1maya", "maya@example.com"), graph, keys)
    # The graph now names the old address as someone (say, its new owner).
    owner = {
        "id": "maya.owner",
        "type": "human",
        "identifiers": [{"kind": "email", "value": "maya@example.com"}],
    }
    graph.upsert(entity_from_mapping(owner))
    renamed = resolve(_okta("00u1maya", "maya.berg@example.com"), graph, keys)
    assert (renamed.entity_id, renamed.resolved_via) == (
        "email:maya.berg@example.com",
        "okta_login:maya.berg@example.com",
    )


def test_learned_okta_keys_are_bounded_least_recently_used_first() -> None:
    graph, keys = IdentityGraph(), OktaUserKeys(capacity=2)
    resolve(_okta("00u1a", "a@example.com"), graph, keys)
    resolve(_okta("00u1b", "b@example.com"), graph, keys)
    resolve(_okta("00u1a", "a2@example.com"), graph, keys)  # a used again: b is the oldest
    resolve(_okta("00u1c", "c@example.com"), graph, keys)
    assert len(keys) == 2
    assert "00u1b" not in keys and "00u1a" in keys and "00u1c" in keys
    assert resolve(_okta("00u1a", "a3@example.com"), graph, keys).entity_id == "email:a@example.com"
    # b was evicted: its renamed login is learned afresh.
    assert (
        resolve(_okta("00u1b", "b2@example.com"), graph, keys).entity_id == "email:b2@example.com"
    )
    with pytest.raises(ValueError):
        OktaUserKeys(capacity=0)
