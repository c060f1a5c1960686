"""SQLite storage with an FTS5 search index in the same file: the embedded, single-machine sink.

One database file holds the article table, its FTS5 index and the ledger of processed item
versions; each batch is one transaction over all three, so the index can never disagree with
the stored rows. WAL mode lets the CLI search while the sink writes.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sinks.base import (
    HIGHLIGHT_END,
    HIGHLIGHT_START,
    SNIPPET_ELLIPSIS,
    SearchHit,
    SinkClosedError,
    SinkConfigError,
    SinkError,
    SinkUnavailable,
    WriteResult,
)
from sinks.fts_query import fts5_query
from sinks.rows import ArticleRow, iso_utc, newest_per_uri, to_row
from wiredesk.derivation import LEGACY_SCHEME, LEGACY_VERSION_DIGITS
from wiredesk.records import Article, RecordError, loads

log = logging.getLogger(__name__)

# bm25 column weights: a match in the headline counts ten times one in the body. Column order
# follows the FTS table: (headline, body, indexed_key UNINDEXED).
_HEADLINE_WEIGHT = 10.0
_BODY_WEIGHT = 1.0
_SNIPPET_TOKENS = 24
_BUSY_TIMEOUT_SECONDS = 10.0
_VERSIONS_PER_QUERY = 1_000
# PRAGMA user_version of the layout below; a file from a newer wiredesk is refused, not guessed at.
# 1: first layout. 2: `derivation_key`, the order of an article's derivations across feeds.
SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    uri TEXT NOT NULL UNIQUE,
    version INTEGER NOT NULL,
    transform_version TEXT NOT NULL,
    transform_key TEXT NOT NULL,
    derivation_key TEXT NOT NULL,
    item_id TEXT NOT NULL,
    item_version INTEGER NOT NULL,
    feed_id TEXT NOT NULL,
    story_id TEXT NOT NULL,
    headline TEXT NOT NULL,
    versioncreated TEXT,
    firstcreated TEXT,
    language TEXT NOT NULL,
    agency TEXT NOT NULL,
    canonical_url TEXT NOT NULL,
    source_url TEXT NOT NULL,
    doc BLOB NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_story ON articles (story_id);
CREATE INDEX IF NOT EXISTS articles_versioncreated ON articles (versioncreated);
CREATE TABLE IF NOT EXISTS processed_items (
    item_id TEXT NOT NULL,
    item_version INTEGER NOT NULL,
    PRIMARY KEY (item_id, item_version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dead_lettered_items (
    item_id TEXT NOT NULL,
    item_version INTEGER NOT NULL,
    PRIMARY KEY (item_id, item_version)
) WITHOUT ROWID;
"""
# dead_lettered_items needs no migration step: CREATE IF NOT EXISTS adds it to older files. A
# separate table rather than an outcome column on processed_items: a version dead-lettered and
# later redriven and stored is simply in both.
# The FTS row's rowid is the article row's rowid, which an upsert keeps: updating an article
# is "delete that rowid, insert it again" in the index. `indexed_key` records which derivation
# the FTS row holds, so a search-enabled sink also indexes rows that a storage-only sink on the
# same file stored first (`wiredesk sink --only storage` beside `--only search`).
# remove_diacritics 2 folds accents everywhere ("São" = "sao"); porter stems English on top
# of unicode61 word splitting.
_FTS_SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5 (
    headline, body, indexed_key UNINDEXED,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
"""

_UPSERT = """
INSERT INTO articles (
    uri, version, transform_version, transform_key, derivation_key, item_id, item_version, feed_id,
    story_id, headline, versioncreated, firstcreated, language, agency, canonical_url, source_url,
    doc, updated_at
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (uri) DO UPDATE SET
    version = excluded.version,
    transform_version = excluded.transform_version,
    transform_key = excluded.transform_key,
    derivation_key = excluded.derivation_key,
    item_id = excluded.item_id,
    item_version = excluded.item_version,
    feed_id = excluded.feed_id,
    story_id = excluded.story_id,
    headline = excluded.headline,
    versioncreated = excluded.versioncreated,
    firstcreated = excluded.firstcreated,
    language = excluded.language,
    agency = excluded.agency,
    canonical_url = excluded.canonical_url,
    source_url = excluded.source_url,
    doc = excluded.doc,
    updated_at = excluded.updated_at
-- The guard lives in SQL as well as in Python, so that no code path can regress a row. BINARY
-- collation (SQLite's default) compares bytes, which is the keys' order.
WHERE excluded.derivation_key > articles.derivation_key
RETURNING rowid
"""
# Schema 1 -> 2: rows stored before derivation keys get the key wiredesk.derivation.legacy_key
# gives an Article without one, so they keep their order among themselves and below new keys.
_LEGACY_KEY_SQL = (
    f"'{LEGACY_SCHEME} ' || printf('%0{LEGACY_VERSION_DIGITS}d', max(version, 0)) || ' ' || transform_key"
)


def _utc_now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class SqliteSink:
    """Storage (and, with `fts=True`, full-text search) in one SQLite file."""

    def __init__(
        self,
        path: str | Path,
        *,
        fts: bool = True,
        name: str = "sqlite",
        busy_timeout_seconds: float = _BUSY_TIMEOUT_SECONDS,
    ) -> None:
        self.path = Path(path)
        self.busy_timeout_seconds = busy_timeout_seconds
        self.fts = fts
        self.name = name
        self._conn: sqlite3.Connection | None = None
        # One connection shared by the writer and readers in this process (the embedded runner
        # runs services as threads); sqlite3 objects are not safe for concurrent use.
        self._lock = threading.RLock()

    # --- lifecycle ------------------------------------------------------------------------------

    def open(self) -> None:
        if self._conn is not None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout_seconds,
                isolation_level=None,  # explicit BEGIN/COMMIT: one transaction per batch
                check_same_thread=False,
            )
        except (OSError, sqlite3.Error) as exc:
            raise SinkUnavailable(f"cannot open {self.path}: {exc}", sink=self.name) from exc
        try:
            self._prepare(conn)
        except BaseException as exc:
            conn.close()
            if isinstance(exc, sqlite3.Error):
                raise _translate(exc, self.name, f"cannot open {self.path}") from exc
            raise
        self._conn = conn
        log.info(
            "sink opened (search index: %s)", self.fts, extra={"sink": self.name, "path": str(self.path)}
        )

    def _prepare(self, conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a commit is on disk when it returns, so `flush` can promise durability and
        # the consumer can commit its offsets. One fsync per batch, not per row.
        conn.execute("PRAGMA synchronous = FULL")
        (found_version,) = conn.execute("PRAGMA user_version").fetchone()
        if found_version > SCHEMA_VERSION:
            raise SinkConfigError(
                f"{self.path} has schema version {found_version}; this wiredesk knows "
                f"{SCHEMA_VERSION}: upgrade wiredesk or point sink.sqlite_path elsewhere",
                sink=self.name,
            )
        conn.executescript(_SCHEMA)
        _migrate(conn)
        if self.fts:
            _ensure_fts(conn)

    def flush(self) -> None:
        # Every write_batch commits its own transaction with synchronous=FULL, so once it has
        # returned the data is durable; there is never buffered state to push here.
        with self._lock:
            conn = self._require()
            if conn.in_transaction:  # only after a bug in this class; never leave it pending
                raise SinkError("a transaction is unexpectedly open at flush", sink=self.name)

    def close(self) -> None:
        with self._lock:
            if self._conn is None:
                return
            try:
                self._conn.close()
            finally:
                self._conn = None

    def __enter__(self) -> SqliteSink:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing --------------------------------------------------------------------------------

    def write_batch(self, articles: Sequence[Article]) -> WriteResult:
        if not articles:
            return WriteResult()
        rows, stale, unchanged = newest_per_uri([to_row(a) for a in articles])
        inserted = updated = 0
        now = _utc_now()
        with self._lock, self._transaction() as conn:
            stored = self._stored(conn, [r.uri for r in rows])
            for row in rows:
                current = stored.get(row.uri)
                if current is not None and row.key <= current[1]:
                    if row.key == current[1]:
                        unchanged += 1
                    else:
                        stale += 1
                    if self.fts:
                        _sync_fts(conn, current[0], current[1], None)
                    continue
                found = conn.execute(_UPSERT, _values(row, now)).fetchone()
                if found is None:  # the SQL guard refused: only if the read above was wrong
                    stale += 1
                    continue
                if current is None:
                    inserted += 1
                else:
                    updated += 1
                if self.fts:
                    _sync_fts(conn, found[0], row.key, row)
            conn.executemany(
                "INSERT OR IGNORE INTO processed_items (item_id, item_version) VALUES (?, ?)",
                {(a.wiredesk.item_id, a.wiredesk.item_version) for a in articles},
            )
        return WriteResult(inserted, updated, unchanged, stale)

    @staticmethod
    def _stored(conn: sqlite3.Connection, uris: list[str]) -> dict[str, tuple[int, str]]:
        """uri -> (rowid, derivation_key) of the stored rows among `uris`."""
        found: dict[str, tuple[int, str]] = {}
        # Chunks stay well under SQLite's bound-parameter limit (32,766 since 3.32).
        for start in range(0, len(uris), 500):
            chunk = uris[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for uri, rowid, key in conn.execute(
                f"SELECT uri, rowid, derivation_key FROM articles WHERE uri IN ({marks})", chunk
            ):
                found[uri] = (rowid, key)
        return found

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._require()
        try:
            # IMMEDIATE takes the write lock up front, so the version read and the writes that
            # depend on it see the same database even with another writer process.
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _translate(exc, self.name, "cannot begin a transaction") from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise _translate(exc, self.name, "batch rolled back") from exc
            raise

    def _require(self) -> sqlite3.Connection:
        if self._conn is None:
            raise SinkClosedError("not open", sink=self.name)
        return self._conn

    # --- reading --------------------------------------------------------------------------------

    def count(self) -> int:
        with self._lock:
            (n,) = self._require().execute("SELECT count(*) FROM articles").fetchone()
        return int(n)

    def get(self, uri: str) -> Article | None:
        with self._lock:
            found = self._require().execute("SELECT doc FROM articles WHERE uri = ?", (uri,)).fetchone()
        if found is None:
            return None
        try:
            return loads(Article, found[0])
        except RecordError as exc:
            raise SinkError(f"stored document for {uri} no longer decodes: {exc}", sink=self.name) from exc

    def processed_among(self, versions: Sequence[tuple[str, int]]) -> set[tuple[str, int]]:
        found: set[tuple[str, int]] = set()
        # 2 parameters per version; chunks stay well under SQLite's bound-parameter limit.
        for start in range(0, len(versions), _VERSIONS_PER_QUERY):
            chunk = versions[start : start + _VERSIONS_PER_QUERY]
            rows = ",".join("(?, ?)" for _ in chunk)
            sql = f"""
                WITH wanted (item_id, item_version) AS (VALUES {rows})
                SELECT item_id, item_version FROM wanted AS w
                WHERE EXISTS (SELECT 1 FROM processed_items AS p
                              WHERE p.item_id = w.item_id AND p.item_version = w.item_version)
                   OR EXISTS (SELECT 1 FROM dead_lettered_items AS d
                              WHERE d.item_id = w.item_id AND d.item_version = w.item_version)
            """
            params = [value for pair in chunk for value in pair]
            with self._lock:
                try:
                    cur = self._require().execute(sql, params)
                    found.update((item_id, int(version)) for item_id, version in cur)
                except sqlite3.Error as exc:
                    raise _translate(exc, self.name, "reading processed items failed") from exc
        return found

    def record_dead_lettered(self, versions: Sequence[tuple[str, int]]) -> None:
        if not versions:
            return
        with self._lock, self._transaction() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO dead_lettered_items (item_id, item_version) VALUES (?, ?)", versions
            )

    def search(self, query: str, limit: int = 10) -> list[SearchHit]:
        if not self.fts:
            raise SinkError("this SQLite sink was opened without a search index", sink=self.name)
        limit = min(int(limit), 1000)
        match = fts5_query(query)
        if match is None or limit < 1:
            return []
        with self._lock:
            return self._search(self._require(), match, limit)

    def _search(self, conn: sqlite3.Connection, match: str, limit: int) -> list[SearchHit]:
        sql = f"""
            SELECT a.uri, a.headline, a.versioncreated, a.source_url,
                   snippet(articles_fts, 1, ?, ?, ?, {_SNIPPET_TOKENS}) AS snip,
                   bm25(articles_fts, {_HEADLINE_WEIGHT}, {_BODY_WEIGHT}) AS rank
            FROM articles_fts JOIN articles AS a ON a.rowid = articles_fts.rowid
            WHERE articles_fts MATCH ?
            ORDER BY rank, a.versioncreated DESC
            LIMIT ?
        """
        try:
            cur = conn.execute(sql, (HIGHLIGHT_START, HIGHLIGHT_END, SNIPPET_ELLIPSIS, match, limit))
            rows = cur.fetchall()
        except sqlite3.OperationalError as exc:
            # fts5_query quotes every term, so this means a bug there, not bad user input:
            # log it and answer "no results" rather than fail a user's search.
            log.warning("fts5 query failed", extra={"sink": self.name, "error": str(exc)})
            return []
        return [
            SearchHit(
                uri=uri,
                headline=headline,
                snippet=" ".join((snippet or "").split()),  # paragraphs joined for one-line display
                # bm25() is lower-is-better; SearchHit scores are higher-is-better.
                score=-float(rank),
                versioncreated=datetime.fromisoformat(vc) if vc else None,
                source_url=source_url,
            )
            for uri, headline, vc, source_url, snippet, rank in rows
        ]


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a file an older wiredesk wrote up to SCHEMA_VERSION, in one transaction.

    The columns are checked inside the write lock, so two processes opening the same old file
    together migrate it once.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        columns = {name for _, name, *_ in conn.execute("PRAGMA table_info(articles)")}
        if "derivation_key" not in columns:
            conn.execute("ALTER TABLE articles ADD COLUMN derivation_key TEXT NOT NULL DEFAULT ''")
            conn.execute(f"UPDATE articles SET derivation_key = {_LEGACY_KEY_SQL}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _ensure_fts(conn: sqlite3.Connection) -> None:
    """Create the FTS index; if it is new but articles exist (storage ran without search until
    now), index them all so that search agrees with storage from the start."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'articles_fts'"
    ).fetchone()
    if exists:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(_FTS_SCHEMA)
        for rowid, key in conn.execute("SELECT rowid, derivation_key FROM articles").fetchall():
            _sync_fts(conn, rowid, key, None)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _sync_fts(conn: sqlite3.Connection, rowid: int, wanted: str, row: ArticleRow | None) -> None:
    """Make the FTS row of article `rowid` hold derivation `wanted`: a no-op when it already does.

    `row` is that derivation when the caller has it; otherwise it is read from storage. (FTS rows
    indexed under schema 1 hold another key form, so they are re-indexed when next touched.)
    """
    found = conn.execute("SELECT indexed_key FROM articles_fts WHERE rowid = ?", (rowid,)).fetchone()
    if found is not None and found[0] == wanted:
        return
    if row is None:
        (doc,) = conn.execute("SELECT doc FROM articles WHERE rowid = ?", (rowid,)).fetchone()
        row = to_row(loads(Article, doc))
    if found is not None:
        conn.execute("DELETE FROM articles_fts WHERE rowid = ?", (rowid,))
    conn.execute(
        "INSERT INTO articles_fts (rowid, headline, body, indexed_key) VALUES (?, ?, ?, ?)",
        (rowid, row.headline, row.search_text, wanted),
    )


def _values(row: ArticleRow, now: str) -> tuple[object, ...]:
    return (
        row.uri,
        row.version,
        row.transform_version,
        row.transform_key,
        row.derivation_key,
        row.item_id,
        row.item_version,
        row.feed_id,
        row.story_id,
        row.headline,
        iso_utc(row.versioncreated),
        iso_utc(row.firstcreated),
        row.language,
        row.agency,
        row.canonical_url,
        row.source_url,
        row.doc,
        now,
    )


# Messages of errors a retry can cure: contention and exhausted resources, not bad SQL.
_TRANSIENT = ("locked", "busy", "disk i/o", "database or disk is full", "unable to open")


def _translate(exc: sqlite3.Error, sink: str, context: str) -> SinkError:
    message = f"{context}: {exc}"
    if isinstance(exc, sqlite3.OperationalError) and any(t in str(exc).lower() for t in _TRANSIENT):
        return SinkUnavailable(message, sink=sink)
    return SinkError(message, sink=sink)
