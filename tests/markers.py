"""The markers that say which slow component a test starts, enforced where it starts.

``make unit`` runs ``pytest -m "not flink and not kafka and not cluster"``: it is only quick and
free of Maven-fetched jars if every test that starts a Flink JVM, a Kafka broker (or the schema
registry next to it) or the standalone cluster carries the marker. The helpers that start those
call :func:`require` and fail an unmarked test on the spot, so a missing marker shows in any run
(``tests/conftest.py`` records the running test and guards PyFlink's gateway launch).
"""

from __future__ import annotations

import pytest

current: pytest.Item | None = None  # the test being set up or run; None outside a test


def require(marker: str, what: str) -> None:
    """Fail the running test unless it is marked ``marker`` (``what`` names what it starts)."""
    item = current
    if item is not None and item.get_closest_marker(marker) is None:
        pytest.fail(
            f"{item.nodeid} starts {what} but is not marked `{marker}`: add "
            f"@pytest.mark.{marker} (or pytestmark) so that `make unit` leaves it out",
            pytrace=False,
        )
