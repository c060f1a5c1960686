from __future__ import annotations

import random

import pytest

from ingest.scheduler import Hints, backoff_delay, due, max_age, next_interval, start_interval
from wiredesk.settings import IngestSettings

S = IngestSettings(
    default_interval_seconds=300, min_interval_seconds=60, max_interval_seconds=3600, max_backoff_seconds=7200
)


def test_interval_shrinks_with_news_and_grows_without() -> None:
    assert next_interval(300, changed=3, configured=None, hints=Hints(), settings=S) == 150
    assert next_interval(300, changed=0, configured=None, hints=Hints(), settings=S) == 450
    assert next_interval(80, changed=5, configured=None, hints=Hints(), settings=S) == 60  # floor
    assert next_interval(3000, changed=0, configured=None, hints=Hints(), settings=S) == 3600  # ceiling
    assert next_interval(0, changed=0, configured=None, hints=Hints(), settings=S) == 450  # never polled


def test_configured_interval_is_kept() -> None:
    assert next_interval(900, changed=9, configured=900, hints=Hints(), settings=S) == 900
    assert start_interval(900, S) == 900
    assert start_interval(None, S) == 300


def test_publisher_hints_are_lower_bounds() -> None:
    assert next_interval(300, changed=3, configured=None, hints=Hints(ttl_seconds=1800), settings=S) == 1800
    assert next_interval(300, changed=3, configured=None, hints=Hints(max_age_seconds=600), settings=S) == 600
    # A week-long ttl cannot stop the feed from being looked at within max_interval.
    week = Hints(ttl_seconds=7 * 86400)
    assert next_interval(300, changed=0, configured=None, hints=week, settings=S) == 3600
    # Retry-After is the server asking us to stay away: honoured beyond max_interval.
    assert next_interval(300, changed=0, configured=None, hints=Hints(retry_after_seconds=5000),
                         settings=S) == 5000  # fmt: skip


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    rng = random.Random(7)
    delays = [backoff_delay(n, 300, retry_after=None, settings=S, rng=rng) for n in range(1, 8)]
    for n, delay in enumerate(delays, start=1):
        expected = min(300 * 2 ** (n - 1), S.max_backoff_seconds)
        assert expected * 0.8 <= delay <= min(expected * 1.2, S.max_backoff_seconds)
    assert delays[-1] <= S.max_backoff_seconds
    # Jitter spreads feeds that failed together.
    spread = {round(backoff_delay(1, 300, retry_after=None, settings=S, rng=rng)) for _ in range(20)}
    assert len(spread) > 5
    assert backoff_delay(1, 300, retry_after=9000, settings=S, rng=rng) == 9000


@pytest.mark.parametrize(
    ("header", "expected"),
    [("max-age=600", 600.0), ("public, s-maxage=10, max-age=120", 120.0), ("no-store, max-age=60", None),
     ("no-cache", None), ("", None)],
)  # fmt: skip
def test_max_age(header: str, expected: float | None) -> None:
    assert max_age({"cache-control": header} if header else {}) == expected


def test_due_orders_most_overdue_first() -> None:
    assert due({"a": 50.0, "b": 10.0, "c": 200.0}, 100.0, ["a", "b", "c", "new"]) == ["new", "b", "a"]
