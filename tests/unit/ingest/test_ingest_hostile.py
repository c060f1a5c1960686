"""Hostile feeds: each gets a bounded, logged outcome, memory stays bounded, the other feeds flow.

Every case is served by a real HTTP server on 127.0.0.1 beside a well-behaved feed, and both
are polled together the way the service polls them.
"""

from __future__ import annotations

import gzip
import logging
import random
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ingest_support import FEEDS, FeedServer, Reply

from ingest.fetcher import Fetcher
from ingest.poller import FeedPollResult, poll_all_once, poll_feed
from ingest.registry import Feed
from ingest.state import IngestState
from wiredesk.http import BlockedAddress, HttpClient
from wiredesk.settings import HttpSettings, IngestSettings

T0 = datetime(2024, 3, 6, 12, 0, tzinfo=UTC)
SETTINGS = IngestSettings(max_items_per_feed=5000)
MiB = 1 << 20
GOOD = (FEEDS / "wire.atom.xml").read_bytes()
PAGE = b"<!doctype html><html><body><p>Hi</p></body></html>"
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">'
    + b"".join(
        f'<!ENTITY {c} "{("&" + p + ";") * 10}">'.encode()
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + b']><rss version="2.0"><channel><title>&i;</title><item><title>&i;</title>'
    b"<link>https://news.example.org/laughs</link></item></channel></rss>"
)


def _rss(items: str) -> bytes:
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()
    )


def _items(count: int, guid: bool = True, date: str = "") -> str:
    return "".join(
        (f"<guid>g{n}</guid>" if guid else "").join(
            ["<item>", f"<title>Story {n}</title><link>https://news.example.org/{n}</link>"]
        )
        + (f"<pubDate>{date}</pubDate>" if date else "")
        + "</item>"
        for n in range(count)
    )


@pytest.fixture
def state(tmp_path: Path) -> Iterator[IngestState]:
    ledger = IngestState(tmp_path / "ingest.sqlite")
    yield ledger
    ledger.close()


def _fetcher() -> Fetcher:
    return Fetcher(
        HttpClient(HttpSettings(allow_private_addresses=True, read_timeout_seconds=1.0, max_bytes=MiB * 12))
    )


def _poll_beside_a_good_feed(
    feed_server: FeedServer, state: IngestState, reply: Reply
) -> tuple[FeedPollResult, FeedPollResult, int]:
    feed_server.routes["/hostile"] = reply
    feed_server.routes["/good"] = Reply(200, GOOD, {"Content-Type": "application/atom+xml"})
    feeds = [
        Feed(id="hostile", url=feed_server.url("/hostile")),
        Feed(id="good", url=feed_server.url("/good")),
    ]
    tracemalloc.start()
    try:
        results = {r.feed_id: r for r in poll_all_once(feeds, _fetcher(), state, T0, settings=SETTINGS)}
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    good = results["good"]
    assert (good.status, good.new) == ("ok", 2), "the other feed keeps flowing"
    return results["hostile"], good, peak


@pytest.mark.parametrize(
    ("case", "reply", "needle"),
    [
        ("HTML served as a feed", Reply(200, PAGE, {"Content-Type": "application/rss+xml"}),
         "not an RSS, Atom or JSON feed"),
        ("garbage", Reply(200, bytes(range(1, 250)) * 40), "ParseError"),
        ("gzip bomb", Reply(200, gzip.compress(b"\0" * 64 * MiB), {"Content-Encoding": "gzip"}),
         "BodyTooLarge"),
        ("body over the cap", Reply(200, b"<rss>" + b" " * 13 * MiB), "BodyTooLarge"),
        ("a server that trickles", Reply(200, _rss(_items(3)), drip=0.05), "HttpTimeout"),
        ("a redirect loop", Reply(301, headers={"Location": "/hostile"}), "TooManyRedirects"),
        ("429 with Retry-After", Reply(429, headers={"Retry-After": "600"}), "HTTP 429"),
    ],
)  # fmt: skip
def test_unusable_feeds_fail_alone_with_one_log_line(
    feed_server: FeedServer,
    state: IngestState,
    caplog: pytest.LogCaptureFixture,
    case: str,
    reply: Reply,
    needle: str,
) -> None:
    with caplog.at_level(logging.WARNING, logger="ingest.poller"):
        hostile, _, peak = _poll_beside_a_good_feed(feed_server, state, reply)
    assert hostile.status == "error", case
    assert needle in (hostile.error or ""), (case, hostile.error)
    assert [r.getMessage() for r in caplog.records if getattr(r, "feed_id", "") == "hostile"] == [
        f"feed hostile failed (1 in a row; next poll in {(hostile.next_due - T0).total_seconds():.0f}s): "
        f"{hostile.error}"
    ]
    assert peak < 40 * MiB, f"{case}: {peak / MiB:.0f} MiB"
    if "429" in case:
        assert hostile.retriable
        assert hostile.throttle_seconds == 600
        assert hostile.next_due >= T0 + timedelta(seconds=600)


def test_malformed_xml_keeps_what_can_be_recovered(feed_server: FeedServer, state: IngestState) -> None:
    broken = _rss(_items(3))[:-40]  # cut inside the last item: never closed
    hostile, _, _ = _poll_beside_a_good_feed(feed_server, state, Reply(200, broken))
    assert hostile.status == "ok"
    assert hostile.new >= 2


def test_a_wrong_charset_leaves_no_mojibake(feed_server: FeedServer, state: IngestState) -> None:
    utf8 = (FEEDS / "mislabelled-utf8.rss.xml").read_bytes()
    reply = Reply(200, utf8, {"Content-Type": "text/xml; charset=iso-8859-1"})
    hostile, _, _ = _poll_beside_a_good_feed(feed_server, state, reply)
    assert hostile.status == "ok"
    titles = [item.title for item in hostile.items_to_publish]
    assert titles == ["Grüße aus München – été"]


def test_an_entity_expansion_bomb_is_not_expanded(feed_server: FeedServer, state: IngestState) -> None:
    hostile, _, peak = _poll_beside_a_good_feed(feed_server, state, Reply(200, BILLION_LAUGHS))
    assert all(len(item.title) < 10_000 for item in hostile.items_to_publish)
    assert peak < 40 * MiB


def test_items_without_guids_and_with_repeated_guids(feed_server: FeedServer, state: IngestState) -> None:
    no_guid = _rss(_items(5, guid=False))
    first, _, _ = _poll_beside_a_good_feed(feed_server, state, Reply(200, no_guid))
    assert (first.status, first.new) == ("ok", 5)
    assert len({item.item_id for item in first.items_to_publish}) == 5
    state.mark_published(first.items_to_publish)
    # Ids from the links are stable: the same document again is all unchanged.
    hostile = Feed(id="hostile", url=feed_server.url("/hostile"))
    again = poll_feed(
        hostile, _fetcher(), state, T0 + timedelta(hours=1), settings=SETTINGS, rng=random.Random(1)
    )
    assert (again.new, again.unchanged) == (0, 5)
    repeated = _rss(_items(3) + _items(3))
    feed_server.routes["/hostile"] = Reply(200, repeated)
    twice = poll_feed(
        Feed(id="twice", url=feed_server.url("/hostile")), _fetcher(), state, T0, settings=SETTINGS
    )
    assert (twice.new, twice.duplicate) == (3, 3)


def test_dates_in_the_future_or_unparseable(feed_server: FeedServer, state: IngestState) -> None:
    future = _rss(_items(1, date="Wed, 06 Mar 2124 12:00:00 GMT"))
    hostile, _, _ = _poll_beside_a_good_feed(feed_server, state, Reply(200, future))
    assert hostile.items_to_publish[0].published == datetime(2124, 3, 6, 12, 0, tzinfo=UTC)
    nonsense = _rss(_items(1, date="the day after tomorrow, probably"))
    feed_server.routes["/hostile"] = Reply(200, nonsense)
    later = poll_feed(
        Feed(id="later", url=feed_server.url("/hostile")), _fetcher(), state, T0, settings=SETTINGS
    )
    assert later.status == "ok"
    assert later.items_to_publish[0].published is None


def test_a_feed_with_100000_items_is_read_up_to_the_cap(
    feed_server: FeedServer, state: IngestState, caplog: pytest.LogCaptureFixture
) -> None:
    huge = _rss(_items(100_000))
    with caplog.at_level(logging.WARNING, logger="ingest.poller"):
        hostile, _, peak = _poll_beside_a_good_feed(feed_server, state, Reply(200, huge))
    assert (hostile.status, hostile.new) == ("ok", 5000)
    assert (
        "feed hostile lists 100000 entries: the first 5000 were read, the other 95000 left unread"
        in caplog.text
    )
    # The document itself is 8.5 MB; parsing all of it held about 150 MB.
    assert peak < 80 * MiB, f"{peak / MiB:.0f} MiB"


def test_a_host_resolving_to_the_metadata_address_is_never_contacted(state: IngestState) -> None:
    fetcher = Fetcher(HttpClient(HttpSettings(), resolver=lambda host, port: ["169.254.169.254"]))
    result = poll_feed(Feed(id="meta", url="http://metadata.hostile-feeds.org/latest"), fetcher, state, T0)
    assert result.status == "error"
    assert BlockedAddress.__name__ in (result.error or "")
