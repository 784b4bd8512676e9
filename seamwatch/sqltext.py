"""SQL text from Python values: literals and interval literals as Flink SQL reads them.

Below every module that writes SQL (the rule compiler, the source tables, the baseline and
link SQL): it imports nothing of the package.
"""

from __future__ import annotations

# Flink SQL writes a rule's window and a source's watermark bound as a DAY TO SECOND interval
# literal, whose day field holds two digits: 100 days is refused at planning ("Interval field
# value 100 exceeds precision of DAY(2)"). So at most 99 days 23:59:59.
MAX_INTERVAL_SECONDS = 100 * 86400 - 1


def check_interval(seconds: int, what: str) -> int:
    """``seconds`` if Flink SQL can hold it as an interval (:data:`MAX_INTERVAL_SECONDS`)."""
    if seconds > MAX_INTERVAL_SECONDS:
        raise ValueError(
            f"{what} of {seconds}s is longer than Flink SQL accepts for an interval "
            "(at most 99 days 23:59:59, e.g. '99d')"
        )
    return seconds


def sql_literal(value: str | bool | int | float) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + value.replace("'", "''") + "'"


def sql_interval(seconds: int) -> str:
    """A day-to-second interval literal (Flink refuses ``INTERVAL '900' SECOND``), at most
    :data:`MAX_INTERVAL_SECONDS` (the day field has two digits)."""
    check_interval(seconds, "an interval")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"INTERVAL '{days} {hours:02d}:{minutes:02d}:{secs:02d}' DAY TO SECOND"
