"""First-seen country per entity."""

from __future__ import annotations

from seamwatch.udfs.baseline import (
    MAX_COUNTRIES,
    NOVELTY_SECONDS,
    CountryHistory,
    Seen,
    decode_history,
    encode_history,
    observe_country,
)

HOUR = 3_600_000


def _countries(history: CountryHistory) -> list[str]:
    return [seen.country for seen in history]


def test_first_country_is_the_baseline_not_an_anomaly() -> None:
    history, is_new = observe_country((), "United States", 0)
    assert (_countries(history), is_new) == (["United States"], False)


def test_new_country_after_history_is_flagged() -> None:
    history, _ = observe_country((), "United States", 0)
    history, first = observe_country(history, "Romania", 24 * HOUR)
    assert first is True
    assert _countries(history) == ["United States", "Romania"]


def test_a_new_country_stays_new_for_the_novelty_window_only() -> None:
    history, _ = observe_country((), "United States", 0)
    history, mfa = observe_country(history, "Romania", 24 * HOUR)
    history, login = observe_country(history, "Romania", 24 * HOUR + 8_000)
    history, later = observe_country(history, "Romania", 24 * HOUR + NOVELTY_SECONDS * 1000)
    assert (mfa, login, later) == (True, True, False)


def test_usual_country_is_not_flagged() -> None:
    history: CountryHistory = (Seen("Ireland", 0, False), Seen("United States", 5, False))
    _, is_new = observe_country(history, "Ireland", 10)
    assert is_new is False


def test_events_without_geography_change_nothing() -> None:
    history: CountryHistory = (Seen("Germany", 0, False),)
    assert observe_country(history, None, 1) == (history, False)
    assert observe_country(history, "", 1) == (history, False)


def test_failed_attempts_are_flagged_but_do_not_teach_the_baseline() -> None:
    history: CountryHistory = (Seen("United States", 0, False),)
    after_denied, denied = observe_country(history, "Romania", HOUR, succeeded=False)
    assert denied is True
    assert after_denied == history
    _, login = observe_country(after_denied, "Romania", HOUR + 60_000, succeeded=True)
    assert login is True


def test_history_is_bounded_and_keeps_the_most_recent() -> None:
    history: CountryHistory = ()
    for i in range(MAX_COUNTRIES + 5):
        history, _ = observe_country(history, f"C{i}", i * HOUR * 2)
    assert len(history) == MAX_COUNTRIES
    assert history[-1].country == f"C{MAX_COUNTRIES + 4}"
    assert "C0" not in _countries(history)
    # Seeing an old country again moves it to the end instead of duplicating it.
    history, is_new = observe_country(history, f"C{MAX_COUNTRIES}", 100 * HOUR)
    assert is_new is False
    assert _countries(history).count(f"C{MAX_COUNTRIES}") == 1
    assert history[-1].country == f"C{MAX_COUNTRIES}"


def test_state_encoding_round_trips() -> None:
    history: CountryHistory = (Seen("United States", 0, False), Seen("Côte d'Ivoire|x", 7, True))
    assert decode_history(encode_history(history)) == history
    assert decode_history(None) == ()
    assert decode_history("") == ()
