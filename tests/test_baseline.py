"""First-seen country per entity."""

from __future__ import annotations

from seamwatch.udfs.baseline import MAX_COUNTRIES, observe_country


def test_first_country_is_the_baseline_not_an_anomaly() -> None:
    history, is_new = observe_country((), "United States")
    assert (history, is_new) == (("United States",), False)


def test_new_country_after_history_is_flagged_once() -> None:
    history, _ = observe_country((), "United States")
    history, first = observe_country(history, "Romania")
    history, again = observe_country(history, "Romania")
    assert (first, again) == (True, False)
    assert history == ("United States", "Romania")


def test_usual_country_is_not_flagged() -> None:
    history: tuple[str, ...] = ("Ireland", "United States")
    _, is_new = observe_country(history, "Ireland")
    assert is_new is False


def test_events_without_geography_change_nothing() -> None:
    history: tuple[str, ...] = ("Germany",)
    assert observe_country(history, None) == (history, False)
    assert observe_country(history, "") == (history, False)


def test_history_is_bounded_and_keeps_the_most_recent() -> None:
    history: tuple[str, ...] = ()
    for i in range(MAX_COUNTRIES + 5):
        history, _ = observe_country(history, f"C{i}")
    assert len(history) == MAX_COUNTRIES
    assert history[-1] == f"C{MAX_COUNTRIES + 4}"
    assert "C0" not in history
    # Seeing an old country again moves it to the end instead of duplicating it.
    history, is_new = observe_country(history, f"C{MAX_COUNTRIES}")
    assert is_new is False
    assert history.count(f"C{MAX_COUNTRIES}") == 1
    assert history[-1] == f"C{MAX_COUNTRIES}"
