"""US-format timestamps (``12/12/2025 3:03:58 PM``) as Microsoft exports write them.

AD FS sign-in records exported from Azure Monitor and Log Analytics (and some Entra CSV
exports) carry times as ``M/D/YYYY h:mm:ss AM|PM``: month first, a 12-hour clock, no zone.
Entra writes every time in UTC, so a time without a zone is read as UTC. A 24-hour clock
(no ``AM``/``PM``) and up to 7 fractional digits are accepted too.

:func:`parse_any_time` tries :func:`~seamwatch.udfs.timeparse.parse_time` (ISO-8601, epoch
numbers) first, then this form.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from seamwatch.udfs.timeparse import parse_time

__all__ = ["parse_any_time", "parse_us_time"]

_US = re.compile(
    r"\s*([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})[ T]+([0-9]{1,2}):([0-9]{2})"
    r"(?::([0-9]{2})(?:\.([0-9]{1,7}))?)?\s*(?:([AaPp])\.?[Mm]\.?)?\s*"
)


def parse_us_time(value: object) -> int | None:
    """``M/D/YYYY h:mm[:ss[.fffffff]] [AM|PM]`` (UTC) as epoch milliseconds, else None."""
    if type(value) is not str:
        return None
    match = _US.fullmatch(value)
    if match is None:
        return None
    month, day, year, hour, minute = (int(match.group(i)) for i in range(1, 6))
    second = int(match.group(6) or 0)
    fraction = match.group(7) or ""
    meridiem = match.group(8)
    if meridiem is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem in "Pp" else 0)
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:  # 2/30/2025, 25:00, 60 seconds
        return None
    millis = int(fraction[:3].ljust(3, "0")) if fraction else 0
    return int(moment.timestamp()) * 1000 + millis


def parse_any_time(value: object) -> int | None:
    """:func:`~seamwatch.udfs.timeparse.parse_time`, else :func:`parse_us_time`."""
    parsed = parse_time(value)
    if parsed is None:
        parsed = parse_us_time(value)
    return parsed
