"""poll_feed / poll_all_once against files and a real local HTTP server."""

from __future__ import annotations

import os
import random
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ingest_support import FEEDS, FeedServer, Reply

from ingest.fetcher import Fetcher
from ingest.poller import FeedPollResult, poll_all_once, poll_feed
from ingest.registry import Feed, Registry
from ingest.state import IngestState
from wiredesk.http import HttpClient
from wiredesk.metrics import INGEST_ITEM_OUTCOMES
from wiredesk.settings import HttpSettings, IngestSettings

T0 = datetime(2024, 3, 6, 12, 0, tzinfo=UTC)
SETTINGS = IngestSettings(default_interval_seconds=300, min_interval_seconds=60, max_interval_seconds=3600,
                          max_backoff_seconds=7200)  # fmt: skip
RSS = (FEEDS / "wire.rss.xml").read_bytes()


def _fetcher(**http: object) -> Fetcher:
    values: dict[str, object] = {"allow_private_addresses": True, "read_timeout_seconds": 2.0}
    values.update(http)
    return Fetcher(HttpClient(HttpSettings.model_validate(values)))


@pytest.fixture
def state(tmp_path: Path) -> Iterator[IngestState]:
    ledger = IngestState(tmp_path / "ingest.sqlite")
    yield ledger
    ledger.close()


def _poll(feed: Feed, fetcher: Fetcher, state: IngestState, now: datetime = T0) -> FeedPollResult:
    return poll_feed(feed, fetcher, state, now, settings=SETTINGS, rng=random.Random(1))


def test_file_feed_new_then_unchanged_then_changed(tmp_path: Path, state: IngestState) -> None:
    path = tmp_path / "wire.xml"
    shutil.copy(FEEDS / "wire.rss.xml", path)
    feed = Feed(id="wire", url=path.as_uri(), full_text=True)
    first = _poll(feed, Fetcher(), state)
    assert first.status == "ok"
    assert (first.new, first.changed, first.unchanged) == (2, 0, 0)
    # The empty entry is rejected; the item listed twice under one link is published once.
    assert [reason for reason, _ in first.rejected] == ["empty"]
    assert first.duplicate == 1
    assert all(item.fetch_full_text for item in first.items_to_publish)
    assert first.next_due == T0 + timedelta(seconds=1800)  # the feed's <ttl>30</ttl> is a floor
    state.mark_published(first.items_to_publish)

    # Same file, same mtime: answered like a 304.
    second = _poll(feed, Fetcher(), state, T0 + timedelta(hours=1))
    assert second.status == "not_modified"
    assert second.items_to_publish == []

    path.write_bytes(RSS.replace(b"two-week", b"three-week"))
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 10))
    third = _poll(feed, Fetcher(), state, T0 + timedelta(hours=2))
    assert (third.status, third.new, third.changed, third.unchanged) == ("ok", 0, 1, 1)
    assert [i.version for i in third.items_to_publish] == [2]


def test_conditional_get_with_stored_etag(feed_server: FeedServer, state: IngestState) -> None:
    def feed(headers: dict[str, str]) -> Reply:
        if headers.get("if-none-match") == '"r1"':
            return Reply(304, headers={"ETag": '"r1"'})
        return Reply(200, RSS, {"ETag": '"r1"', "Content-Type": "application/rss+xml",
                                "Cache-Control": "max-age=2400"})  # fmt: skip

    feed_server.routes["/rss"] = feed
    wire = Feed(id="wire", url=feed_server.url("/rss"))
    first = _poll(wire, _fetcher(), state)
    assert first.status == "ok"
    assert len(first.items_to_publish) == 2
    assert first.interval_seconds == 2400  # Cache-Control max-age as a floor
    state.mark_published(first.items_to_publish)
    assert state.feed_state("wire").etag == '"r1"'

    second = _poll(wire, _fetcher(), state, first.next_due)
    assert second.status == "not_modified"
    assert feed_server.requests[-1][1]["if-none-match"] == '"r1"'
    assert second.items_to_publish == []


def test_unacked_items_are_redelivered_even_on_304(feed_server: FeedServer, state: IngestState) -> None:
    feed_server.routes["/rss"] = lambda h: (
        Reply(304) if h.get("if-none-match") == '"r1"' else Reply(200, RSS, {"ETag": '"r1"'})
    )
    wire = Feed(id="wire", url=feed_server.url("/rss"))
    first = _poll(wire, _fetcher(), state)
    # The broker never acked: nothing is marked published.
    second = _poll(wire, _fetcher(), state, first.next_due)
    assert second.status == "not_modified"
    assert sorted(i.item_id for i in second.items_to_publish) == sorted(
        i.item_id for i in first.items_to_publish
    )
    assert second.redelivered == 2


@pytest.mark.parametrize(
    ("reply", "retriable", "needle"),
    [
        (Reply(500, b"oops"), True, "HTTP 500"),
        (Reply(404, b"gone"), False, "HTTP 404"),
        (Reply(200, b"<html><body>Not a feed</body></html>", {"Content-Type": "text/html"}), False,
         "ParseError"),
        (Reply(200, b"\x00\xff garbage \x01"), False, "ParseError"),
    ],
)  # fmt: skip
def test_feed_errors_are_reported_with_backoff(
    feed_server: FeedServer, state: IngestState, reply: Reply, retriable: bool, needle: str
) -> None:
    feed_server.routes["/bad"] = reply
    bad = Feed(id="bad", url=feed_server.url("/bad"))
    results = [_poll(bad, _fetcher(), state, T0 + timedelta(hours=n)) for n in range(3)]
    assert all(r.status == "error" for r in results)
    assert needle in (results[0].error or "")
    assert results[0].retriable is retriable
    assert [r.consecutive_failures for r in results] == [1, 2, 3]
    delays = [(r.next_due - (T0 + timedelta(hours=n))).total_seconds() for n, r in enumerate(results)]
    assert 240 <= delays[0] <= 360  # the 300 s interval, ±20 % jitter
    assert delays[0] < delays[1] < delays[2]


def test_429_retry_after_is_honoured(feed_server: FeedServer, state: IngestState) -> None:
    feed_server.routes["/busy"] = Reply(429, headers={"Retry-After": "5000"})
    result = _poll(Feed(id="busy", url=feed_server.url("/busy")), _fetcher(), state)
    assert result.status == "error"
    assert result.retriable
    assert result.next_due >= T0 + timedelta(seconds=5000)


def test_timeout_is_a_retriable_feed_error(feed_server: FeedServer, state: IngestState) -> None:
    feed_server.routes["/slow"] = Reply(200, RSS, delay=1.0)
    result = _poll(Feed(id="slow", url=feed_server.url("/slow")), _fetcher(read_timeout_seconds=0.2), state)
    assert result.status == "error"
    assert result.retriable
    assert "Timeout" in (result.error or "")


def test_oversize_and_blocked_addresses_are_feed_errors(feed_server: FeedServer, state: IngestState) -> None:
    feed_server.routes["/huge"] = Reply(200, RSS * 10)
    huge = _poll(Feed(id="huge", url=feed_server.url("/huge")), _fetcher(max_bytes=len(RSS)), state)
    assert huge.status == "error"
    assert "BodyTooLarge" in (huge.error or "")
    guarded = Fetcher(HttpClient(HttpSettings(allow_private_addresses=False)))
    blocked = _poll(Feed(id="blocked", url=feed_server.url("/huge")), guarded, state)
    assert blocked.status == "error"
    assert "BlockedAddress" in (blocked.error or "")
    assert not blocked.retriable
    # Refused before connecting: the server saw only the first request.
    assert [path for path, _ in feed_server.requests] == ["/huge"]


def test_missing_file_is_a_feed_error(tmp_path: Path, state: IngestState) -> None:
    result = _poll(Feed(id="gone", url=(tmp_path / "nope.xml").as_uri()), Fetcher(), state)
    assert result.status == "error"
    assert "no such file" in (result.error or "")


def test_language_hint_fills_a_feed_without_language(tmp_path: Path, state: IngestState) -> None:
    feed = Feed(id="pt", url=(FEEDS / "mislabelled-cp1252.rss.xml").as_uri(), language="pt-BR")
    result = _poll(feed, Fetcher(), state)
    assert result.items_to_publish[0].feed.language == "pt-BR"
    assert result.items_to_publish[0].title.startswith("Eleições")


def test_one_bad_feed_does_not_stop_the_others(feed_server: FeedServer, state: IngestState) -> None:
    feed_server.routes["/ok"] = Reply(200, RSS)
    feed_server.routes["/broken"] = Reply(500)
    registry = Registry(
        feeds=(
            Feed(id="ok", url=feed_server.url("/ok")),
            Feed(id="broken", url=feed_server.url("/broken")),
            Feed(id="atom", url=(FEEDS / "wire.atom.xml").as_uri()),
            Feed(id="json", url=(FEEDS / "wire.feed.json").as_uri()),
            Feed(id="html", url=(FEEDS / "not-a-feed.html").as_uri()),
            Feed(id="off", url=feed_server.url("/ok"), enabled=False),
        )
    )
    results = {r.feed_id: r for r in poll_all_once(registry, _fetcher(), state, T0, max_workers=4,
                                                    settings=SETTINGS)}  # fmt: skip
    assert set(results) == {"ok", "broken", "atom", "json", "html"}
    assert {fid for fid, r in results.items() if r.status == "ok"} == {"ok", "atom", "json"}
    assert {fid for fid, r in results.items() if r.status == "error"} == {"broken", "html"}
    assert results["json"].counts == {"new": 2, "changed": 0, "unchanged": 0, "rejected": 2, "duplicate": 0}
    # Nothing is due again right away: a second pass at the same instant polls nothing.
    assert list(poll_all_once(registry, _fetcher(), state, T0, max_workers=4, settings=SETTINGS)) == []
    # Given explicit feeds, they are polled whether due or not (`--once`).
    again = list(poll_all_once(registry.enabled[:1], _fetcher(), state, T0, settings=SETTINGS))
    assert [r.feed_id for r in again] == ["ok"]


REPEATED_GUIDS = (FEEDS / "repeated-guids.rss.xml").read_bytes()


def _items_reversed(document: bytes) -> bytes:
    items = re.findall(rb"<item>.*?</item>", document, flags=re.S)
    first, last = document.index(items[0]), document.rindex(items[-1]) + len(items[-1])
    return document[:first] + b"\n  ".join(reversed(items)) + document[last:]


def test_items_repeating_a_guid_with_other_links_are_told_apart(
    feed_server: FeedServer, state: IngestState, caplog: pytest.LogCaptureFixture
) -> None:
    feed_server.routes["/politics"] = Reply(200, REPEATED_GUIDS, {"Content-Type": "application/rss+xml"})
    feed = Feed(id="politics", url=feed_server.url("/politics"))
    with caplog.at_level("INFO", logger="ingest.poller"):
        result = _poll(feed, _fetcher(), state)

    published = {item.title: item for item in result.items_to_publish}
    # Two stories share the section's guid: both are published, under ids of their own.
    assert sorted(published) == [
        "Budget passes the upper house",
        "Gales expected on the coast tonight",
        "Rail strike called off after talks",
    ]
    assert len({item.item_id for item in result.items_to_publish}) == 3
    # The budget story listed again (same guid, same page) and the weather item listed twice with
    # one guid and one link are repeats of one item: dropped and counted, not rejected.
    assert (result.new, result.counts["duplicate"], result.rejected) == (3, 2, [])
    assert set(result.counts) <= set(INGEST_ITEM_OUTCOMES)
    repeats = [r for r in caplog.records if "repeat" in r.getMessage()]
    assert len(repeats) == 1
    assert getattr(repeats[0], "feed_id", None) == "politics"


def test_ids_of_repeated_guids_do_not_depend_on_the_items_order(
    feed_server: FeedServer, state: IngestState
) -> None:
    feed_server.routes["/politics"] = Reply(200, REPEATED_GUIDS, {"Content-Type": "application/rss+xml"})
    feed = Feed(id="politics", url=feed_server.url("/politics"))
    first = _poll(feed, _fetcher(), state)
    state.mark_published(first.items_to_publish)

    reordered = _items_reversed(REPEATED_GUIDS)
    assert reordered != REPEATED_GUIDS
    feed_server.routes["/politics"] = Reply(200, reordered, {"Content-Type": "application/rss+xml"})
    second = _poll(feed, _fetcher(), state, first.next_due)

    # The same items, recognised as such: nothing new, nothing changed, nothing to publish.
    assert (second.new, second.changed, second.unchanged, second.counts["duplicate"]) == (0, 0, 3, 2)
    assert second.items_to_publish == []
    # Of the weather item's two listings, the later-dated one is kept, whichever comes first.
    assert "Gales expected on the coast tonight" in {i.title for i in first.items_to_publish}


# --- URLs that move, hosts that throttle, health, freshness, hubs -------------------------------


def test_a_permanent_redirect_moves_the_feed_in_its_state(
    feed_server: FeedServer, state: IngestState
) -> None:
    feed_server.routes["/old"] = Reply(301, headers={"Location": "/new"})
    feed_server.routes["/new"] = Reply(200, RSS, {"ETag": '"n1"'})
    wire = Feed(id="wire", url=feed_server.url("/old"))
    first = _poll(wire, _fetcher(), state)
    assert first.status == "ok"
    assert state.feed_state("wire").url == feed_server.url("/new")
    feed_server.requests.clear()
    _poll(wire, _fetcher(), state, first.next_due)
    # Straight to the new URL, with the validators it gave.
    assert [(path, h.get("if-none-match")) for path, h in feed_server.requests] == [("/new", '"n1"')]


def test_a_temporary_redirect_moves_nothing(feed_server: FeedServer, state: IngestState) -> None:
    feed_server.routes["/old"] = Reply(302, headers={"Location": "/new"})
    feed_server.routes["/new"] = Reply(200, RSS)
    wire = Feed(id="wire", url=feed_server.url("/old"))
    first = _poll(wire, _fetcher(), state)
    assert state.feed_state("wire").url == ""
    feed_server.requests.clear()
    _poll(wire, _fetcher(), state, first.next_due)
    assert [path for path, _ in feed_server.requests] == ["/old", "/new"]


def test_an_edited_registry_url_forgets_the_old_urls_move_and_validators(
    feed_server: FeedServer, state: IngestState
) -> None:
    feed_server.routes["/old"] = Reply(301, headers={"Location": "/moved"})
    feed_server.routes["/moved"] = Reply(200, RSS, {"ETag": '"m1"'})
    feed_server.routes["/edited"] = Reply(200, RSS)
    first = _poll(Feed(id="wire", url=feed_server.url("/old")), _fetcher(), state)
    feed_server.requests.clear()
    _poll(Feed(id="wire", url=feed_server.url("/edited")), _fetcher(), state, first.next_due)
    assert [(path, h.get("if-none-match")) for path, h in feed_server.requests] == [("/edited", None)]
    assert state.feed_state("wire").url == ""
    assert state.feed_state("wire").registry_url == feed_server.url("/edited")


def test_a_429_names_the_hosts_wait_and_a_plain_500_does_not(
    feed_server: FeedServer, state: IngestState
) -> None:
    feed_server.routes["/busy"] = Reply(429, headers={"Retry-After": "120"})
    feed_server.routes["/down"] = Reply(503, headers={"Retry-After": "60"})
    feed_server.routes["/broken"] = Reply(500)
    assert _poll(Feed(id="busy", url=feed_server.url("/busy")), _fetcher(), state).throttle_seconds == 120
    assert _poll(Feed(id="down", url=feed_server.url("/down")), _fetcher(), state).throttle_seconds == 60
    assert (
        _poll(Feed(id="broken", url=feed_server.url("/broken")), _fetcher(), state).throttle_seconds is None
    )


def test_health_goes_degraded_then_failing_then_ok(feed_server: FeedServer, state: IngestState) -> None:
    feed_server.routes["/rss"] = Reply(500)
    wire = Feed(id="wire", url=feed_server.url("/rss"))
    seen = []
    for n in range(4):
        _poll(wire, _fetcher(), state, T0 + timedelta(hours=n))
        fs = state.feed_state("wire")
        seen.append((fs.health, fs.health_since))
    assert [h for h, _ in seen] == ["degraded", "degraded", "failing", "failing"]
    # "since" is when the state began, not the last poll.
    assert seen[0][1] == seen[1][1] == T0.timestamp()
    assert seen[2][1] == seen[3][1] == (T0 + timedelta(hours=2)).timestamp()
    assert "4 failed polls in a row: HTTP 500" in state.feed_state("wire").health_reason
    feed_server.routes["/rss"] = Reply(200, _dated_rss(3, T0, timedelta(hours=1)))
    _poll(wire, _fetcher(), state, T0 + timedelta(hours=5))
    fs = state.feed_state("wire")
    assert (fs.health, fs.health_reason, fs.health_since) == ("ok", "", (T0 + timedelta(hours=5)).timestamp())
    # A document with an entry that has nothing in it: the rest is used, the feed is degraded.
    feed_server.routes["/rss"] = Reply(200, RSS)
    _poll(wire, _fetcher(), state, T0 + timedelta(hours=6))
    assert state.feed_state("wire").health_reason == "1 of 3 items rejected (see the log)"


def _dated_rss(count: int, newest: datetime, gap: timedelta) -> bytes:
    dates = [newest - n * gap for n in range(count)]
    items = "".join(
        f"<item><guid>{d:%Y%m%d%H%M}</guid><title>Story {d:%H:%M}</title>"
        f"<link>https://news.example.org/{d:%Y%m%d%H%M}</link>"
        f"<pubDate>{d.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate></item>"
        for d in dates
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()
    )


def test_freshness_counts_only_items_published_since_the_last_read(
    tmp_path: Path, state: IngestState
) -> None:
    path = tmp_path / "wire.xml"
    path.write_bytes(_dated_rss(6, T0 - timedelta(minutes=5), timedelta(hours=1)))
    wire = Feed(id="wire", url=path.as_uri())
    first = _poll(wire, Fetcher(), state)
    state.mark_published(first.items_to_publish)
    # The first read finds a backlog: its ages say nothing about how fresh ingest is.
    assert (first.new, first.fresh) == (6, [])
    path.write_bytes(_dated_rss(7, T0 + timedelta(minutes=50), timedelta(minutes=55)))
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 10))
    second = _poll(wire, Fetcher(), state, T0 + timedelta(hours=1))
    assert second.fresh == [T0 + timedelta(minutes=50)]


def test_a_feed_that_usually_publishes_and_goes_quiet_is_degraded(tmp_path: Path, state: IngestState) -> None:
    path = tmp_path / "wire.xml"
    path.write_bytes(_dated_rss(10, T0, timedelta(hours=1)))
    wire = Feed(id="wire", url=path.as_uri(), interval_seconds=600)
    state.mark_published(_poll(wire, Fetcher(), state).items_to_publish)
    fs = state.feed_state("wire")
    assert (fs.health, fs.usual_gap_seconds) == ("ok", 3600.0)
    # Four usual gaps later nothing new has come: the unchanged file now reads as quiet.
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 10))
    _poll(wire, Fetcher(), state, T0 + timedelta(hours=5))
    fs = state.feed_state("wire")
    assert fs.health == "degraded"
    assert fs.health_reason.startswith(
        "quiet: nothing new for 5.0 hours; it usually publishes every 60 minutes"
    )
    assert fs.health_since == (T0 + timedelta(hours=4)).timestamp()


def test_hubs_and_self_url_are_reported(tmp_path: Path, state: IngestState) -> None:
    path = tmp_path / "wire.xml"
    path.write_bytes(
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        b'<link rel="hub" href="https://hub.example.org/"/><link rel="self" href="https://news.example.org/atom"/>'
        b'<entry><id>1</id><title>a</title><link href="https://news.example.org/a"/></entry></feed>'
    )
    result = _poll(Feed(id="wire", url=path.as_uri()), Fetcher(), state)
    assert (result.hubs, result.topic) == (("https://hub.example.org/",), "https://news.example.org/atom")


def test_a_pushed_feed_is_polled_only_as_the_slow_fallback(tmp_path: Path, state: IngestState) -> None:
    path = tmp_path / "wire.xml"
    path.write_bytes(_dated_rss(3, T0, timedelta(hours=1)))
    wire = Feed(id="wire", url=path.as_uri())
    settings = SETTINGS.model_copy(update={"websub_fallback_interval_seconds": 7200.0})
    polled = poll_feed(wire, Fetcher(), state, T0, settings=settings, rng=random.Random(1))
    assert polled.interval_seconds < 7200
    pushed = poll_feed(wire, Fetcher(), state, T0, settings=settings, rng=random.Random(1), pushed=True)
    assert pushed.interval_seconds == 7200
