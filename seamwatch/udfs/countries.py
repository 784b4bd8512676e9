"""Country codes to the names the rest of the pipeline compares.

Okta and the offline databases (:mod:`seamwatch.udfs.geo`) name countries in English
(``United States``); Entra ID writes ISO 3166-1 alpha-2 codes (``US``). The baseline compares
an entity's countries across sources, so an Entra code is turned into the name the offline
database (``geoip2fast``, the same data that names the countries of located addresses) gives
that code, before the event is located or flagged. A code the table does not know stays as
written.
"""

from __future__ import annotations

import threading

__all__ = ["country_name"]

_lock = threading.Lock()
_names: dict[str, str] | None = None


def _table() -> dict[str, str]:
    global _names
    if _names is None:
        with _lock:
            if _names is None:
                # geoip2fast fills its code -> name table when a database is opened: open the
                # one the geolocation uses (once per process, shared with it).
                from seamwatch.udfs.geo import geolocate

                geolocate("8.8.8.8")
                from geoip2fast import geoip2fast as module  # type: ignore[import-untyped]

                table = getattr(module, "geoipCountryNamesDict", None) or {}
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
    return _table().get(value.upper(), value)
