"""The ingest ledger: what each item looked like when last seen and whether that was published.

One SQLite file holds two tables:
- `items`: per item id its latest version, content hash, first/last seen, the serialised RawItem
  (wiredesk.records.dumps) of the latest version, and `published` — true once the broker acked it.
- `feeds`: per feed the HTTP validators (ETag, Last-Modified) and scheduling state (next due time,
  consecutive failures, current interval, last status and error).

Delivery contract (at-least-once, no re-publishing after a restart):
`classify` records a new or changed version as *pending* (published = 0) and returns it; the
caller publishes and, after the broker acked, calls `mark_published`. If the process dies in
between, the next poll classifies the same content again, finds it pending, and hands it out
again with the same version; different content gets the next version. Once published, identical
content is "unchanged" forever after.

Concurrency: safe for one process. Threads share one connection serialised by a lock (the
poller's thread pool spends its time on the network, not here). Two processes on one file would
each think they own the feeds: replicas share a PostgreSQL ledger instead
(`ingest.state_store=postgres`, ingest/state_postgres.py), which leases each feed to one of them.
Here a claim is only "due, and not already being polled by this process".
"""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ingest.ledger import (
    Change,
    Claim,
    FeedState,
    PollLedger,
    StoredVersion,
    Subscription,
    classify_item,
    host_of,
)
from ingest.registry import Feed
from ingest.scheduler import due
from wiredesk import records
from wiredesk.records import RawItem

# Columns of `feeds` beyond feed_id, in FeedState's field order, with their SQLite types.
_FEED_COLUMNS = [f.name for f in dataclasses.fields(FeedState)][1:]
_FEED_TYPES = {
    "failures": "INTEGER NOT NULL DEFAULT 0",
    **dict.fromkeys(
        (f.name for f in dataclasses.fields(FeedState) if f.type == "float"), "REAL NOT NULL DEFAULT 0"
    ),
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    item_id      TEXT PRIMARY KEY,
    feed_id      TEXT NOT NULL,
    version      INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    first_seen   TEXT NOT NULL,
    last_seen    TEXT NOT NULL,
    published    INTEGER NOT NULL DEFAULT 0,
    record       BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS items_feed ON items (feed_id);
CREATE TABLE IF NOT EXISTS feeds (
    feed_id          TEXT PRIMARY KEY,
    etag             TEXT NOT NULL DEFAULT '',
    last_modified    TEXT NOT NULL DEFAULT '',
    next_due         REAL NOT NULL DEFAULT 0,
    failures         INTEGER NOT NULL DEFAULT 0,
    interval_seconds REAL NOT NULL DEFAULT 0,
    last_polled      REAL NOT NULL DEFAULT 0,
    last_status      TEXT NOT NULL DEFAULT '',
    last_error       TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS subscriptions (
    feed_id      TEXT PRIMARY KEY,
    hub          TEXT NOT NULL,
    topic        TEXT NOT NULL,
    secret       TEXT NOT NULL,
    state        TEXT NOT NULL,
    lease_until  REAL NOT NULL DEFAULT 0,
    requested_at REAL NOT NULL DEFAULT 0
);
"""


class IngestState:
    """The ledger at `path` (":memory:" for tests). Use as a context manager or call close()."""

    def __init__(self, path: str | Path) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._indexed: tuple[Sequence[Feed] | None, dict[str, Feed]] = (None, {})
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        # WAL: readers (tools inspecting the ledger) do not block the poller's writes.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._add_feed_columns()
        self._db.execute("CREATE INDEX IF NOT EXISTS feeds_due ON feeds (next_due)")

    def _add_feed_columns(self) -> None:
        """Ledgers written by an older wiredesk lack the newer feed columns: add them, empty."""
        present = {row[1] for row in self._db.execute("PRAGMA table_info(feeds)")}
        for name in _FEED_COLUMNS:
            if name not in present:
                kind = _FEED_TYPES.get(name, "TEXT NOT NULL DEFAULT ''")
                self._db.execute(f"ALTER TABLE feeds ADD COLUMN {name} {kind}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> IngestState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- items ---------------------------------------------------------------------------------

    def classify(self, item: RawItem) -> tuple[Change, RawItem]:
        """Compare with the ledger; record new/changed versions as pending. See module docstring."""
        return self.classify_all([item])[0]

    def classify_all(self, items: Iterable[RawItem]) -> list[tuple[Change, RawItem]]:
        """classify() for a batch in one transaction (one fsync per feed poll, not per item)."""
        results: list[tuple[Change, RawItem]] = []
        with self._lock, self._transaction():
            for item in items:
                results.append(self._classify_one(item))
        return results

    def _classify_one(self, item: RawItem) -> tuple[Change, RawItem]:
        now = _iso(item.fetched_at)
        row = self._db.execute(
            "SELECT version, content_hash, published, record FROM items WHERE item_id = ?",
            (item.item_id,),
        ).fetchone()
        stored = StoredVersion(int(row[0]), str(row[1]), bool(row[2]), bytes(row[3])) if row else None
        change, result, action = classify_item(item, stored)
        if action == "insert":
            self._db.execute(
                "INSERT INTO items (item_id, feed_id, version, content_hash, first_seen, last_seen,"
                " published, record) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                (item.item_id, item.feed_id, 1, item.content_hash, now, now, records.dumps(result)),
            )
        elif action == "touch":
            self._db.execute("UPDATE items SET last_seen = ? WHERE item_id = ?", (now, item.item_id))
        else:
            self._db.execute(
                "UPDATE items SET version = ?, content_hash = ?, last_seen = ?, published = 0, record = ?"
                " WHERE item_id = ?",
                (result.version, item.content_hash, now, records.dumps(result), item.item_id),
            )
        return change, result

    def mark_published(self, items: Iterable[RawItem]) -> int:
        """Record that the broker acked these versions; returns how many rows it marked.

        Only the exact version is marked: if a newer version was classified meanwhile, that one
        stays pending.
        """
        pairs = [(item.item_id, item.version) for item in items]
        with self._lock, self._transaction():
            marked = 0
            for item_id, version in pairs:
                cursor = self._db.execute(
                    "UPDATE items SET published = 1 WHERE item_id = ? AND version = ?",
                    (item_id, version),
                )
                marked += cursor.rowcount
        return marked

    def published_items(self, feed_id: str | None = None) -> Iterator[RawItem]:
        """The latest published version of every item (to refill a fresh embedded broker)."""
        for chunk in self.published_chunks(feed_id=feed_id):
            yield from chunk

    def published_chunks(self, size: int = 500, feed_id: str | None = None) -> Iterator[list[RawItem]]:
        """`published_items` in lists of at most `size`: memory stays bounded however big the ledger.

        Each chunk is one query, resumed after the last row of the one before (keyset on rowid),
        so writes between chunks neither skip nor repeat rows that existed at the start.
        """
        last = 0
        query = "SELECT rowid, record FROM items WHERE published = 1 AND rowid > ?"
        if feed_id is not None:
            query += " AND feed_id = ?"
        while True:
            params: tuple[object, ...] = (last, feed_id) if feed_id is not None else (last,)
            with self._lock:
                rows = self._db.execute(query + " ORDER BY rowid LIMIT ?", (*params, size)).fetchall()
            if not rows:
                return
            last = int(rows[-1][0])
            yield [records.loads(RawItem, blob) for _, blob in rows]

    def pending_items(self, feed_id: str | None = None) -> list[RawItem]:
        """Versions classified but not yet acked (e.g. to publish them at start-up)."""
        return self._items(published=False, feed_id=feed_id)

    def _items(self, *, published: bool, feed_id: str | None) -> list[RawItem]:
        query = "SELECT record FROM items WHERE published = ?"
        params: tuple[object, ...] = (int(published),)
        if feed_id is not None:
            query += " AND feed_id = ?"
            params = (*params, feed_id)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY first_seen, item_id", params).fetchall()
        return [records.loads(RawItem, blob) for (blob,) in rows]

    def item_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM items").fetchone()[0])

    # --- feeds ---------------------------------------------------------------------------------

    def feed_state(self, feed_id: str) -> FeedState:
        return self.feed_states([feed_id])[feed_id]

    def feed_states(self, feed_ids: Iterable[str]) -> dict[str, FeedState]:
        """The state of each feed id (an empty FeedState for a feed never polled)."""
        wanted = list(feed_ids)
        with self._lock:
            rows = self._db.execute(
                f"SELECT feed_id, {', '.join(_FEED_COLUMNS)} FROM feeds"
                " WHERE feed_id IN (SELECT value FROM json_each(?))",
                (orjson.dumps(wanted).decode(),),
            ).fetchall()
        known = {str(row[0]): _feed_state(row) for row in rows}
        return {feed_id: known.get(feed_id) or FeedState(feed_id=feed_id) for feed_id in wanted}

    def save_feed_state(self, state: FeedState) -> None:
        columns = ", ".join(_FEED_COLUMNS)
        updates = ", ".join(f"{name} = excluded.{name}" for name in _FEED_COLUMNS)
        with self._lock:
            self._db.execute(
                f"INSERT INTO feeds (feed_id, {columns}) VALUES ({', '.join('?' * (len(_FEED_COLUMNS) + 1))})"
                f" ON CONFLICT (feed_id) DO UPDATE SET {updates}",
                dataclasses.astuple(state),
            )

    def due_feeds(self, feeds: Iterable[Feed], now: datetime) -> list[Feed]:
        """Enabled feeds whose next poll time has come, most overdue first (never polled = due)."""
        by_id = {feed.id: feed for feed in feeds if feed.enabled}
        return [by_id[fid] for fid in due(self.next_due(by_id), now.timestamp(), by_id)]

    def seconds_until_next_due(self, feeds: Iterable[Feed], now: datetime) -> float:
        """How long until the first of these feeds is due (0 if one is due now, inf if none)."""
        return self.seconds_until_due([f for f in feeds if f.enabled], now.timestamp())

    def seconds_until_due(self, feeds: Sequence[Feed], now: float, stretch: float = 1.0) -> float:
        """Seconds until the first of `feeds` is due (0 if one is due, inf for none)."""
        if not feeds:
            return float("inf")
        with self._lock:
            row = self._db.execute(
                "SELECT min(next_due + ? * interval_seconds), count(*) FROM feeds"
                " WHERE feed_id IN (SELECT value FROM json_each(?))",
                (max(0.0, stretch - 1.0), orjson.dumps([feed.id for feed in feeds]).decode()),
            ).fetchone()
        if row is None or row[0] is None or int(row[1]) < len({feed.id for feed in feeds}):
            return 0.0  # a feed never polled is due now
        return max(0.0, float(row[0]) - now)

    def next_due(self, feed_ids: Iterable[str]) -> dict[str, float]:
        """Next due time per feed id (0.0 for a feed never polled: due now)."""
        wanted = list(feed_ids)
        with self._lock:
            rows = dict(self._db.execute("SELECT feed_id, next_due FROM feeds").fetchall())
        return {feed_id: float(rows.get(feed_id, 0.0)) for feed_id in wanted}

    # --- claims (one process: due and not already in flight) ------------------------------------

    def sync_feeds(self, feeds: Sequence[Feed]) -> None:
        """Give every feed a row (due at once when new), so claims are one indexed query."""
        with self._lock, self._transaction():
            self._db.executemany(
                "INSERT OR IGNORE INTO feeds (feed_id) VALUES (?)", [(feed.id,) for feed in feeds]
            )

    def poll_soon(self, feed_ids: Collection[str]) -> None:
        """Make these feeds due now (a registry edit changed their URL)."""
        with self._lock, self._transaction():
            for feed_id in feed_ids:
                self._db.execute("UPDATE feeds SET next_due = 0 WHERE feed_id = ?", (feed_id,))

    def claim(
        self,
        feeds: Sequence[Feed],
        now: float,
        *,
        limit: int,
        busy_hosts: Collection[str] = (),
        in_flight: Collection[str] = (),
        stretch: float = 1.0,
        force: bool = False,
    ) -> list[Claim]:
        """Up to `limit` due feeds, most overdue first, skipping those in flight or on busy hosts.

        Reads due rows in next-due order (an index), a few more than asked for, and more only
        when those were skipped: a claim costs the same with ten feeds or ten thousand.
        """
        if limit <= 0 or not feeds:
            return []
        if force:
            return self._claim_any([f for f in feeds if f.id not in in_flight], limit, busy_hosts)
        if feeds is not self._indexed[0]:
            # The dispatcher passes the same sequence until the registry changes: index it once.
            self._indexed = (feeds, {feed.id: feed for feed in feeds})
        wanted = self._indexed[1]
        picked: list[Claim] = []
        chunk = limit + len(in_flight) + 16
        offset = 0
        while len(picked) < limit:
            with self._lock:
                rows = self._db.execute(
                    f"SELECT feed_id, {', '.join(_FEED_COLUMNS)} FROM feeds"
                    " WHERE next_due + ? * interval_seconds <= ? ORDER BY next_due LIMIT ? OFFSET ?",
                    (max(0.0, stretch - 1.0), now, chunk, offset),
                ).fetchall()
            for row in rows:
                feed = wanted.get(str(row[0]))
                if feed is None or feed.id in in_flight:
                    continue
                state = _feed_state(row)
                if host_of(state.fetch_url(feed)) in busy_hosts:
                    continue
                picked.append(Claim(feed=feed, state=state))
                if len(picked) == limit:
                    break
            if len(rows) < chunk:
                break
            offset += chunk
            chunk *= 4
        return picked

    def _claim_any(self, feeds: list[Feed], limit: int, busy_hosts: Collection[str]) -> list[Claim]:
        """`--once`: the first feeds whose host is free, due or not."""
        picked: list[Claim] = []
        for start in range(0, len(feeds), max(limit * 4, 64)):
            batch = feeds[start : start + max(limit * 4, 64)]
            states = self.feed_states(feed.id for feed in batch)
            for feed in batch:
                if host_of(states[feed.id].fetch_url(feed)) not in busy_hosts:
                    picked.append(Claim(feed=feed, state=states[feed.id]))
                    if len(picked) == limit:
                        return picked
        return picked

    def renew(self, claims: Sequence[Claim]) -> set[str]:
        return {claim.feed_id for claim in claims}

    def release(self, claims: Sequence[Claim]) -> None:
        return

    def leased(self, claim: Claim) -> PollLedger:
        return self

    # --- WebSub subscriptions -------------------------------------------------------------------

    def subscriptions(self) -> list[Subscription]:
        with self._lock:
            rows = self._db.execute(
                "SELECT feed_id, hub, topic, secret, state, lease_until, requested_at FROM subscriptions"
            ).fetchall()
        return [_subscription(row) for row in rows]

    def subscription(self, feed_id: str) -> Subscription | None:
        with self._lock:
            row = self._db.execute(
                "SELECT feed_id, hub, topic, secret, state, lease_until, requested_at FROM subscriptions"
                " WHERE feed_id = ?",
                (feed_id,),
            ).fetchone()
        return _subscription(row) if row else None

    def save_subscription(self, subscription: Subscription) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO subscriptions (feed_id, hub, topic, secret, state, lease_until, requested_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (feed_id) DO UPDATE SET hub = excluded.hub,"
                " topic = excluded.topic, secret = excluded.secret, state = excluded.state,"
                " lease_until = excluded.lease_until, requested_at = excluded.requested_at",
                dataclasses.astuple(subscription),
            )

    def delete_subscription(self, feed_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM subscriptions WHERE feed_id = ?", (feed_id,))

    # --- retention ------------------------------------------------------------------------------

    def prune(self, now: float, retention_seconds: float) -> int:
        """Forget published items absent from their feed's documents for `retention_seconds`.

        An item still listed is seen again at every read of its feed, so only items that a later
        document of their feed no longer listed can go: a feed answering 304 for a month keeps
        its items, and they are not published again as new when it next changes.
        """
        cutoff = datetime.fromtimestamp(now - retention_seconds, UTC).isoformat()
        with self._lock, self._transaction():
            cursor = self._db.execute(
                "DELETE FROM items WHERE published = 1 AND last_seen < ? AND last_seen < ("
                " SELECT strftime('%Y-%m-%dT%H:%M:%S', feeds.last_document, 'unixepoch')"
                " FROM feeds WHERE feeds.feed_id = items.feed_id AND feeds.last_document > 0)",
                (cutoff,),
            )
            return int(cursor.rowcount)

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, rolled back on error (autocommit connection otherwise)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self._db.execute("ROLLBACK" if exc_type is not None else "COMMIT")


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _feed_state(row: Sequence[object]) -> FeedState:
    """A FeedState from a row of feed_id and the feed columns, each value cast to its field's type."""
    casts = {"int": int, "float": float, "str": str}
    values: list[Any] = [
        casts[str(f.type)](v) for f, v in zip(dataclasses.fields(FeedState), row, strict=True)
    ]
    return FeedState(*values)


def _subscription(row: Sequence[object]) -> Subscription:
    feed_id, hub, topic, secret, state, lease_until, requested_at = row
    return Subscription(str(feed_id), str(hub), str(topic), str(secret), str(state),
                        float(lease_until), float(requested_at))  # type: ignore[arg-type]  # fmt: skip


__all__ = ["Change", "FeedState", "IngestState"]
