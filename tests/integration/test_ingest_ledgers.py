"""The two ingest ledgers (SQLite, PostgreSQL) keep one contract; PostgreSQL leases feeds to one replica.

PostgreSQL tests run against the real server, each in a throwaway schema, and skip with the
reason when it does not answer.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest.ledger import Claim, FeedState, LeaseLost, Ledger, Subscription
from ingest.registry import Feed
from ingest.state import IngestState
from wiredesk import ids
from wiredesk.records import RawItem

pytestmark = pytest.mark.integration

T0 = datetime(2024, 3, 6, 12, 0, tzinfo=UTC)


def _item(n: int, *, text: str = "body", feed_id: str = "wire", at: datetime = T0) -> RawItem:
    return RawItem(
        feed_id=feed_id,
        item_id=ids.item_id(feed_id, f"guid-{n}"),
        version=1,
        fetched_at=at,
        content_hash=ids.content_hash(f"title {n}", text),
        guid=f"guid-{n}",
        title=f"title {n}",
        content=text,
    )


def _feeds(count: int, host: str = "feeds.example.org") -> list[Feed]:
    return [Feed(id=f"f{n:03d}", url=f"https://{host}/f{n}.xml") for n in range(count)]


def _postgres(dsn: str, schema: str, lease: float = 30.0) -> Ledger:
    from ingest.state_postgres import PostgresLedger

    return PostgresLedger(dsn, schema=schema, lease_seconds=lease)


@pytest.fixture(params=["sqlite", "postgres"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    if request.param == "sqlite":
        store: Ledger = IngestState(tmp_path / "ingest.sqlite")
    else:
        dsn = request.getfixturevalue("postgres_dsn")
        store = _postgres(dsn, request.getfixturevalue("postgres_schema"))
    yield store
    store.close()


# --- the contract both stores keep -------------------------------------------------------------


def test_versions_pending_redelivery_and_acks(ledger: Ledger) -> None:
    first = ledger.classify_all([_item(1), _item(2)])
    assert [(c, i.version) for c, i in first] == [("new", 1), ("new", 1)]
    assert {i.item_id for i in ledger.pending_items("wire")} == {_item(1).item_id, _item(2).item_id}
    # Not acked yet: the same content is handed out again, as recorded.
    again = ledger.classify_all([_item(1, at=T0 + timedelta(minutes=5))])
    assert again == [("new", first[0][1])]
    assert ledger.mark_published([first[0][1], first[1][1]]) == 2
    assert ledger.pending_items("wire") == []
    assert ledger.classify_all([_item(1)])[0][0] == "unchanged"
    changed, item = ledger.classify_all([_item(1, text="edited")])[0]
    assert (changed, item.version) == ("changed", 2)
    # Acking an older version does not ack the newer one.
    assert ledger.mark_published([first[0][1]]) == 0
    assert [i.version for i in ledger.pending_items("wire")] == [2]
    chunks = list(ledger.published_chunks(size=1))
    assert [len(chunk) for chunk in chunks] == [1]
    assert chunks[0][0].item_id == _item(2).item_id


def test_feed_state_round_trips_every_field(ledger: Ledger) -> None:
    state = FeedState(
        feed_id="f000",
        etag='"e"',
        last_modified="Tue, 05 Mar 2024 10:00:00 GMT",
        next_due=1234.5,
        failures=2,
        interval_seconds=300.0,
        last_polled=1000.0,
        last_status="error",
        last_error="HTTP 500",
        registry_url="https://feeds.example.org/f0.xml",
        url="https://new.example.org/f0.xml",
        health="degraded",
        health_reason="2 failed polls in a row: HTTP 500",
        health_since=900.0,
        last_success=800.0,
        last_new_item=700.0,
        usual_gap_seconds=3600.0,
        last_document=800.0,
    )
    ledger.sync_feeds(_feeds(1))
    ledger.save_feed_state(state)
    assert ledger.feed_state("f000") == state
    assert ledger.feed_states(["f000", "never"])["never"] == FeedState(feed_id="never")


def test_claims_skip_feeds_not_due_in_flight_or_on_busy_hosts(ledger: Ledger) -> None:
    feeds = [*_feeds(3), Feed(id="other", url="https://other.example.net/x.xml")]
    ledger.sync_feeds(feeds)
    ledger.save_feed_state(FeedState(feed_id="f002", next_due=2000.0, interval_seconds=100.0,
                                     registry_url=feeds[2].url))  # fmt: skip
    claimed = ledger.claim(feeds, 1000.0, limit=10, busy_hosts=["other.example.net"], in_flight=["f001"])
    assert [c.feed_id for c in claimed] == ["f000"]
    assert [c.feed_id for c in ledger.claim(feeds[2:3], 1000.0, limit=10, force=True)] == ["f002"]


def test_back_pressure_stretches_when_a_feed_is_due(ledger: Ledger) -> None:
    feed = _feeds(1)[0]
    ledger.sync_feeds([feed])
    ledger.save_feed_state(
        FeedState(feed_id=feed.id, next_due=1000.0, interval_seconds=100.0, registry_url=feed.url)
    )
    claimed = ledger.claim([feed], 1000.0, limit=1)
    assert [c.feed_id for c in claimed] == [feed.id]
    ledger.release(claimed)
    # Stretched x3, the feed is due two intervals later.
    assert ledger.claim([feed], 1150.0, limit=1, stretch=3.0) == []
    assert ledger.seconds_until_due([feed], 1150.0, stretch=3.0) == pytest.approx(50.0)
    assert [c.feed_id for c in ledger.claim([feed], 1200.0, limit=1, stretch=3.0)] == [feed.id]


def test_subscriptions_are_kept(ledger: Ledger) -> None:
    sub = Subscription("f000", "https://hub.example.org/", "https://feeds.example.org/f0.xml", "s3cret",
                       "subscribing", 0.0, 100.0)  # fmt: skip
    ledger.save_subscription(sub)
    active = dataclasses.replace(sub, state="active", lease_until=5000.0)
    ledger.save_subscription(active)
    assert ledger.subscription("f000") == active
    assert ledger.subscriptions() == [active]
    ledger.delete_subscription("f000")
    assert ledger.subscription("f000") is None


def test_retention_forgets_only_items_gone_from_their_feed(ledger: Ledger) -> None:
    day = 86400.0
    old = T0 - timedelta(days=40)
    gone, listed = _item(1, at=old), _item(2, at=old)
    ledger.mark_published([i for _, i in ledger.classify_all([gone, listed])])
    feed = _feeds(1)[0]
    ledger.sync_feeds([feed])
    # The feed's last document (40 days ago) listed both: neither may go, however old.
    ledger.save_feed_state(FeedState(feed_id="wire", last_document=old.timestamp(), registry_url=feed.url))
    assert ledger.prune(T0.timestamp(), 30 * day) == 0
    # A later document lists only item 2: item 1 has been absent for over 30 days.
    later = old + timedelta(days=5)
    ledger.classify_all([_item(2, at=later)])
    ledger.save_feed_state(FeedState(feed_id="wire", last_document=later.timestamp(), registry_url=feed.url))
    assert ledger.prune(T0.timestamp(), 30 * day) == 1
    assert ledger.classify_all([_item(2, at=T0)])[0][0] == "unchanged"
    assert ledger.classify_all([_item(1, at=T0)])[0][0] == "new"


# --- PostgreSQL leases ----------------------------------------------------------------------------


def test_replicas_claiming_at_once_never_get_the_same_feed(postgres_dsn: str, postgres_schema: str) -> None:
    feeds = _feeds(60)
    replicas = [_postgres(postgres_dsn, postgres_schema) for _ in range(3)]
    try:
        replicas[0].sync_feeds(feeds)
        claimed: list[list[Claim]] = [[] for _ in replicas]
        start = threading.Barrier(len(replicas))

        def claim_all(index: int) -> None:
            start.wait()
            while batch := replicas[index].claim(feeds, time.time(), limit=4):
                claimed[index].extend(batch)

        threads = [threading.Thread(target=claim_all, args=(i,)) for i in range(len(replicas))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        ids_per_replica = [[c.feed_id for c in batch] for batch in claimed]
        every = [fid for ids_ in ids_per_replica for fid in ids_]
        assert sorted(every) == sorted(f.id for f in feeds)  # each feed once, to one replica
        assert all(ids_per_replica), "every replica got a share"
        assert len({c.token for batch in claimed for c in batch}) == len(feeds)
    finally:
        for replica in replicas:
            replica.close()


def test_an_expired_lease_is_taken_over_and_the_old_holder_is_fenced(
    postgres_dsn: str, postgres_schema: str
) -> None:
    feed = _feeds(1)[0]
    first = _postgres(postgres_dsn, postgres_schema, lease=1.0)
    second = _postgres(postgres_dsn, postgres_schema, lease=30.0)
    try:
        first.sync_feeds([feed])
        before = time.monotonic()
        (old,) = first.claim([feed], time.time(), limit=1)
        # The fetch may not outlive the lease, on this replica's own clock.
        assert old.fetch_deadline is not None
        assert before < old.fetch_deadline <= before + 1.0
        assert second.claim([feed], time.time(), limit=1, force=True) == []
        assert first.renew([old]) == {feed.id}
        time.sleep(1.5)  # the lease ends on the database's clock
        (new,) = second.claim([feed], time.time(), limit=1, force=True)
        assert new.token != old.token
        assert first.renew([old]) == set()
        stale = first.leased(old)
        with pytest.raises(LeaseLost):
            stale.classify_all([_item(1)])
        with pytest.raises(LeaseLost):
            stale.save_feed_state(FeedState(feed_id=feed.id, next_due=1.0))
        assert first.pending_items(feed.id) == []
        # The holder's writes go through; releasing an old token frees nothing.
        second.leased(new).save_feed_state(FeedState(feed_id=feed.id, next_due=5.0, registry_url=feed.url))
        first.release([old])
        assert first.claim([feed], time.time(), limit=1, force=True) == []
        second.release([new])
        assert [c.feed_id for c in first.claim([feed], time.time(), limit=1, force=True)] == [feed.id]
    finally:
        first.close()
        second.close()


def test_the_postgres_ledger_lives_in_the_configured_schema(postgres_dsn: str, postgres_schema: str) -> None:
    import psycopg

    store = _postgres(postgres_dsn, postgres_schema)
    try:
        store.sync_feeds(_feeds(2))
    finally:
        store.close()
    with psycopg.connect(postgres_dsn) as conn:
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (postgres_schema,)
            )
        }
    assert tables == {"wd_ingest_feeds", "wd_ingest_items", "wd_ingest_subscriptions"}
