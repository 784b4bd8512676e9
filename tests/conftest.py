"""Shared fixtures: where the third-party log corpus lives (read in place, never copied)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kafka_broker import KafkaBroker

CORPUS_DIR = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``last`` run after all the others (each group keeps its order).

    The schema-registry tests run a Kafka job in this process's mini-cluster. Once (CI, after
    the merge that added the late-events sink) that job's tasks hung in the embedded Python's
    open after the test had passed, and every later job of the session waited on the same
    interpreter. Until the cause is found, nothing runs after them.
    """
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """``/work/shared/corpus`` (relative to this checkout); skips the test when it is absent."""
    if not CORPUS_DIR.is_dir():
        pytest.skip(f"third-party log corpus not found at {CORPUS_DIR} (see PROVENANCE.md)")
    return CORPUS_DIR


@pytest.fixture(scope="module")
def kafka_broker() -> Iterator[KafkaBroker]:
    """A real Kafka broker (KRaft) on free loopback ports, shared by one test module."""
    broker = KafkaBroker().start()
    try:
        yield broker
    finally:
        broker.stop()
