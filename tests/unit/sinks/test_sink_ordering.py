"""Which derivation of an article the SQLite sink keeps: copies from several feeds, edits, replays.

The articles come from the real transform chain, so these tests hold the whole contract of
docs/topics.md ("The order of an article's derivations"), not just the sink's comparison. The
PostgreSQL sinks run the same cases in tests/integration/test_sink_postgres.py. Times are minutes
after 10:00 (sink_articles.derive_copy).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from sink_articles import derive_copy

from sinks.base import WriteResult
from sinks.sqlite import SqliteSink


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[SqliteSink]:
    with SqliteSink(tmp_path / "wiredesk.sqlite") as s:
        yield s


def test_a_newer_copy_from_a_second_feed_replaces_an_older_one(sink: SqliteSink) -> None:
    # The agency edited its item twice (version 3); a portal then carries a later edit of the same
    # URL, as its own first version. Item versions of two feeds say nothing about each other.
    agency = derive_copy("agency", 3, fetched=31, updated=30, body="Talks resumed on Wednesday.")
    portal = derive_copy("portal", 1, fetched=46, updated=45, body="Talks collapsed on Wednesday.")
    assert agency.uri == portal.uri
    assert sink.write_batch([agency]) == WriteResult(inserted=1)

    assert sink.write_batch([portal]) == WriteResult(updated=1)

    assert sink.get(portal.uri) == portal
    assert [h.uri for h in sink.search("collapsed")] == [portal.uri]
    assert sink.search("resumed") == []


def test_an_older_copy_arriving_later_from_another_feed_is_stale(sink: SqliteSink) -> None:
    agency = derive_copy("agency", 1, fetched=31, updated=30, body="Talks collapsed on Wednesday.")
    # A slow aggregator, at its own version 4, still carries the 10:00 text and is polled later.
    late = derive_copy("aggregator", 4, fetched=50, updated=0, body="Talks resumed on Wednesday.")
    sink.write_batch([agency])

    assert sink.write_batch([late]) == WriteResult(stale_skipped=1)

    assert sink.get(agency.uri) == agency


def test_an_edit_that_keeps_the_feed_dates_still_wins(sink: SqliteSink) -> None:
    first = derive_copy("agency", 1, fetched=0, updated=0, body="Talks resumed.")
    edit = derive_copy("agency", 2, fetched=20, updated=0, body="Talks resumed after a delay.")
    sink.write_batch([first])

    assert sink.write_batch([edit]) == WriteResult(updated=1)
    assert sink.write_batch([first]) == WriteResult(stale_skipped=1)

    assert sink.get(first.uri) == edit


def test_replaying_the_same_raw_item_changes_nothing(sink: SqliteSink) -> None:
    # The feed's date lies 10 minutes in the future when first derived and in the past when
    # replayed two days later: the derivation's order must not depend on when it ran.
    first = derive_copy("agency", 1, fetched=0, updated=10, body="Talks resumed.")
    replay = derive_copy("agency", 1, fetched=0, updated=10, body="Talks resumed.", derived_later_days=2)
    sink.write_batch([first])

    assert sink.write_batch([replay, first]) == WriteResult(unchanged=2)


def test_every_arrival_order_keeps_the_same_article(tmp_path: Path) -> None:
    copies = [
        derive_copy("agency", 1, fetched=0, updated=0, body="First words."),
        derive_copy("agency", 2, fetched=5, updated=0, body="Second words."),
        derive_copy("portal", 1, fetched=5, updated=0, body="Portal words."),
        derive_copy("aggregator", 7, fetched=9, updated=-60, body="Old words."),
    ]
    kept = set()
    for n, order in enumerate(itertools.permutations(copies)):
        with SqliteSink(tmp_path / f"order-{n}.sqlite") as sink:
            for article in order:
                sink.write_batch([article])
            stored = sink.get(copies[0].uri)
            assert stored is not None
            kept.add(stored.body_text)
    # Two copies share the latest content time and fetch time: the tie is still broken the same
    # way whatever the order, so every replica and every consumer settles on one text.
    assert len(kept) == 1
    assert kept < {"Second words.", "Portal words."}
