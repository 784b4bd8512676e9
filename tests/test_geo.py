"""Offline geolocation: address classes, database lookups and Okta-vs-database precedence.

The expected values come from the databases the pinned packages ship (GeoLite2-City 2018-07-03
via maxminddb-geolite2, GeoLite2 2024-06-18 country + ASN via geoip2fast).
"""

from __future__ import annotations

import pytest

from seamwatch.udfs.geo import UNKNOWN, GeoInfo, classify_address, enrich, geolocate
from seamwatch.udfs.records import Event

LONDON_IP = "81.2.69.142"  # GeoLite2 test address: Willesden, GB, accuracy 200 km


def _event(src_ip: str | None, **fields: object) -> Event:
    base = Event("e1", "cloudtrail", 0, "GetCallerIdentity", "success", "t:1", src_ip=src_ip)
    for name, value in fields.items():
        setattr(base, name, value)
    return base


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("81.2.69.142", "public"),
        ("2a03:2880:f12f:83:face:b00c::25de", "public"),
        ("::ffff:81.2.69.142", "public"),
        ("[2a03:2880::1]", "public"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.254", "private"),
        ("172.32.0.1", "public"),
        ("192.168.1.10", "private"),
        ("127.0.0.1", "private"),
        ("169.254.169.254", "private"),
        ("100.64.0.1", "private"),
        ("100.127.255.254", "private"),
        ("100.128.0.1", "public"),
        ("192.0.2.7", "private"),
        ("198.51.100.7", "private"),
        ("203.0.113.7", "private"),
        ("0.0.0.0", "private"),
        ("224.0.0.1", "private"),
        ("::1", "private"),
        ("fe80::1", "private"),
        ("fd12:3456:789a::1", "private"),
        ("2001:db8::1", "private"),
        ("::ffff:10.0.0.1", "private"),
        ("AWS Internal", "non_ip"),
        ("ec2.amazonaws.com", "non_ip"),
        ("", "non_ip"),
        (None, "non_ip"),
        ("999.1.1.1", "non_ip"),
    ],
)
def test_classify_address(value: str | None, kind: str) -> None:
    assert classify_address(value) == kind


def test_geolocate_a_city_address() -> None:
    info = geolocate(LONDON_IP)
    assert info == GeoInfo(
        country="United Kingdom",
        city="Willesden",
        latitude=51.5333,
        longitude=-0.2333,
        asn=None,
        as_org="Andrews & Arnold Ltd",
        accuracy_km=200,
    )


def test_ipv4_mapped_ipv6_locates_as_its_ipv4() -> None:
    assert geolocate("::ffff:" + LONDON_IP) == geolocate(LONDON_IP)


def test_block_that_moved_country_keeps_the_fresh_country_and_no_coordinates() -> None:
    # 139.190.0.1: Pakistan (Rawalpindi) in the 2018 city data, United States in 2024.
    info = geolocate("139.190.0.1")
    assert (info.country, info.city, info.latitude, info.longitude) == (
        "United States",
        None,
        None,
        None,
    )


@pytest.mark.parametrize("value", ["10.0.0.1", "100.64.3.4", "AWS Internal", "", None, "1.2.3"])
def test_non_public_addresses_are_never_located(value: str | None) -> None:
    assert geolocate(value) is UNKNOWN


def test_enrich_fills_cloudtrail_geography_from_the_database() -> None:
    event = enrich(_event(LONDON_IP))
    assert (
        event.ip_kind,
        event.geo_source,
        event.country,
        event.city,
        event.latitude,
        event.longitude,
        event.asn,
        event.as_org,
    ) == (
        "public",
        "geoip",
        "United Kingdom",
        "Willesden",
        51.5333,
        -0.2333,
        None,
        "Andrews & Arnold Ltd",
    )


def test_enrich_does_not_modify_its_argument() -> None:
    original = _event(LONDON_IP)
    enrich(original)
    assert (original.country, original.ip_kind, original.geo_source) == (None, None, None)


def test_enrich_drops_country_centroid_coordinates() -> None:
    # 8.8.8.8: United States at the country centroid, accuracy radius 1,000 km.
    event = enrich(_event("8.8.8.8"))
    assert (event.country, event.latitude, event.longitude, event.geo_source) == (
        "United States",
        None,
        None,
        "geoip",
    )
    loose = enrich(_event("8.8.8.8"), max_accuracy_km=1000)
    assert (loose.latitude, loose.longitude) == (37.751, -97.822)


def test_okta_geography_wins_over_the_database() -> None:
    okta = _event(LONDON_IP, source="okta", country="France", city="Paris")
    event = enrich(okta)
    assert (event.country, event.city, event.latitude, event.geo_source, event.as_org) == (
        "France",
        "Paris",
        None,  # the database disagrees on the place: its coordinates are not used
        "okta",
        "Andrews & Arnold Ltd",  # the network is not a place: filled when Okta has none
    )


def test_okta_coordinates_are_kept() -> None:
    okta = _event(
        LONDON_IP, country="France", city="Paris", latitude=48.8566, longitude=2.3522, asn=3215
    )
    event = enrich(okta)
    assert (event.latitude, event.longitude, event.asn, event.as_org, event.geo_source) == (
        48.8566,
        2.3522,
        3215,
        None,
        "okta",
    )


def test_okta_country_without_coordinates_takes_the_database_point_when_they_agree() -> None:
    okta = _event(LONDON_IP, country="United Kingdom")
    event = enrich(okta)
    assert (event.city, event.latitude, event.longitude, event.geo_source) == (
        "Willesden",
        51.5333,
        -0.2333,
        "okta",
    )


@pytest.mark.parametrize(
    ("src_ip", "src_host", "kind"),
    [
        ("10.20.30.40", None, "private"),
        ("100.64.0.9", None, "private"),
        ("fd00::1", None, "private"),
        (None, "AWS Internal", "non_ip"),
        (None, "athena.amazonaws.com", "non_ip"),
    ],
)
def test_enrich_marks_private_and_non_ip_sources_without_guessing(
    src_ip: str | None, src_host: str | None, kind: str
) -> None:
    event = enrich(_event(src_ip, src_host=src_host))
    assert (
        event.ip_kind,
        event.country,
        event.city,
        event.latitude,
        event.as_org,
        event.geo_source,
    ) == (kind, None, None, None, None, None)


def test_enrich_of_a_private_okta_event_keeps_okta_geography() -> None:
    event = enrich(_event("10.0.0.5", source="okta", country="Germany", city="Berlin"))
    assert (event.ip_kind, event.country, event.city, event.geo_source) == (
        "private",
        "Germany",
        "Berlin",
        "okta",
    )
