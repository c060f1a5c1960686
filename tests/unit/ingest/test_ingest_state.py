from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingest.registry import Feed
from ingest.state import FeedState, IngestState
from wiredesk import ids
from wiredesk.records import RawItem

T0 = datetime(2024, 3, 6, 12, 0, tzinfo=UTC)


def _item(guid: str, body: str, fetched_at: datetime = T0, feed_id: str = "f") -> RawItem:
    return RawItem(
        feed_id=feed_id,
        item_id=ids.item_id(feed_id, guid),
        version=1,
        fetched_at=fetched_at,
        content_hash=ids.content_hash(body),
        guid=guid,
        title=f"title {guid}",
        content=body,
    )


def test_new_unchanged_changed_lifecycle(tmp_path: Path) -> None:
    with IngestState(tmp_path / "ledger.sqlite") as state:
        change, item = state.classify(_item("a", "one"))
        assert (change, item.version) == ("new", 1)
        state.mark_published([item])
        change, again = state.classify(_item("a", "one", T0 + timedelta(minutes=5)))
        assert (change, again.version) == ("unchanged", 1)
        change, edited = state.classify(_item("a", "two"))
        assert (change, edited.version) == ("changed", 2)
        state.mark_published([edited])
        change, edited_again = state.classify(_item("a", "three"))
        assert (change, edited_again.version) == ("changed", 3)


def test_restart_does_not_republish_what_was_acked(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    with IngestState(path) as state:
        _, a = state.classify(_item("a", "one"))
        _, b = state.classify(_item("b", "one"))
        state.mark_published([a])  # b's publish never got acked: the process died
    with IngestState(path) as state:
        assert state.classify(_item("a", "one"))[0] == "unchanged"
        change, b_again = state.classify(_item("b", "one", T0 + timedelta(hours=1)))
        # The pending version is handed out again, exactly as first recorded.
        assert (change, b_again.version) == ("new", 1)
        assert b_again == b
        assert [i.item_id for i in state.pending_items("f")] == [b.item_id]
        state.mark_published([b_again])
        assert state.pending_items() == []


def test_new_content_always_gets_a_new_version_even_over_an_unacked_one(tmp_path: Path) -> None:
    # An unacked version may still have reached the topic (the ack, not the send, was lost), and
    # downstream ledgers identify what they processed by (item id, version): one number must never
    # stand for two contents.
    with IngestState(tmp_path / "l.sqlite") as state:
        _, v1 = state.classify(_item("a", "one"))
        state.mark_published([v1])
        _, v2 = state.classify(_item("a", "two"))
        assert v2.version == 2
        # v2 never acked, and the content changed again: a new number for the new content.
        change, v3 = state.classify(_item("a", "three"))
        assert (change, v3.version, v3.content) == ("changed", 3, "three")
        # Acking a stale version marks nothing.
        assert state.mark_published([v1]) == 0
        assert state.mark_published([v2]) == 0
        assert state.mark_published([v3]) == 1


def test_an_unacked_first_version_replaced_by_new_content_is_version_two(tmp_path: Path) -> None:
    with IngestState(tmp_path / "l.sqlite") as state:
        state.classify(_item("a", "one"))
        change, v2 = state.classify(_item("a", "two"))
        assert (change, v2.version) == ("changed", 2)


def test_published_items_returns_latest_published_versions(tmp_path: Path) -> None:
    with IngestState(tmp_path / "l.sqlite") as state:
        results = state.classify_all([_item("a", "1"), _item("b", "1"), _item("c", "1", feed_id="g")])
        state.mark_published([item for _, item in results])
        _, b2 = state.classify(_item("b", "2"))
        state.mark_published([b2])
        published = {i.guid: i for i in state.published_items()}
        assert set(published) == {"a", "b", "c"}
        assert published["b"].version == 2
        assert published["b"].content == "2"
        assert {i.guid for i in state.published_items("g")} == {"c"}
        assert state.item_count() == 3


def test_feed_state_round_trip_and_due(tmp_path: Path) -> None:
    feeds = [Feed(id="a", url="http://a.example/"), Feed(id="b", url="http://b.example/"),
             Feed(id="off", url="http://c.example/", enabled=False)]  # fmt: skip
    with IngestState(tmp_path / "l.sqlite") as state:
        assert state.feed_state("a") == FeedState("a")
        assert [f.id for f in state.due_feeds(feeds, T0)] == ["a", "b"]
        saved = FeedState("a", etag='"x"', last_modified="lm", next_due=T0.timestamp() + 60, failures=2,
                          interval_seconds=60, last_polled=T0.timestamp(), last_status="error",
                          last_error="boom")  # fmt: skip
        state.save_feed_state(saved)
        assert state.feed_state("a") == saved
        state.save_feed_state(dataclasses.replace(saved, failures=0))
        assert state.feed_state("a").failures == 0
        assert [f.id for f in state.due_feeds(feeds, T0)] == ["b"]
        state.save_feed_state(FeedState("b", next_due=T0.timestamp() + 30))
        assert state.due_feeds(feeds, T0) == []
        assert state.seconds_until_next_due(feeds, T0) == 30
        assert [f.id for f in state.due_feeds(feeds, T0 + timedelta(minutes=2))] == ["b", "a"]


def test_threads_share_one_ledger(tmp_path: Path) -> None:
    with IngestState(tmp_path / "l.sqlite") as state:

        def work(n: int) -> None:
            items = [_item(f"{n}-{i}", "x", feed_id=f"feed{n}") for i in range(50)]
            state.mark_published([item for _, item in state.classify_all(items)])

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert state.item_count() == 200
        assert state.pending_items() == []


def test_published_chunks_walk_the_ledger_in_bounded_lists(tmp_path: Path) -> None:
    with IngestState(tmp_path / "l.sqlite") as state:
        results = state.classify_all([_item(f"i{n}", "1") for n in range(5)])
        state.mark_published([item for _, item in results[:4]])  # i4 stays pending
        chunks = state.published_chunks(size=2)
        first = next(chunks)
        _, changed = state.classify(_item("i3", "2"))  # a new version between chunks
        state.mark_published([changed])
        rest = list(chunks)
        assert [len(c) for c in [first, *rest]] == [2, 2]
        seen = [(i.guid, i.version) for c in [first, *rest] for i in c]
        assert seen == [("i0", 1), ("i1", 1), ("i2", 1), ("i3", 2)]
