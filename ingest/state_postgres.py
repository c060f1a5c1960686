"""The ingest ledger in PostgreSQL, shared by every ingest replica, which split the feeds by row leases.

Why PostgreSQL leases and not Kafka's group protocol: a feed must never be polled by two
replicas at once, and a group rebalance cannot promise that (a member that missed its heartbeats
keeps working on partitions the group already gave to another until it notices, and nothing
fences what it writes). A row lease can: the database's clock decides when a lease ends, each
claim gets a fencing token, and every write of a poll checks the token in the same transaction.
The ledger has to be shared anyway (any replica must find a feed's validators, its items and
their versions), so the coordination costs no second system.

How a feed is polled by one replica at a time:
1. `claim` takes due feeds with `SELECT … FOR UPDATE SKIP LOCKED` (two replicas claiming at once
   never get the same row, and never wait for each other) whose lease is free or expired, and
   sets `lease_owner`, a fresh `lease_token` from a sequence, and `lease_until = clock_timestamp()
   + lease_seconds`, all on the database's clock.
2. The fetch runs with a deadline of (this replica's monotonic time *before* it sent the claim) +
   lease − margin: it ends before the lease can end, whatever the replicas' wall clocks say.
3. Every write of the poll (its items, its state) runs in a transaction that first locks the
   feed's row and checks the token: a replica whose lease ended and was claimed by another gets
   `LeaseLost`, and its poll counts for nothing.
4. While the poll's results are parsed, classified and published, the replica renews its leases
   (`renew`); then it releases them. A replica that dies stops renewing: its feeds are free
   `lease_seconds` later, and any replica claims them when due.

Items keep the SQLite ledger's delivery contract (ingest.ledger.classify_item); their rows are
written in batches (one statement per kind of write per poll, from arrays).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any

import psycopg
from psycopg import sql

from ingest.ledger import (
    Change,
    Claim,
    FeedState,
    LeaseLost,
    PollLedger,
    StoredVersion,
    Subscription,
    classify_item,
    host_of,
)
from ingest.registry import Feed
from wiredesk import records
from wiredesk.errors import InfrastructureError
from wiredesk.records import RawItem

_CONNECT_TIMEOUT_SECONDS = 10
# Serialises schema creation between replicas starting together (see sinks/postgres.py).
_SCHEMA_LOCK_ID = 0x77646967  # "wdig"
_FEED_FIELDS = list(dataclasses.fields(FeedState))[1:]
_FEED_COLUMNS = [f.name for f in _FEED_FIELDS]
_SQL_TYPES = {"str": "text NOT NULL DEFAULT ''", "int": "integer NOT NULL DEFAULT 0",
              "float": "double precision NOT NULL DEFAULT 0"}  # fmt: skip

_DDL = """
CREATE SEQUENCE IF NOT EXISTS {schema}.wd_ingest_lease_token;
CREATE TABLE IF NOT EXISTS {schema}.wd_ingest_feeds (
    feed_id     text PRIMARY KEY,
    host        text NOT NULL DEFAULT '',
    lease_owner text,
    lease_token bigint,
    lease_until timestamptz
);
CREATE INDEX IF NOT EXISTS wd_ingest_feeds_lease ON {schema}.wd_ingest_feeds (lease_owner);
CREATE TABLE IF NOT EXISTS {schema}.wd_ingest_items (
    item_id      text PRIMARY KEY,
    feed_id      text NOT NULL,
    version      integer NOT NULL,
    content_hash text NOT NULL,
    first_seen   timestamptz NOT NULL,
    last_seen    timestamptz NOT NULL,
    published    boolean NOT NULL DEFAULT false,
    record       bytea NOT NULL
);
CREATE INDEX IF NOT EXISTS wd_ingest_items_pending ON {schema}.wd_ingest_items (feed_id)
    WHERE NOT published;
CREATE INDEX IF NOT EXISTS wd_ingest_items_seen ON {schema}.wd_ingest_items (feed_id, last_seen);
CREATE TABLE IF NOT EXISTS {schema}.wd_ingest_subscriptions (
    feed_id      text PRIMARY KEY,
    hub          text NOT NULL,
    topic        text NOT NULL,
    secret       text NOT NULL,
    state        text NOT NULL,
    lease_until  double precision NOT NULL DEFAULT 0,
    requested_at double precision NOT NULL DEFAULT 0
);
"""


def replica_id() -> str:
    """Who holds a lease: the host, the process, and a random part (pids repeat in containers)."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class _Connections:
    """A few autocommit connections shared by the poll threads; a broken one is replaced."""

    def __init__(self, dsn: str, size: int) -> None:
        self._dsn = dsn
        self._idle: queue.LifoQueue[psycopg.Connection[Any]] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)
        self._closed = False

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        self._slots.acquire()
        conn: psycopg.Connection[Any] | None = None
        try:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = self._connect()
            yield conn
        except psycopg.OperationalError as exc:
            if conn is not None:
                conn.close()
                conn = None
            raise InfrastructureError(f"ingest state database: {exc}".strip()) from exc
        finally:
            if conn is not None:
                if conn.closed or self._closed or conn.info.transaction_status != 0:
                    conn.close()
                else:
                    self._idle.put(conn)
            self._slots.release()

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(self._dsn, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_SECONDS)
        except psycopg.OperationalError as exc:
            raise InfrastructureError(f"cannot reach the ingest state database: {exc}".strip()) from exc

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


class PostgresLedger:
    """The ledger in `schema` of the database at `dsn`. See the module docstring."""

    def __init__(
        self, dsn: str, *, schema: str = "public", lease_seconds: float = 30.0, connections: int = 10
    ) -> None:
        self.schema = schema
        self.owner = replica_id()
        self.lease_seconds = lease_seconds
        self._indexed: tuple[Sequence[Feed] | None, dict[str, Feed], list[str]] = (None, {}, [])
        # A fetch must end this long before its lease does (clock rates, the claim's round trip).
        self._margin = min(5.0, lease_seconds / 4)
        self._pool = _Connections(dsn, max(2, connections))
        self._t = {
            name: sql.Identifier(schema, f"wd_ingest_{name}")
            for name in ("feeds", "items", "subscriptions", "lease_token")
        }
        self._create_schema()

    def _create_schema(self) -> None:
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_ID,))
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))
            conn.execute(sql.SQL(_DDL).format(schema=sql.Identifier(self.schema)))
            for field in _FEED_FIELDS:
                conn.execute(
                    sql.SQL(
                        "ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} " + _SQL_TYPES[str(field.type)]
                    ).format(self._t["feeds"], sql.Identifier(field.name))
                )
            conn.execute(
                sql.SQL("CREATE INDEX IF NOT EXISTS wd_ingest_feeds_due ON {} (next_due)").format(
                    self._t["feeds"]
                )
            )

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> PostgresLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- feeds ----------------------------------------------------------------------------------

    def sync_feeds(self, feeds: Sequence[Feed]) -> None:
        """Give every feed of the registry a row (new feeds are due at once)."""
        ids = [feed.id for feed in feeds]
        hosts = [host_of(feed.url) for feed in feeds]
        with self._pool.connection() as conn:
            conn.execute(
                sql.SQL(
                    "INSERT INTO {} (feed_id, host) SELECT * FROM unnest(%s::text[], %s::text[])"
                    " ON CONFLICT (feed_id) DO NOTHING"
                ).format(self._t["feeds"]),
                (ids, hosts),
            )

    def poll_soon(self, feed_ids: Collection[str]) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                sql.SQL("UPDATE {} SET next_due = 0 WHERE feed_id = ANY(%s)").format(self._t["feeds"]),
                (list(feed_ids),),
            )

    def feed_state(self, feed_id: str) -> FeedState:
        return self.feed_states([feed_id])[feed_id]

    def feed_states(self, feed_ids: Iterable[str]) -> dict[str, FeedState]:
        wanted = list(feed_ids)
        with self._pool.connection() as conn:
            rows = conn.execute(
                sql.SQL(
                    "SELECT feed_id, {} FROM {} JOIN unnest(%s::text[]) AS wanted (id) ON wanted.id = feed_id"
                ).format(self._columns(), self._t["feeds"]),
                (wanted,),
            ).fetchall()
        known = {str(row[0]): _feed_state(row) for row in rows}
        return {feed_id: known.get(feed_id) or FeedState(feed_id=feed_id) for feed_id in wanted}

    def save_feed_state(self, state: FeedState) -> None:
        """Unfenced: for tools and tests. A poll saves through `leased(claim)`."""
        with self._pool.connection() as conn:
            self._upsert_state(conn, state)

    def _upsert_state(self, conn: psycopg.Connection[Any], state: FeedState) -> None:
        values = dataclasses.astuple(state)
        conn.execute(
            sql.SQL(
                "INSERT INTO {t} (feed_id, {cols}, host) VALUES ({marks}, %s)"
                " ON CONFLICT (feed_id) DO UPDATE SET ({cols}, host) = ({excluded}, EXCLUDED.host)"
            ).format(
                t=self._t["feeds"],
                cols=self._columns(),
                marks=sql.SQL(", ").join(sql.Placeholder() * len(values)),
                excluded=sql.SQL(", ").join(
                    sql.SQL("EXCLUDED.{}").format(sql.Identifier(c)) for c in _FEED_COLUMNS
                ),
            ),
            (*values, host_of(state.url or state.registry_url)),
        )

    def seconds_until_due(self, feeds: Sequence[Feed], now: float, stretch: float = 1.0) -> float:
        if not feeds:
            return float("inf")
        with self._pool.connection() as conn:
            row = conn.execute(
                sql.SQL(
                    "SELECT min(next_due + greatest(0, %s - 1) * interval_seconds) FROM {}"
                    " JOIN unnest(%s::text[]) AS wanted (id) ON wanted.id = feed_id"
                    " WHERE lease_until IS NULL OR lease_until < clock_timestamp()"
                ).format(self._t["feeds"]),
                (stretch, [feed.id for feed in feeds]),
            ).fetchone()
        if row is None or row[0] is None:
            # Every feed is leased (by this replica or others): look again within a lease.
            return self.lease_seconds / 3
        return max(0.0, float(row[0]) - now)

    # --- claims ---------------------------------------------------------------------------------

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
        """Lease up to `limit` due feeds among `feeds` to this replica (see the module docstring)."""
        if limit <= 0 or not feeds:
            return []
        if feeds is not self._indexed[0]:
            # The dispatcher passes the same sequence until the registry changes: index it once.
            self._indexed = (feeds, {feed.id: feed for feed in feeds}, [feed.id for feed in feeds])
        _, by_id, ids = self._indexed
        started = time.monotonic()
        query = sql.SQL(
            """
            WITH picked AS (
                -- A join, not feed_id = ANY(ids): that compares every row with every id.
                SELECT f.feed_id FROM {feeds} AS f
                JOIN unnest(%(ids)s::text[]) AS wanted (id) ON wanted.id = f.feed_id
                WHERE (lease_until IS NULL OR lease_until < clock_timestamp())
                  AND (%(force)s OR next_due + greatest(0, %(stretch)s - 1) * interval_seconds <= %(now)s)
                  AND host <> ALL(%(busy)s)
                  AND feed_id <> ALL(%(in_flight)s)
                ORDER BY next_due
                LIMIT %(limit)s
                FOR UPDATE OF f SKIP LOCKED
            )
            UPDATE {feeds} AS f
            SET lease_owner = %(owner)s, lease_token = nextval('{token}'),
                lease_until = clock_timestamp() + make_interval(secs => %(lease)s)
            FROM picked WHERE f.feed_id = picked.feed_id
            RETURNING f.lease_token, f.feed_id, {columns}
            """
        ).format(
            feeds=self._t["feeds"],
            token=sql.SQL(".").join([sql.Identifier(self.schema), sql.Identifier("wd_ingest_lease_token")]),
            columns=sql.SQL(", ").join(sql.SQL("f.{}").format(sql.Identifier(c)) for c in _FEED_COLUMNS),
        )
        with self._pool.connection() as conn:
            rows = conn.execute(
                query,
                {
                    "ids": ids,
                    "force": force,
                    "stretch": stretch,
                    "now": now,
                    "busy": list(busy_hosts),
                    "in_flight": list(in_flight),
                    "limit": limit,
                    "owner": self.owner,
                    "lease": self.lease_seconds,
                },
            ).fetchall()
        deadline = started + self.lease_seconds - self._margin
        claims = [
            Claim(
                feed=by_id[str(row[1])],
                state=_feed_state(row[1:]),
                token=int(row[0]),
                fetch_deadline=deadline,
            )
            for row in rows
        ]
        claims.sort(key=lambda claim: (claim.state.next_due, claim.feed_id))
        return claims

    def renew(self, claims: Sequence[Claim]) -> set[str]:
        """Extend the leases still held; returns the ids of the feeds still held."""
        if not claims:
            return set()
        with self._pool.connection() as conn:
            rows = conn.execute(
                sql.SQL(
                    "UPDATE {t} AS f SET lease_until = clock_timestamp() + make_interval(secs => %s)"
                    " FROM unnest(%s::text[], %s::bigint[]) AS held (feed_id, token)"
                    " WHERE f.feed_id = held.feed_id AND f.lease_token = held.token AND f.lease_owner = %s"
                    " RETURNING f.feed_id"
                ).format(t=self._t["feeds"]),
                (self.lease_seconds, [c.feed_id for c in claims], [c.token for c in claims], self.owner),
            ).fetchall()
        return {str(row[0]) for row in rows}

    def release(self, claims: Sequence[Claim]) -> None:
        if not claims:
            return
        with self._pool.connection() as conn:
            conn.execute(
                sql.SQL(
                    "UPDATE {t} AS f SET lease_owner = NULL, lease_token = NULL, lease_until = NULL"
                    " FROM unnest(%s::text[], %s::bigint[]) AS held (feed_id, token)"
                    " WHERE f.feed_id = held.feed_id AND f.lease_token = held.token"
                ).format(t=self._t["feeds"]),
                ([c.feed_id for c in claims], [c.token for c in claims]),
            )

    def leased(self, claim: Claim) -> PollLedger:
        return _LeasedLedger(self, claim)

    @contextlib.contextmanager
    def _fenced(self, claim: Claim) -> Iterator[psycopg.Connection[Any]]:
        """A transaction that holds the feed's row and proves the claim still holds."""
        with self._pool.connection() as conn, conn.transaction():
            row = conn.execute(
                sql.SQL("SELECT lease_token FROM {} WHERE feed_id = %s FOR UPDATE").format(self._t["feeds"]),
                (claim.feed_id,),
            ).fetchone()
            if row is None or row[0] != claim.token:
                raise LeaseLost(
                    f"feed {claim.feed_id}: lease {claim.token} is no longer held by this replica"
                )
            yield conn

    # --- items ----------------------------------------------------------------------------------

    def classify_all(self, items: Iterable[RawItem]) -> list[tuple[Change, RawItem]]:
        """Unfenced classify (tools, tests); a poll classifies through `leased(claim)`."""
        with self._pool.connection() as conn, conn.transaction():
            return self._classify(conn, list(items))

    def _classify(self, conn: psycopg.Connection[Any], items: list[RawItem]) -> list[tuple[Change, RawItem]]:
        if not items:
            return []
        t = self._t["items"]
        rows = conn.execute(
            sql.SQL(
                "SELECT item_id, version, content_hash, published, record FROM {} WHERE item_id = ANY(%s)"
            ).format(t),
            ([item.item_id for item in items],),
        ).fetchall()
        stored = {str(r[0]): StoredVersion(int(r[1]), str(r[2]), bool(r[3]), bytes(r[4])) for r in rows}
        results: list[tuple[Change, RawItem]] = []
        inserts: list[RawItem] = []
        touches: list[RawItem] = []
        updates: list[RawItem] = []
        for item in items:
            change, result, action = classify_item(item, stored.get(item.item_id))
            results.append((change, result))
            {"insert": inserts, "touch": touches, "update": updates}[action].append(result)
            if action != "touch":
                # A document listing one id twice: the second listing compares with the first.
                stored[item.item_id] = StoredVersion(
                    result.version, item.content_hash, False, records.dumps(result)
                )
        if inserts:
            conn.execute(
                sql.SQL(
                    "INSERT INTO {} (item_id, feed_id, version, content_hash, first_seen, last_seen, record)"
                    " SELECT i, f, v, h, s, s, r FROM unnest(%s::text[], %s::text[], %s::int4[], %s::text[],"
                    " %s::timestamptz[], %s::bytea[]) AS u (i, f, v, h, s, r)"
                    " ON CONFLICT (item_id) DO UPDATE SET version = EXCLUDED.version,"
                    " content_hash = EXCLUDED.content_hash, last_seen = EXCLUDED.last_seen,"
                    " published = false, record = EXCLUDED.record"
                ).format(t),
                (
                    [i.item_id for i in inserts],
                    [i.feed_id for i in inserts],
                    [i.version for i in inserts],
                    [i.content_hash for i in inserts],
                    [i.fetched_at for i in inserts],
                    [records.dumps(i) for i in inserts],
                ),
            )
        if touches:
            conn.execute(
                sql.SQL("UPDATE {} SET last_seen = %s WHERE item_id = ANY(%s)").format(t),
                (touches[0].fetched_at, [i.item_id for i in touches]),
            )
        if updates:
            conn.execute(
                sql.SQL(
                    "UPDATE {t} AS it SET version = u.v, content_hash = u.h, last_seen = u.s,"
                    " published = false, record = u.r"
                    " FROM unnest(%s::text[], %s::int4[], %s::text[], %s::timestamptz[], %s::bytea[])"
                    " AS u (i, v, h, s, r) WHERE it.item_id = u.i"
                ).format(t=t),
                (
                    [i.item_id for i in updates],
                    [i.version for i in updates],
                    [i.content_hash for i in updates],
                    [i.fetched_at for i in updates],
                    [records.dumps(i) for i in updates],
                ),
            )
        return results

    def pending_items(self, feed_id: str | None = None) -> list[RawItem]:
        query = sql.SQL("SELECT record FROM {} WHERE NOT published").format(self._t["items"])
        params: tuple[Any, ...] = ()
        if feed_id is not None:
            query += sql.SQL(" AND feed_id = %s")
            params = (feed_id,)
        with self._pool.connection() as conn:
            rows = conn.execute(query + sql.SQL(" ORDER BY first_seen, item_id"), params).fetchall()
        return [records.loads(RawItem, bytes(row[0])) for row in rows]

    def mark_published(self, items: Iterable[RawItem]) -> int:
        batch = list(items)
        if not batch:
            return 0
        with self._pool.connection() as conn:
            cursor = conn.execute(
                sql.SQL(
                    "UPDATE {} AS it SET published = true FROM unnest(%s::text[], %s::int4[]) AS u (i, v)"
                    " WHERE it.item_id = u.i AND it.version = u.v"
                ).format(self._t["items"]),
                ([i.item_id for i in batch], [i.version for i in batch]),
            )
            return int(cursor.rowcount)

    def published_chunks(self, size: int = 500, feed_id: str | None = None) -> Iterator[list[RawItem]]:
        """The latest published version of every item, in lists of at most `size` (keyset on item id)."""
        last = ""
        query = sql.SQL("SELECT item_id, record FROM {} WHERE published AND item_id > %s").format(
            self._t["items"]
        )
        if feed_id is not None:
            query += sql.SQL(" AND feed_id = %s")
        while True:
            params: tuple[Any, ...] = (last, feed_id) if feed_id is not None else (last,)
            with self._pool.connection() as conn:
                rows = conn.execute(query + sql.SQL(" ORDER BY item_id LIMIT %s"), (*params, size)).fetchall()
            if not rows:
                return
            last = str(rows[-1][0])
            yield [records.loads(RawItem, bytes(row[1])) for row in rows]

    def item_count(self) -> int:
        with self._pool.connection() as conn:
            row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(self._t["items"])).fetchone()
        return int(row[0]) if row else 0

    def prune(self, now: float, retention_seconds: float) -> int:
        """Forget published items absent from their feed's documents for a while (see IngestState)."""
        with self._pool.connection() as conn:
            cursor = conn.execute(
                sql.SQL(
                    "DELETE FROM {items} AS it USING {feeds} AS f"
                    " WHERE it.feed_id = f.feed_id AND it.published AND f.last_document > 0"
                    " AND it.last_seen < to_timestamp(%s)"
                    " AND it.last_seen < to_timestamp(f.last_document) - interval '1 second'"
                ).format(items=self._t["items"], feeds=self._t["feeds"]),
                (now - retention_seconds,),
            )
            return int(cursor.rowcount)

    # --- WebSub subscriptions -------------------------------------------------------------------

    def subscriptions(self) -> list[Subscription]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                sql.SQL("SELECT {} FROM {}").format(_SUB_COLUMNS, self._t["subscriptions"])
            ).fetchall()
        return [_subscription(row) for row in rows]

    def subscription(self, feed_id: str) -> Subscription | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                sql.SQL("SELECT {} FROM {} WHERE feed_id = %s").format(
                    _SUB_COLUMNS, self._t["subscriptions"]
                ),
                (feed_id,),
            ).fetchone()
        return _subscription(row) if row else None

    def save_subscription(self, subscription: Subscription) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                sql.SQL(
                    "INSERT INTO {t} ({cols}) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (feed_id)"
                    " DO UPDATE SET (hub, topic, secret, state, lease_until, requested_at) ="
                    " (EXCLUDED.hub, EXCLUDED.topic, EXCLUDED.secret, EXCLUDED.state,"
                    " EXCLUDED.lease_until, EXCLUDED.requested_at)"
                ).format(t=self._t["subscriptions"], cols=_SUB_COLUMNS),
                dataclasses.astuple(subscription),
            )

    def delete_subscription(self, feed_id: str) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE feed_id = %s").format(self._t["subscriptions"]), (feed_id,)
            )

    def _columns(self) -> sql.Composable:
        return sql.SQL(", ").join(sql.Identifier(c) for c in _FEED_COLUMNS)


class _LeasedLedger:
    """What one poll writes, each write fenced by its claim (see the module docstring, step 3)."""

    def __init__(self, ledger: PostgresLedger, claim: Claim) -> None:
        self._ledger = ledger
        self._claim = claim

    def feed_state(self, feed_id: str) -> FeedState:
        # Read by the claim itself, in the statement that took the lease.
        return self._claim.state if feed_id == self._claim.feed_id else self._ledger.feed_state(feed_id)

    def save_feed_state(self, state: FeedState) -> None:
        with self._ledger._fenced(self._claim) as conn:
            self._ledger._upsert_state(conn, state)

    def classify_all(self, items: Iterable[RawItem]) -> list[tuple[Change, RawItem]]:
        with self._ledger._fenced(self._claim) as conn:
            return self._ledger._classify(conn, list(items))

    def pending_items(self, feed_id: str | None = None) -> list[RawItem]:
        return self._ledger.pending_items(feed_id)


_SUB_COLUMNS = sql.SQL("feed_id, hub, topic, secret, state, lease_until, requested_at")


def _feed_state(row: Sequence[Any]) -> FeedState:
    casts = {"int": int, "float": float, "str": str}
    values = [casts[str(f.type)](v) for f, v in zip(dataclasses.fields(FeedState), row, strict=True)]
    return FeedState(*values)


def _subscription(row: Sequence[Any]) -> Subscription:
    return Subscription(
        str(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4]), float(row[5]), float(row[6])
    )


__all__ = ["PostgresLedger", "replica_id"]
