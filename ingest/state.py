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
each think they own the feeds; ingest replicas split feeds instead (see DESIGN.md).
"""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from ingest.registry import Feed
from ingest.scheduler import due
from wiredesk import records
from wiredesk.records import RawItem

Change = Literal["new", "changed", "unchanged"]

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
"""


@dataclass(frozen=True, slots=True)
class FeedState:
    """What ingest remembers about one feed between polls; times are Unix seconds."""

    feed_id: str
    etag: str = ""
    last_modified: str = ""
    next_due: float = 0.0
    failures: int = 0
    interval_seconds: float = 0.0
    last_polled: float = 0.0
    last_status: str = ""
    last_error: str = ""


class IngestState:
    """The ledger at `path` (":memory:" for tests). Use as a context manager or call close()."""

    def __init__(self, path: str | Path) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        # WAL: readers (tools inspecting the ledger) do not block the poller's writes.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

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
        if row is None:
            fresh = dataclasses.replace(item, version=1)
            self._db.execute(
                "INSERT INTO items (item_id, feed_id, version, content_hash, first_seen, last_seen,"
                " published, record) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                (item.item_id, item.feed_id, 1, item.content_hash, now, now, records.dumps(fresh)),
            )
            return "new", fresh
        version, stored_hash, published, stored = int(row[0]), str(row[1]), bool(row[2]), row[3]
        if stored_hash == item.content_hash:
            self._db.execute("UPDATE items SET last_seen = ? WHERE item_id = ?", (now, item.item_id))
            if published:
                return "unchanged", dataclasses.replace(item, version=version)
            # Seen but never acked: hand out the pending version again, exactly as recorded.
            pending = records.loads(RawItem, stored)
            return ("new" if version == 1 else "changed"), pending
        # New content always gets a new number, even over a version never acked: that version may
        # still have reached the topic (the ack was lost, not the send), and the sinks' ledgers
        # identify what they processed by (item id, version).
        new_version = version + 1
        updated = dataclasses.replace(item, version=new_version)
        self._db.execute(
            "UPDATE items SET version = ?, content_hash = ?, last_seen = ?, published = 0, record = ?"
            " WHERE item_id = ?",
            (new_version, item.content_hash, now, records.dumps(updated), item.item_id),
        )
        return ("new" if new_version == 1 else "changed"), updated

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
        with self._lock:
            row = self._db.execute(
                "SELECT etag, last_modified, next_due, failures, interval_seconds, last_polled,"
                " last_status, last_error FROM feeds WHERE feed_id = ?",
                (feed_id,),
            ).fetchone()
        if row is None:
            return FeedState(feed_id=feed_id)
        return FeedState(feed_id, str(row[0]), str(row[1]), float(row[2]), int(row[3]), float(row[4]),
                         float(row[5]), str(row[6]), str(row[7]))  # fmt: skip

    def save_feed_state(self, state: FeedState) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO feeds (feed_id, etag, last_modified, next_due, failures, interval_seconds,"
                " last_polled, last_status, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (feed_id) DO UPDATE SET etag = excluded.etag,"
                " last_modified = excluded.last_modified, next_due = excluded.next_due,"
                " failures = excluded.failures, interval_seconds = excluded.interval_seconds,"
                " last_polled = excluded.last_polled, last_status = excluded.last_status,"
                " last_error = excluded.last_error",
                dataclasses.astuple(state),
            )

    def due_feeds(self, feeds: Iterable[Feed], now: datetime) -> list[Feed]:
        """Enabled feeds whose next poll time has come, most overdue first (never polled = due)."""
        by_id = {feed.id: feed for feed in feeds if feed.enabled}
        return [by_id[fid] for fid in due(self.next_due(by_id), now.timestamp(), by_id)]

    def seconds_until_next_due(self, feeds: Iterable[Feed], now: datetime) -> float:
        """How long until the first of these feeds is due (0 if one is due now, inf if none)."""
        ids = [feed.id for feed in feeds if feed.enabled]
        if not ids:
            return float("inf")
        return max(0.0, min(self.next_due(ids).values()) - now.timestamp())

    def next_due(self, feed_ids: Iterable[str]) -> dict[str, float]:
        """Next due time per feed id (0.0 for a feed never polled: due now)."""
        wanted = list(feed_ids)
        with self._lock:
            rows = dict(self._db.execute("SELECT feed_id, next_due FROM feeds").fetchall())
        return {feed_id: float(rows.get(feed_id, 0.0)) for feed_id in wanted}

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


__all__ = ["Change", "FeedState", "IngestState"]
