"""Geography users keep current: their own MaxMind City and ASN databases, bundled by default."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from seamwatch.udfs import geo
from seamwatch.udfs.geo import GeoDatabaseError, GeoDatabases, check_databases, enrich
from seamwatch.udfs.records import Event
from tests.mmdb import asn_record, city_record, write_mmdb

IP = "5.2.128.10"


@pytest.fixture
def current(tmp_path: Path) -> Iterator[GeoDatabases]:
    """A City database that moved IP to Cluj-Napoca and an ASN database that knows its AS."""
    city = write_mmdb(
        tmp_path / "City.mmdb",
        "GeoLite2-City",
        {"5.2.128.0/24": city_record("Romania", "RO", "Cluj-Napoca", 46.77, 23.6)},
    )
    asn = write_mmdb(
        tmp_path / "ASN.mmdb", "GeoLite2-ASN", {"5.2.128.0/24": asn_record(9009, "M247 Europe SRL")}
    )
    paths = GeoDatabases(city=str(city), asn=str(asn))
    geo.configure(paths)
    try:
        yield paths
    finally:
        geo.configure(None)


def _event(ip: str) -> Event:
    return Event("e1", "cloudtrail", 0, "GetCallerIdentity", "success", "f:1", src_ip=ip)


def test_supplied_databases_answer_country_city_coordinates_and_the_as(
    current: GeoDatabases,
) -> None:
    event = enrich(_event(IP))
    assert (event.country, event.city, event.geo_source) == ("Romania", "Cluj-Napoca", "geoip")
    assert (event.latitude, event.longitude) == (46.77, 23.6)
    assert (event.asn, event.as_org) == (9009, "M247 Europe SRL")
    # An address the supplied databases do not know gets nothing from the old bundled data.
    assert enrich(_event("8.8.8.8")).city is None


def test_the_bundled_databases_stay_the_default() -> None:
    geo.configure(None)
    event = enrich(_event(IP))
    assert event.country is not None and event.city != "Cluj-Napoca"
    assert event.asn is None  # the bundled data has AS names only


def test_only_an_asn_database_keeps_the_bundled_geography(tmp_path: Path) -> None:
    asn = write_mmdb(tmp_path / "ASN.mmdb", "GeoLite2-ASN", {"5.2.128.0/24": asn_record(9009, "M")})
    geo.configure(None)
    bundled = enrich(_event(IP))
    geo.configure(GeoDatabases(asn=str(asn)))
    try:
        event = enrich(_event(IP))
    finally:
        geo.configure(None)
    assert (event.country, event.city) == (bundled.country, bundled.city)
    assert (event.asn, event.as_org) == (9009, "M")


def test_a_wrong_database_is_refused_naming_the_file(tmp_path: Path) -> None:
    asn = write_mmdb(tmp_path / "ASN.mmdb", "GeoLite2-ASN", {"5.2.128.0/24": asn_record(1, "x")})
    with pytest.raises(GeoDatabaseError, match=r"ASN\.mmdb: a GeoLite2-ASN database, not a City"):
        check_databases(GeoDatabases(city=str(asn)))
    junk = tmp_path / "junk.mmdb"
    junk.write_bytes(b"not a database")
    with pytest.raises(GeoDatabaseError, match=r"--geo-asn .*junk\.mmdb"):
        check_databases(GeoDatabases(asn=str(junk)))
    with pytest.raises(GeoDatabaseError, match=r"missing\.mmdb"):
        check_databases(GeoDatabases(city=str(tmp_path / "missing.mmdb")))
    check_databases(GeoDatabases())  # the bundled data needs no check
