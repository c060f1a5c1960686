"""PostgreSQL storage and PostgreSQL full-text search: two sinks, two tables, one guard.

Storage and the search index are separate sinks because they cost very differently (a
generated tsvector column with a GIN index indexes about 1,000 rows/s against about 7,300 rows/s
for plain upserts, shared/notes/libraries.md): as separate consumer groups each keeps its own
pace and lag. Both upsert a whole batch in one statement from arrays (`unnest`), and the version
guard is the upsert's `WHERE`, so concurrent replicas writing the same article settle on the
newest derivation whatever order they commit in.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql

from sinks.base import (
    HIGHLIGHT_END,
    HIGHLIGHT_START,
    SNIPPET_ELLIPSIS,
    SearchHit,
    SinkClosedError,
    SinkError,
    SinkRecordError,
    SinkUnavailable,
    WriteResult,
)
from sinks.rows import ArticleRow, newest_per_uri, to_row
from sinks.search_query import SearchQuery, Term, parse_query
from wiredesk.derivation import LEGACY_SCHEME, LEGACY_VERSION_DIGITS
from wiredesk.records import Article, RecordError, loads

log = logging.getLogger(__name__)

_CONNECT_TIMEOUT_SECONDS = 10
# Serialises schema creation between replicas starting together (CREATE ... IF NOT EXISTS is
# not safe under concurrency: two sessions can both pass the check and one then fails).
_SCHEMA_LOCK_ID = 0x77697265  # "wire"
# The text-search configuration: English stemming, as the SQLite index's porter tokenizer does.
_TS_CONFIG = "english"

_STORAGE_DDL = """
CREATE TABLE IF NOT EXISTS {schema}.wd_articles (
    uri text PRIMARY KEY,
    version integer NOT NULL,
    transform_version text NOT NULL,
    transform_key text COLLATE "C" NOT NULL,
    derivation_key text COLLATE "C" NOT NULL,
    item_id text NOT NULL,
    item_version integer NOT NULL,
    feed_id text NOT NULL,
    story_id text NOT NULL,
    headline text NOT NULL,
    versioncreated timestamptz,
    firstcreated timestamptz,
    language text NOT NULL,
    agency text NOT NULL,
    canonical_url text NOT NULL,
    source_url text NOT NULL,
    doc jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS wd_articles_story ON {schema}.wd_articles (story_id);
CREATE INDEX IF NOT EXISTS wd_articles_versioncreated ON {schema}.wd_articles (versioncreated);
CREATE TABLE IF NOT EXISTS {schema}.wd_processed_items (
    item_id text NOT NULL,
    item_version integer NOT NULL,
    PRIMARY KEY (item_id, item_version)
);
CREATE TABLE IF NOT EXISTS {schema}.wd_dead_lettered_items (
    item_id text NOT NULL,
    item_version integer NOT NULL,
    PRIMARY KEY (item_id, item_version)
);
"""

_SEARCH_DDL = """
CREATE TABLE IF NOT EXISTS {schema}.wd_article_search (
    uri text PRIMARY KEY,
    version integer NOT NULL,
    transform_version text NOT NULL,
    transform_key text COLLATE "C" NOT NULL,
    derivation_key text COLLATE "C" NOT NULL,
    headline text NOT NULL,
    body text NOT NULL,
    language text NOT NULL,
    versioncreated timestamptz,
    source_url text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('{ts_config}', {schema}.wd_fold(headline)), 'A')
        || setweight(to_tsvector('{ts_config}', {schema}.wd_fold(body)), 'B')
    ) STORED
);
CREATE INDEX IF NOT EXISTS wd_article_search_tsv ON {schema}.wd_article_search USING gin (tsv);
"""

# The columns common to both tables' upserts, with their array types for unnest().
_STORAGE_COLUMNS: list[tuple[str, str]] = [
    ("uri", "text"),
    ("version", "int4"),
    ("transform_version", "text"),
    ("transform_key", "text"),
    ("derivation_key", "text"),
    ("item_id", "text"),
    ("item_version", "int4"),
    ("feed_id", "text"),
    ("story_id", "text"),
    ("headline", "text"),
    ("versioncreated", "timestamptz"),
    ("firstcreated", "timestamptz"),
    ("language", "text"),
    ("agency", "text"),
    ("canonical_url", "text"),
    ("source_url", "text"),
    ("doc", "jsonb"),
]
_SEARCH_COLUMNS: list[tuple[str, str]] = [
    ("uri", "text"),
    ("version", "int4"),
    ("transform_version", "text"),
    ("transform_key", "text"),
    ("derivation_key", "text"),
    ("headline", "text"),
    ("body", "text"),
    ("language", "text"),
    ("versioncreated", "timestamptz"),
    ("source_url", "text"),
]


def _storage_values(row: ArticleRow) -> tuple[Any, ...]:
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
        row.versioncreated,
        row.firstcreated,
        row.language,
        row.agency,
        row.canonical_url,
        row.source_url,
        row.doc.decode(),
    )


def _search_values(row: ArticleRow) -> tuple[Any, ...]:
    return (
        row.uri,
        row.version,
        row.transform_version,
        row.transform_key,
        row.derivation_key,
        row.headline,
        row.search_text,
        row.language,
        row.versioncreated,
        row.source_url,
    )


def _upsert_sql(schema: str, table: str, columns: list[tuple[str, str]]) -> sql.Composed:
    """One INSERT ... SELECT FROM unnest(arrays) ... ON CONFLICT DO UPDATE WHERE newer."""
    target = sql.Identifier(schema, table)
    names = [sql.Identifier(name) for name, _ in columns]
    # jsonb travels as text in the array and is cast per element: psycopg has no jsonb[] dumper
    # for plain strings, and casting once in SQL is cheaper than wrapping every value.
    arrays = [sql.SQL("%s::{}[]").format(sql.SQL("text" if kind == "jsonb" else kind)) for _, kind in columns]
    selected = [
        sql.SQL("{}::jsonb").format(n) if kind == "jsonb" else n
        for n, (_, kind) in zip(names, columns, strict=True)
    ]
    updates = [sql.SQL("{0} = EXCLUDED.{0}").format(n) for n in names[1:]]
    return sql.SQL(
        """
        INSERT INTO {target} ({names}, updated_at)
        SELECT {selected}, now() FROM unnest({arrays}) AS incoming ({names})
        -- Rows in a fixed order: two replicas upserting overlapping batches lock them in the
        -- same order and cannot deadlock.
        ORDER BY uri
        ON CONFLICT (uri) DO UPDATE SET {updates}, updated_at = now()
        -- The column's "C" collation makes this a byte comparison, the keys' order.
        WHERE EXCLUDED.derivation_key > {target}.derivation_key
        -- xmax is 0 only on a freshly inserted tuple: tells inserts from updates.
        RETURNING uri, (xmax = 0) AS inserted
        """
    ).format(
        target=target,
        names=sql.SQL(", ").join(names),
        selected=sql.SQL(", ").join(selected),
        arrays=sql.SQL(", ").join(arrays),
        updates=sql.SQL(", ").join(updates),
    )


class _PostgresSink:
    """Connection handling, schema creation, batch upsert and error mapping for one table."""

    table: str
    columns: list[tuple[str, str]]
    compressed_columns: tuple[str, ...]

    def __init__(self, dsn: str, *, schema: str = "public", name: str) -> None:
        self._dsn = dsn
        self.schema = schema
        self.name = name
        self._conn: psycopg.Connection[Any] | None = None
        self._opened = False
        self._upsert = _upsert_sql(schema, self.table, self.columns)

    # --- lifecycle ------------------------------------------------------------------------------

    def open(self) -> None:
        if self._opened:
            return
        conn = self._connection()
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_ID,))
                conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))
                self._create_schema(conn)
                self._add_derivation_key(conn)
                self._prefer_lz4(conn)
        except psycopg.Error as exc:
            raise self._translate(exc, "cannot create the schema") from exc
        self._opened = True
        log.info("sink opened in schema %s", self.schema, extra={"sink": self.name})

    def flush(self) -> None:
        # write_batch commits each batch before returning (synchronous_commit is the server's
        # durability promise), so nothing is ever pending here.
        self._require()

    def close(self) -> None:
        self._opened = False
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def _create_schema(self, conn: psycopg.Connection[Any]) -> None:
        raise NotImplementedError

    def _add_derivation_key(self, conn: psycopg.Connection[Any]) -> None:
        """Give a table an older wiredesk created its `derivation_key` column (under the schema lock).

        Stored rows get the key wiredesk.derivation.legacy_key gives an Article without one: they
        keep their order among themselves and sort below every keyed derivation. A one-time
        rewrite of the table, at the first start after the upgrade.
        """
        present = conn.execute(
            "SELECT 1 FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s AND column_name = 'derivation_key'",
            (self.schema, self.table),
        ).fetchone()
        if present:
            return
        table = sql.Identifier(self.schema, self.table)
        conn.execute(
            sql.SQL('ALTER TABLE {} ADD COLUMN IF NOT EXISTS derivation_key text COLLATE "C"').format(table)
        )
        migrated = conn.execute(
            sql.SQL(
                "UPDATE {} SET derivation_key = {} || lpad(greatest(version, 0)::text, {}, '0') "
                "|| ' ' || transform_key"
            ).format(table, sql.Literal(f"{LEGACY_SCHEME} "), sql.Literal(LEGACY_VERSION_DIGITS))
        ).rowcount
        conn.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN derivation_key SET NOT NULL").format(table))
        log.info("added derivation_key to %s (%d rows)", self.table, migrated, extra={"sink": self.name})

    def _prefer_lz4(self, conn: psycopg.Connection[Any]) -> None:
        """Compress the large columns with lz4 where the server supports it (PostgreSQL 14+).

        The default, pglz, dominated the write cost of 5 KB documents: lz4 raised plain inserts
        from about 2,300 to 3,000 rows/s here. It only affects values written afterwards.
        """
        table = sql.Identifier(self.schema, self.table)
        for column in self.compressed_columns:
            try:
                with conn.transaction():  # a savepoint: older servers refuse, and that is fine
                    conn.execute(
                        sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET COMPRESSION lz4").format(
                            table, sql.Identifier(column)
                        )
                    )
            except psycopg.Error as exc:
                log.info("lz4 compression unavailable, keeping the default", extra={"error": str(exc)})
                return

    # --- writing --------------------------------------------------------------------------------

    def _row_values(self, row: ArticleRow) -> tuple[Any, ...]:
        raise NotImplementedError

    def write_batch(self, articles: Sequence[Article]) -> WriteResult:
        self._require()
        if not articles:
            return WriteResult()
        rows, stale, unchanged = newest_per_uri([to_row(a) for a in articles])
        columns = list(zip(*(self._row_values(r) for r in rows), strict=True))
        conn = self._connection()
        try:
            with conn.transaction():
                written = dict(conn.execute(self._upsert, [list(c) for c in columns]).fetchall())
                refused = [r for r in rows if r.uri not in written]
                if refused:
                    # Rows the guard refused are locked by the upsert until commit, so this read
                    # is consistent: equal key = a replay, anything else = a newer one is stored.
                    stored = self._stored_keys(conn, [r.uri for r in refused])
                    for r in refused:
                        if stored.get(r.uri) == r.key:
                            unchanged += 1
                        else:
                            stale += 1
                self._after_upsert(conn, articles)
        except psycopg.Error as exc:
            raise self._translate(exc, f"batch of {len(articles)} rolled back") from exc
        inserted = sum(1 for is_new in written.values() if is_new)
        return WriteResult(inserted, len(written) - inserted, unchanged, stale)

    def _after_upsert(self, conn: psycopg.Connection[Any], articles: Sequence[Article]) -> None:
        """Hook for more writes in the same transaction."""

    def _stored_keys(self, conn: psycopg.Connection[Any], uris: list[str]) -> dict[str, str]:
        query = sql.SQL("SELECT uri, derivation_key FROM {} WHERE uri = ANY(%s)").format(
            sql.Identifier(self.schema, self.table)
        )
        return dict(conn.execute(query, (uris,)).fetchall())

    # --- reading --------------------------------------------------------------------------------

    def count(self) -> int:
        self._require()
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(self.schema, self.table))
        try:
            found = self._connection().execute(query).fetchone()
        except psycopg.Error as exc:
            raise self._translate(exc, "count failed") from exc
        return int(found[0]) if found else 0

    # --- plumbing -------------------------------------------------------------------------------

    def _require(self) -> None:
        if not self._opened:
            raise SinkClosedError("not open", sink=self.name)

    def _connection(self) -> psycopg.Connection[Any]:
        """The live connection, reconnecting after a broken one (server restart, failover)."""
        if self._conn is not None and not self._conn.closed and not self._conn.broken:
            return self._conn
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        try:
            # autocommit: reads do not hold a transaction open; writes use explicit ones.
            self._conn = psycopg.connect(
                self._dsn,
                autocommit=True,
                connect_timeout=_CONNECT_TIMEOUT_SECONDS,
                application_name=f"wiredesk-{self.name}",
            )
        except psycopg.Error as exc:
            raise self._translate(exc, "cannot connect") from exc
        return self._conn

    def _translate(self, exc: psycopg.Error, context: str) -> SinkError:
        message = f"{context}: {type(exc).__name__}: {exc}".strip()
        # OperationalError covers lost connections, admin shutdown, deadlocks, serialization
        # failures and full disks: all cured by retrying. Everything else is a bug or bad data.
        if isinstance(exc, psycopg.OperationalError):
            return SinkUnavailable(message, sink=self.name)
        if isinstance(exc, psycopg.DataError):
            return SinkRecordError(message, uri="", sink=self.name)
        return SinkError(message, sink=self.name)


class PostgresStorageSink(_PostgresSink):
    """Articles as rows plus their full ninjs JSON (jsonb), upserted under the version guard."""

    table = "wd_articles"
    columns = _STORAGE_COLUMNS
    compressed_columns = ("doc",)

    def __init__(self, dsn: str, *, schema: str = "public", name: str = "postgres") -> None:
        super().__init__(dsn, schema=schema, name=name)

    def _create_schema(self, conn: psycopg.Connection[Any]) -> None:
        conn.execute(sql.SQL(_STORAGE_DDL).format(schema=sql.Identifier(self.schema)))

    def _row_values(self, row: ArticleRow) -> tuple[Any, ...]:
        return _storage_values(row)

    def _after_upsert(self, conn: psycopg.Connection[Any], articles: Sequence[Article]) -> None:
        pairs = sorted({(a.wiredesk.item_id, a.wiredesk.item_version) for a in articles})
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (item_id, item_version) SELECT * FROM unnest(%s::text[], %s::int4[]) "
                "ON CONFLICT DO NOTHING"
            ).format(sql.Identifier(self.schema, "wd_processed_items")),
            ([p[0] for p in pairs], [p[1] for p in pairs]),
        )

    def get(self, uri: str) -> Article | None:
        self._require()
        query = sql.SQL("SELECT doc::text FROM {} WHERE uri = %s").format(
            sql.Identifier(self.schema, self.table)
        )
        try:
            found = self._connection().execute(query, (uri,)).fetchone()
        except psycopg.Error as exc:
            raise self._translate(exc, "get failed") from exc
        if found is None:
            return None
        try:
            return loads(Article, found[0])
        except RecordError as exc:
            raise SinkError(f"stored document for {uri} no longer decodes: {exc}", sink=self.name) from exc

    def processed_among(self, versions: Sequence[tuple[str, int]]) -> set[tuple[str, int]]:
        self._require()
        if not versions:
            return set()
        query = sql.SQL(
            "SELECT w.item_id, w.item_version "
            "FROM unnest(%s::text[], %s::int4[]) AS w (item_id, item_version) "
            "WHERE EXISTS (SELECT 1 FROM {processed} AS p "
            "              WHERE p.item_id = w.item_id AND p.item_version = w.item_version) "
            "   OR EXISTS (SELECT 1 FROM {dead} AS d "
            "              WHERE d.item_id = w.item_id AND d.item_version = w.item_version)"
        ).format(
            processed=sql.Identifier(self.schema, "wd_processed_items"),
            dead=sql.Identifier(self.schema, "wd_dead_lettered_items"),
        )
        params = ([v[0] for v in versions], [v[1] for v in versions])
        try:
            return {(i, int(v)) for i, v in self._connection().execute(query, params)}
        except psycopg.Error as exc:
            raise self._translate(exc, "reading processed items failed") from exc

    def record_dead_lettered(self, versions: Sequence[tuple[str, int]]) -> None:
        self._require()
        if not versions:
            return
        query = sql.SQL(
            "INSERT INTO {} (item_id, item_version) SELECT * FROM unnest(%s::text[], %s::int4[]) "
            "ON CONFLICT DO NOTHING"
        ).format(sql.Identifier(self.schema, "wd_dead_lettered_items"))
        try:
            self._connection().execute(query, ([v[0] for v in versions], [v[1] for v in versions]))
        except psycopg.Error as exc:
            raise self._translate(exc, "recording dead-lettered items failed") from exc


class PostgresSearchSink(_PostgresSink):
    """A full-text index table (weighted tsvector, GIN) fed by its own consumer group."""

    table = "wd_article_search"
    columns = _SEARCH_COLUMNS
    compressed_columns = ("body", "tsv")

    def __init__(self, dsn: str, *, schema: str = "public", name: str = "postgres-search") -> None:
        super().__init__(dsn, schema=schema, name=name)
        self.accent_folding = False

    def _create_schema(self, conn: psycopg.Connection[Any]) -> None:
        schema = sql.Identifier(self.schema)
        unaccent_schema = self._unaccent_schema(conn)
        self.accent_folding = unaccent_schema is not None
        # wd_fold is declared IMMUTABLE so a generated column may use it. unaccent() itself is
        # only STABLE because its dictionary could change; wrapping it with the dictionary named
        # explicitly is the documented way to index it. Without the extension, fold nothing.
        body: sql.Composable
        if unaccent_schema is not None:
            body = sql.SQL("SELECT {}.unaccent({}::regdictionary, $1)").format(
                sql.Identifier(unaccent_schema),
                sql.Literal(f"{unaccent_schema}.unaccent"),
            )
        else:
            body = sql.SQL("SELECT $1")
        exists = conn.execute(
            "SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = %s AND p.proname = 'wd_fold'",
            (self.schema,),
        ).fetchone()
        if not exists:  # never replace it: the stored tsvectors were computed with this one
            conn.execute(
                sql.SQL(
                    "CREATE FUNCTION {}.wd_fold(text) RETURNS text "
                    "LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS {}"
                ).format(schema, sql.Literal(body.as_string(conn)))
            )
        conn.execute(sql.SQL(_SEARCH_DDL.replace("{ts_config}", _TS_CONFIG)).format(schema=schema))

    @staticmethod
    def _unaccent_schema(conn: psycopg.Connection[Any]) -> str | None:
        """Where the unaccent extension lives, installing it if we may; None if unavailable."""
        query = (
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'unaccent'"
        )
        found = conn.execute(query).fetchone()
        if found:
            return str(found[0])
        try:
            with conn.transaction():  # a savepoint: a refusal must not abort the schema set-up
                conn.execute("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public")
        except psycopg.Error as exc:
            log.warning(
                "unaccent extension unavailable: search will not fold accents",
                extra={"error": str(exc)},
            )
            return None
        found = conn.execute(query).fetchone()
        return str(found[0]) if found else None

    def _row_values(self, row: ArticleRow) -> tuple[Any, ...]:
        return _search_values(row)

    def search(self, query: str, limit: int = 10) -> list[SearchHit]:
        self._require()
        limit = min(int(limit), 1000)
        parsed = parse_query(query)
        if parsed.matches_nothing or limit < 1:
            return []
        try:
            conn = self._connection()
            with conn.transaction():
                # The planner does not count the cost of de-TOASTing every 5 KB tsvector, so on
                # small and mid-sized tables it picks a sequential scan that is ~100x slower than
                # the GIN index (80 ms against 0.5 ms at 5,000 articles, bench/bench_sinks.py).
                # A query that matches most rows costs the same either way.
                conn.execute("SET LOCAL enable_seqscan = off")
                return self._search(conn, tsquery_text(parsed), limit)
        except psycopg.Error as exc:
            raise self._translate(exc, "search failed") from exc

    def _search(self, conn: psycopg.Connection[Any], tsquery: str, limit: int) -> list[SearchHit]:
        # The query arrives parsed (sinks/search_query.py) and rendered by tsquery_text, so it is
        # the same question the SQLite index answers; to_tsquery stems and folds its words
        # exactly as the indexed text was.
        options = (
            f'StartSel="{HIGHLIGHT_START}", StopSel="{HIGHLIGHT_END}", MaxWords=30, MinWords=12, '
            f'MaxFragments=2, FragmentDelimiter=" {SNIPPET_ELLIPSIS} "'
        )
        statement = sql.SQL(
            """
            WITH q AS (
                SELECT to_tsquery({cfg}, {schema}.wd_fold(%(q)s)) AS query
            ), top AS (
                SELECT s.uri, s.headline, s.body, s.versioncreated, s.source_url,
                       ts_rank_cd(s.tsv, q.query) AS score
                FROM {table} AS s, q
                WHERE s.tsv @@ q.query
                ORDER BY score DESC, s.versioncreated DESC NULLS LAST
                LIMIT %(limit)s
            )
            -- Snippets only for the page of results: ts_headline re-parses the whole body.
            SELECT top.uri, top.headline, ts_headline({cfg}, top.body, q.query, %(options)s),
                   top.score, top.versioncreated, top.source_url
            FROM top, q
            ORDER BY top.score DESC, top.versioncreated DESC NULLS LAST
            """
        ).format(
            cfg=sql.Literal(_TS_CONFIG),
            schema=sql.Identifier(self.schema),
            table=sql.Identifier(self.schema, self.table),
        )
        params = {"q": tsquery, "limit": limit, "options": options}
        return [
            SearchHit(
                uri=uri,
                headline=headline,
                snippet=" ".join(snippet.split()),
                score=float(score),
                versioncreated=vc,
                source_url=source_url,
            )
            for uri, headline, snippet, score, vc, source_url in conn.execute(statement, params)
        ]


def _tsquery_term(term: Term) -> str:
    # The parser yields word characters only; quoting and escaping keep this safe on its own.
    lexemes = ["'" + word.replace("\\", "\\\\").replace("'", "''") + "'" for word in term.words]
    text = " <-> ".join(lexemes) + (":*" if term.prefix else "")
    return text if len(lexemes) == 1 else f"({text})"


def tsquery_text(query: SearchQuery) -> str:
    """The parsed search syntax as to_tsquery input: groups ANDed, alternatives ORed, exclusions."""
    parts = []
    for group in query.groups:
        alternatives = [_tsquery_term(term) for term in group]
        parts.append(alternatives[0] if len(alternatives) == 1 else "(" + " | ".join(alternatives) + ")")
    parts.extend(f"!{_tsquery_term(term)}" for term in query.excluded)
    return " & ".join(parts)
