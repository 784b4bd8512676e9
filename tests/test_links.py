"""Links learned from credential-issuing calls."""

from __future__ import annotations

import pytest

from seamwatch.udfs.errors import StateFormatError
from seamwatch.udfs.identity import Entity, IdentityGraph
from seamwatch.udfs.links import (
    LINK_FORMAT,
    LONG_TERM_LINK_SECONDS,
    TEMPORARY_LINK_SECONDS,
    Link,
    apply_link,
    teaches,
    waits_for_link,
)
from seamwatch.udfs.records import Event, Identifier

GRAPH = IdentityGraph.from_entities(
    [
        Entity("dana", "human", "Dana", (Identifier("email", "dana@example.com"),)),
        Entity(
            "svc-backup",
            "service",
            None,
            (Identifier("aws_arn", "arn:aws:iam::111122223333:user/svc-backup"),),
        ),
    ]
)


def _event(action: str, **fields: object) -> Event:
    event = Event("e1", "cloudtrail", 1_000_000, action, "success", "f:1")
    for name, value in fields.items():
        setattr(event, name, value)
    return event


@pytest.mark.parametrize(
    "action",
    [
        "AssumeRole",
        "AssumeRoleWithSAML",
        "AssumeRoleWithWebIdentity",
        "GetSessionToken",
        "GetFederationToken",
    ],
)
def test_temporary_credentials_belong_to_the_caller(action: str) -> None:
    event = _event(
        action,
        issued_access_key="ASIANEW",
        entity_id="dana",
        entity_type="human",
        entity_name="Dana",
        resolved_by="static",
        confidence=0.9,
    )
    key, link = teaches(event, GRAPH) or ("", None)
    assert key == "ASIANEW"
    assert link is not None
    assert (link.entity_id, link.entity_type, link.taught_by) == ("dana", "human", "e1")
    assert link.confidence == pytest.approx(0.855)


def test_created_access_key_belongs_to_the_user_it_was_created_for() -> None:
    event = _event(
        "CreateAccessKey",
        issued_access_key="AKIANEW",
        target_user="svc-backup",
        account_id="111122223333",
        entity_id="dana",
        resolved_by="static",
        confidence=1.0,
    )
    taught = teaches(event, GRAPH)
    assert taught is not None
    assert taught[0] == "AKIANEW"
    assert (taught[1].entity_id, taught[1].entity_type) == ("svc-backup", "service")


def test_failed_or_unresolved_issuers_teach_nothing() -> None:
    failed = _event("AssumeRole", issued_access_key="ASIAX", entity_id="dana", outcome="failure")
    failed.outcome = "failure"
    unresolved = _event("AssumeRole", issued_access_key="ASIAX", entity_id="unresolved:x")
    assert teaches(failed, GRAPH) is None
    assert teaches(unresolved, GRAPH) is None
    assert teaches(_event("GetCallerIdentity", entity_id="dana"), GRAPH) is None


def test_only_events_not_resolved_verbatim_wait_for_a_link() -> None:
    verbatim = _event("ListBuckets", access_key_id="ASIAK", resolved_by="static", confidence=1.0)
    derived = _event("ListBuckets", access_key_id="ASIAK", resolved_by="static", confidence=0.9)
    stranger = _event("ListBuckets", access_key_id="ASIAK", resolved_by="unresolved")
    keyless = _event("ListBuckets", resolved_by="unresolved")
    assert [waits_for_link(e) for e in (verbatim, derived, stranger, keyless)] == [
        False,
        True,
        True,
        False,
    ]


def test_applying_a_link_says_how_the_event_was_resolved() -> None:
    event = _event("CreateAccessKey", access_key_id="ASIAK", entity_id="unresolved:aws_arn:x")
    link = Link("dana", "human", "Dana", 0.855, "issuer", 0)
    apply_link(event, link)
    assert (event.entity_id, event.resolved_by, event.resolved_via, event.confidence) == (
        "dana",
        "learned",
        "aws_access_key:ASIAK",
        0.855,
    )


def test_links_expire_in_event_time() -> None:
    link = Link("dana", "human", None, 0.9, "issuer", 0)
    assert link.valid_at("ASIAK", TEMPORARY_LINK_SECONDS * 1000)
    assert not link.valid_at("ASIAK", TEMPORARY_LINK_SECONDS * 1000 + 1)
    assert link.valid_at("AKIAK", LONG_TERM_LINK_SECONDS * 1000)
    assert not link.valid_at("ASIAK", -3_600_000)


def test_link_state_encoding_round_trips() -> None:
    link = Link("dana", "human", None, 0.855, "evt-1", 1_700_000_000_000)
    assert link.encode().endswith(f"\t{LINK_FORMAT}")
    assert Link.decode(link.encode()) == link


# Written by Link.encode before the format had a version (commit c58aee3): version 0.
V0_LINKS = [
    (
        "dana.whitfield\thuman\tDana Whitfield\t0.8550\tevt-saml-1\t1772620127000",
        Link("dana.whitfield", "human", "Dana Whitfield", 0.855, "evt-saml-1", 1772620127000),
    ),
    (
        "unresolved:aws_arn:arn:aws:iam::111122223333:user/ops\tunknown\t\t0.9500\tevt-key-2"
        "\t1772620200000",
        Link(
            "unresolved:aws_arn:arn:aws:iam::111122223333:user/ops",
            "unknown",
            None,
            0.95,
            "evt-key-2",
            1772620200000,
        ),
    ),
]


@pytest.mark.parametrize(("text", "link"), V0_LINKS)
def test_a_link_of_the_format_before_the_version_marker_is_read(text: str, link: Link) -> None:
    assert Link.decode(text) == link
    # ... and written again in the current version, the same six fields first.
    assert link.encode() == f"{text}\tv1"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("dana\thuman\t\t0.9500\tevt-1\t1772620127000\tv2", "'v2'"),
        ("dana\thuman\t\t0.9500\tevt-1\t1772620127000\tv1\tmore", "'v1'"),
        ("dana\thuman\t0.9500", "'none'"),
    ],
)
def test_a_link_of_another_version_fails_naming_it(text: str, named: str) -> None:
    with pytest.raises(StateFormatError, match=f"format version {named}"):
        Link.decode(text)


def test_a_link_overrides_a_session_name_but_not_an_agreeing_static_resolution() -> None:
    link = Link("dana", "human", "Dana", 0.855, "issuer", 0)
    agreeing = _event("ListUsers", access_key_id="ASIAK", entity_id="dana")
    agreeing.resolved_by, agreeing.confidence = "static", 0.9
    apply_link(agreeing, link)
    assert (agreeing.resolved_by, agreeing.confidence) == ("static", 0.9)
    spoofed = _event("ListUsers", access_key_id="ASIAK", entity_id="ceo")
    spoofed.resolved_by, spoofed.confidence = "static", 0.9
    apply_link(spoofed, link)
    assert (spoofed.entity_id, spoofed.resolved_by) == ("dana", "learned")
