from __future__ import annotations

from typing import Any

import pytest

from seamwatch.udfs.errors import NormalizeError
from seamwatch.udfs.okta import normalize_okta
from seamwatch.udfs.records import Identifier


def okta_event(**overrides: Any) -> dict[str, Any]:
    """A small hand-written System Log event; keyword arguments replace top-level keys."""
    event: dict[str, Any] = {
        "uuid": "3f1c2b9e-0000-4000-8000-00000000aa01",
        "published": "2024-03-01T12:00:00.250Z",
        "eventType": "user.session.start",
        "actor": {
            "id": "00uAAAA1111",
            "type": "User",
            "alternateId": "Dana.Lee+admin@Example.org",
            "displayName": "Dana Lee",
        },
        "client": {
            "ipAddress": "203.0.113.7",
            "zone": "null",
            "userAgent": {"rawUserAgent": "Mozilla/5.0 test", "browser": "CHROME"},
            "geographicalContext": {"country": "Norway", "city": "Bergen"},
        },
        "outcome": {"result": "SUCCESS", "reason": None},
        "authenticationContext": {"externalSessionId": "102abcSESSION"},
        "target": None,
    }
    event.update(overrides)
    return event


def ids(*pairs: tuple[str, str]) -> list[Identifier]:
    return [Identifier(kind, value) for kind, value in pairs]


def test_maps_every_field() -> None:
    target = [
        {"type": "AppInstance", "alternateId": "Sales", "displayName": "Salesforce"},
        {"id": "00uBBBB", "type": "User", "alternateId": "Sam.Ray@example.org"},
        {"id": "00uCCCC", "type": "User", "alternateId": "second@example.org"},
    ]
    event = normalize_okta(okta_event(target=target), "f.jsonl:3")
    assert event.event_id == "3f1c2b9e-0000-4000-8000-00000000aa01"
    assert event.source == "okta"
    assert event.event_time == 1_709_294_400_250
    assert event.action == "user.session.start"
    assert event.outcome == "success"
    assert event.raw_ref == "f.jsonl:3"
    assert event.service is None
    assert event.principal == "Dana.Lee+admin@Example.org"
    assert event.principal_type == "User"
    assert event.src_ip == "203.0.113.7"
    assert event.src_host is None
    assert (event.country, event.city) == ("Norway", "Bergen")
    assert event.user_agent == "Mozilla/5.0 test"
    assert event.session_id == "102abcSESSION"
    assert event.target_user == "Sam.Ray@example.org"
    assert event.app == "Salesforce"  # the app's own name, not the label an admin gave it
    assert event.error_code is None


@pytest.mark.parametrize(
    ("actor", "principal", "principal_type", "expected"),
    [
        pytest.param(
            {"id": "00uAAAA1111", "type": "User", "alternateId": "Dana.Lee+admin@Example.org"},
            "Dana.Lee+admin@Example.org",
            "User",
            ids(
                ("okta_user_id", "00uAAAA1111"),
                ("okta_login", "dana.lee+admin@example.org"),
                ("email", "dana.lee@example.org"),
            ),
            id="user",
        ),
        pytest.param(
            {"id": "00uAAAA1111", "alternateId": "dana@example.org"},
            "dana@example.org",
            None,
            ids(
                ("okta_user_id", "00uAAAA1111"),
                ("okta_login", "dana@example.org"),
                ("email", "dana@example.org"),
            ),
            id="user-without-type",
        ),
        pytest.param(
            {"id": "00uAAAA1111", "type": "User", "alternateId": "DLEE"},
            "DLEE",
            "User",
            ids(("okta_user_id", "00uAAAA1111"), ("okta_login", "dlee")),
            id="user-login-not-an-email",
        ),
        pytest.param(
            # A failed login for a user Okta does not know: the id is "unknown".
            {"id": "unknown", "type": "User", "alternateId": "admin"},
            "admin",
            "User",
            ids(("okta_login", "admin")),
            id="user-unknown-id",
        ),
        pytest.param(
            {"id": "0oaCLIENT9", "type": "PublicClientApp", "alternateId": "Okta Dashboard"},
            "Okta Dashboard",
            "PublicClientApp",
            ids(("okta_client", "0oaCLIENT9")),
            id="public-client-app",
        ),
        pytest.param(
            {"id": "0oaSYSTEM1", "type": "SystemPrincipal", "alternateId": "system@okta.com"},
            "system@okta.com",
            "SystemPrincipal",
            ids(("okta_system", "0oaSYSTEM1")),
            id="system-principal",
        ),
        pytest.param(
            {"id": "198.51.100.4", "type": "IP address", "alternateId": "unknown"},
            "unknown",
            "IP address",
            ids(("ip", "198.51.100.4")),
            id="ip-address-actor",
        ),
        pytest.param(
            {"id": "0oaX", "type": "AppInstance", "alternateId": "x"},
            "x",
            "AppInstance",
            [],
            id="other-type",
        ),
        pytest.param(None, None, None, [], id="actor-null"),
    ],
)
def test_actor_identifiers(
    actor: dict[str, Any] | None,
    principal: str | None,
    principal_type: str | None,
    expected: list[Identifier],
) -> None:
    event = normalize_okta(okta_event(actor=actor), "r")
    assert event.principal == principal
    assert event.principal_type == principal_type
    assert event.identifiers == expected


def test_missing_actor_key() -> None:
    rec = okta_event()
    del rec["actor"]
    event = normalize_okta(rec, "r")
    assert (event.principal, event.identifiers) == (None, [])


@pytest.mark.parametrize(
    ("outcome", "expected", "error_code"),
    [
        ({"result": "SUCCESS"}, "success", None),
        ({"result": "ALLOW"}, "success", None),
        ({"result": "FAILURE", "reason": "INVALID_CREDENTIALS"}, "failure", "INVALID_CREDENTIALS"),
        ({"result": "DENY", "reason": "Password Spray"}, "failure", "Password Spray"),
        ({"result": "failure"}, "failure", None),
        ({"result": "CHALLENGE", "reason": "policy said so"}, "unknown", None),
        ({"result": "SKIPPED"}, "unknown", None),
        ({"result": None}, "unknown", None),
        (None, "unknown", None),
    ],
)
def test_outcome(outcome: dict[str, Any] | None, expected: str, error_code: str | None) -> None:
    event = normalize_okta(okta_event(outcome=outcome), "r")
    assert (event.outcome, event.error_code) == (expected, error_code)


def test_explicit_nulls_everywhere() -> None:
    rec = okta_event(
        uuid=None,
        actor={"id": None, "type": None, "alternateId": None},
        client={
            "ipAddress": None,
            "zone": "null",
            "userAgent": None,
            "geographicalContext": {"country": "null", "city": None},
        },
        outcome=None,
        authenticationContext={"externalSessionId": None},
        target=None,
    )
    event = normalize_okta(rec, "r")
    assert len(event.event_id) == 20  # sha1 fallback
    assert event.identifiers == []
    assert (event.src_ip, event.src_host, event.country, event.city) == (None, None, None, None)
    assert (event.user_agent, event.session_id, event.target_user) == (None, None, None)
    assert event.app is None


def test_client_and_geo_absent_or_wrong_type() -> None:
    event = normalize_okta(okta_event(client="null", authenticationContext=[]), "r")
    assert (event.src_ip, event.country, event.session_id) == (None, None, None)


def test_non_ip_client_address_goes_to_src_host() -> None:
    rec = okta_event(client={"ipAddress": "proxy.example.net"})
    event = normalize_okta(rec, "r")
    assert (event.src_ip, event.src_host) == (None, "proxy.example.net")


def test_session_id_unknown_is_dropped() -> None:
    event = normalize_okta(okta_event(authenticationContext={"externalSessionId": "unknown"}), "r")
    assert event.session_id is None


def test_target_list_without_user() -> None:
    event = normalize_okta(okta_event(target=[{"type": "AppInstance", "alternateId": "x"}]), "r")
    assert event.target_user is None
    assert event.app is None  # an AppInstance without displayName names no app


def test_app_is_the_first_app_instance_with_a_name() -> None:
    target = [
        {"type": "AppUser", "alternateId": "dana", "displayName": "Dana"},
        {"type": "AppInstance", "displayName": None},
        {"type": "AppInstance", "displayName": "AWS Account Federation"},
        {"type": "AppInstance", "displayName": "Slack"},
    ]
    event = normalize_okta(okta_event(eventType="user.authentication.sso", target=target), "r")
    assert (event.app, event.target_user) == ("AWS Account Federation", None)


def test_fallback_event_id_is_stable_and_content_based() -> None:
    a = normalize_okta(okta_event(uuid=None), "r").event_id
    b = normalize_okta(okta_event(uuid=None), "other-ref").event_id
    c = normalize_okta(okta_event(uuid=None, eventType="user.session.end"), "r").event_id
    assert a == b
    assert a != c
    assert len(a) == 20 and all(ch in "0123456789abcdef" for ch in a)


def test_lower_cased_keys_give_the_same_event() -> None:
    camel = okta_event()
    lowered = {
        "uuid": camel["uuid"],
        "published": camel["published"],
        "eventtype": camel["eventType"],
        "actor": {"id": "00uAAAA1111", "type": "User", "alternateid": "Dana.Lee+admin@Example.org"},
        "client": {
            "ipaddress": "203.0.113.7",
            "useragent": {"rawuseragent": "Mozilla/5.0 test"},
            "geographicalcontext": {"country": "Norway", "city": "Bergen"},
        },
        "outcome": {"result": "SUCCESS"},
        "authenticationcontext": {"externalsessionid": "102abcSESSION"},
        "Target": None,
    }
    assert normalize_okta(lowered, "r") == normalize_okta(camel, "r")


@pytest.mark.parametrize(
    ("rec", "reason"),
    [
        (okta_event(eventType=None), "not an Okta event: no eventType"),
        ({"published": "2024-03-01T12:00:00Z"}, "not an Okta event: no eventType"),
        (okta_event(published=None), "no usable event time: missing published"),
        (okta_event(published="redacted"), "no usable event time: published='redacted'"),
        (
            okta_event(published="2017-09-31T22:00:00.000Z"),
            "no usable event time: published='2017-09-31T22:00:00.000Z'",
        ),
    ],
)
def test_unusable_records_raise(rec: dict[str, Any], reason: str) -> None:
    with pytest.raises(NormalizeError) as info:
        normalize_okta(rec, "r")
    assert str(info.value) == reason


def test_published_without_key() -> None:
    rec = okta_event()
    del rec["published"]
    with pytest.raises(NormalizeError, match="no usable event time"):
        normalize_okta(rec, "r")


def test_one_nested_object_in_another_casing() -> None:
    """Vendor casing at the top, Panther's lower-cased keys in one nested object."""
    camel = okta_event()
    mixed = okta_event(
        actor={"id": "00uAAAA1111", "TYPE": "User", "alternateid": "Dana.Lee+admin@Example.org"},
        client={**camel["client"], "ipAddress": None, "IPADDRESS": "ignored", "ipaddress": "x"},
    )
    mixed["client"].pop("ipAddress")
    event = normalize_okta(mixed, "r")
    assert (event.principal, event.principal_type) == ("Dana.Lee+admin@Example.org", "User")
    assert event.identifiers == normalize_okta(camel, "r").identifiers
    assert event.src_host == "x"  # the all-lower-case spelling wins over other spellings


def test_repeated_actor_gives_equal_events_with_own_lists() -> None:
    first, second = normalize_okta(okta_event(), "r"), normalize_okta(okta_event(), "r")
    assert first == second
    assert first.identifiers is not second.identifiers
    first.identifiers.clear()
    assert normalize_okta(okta_event(), "r").identifiers == second.identifiers


def test_actor_or_client_as_json_text() -> None:
    rec = okta_event()
    rec["client"] = '{"ipAddress": "203.0.113.9"}'
    rec["actor"] = '{"type": "User", "alternateId": "a@example.org", "id": "00u1"}'
    event = normalize_okta(rec, "r")
    assert (event.src_ip, event.principal) == ("203.0.113.9", "a@example.org")


def test_okta_coordinates_and_network_are_read() -> None:
    event = normalize_okta(
        {
            "uuid": "u1",
            "published": "2026-03-04T10:00:00.000Z",
            "eventType": "user.session.start",
            "actor": {"id": "00u1", "type": "User", "alternateId": "a@b.co"},
            "client": {
                "ipAddress": "86.105.9.46",
                "geographicalContext": {
                    "country": "Romania",
                    "city": "Bucharest",
                    "geolocation": {"lat": 44.43, "lon": 26.1},
                },
            },
            "securityContext": {"asNumber": 9009, "asOrg": "danubehost srl"},
            "outcome": {"result": "SUCCESS"},
        },
        "f:1",
    )
    assert (event.latitude, event.longitude) == (44.43, 26.1)
    assert (event.asn, event.as_org) == (9009, "danubehost srl")
