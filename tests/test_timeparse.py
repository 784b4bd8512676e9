from __future__ import annotations

import pytest

from seamwatch.udfs.timeparse import parse_time

# 2021-05-20T15:53:47Z
T = 1_621_526_027_000


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2021-05-20T15:53:47Z", T),
        ("2021-05-20T15:53:47z", T),
        ("2021-05-20T15:53:47.490Z", T + 490),
        ("2021-05-20T15:53:47.49Z", T + 490),
        ("2021-05-20T15:53:47.4Z", T + 400),
        ("2021-05-20T15:53:47.123456789Z", T + 123),  # truncated, not rounded
        ("2021-05-20T15:53:47.999999Z", T + 999),
        ("2021-05-20T15:53:47.000000000Z", T),
        ("2021-05-20T17:53:47+02:00", T),
        ("2021-05-20T21:23:47+0530", T),
        ("2021-05-20T10:53:47-05", T),
        ("2021-05-20T15:53:47+00:00", T),
        ("2021-05-20 15:53:47", T),  # Panther, no zone = UTC
        ("2021-05-20 15:53:47.000000000", T),
        ("2021-05-20 15:53:47.250", T + 250),
        ("2021-05-20 15:53:47Z", T),
        ("20210520T155347Z", T),
        ("  2021-05-20T15:53:47Z\n", T),
        ("2021-05-20", T - (15 * 3600 + 53 * 60 + 47) * 1000),
        ("2020-02-29T00:00:00Z", 1_582_934_400_000),
        ("1970-01-01T00:00:00Z", 0),
        (1_621_526_027, T),
        (1_621_526_027.5, T + 500),
        (1_621_526_027_000, T),
        (1_621_526_027_000_000, T),
        (1_621_526_027_000_000_000, T),
        ("1621526027", T),
        ("1621526027000", T),
    ],
)
def test_parses(value: object, expected: int) -> None:
    assert parse_time(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "redacted",
        "...",
        "2017-09-31T00:00:00.000Z",  # Okta docs example: September has 30 days
        "2021-02-29T00:00:00Z",
        "2021-13-01T00:00:00Z",
        "2021-05-20T24:00:01Z",
        "2016-12-31T23:59:60Z",
        "2021-05-20T15:53:47+25:00",
        "May 20, 2021 3:53:47 PM",
        "2021-05-20T15:53:47Zjunk",
        "١٦٢١٥٢٦٠٢٧",  # Arabic-Indic digits are not an epoch
        True,
        False,
        -5,
        float("nan"),
        float("inf"),
        1e25,
        [],
        {"time": "2021-05-20T15:53:47Z"},
    ],
)
def test_rejects(value: object) -> None:
    assert parse_time(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01T00:00:00.0009Z", 0),
        ("1969-12-31T23:59:59.9995Z", -1),  # floored, as an integer division would
        ("1969-12-31 23:59:59.001", -999),
        ("0001-01-01T00:00:00Z", -62_135_596_800_000),
        ("9999-12-31T23:59:59.999999+00:00", 253_402_300_799_999),
    ],
)
def test_exact_milliseconds_around_and_far_from_the_epoch(value: str, expected: int) -> None:
    assert parse_time(value) == expected
