"""The PostgreSQL sinks against a real server, each test run in its own throwaway schema.

Set WD_TEST_POSTGRES_DSN to point elsewhere (not a WIREDESK_* name: settings reject unknown
ones). Skipped, with the reason, when no server answers.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from sinks.base import (
    HIGHLIGHT_END,
    HIGHLIGHT_START,
    ArticleStore,
    SearchIndex,
    Sink,
    SinkClosedError,
    SinkError,
    SinkUnavailable,
    WriteResult,
)
from wiredesk.derivation import legacy_key, transform_sort_key
from wiredesk.records import dumps

# Before sinks.postgres, which imports psycopg: an import error there would be an error, not a skip.
psycopg = pytest.importorskip("psycopg", reason="psycopg (the 'postgres' extra) is not installed")

from sinks.postgres import PostgresSearchSink, PostgresStorageSink  # noqa: E402 - after the skip

pytestmark = pytest.mark.integration

# The article builders live beside the unit tests; loaded by path, tests are not a package.
_spec = importlib.util.spec_from_file_location(
    "sink_articles", Path(__file__).resolve().parents[1] / "unit" / "sinks" / "sink_articles.py"
)
assert _spec is not None
assert _spec.loader is not None
_articles = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_articles)
build_article = _articles.build_article
derive_copy = _articles.derive_copy
_cases_spec = importlib.util.spec_from_file_location(
    "search_cases", Path(__file__).resolve().parents[1] / "unit" / "sinks" / "search_cases.py"
)
assert _cases_spec is not None
assert _cases_spec.loader is not None
_cases = importlib.util.module_from_spec(_cases_spec)
_cases_spec.loader.exec_module(_cases)


@pytest.fixture
def dsn(postgres_dsn: str) -> str:
    return postgres_dsn


@pytest.fixture
def schema(postgres_schema: str) -> str:
    return postgres_schema


@pytest.fixture
def storage(dsn: str, schema: str) -> Iterator[PostgresStorageSink]:
    sink = PostgresStorageSink(dsn, schema=schema)
    sink.open()
    yield sink
    sink.close()


@pytest.fixture
def search(dsn: str, schema: str) -> Iterator[PostgresSearchSink]:
    sink = PostgresSearchSink(dsn, schema=schema)
    sink.open()
    yield sink
    sink.close()


def _query(dsn: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql, params).fetchall()


# --- storage ----------------------------------------------------------------------------------


def test_storage_implements_the_ports(storage: PostgresStorageSink) -> None:
    assert isinstance(storage, Sink)
    assert isinstance(storage, ArticleStore)


def test_open_is_idempotent_and_schema_survives_reopen(dsn: str, schema: str) -> None:
    article = build_article(1)
    with_data = PostgresStorageSink(dsn, schema=schema)
    with_data.open()
    with_data.open()
    with_data.write_batch([article])
    with_data.flush()
    with_data.close()

    again = PostgresStorageSink(dsn, schema=schema)
    again.open()
    try:
        assert again.count() == 1
        assert again.get(article.uri) == article
    finally:
        again.close()


def test_empty_batch(storage: PostgresStorageSink) -> None:
    assert storage.write_batch([]) == WriteResult()
    assert storage.count() == 0


def test_same_batch_twice_changes_nothing(storage: PostgresStorageSink, dsn: str, schema: str) -> None:
    batch = [build_article(i) for i in range(30)]
    assert storage.write_batch(batch) == WriteResult(inserted=30)
    table = f'"{schema}".wd_articles'
    before = _query(dsn, f"SELECT uri, doc, updated_at, xmin::text FROM {table} ORDER BY uri")

    assert storage.write_batch(batch) == WriteResult(unchanged=30)

    # Not even a rewrite of the same values: the row versions (xmin) are untouched.
    assert _query(dsn, f"SELECT uri, doc, updated_at, xmin::text FROM {table} ORDER BY uri") == before
    assert storage.get(batch[7].uri) == batch[7]


def test_older_version_after_newer_is_ignored(storage: PostgresStorageSink) -> None:
    newer = build_article(1, version=4, headline="Newer")
    older = build_article(1, version=3, headline="Older")
    storage.write_batch([newer])
    assert storage.write_batch([older]) == WriteResult(stale_skipped=1)
    assert storage.get(newer.uri) == newer


def test_newer_transform_version_replaces(storage: PostgresStorageSink) -> None:
    first = build_article(1, transform_version="2026.11.9", headline="First derivation")
    improved = build_article(1, transform_version="2026.11.10", headline="Better derivation")
    storage.write_batch([first])
    assert storage.write_batch([improved]) == WriteResult(updated=1)
    assert storage.write_batch([first]) == WriteResult(stale_skipped=1)
    stored = storage.get(first.uri)
    assert stored is not None
    assert stored.headline == "Better derivation"


def test_mixed_batch_counts(storage: PostgresStorageSink) -> None:
    storage.write_batch([build_article(1, version=2), build_article(2)])
    result = storage.write_batch(
        [
            build_article(1, version=1),  # stale
            build_article(2),  # replay
            build_article(2, version=2),  # update (the same uri repeated: newest wins)
            build_article(3),  # new
        ]
    )
    assert result == WriteResult(inserted=1, updated=1, unchanged=0, stale_skipped=2)


def test_concurrent_replicas_settle_on_the_newest(dsn: str, schema: str) -> None:
    """Two replicas write versions of the same articles in opposite orders; the newest wins."""
    uris_count, versions = 20, list(range(1, 9))
    first = PostgresStorageSink(dsn, schema=schema, name="replica-a")
    second = PostgresStorageSink(dsn, schema=schema, name="replica-b")
    first.open()
    second.open()
    errors: list[BaseException] = []

    def run(sink: PostgresStorageSink, order: list[int]) -> None:
        try:
            for v in order:
                sink.write_batch([build_article(i, version=v) for i in range(uris_count)])
        except SinkError as exc:  # surfaced in the main thread below
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=(first, versions)),
        threading.Thread(target=run, args=(second, versions[::-1])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    first.close()
    second.close()
    assert not errors
    rows = _query(dsn, f'SELECT DISTINCT version FROM "{schema}".wd_articles')
    assert rows == [(max(versions),)]


def test_processed_among_knows_stored_skipped_and_dead_lettered_versions(
    storage: PostgresStorageSink,
) -> None:
    storage.write_batch([build_article(1, version=2)])
    storage.write_batch([build_article(1, version=1), build_article(2)])
    item1, item2, item3 = (build_article(n).wiredesk.item_id for n in (1, 2, 3))
    storage.record_dead_lettered([(item3, 4)])
    storage.record_dead_lettered([(item3, 4)])  # idempotent
    asked = [(item1, 1), (item1, 2), (item1, 3), (item2, 1), (item3, 4), (item3, 5)]
    assert storage.processed_among(asked) == {(item1, 1), (item1, 2), (item2, 1), (item3, 4)}
    assert storage.processed_among([]) == set()


def _copies() -> dict[str, Any]:
    """The cases of tests/unit/sinks/test_sink_ordering.py, derived by the real transform chain."""
    return {
        # The agency's third version, then a portal's first version of a later edit of the URL.
        "agency": derive_copy("agency", 3, fetched=31, updated=30, body="Talks resumed on Wednesday."),
        "portal": derive_copy("portal", 1, fetched=46, updated=45, body="Talks collapsed on Wednesday."),
        # A slow aggregator at its version 9, fetched last, still carrying the 10:00 text.
        "late": derive_copy("aggregator", 9, fetched=50, updated=0, body="Talks stalled on Wednesday."),
        # The portal edits its item without touching the feed's date.
        "edit": derive_copy("portal", 2, fetched=55, updated=45, body="Talks collapsed late on Wednesday."),
    }


@pytest.mark.parametrize("kind", ["storage", "search"])
def test_copies_of_one_url_from_several_feeds(kind: str, dsn: str, schema: str) -> None:
    sink = (PostgresStorageSink if kind == "storage" else PostgresSearchSink)(dsn, schema=schema)
    sink.open()
    copies = _copies()
    try:
        assert sink.write_batch([copies["agency"]]) == WriteResult(inserted=1)
        assert sink.write_batch([copies["portal"]]) == WriteResult(updated=1)
        assert sink.write_batch([copies["late"]]) == WriteResult(stale_skipped=1)
        assert sink.write_batch([copies["edit"]]) == WriteResult(updated=1)
        replay = derive_copy(
            "portal",
            2,
            fetched=55,
            updated=45,
            body="Talks collapsed late on Wednesday.",
            derived_later_days=3,
        )
        assert sink.write_batch([replay, copies["portal"]]) == WriteResult(unchanged=1, stale_skipped=1)
        if isinstance(sink, PostgresStorageSink):
            assert sink.get(copies["edit"].uri) == copies["edit"]
        else:
            assert [h.uri for h in sink.search("late collapsed")] == [copies["edit"].uri]
            assert sink.search("resumed") == []
            assert sink.search("stalled") == []
    finally:
        sink.close()


def test_copies_in_one_batch_keep_the_newest(storage: PostgresStorageSink) -> None:
    copies = _copies()
    result = storage.write_batch([copies["edit"], copies["late"], copies["agency"], copies["portal"]])
    assert result == WriteResult(inserted=1, stale_skipped=3)
    assert storage.get(copies["edit"].uri) == copies["edit"]


_STORAGE_1 = """
CREATE TABLE {s}.wd_articles (
    uri text PRIMARY KEY, version integer NOT NULL, transform_version text NOT NULL,
    transform_key text COLLATE "C" NOT NULL, item_id text NOT NULL, item_version integer NOT NULL,
    feed_id text NOT NULL, story_id text NOT NULL, headline text NOT NULL, versioncreated timestamptz,
    firstcreated timestamptz, language text NOT NULL, agency text NOT NULL, canonical_url text NOT NULL,
    source_url text NOT NULL, doc jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now()
)
"""


def test_a_table_from_before_derivation_keys_is_migrated(dsn: str, schema: str) -> None:
    old = build_article(1, version=3, transform_version="2026.11.9", headline="Flood waters recede")
    stored = replace(old, wiredesk=replace(old.wiredesk, derivation_key=""))
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(_STORAGE_1.format(s=f'"{schema}"'))
        conn.execute(
            f'INSERT INTO "{schema}".wd_articles (uri, version, transform_version, transform_key, item_id,'
            " item_version, feed_id, story_id, headline, language, agency, canonical_url, source_url, doc)"
            " VALUES (%s, 3, '2026.11.9', %s, %s, 3, 'feed-a', 's', %s, 'en', 'ANI', '', '', %s::jsonb)",
            (
                stored.uri,
                transform_sort_key("2026.11.9"),
                stored.wiredesk.item_id,
                stored.headline,
                dumps(stored).decode(),
            ),
        )

    sink = PostgresStorageSink(dsn, schema=schema)
    sink.open()
    try:
        rows = _query(dsn, f'SELECT derivation_key FROM "{schema}".wd_articles')
        assert rows == [(legacy_key(3, "2026.11.9"),)]
        assert sink.write_batch([stored]) == WriteResult(unchanged=1)
        older = replace(stored, version=2, wiredesk=replace(stored.wiredesk, item_version=2))
        assert sink.write_batch([older]) == WriteResult(stale_skipped=1)
        keyed = build_article(1, version=1, headline="Flood warning lifted")
        assert sink.write_batch([keyed]) == WriteResult(updated=1)
        assert sink.get(keyed.uri) == keyed
    finally:
        sink.close()
    nullable = _query(
        dsn,
        "SELECT is_nullable FROM information_schema.columns WHERE table_schema = %s"
        " AND table_name = 'wd_articles' AND column_name = 'derivation_key'",
        schema,
    )
    assert nullable == [("NO",)]


def test_a_search_table_from_before_derivation_keys_is_migrated(dsn: str, schema: str) -> None:
    old = build_article(1, version=3, transform_version="2026.11.9", headline="Flood waters recede")
    stored = replace(old, wiredesk=replace(old.wiredesk, derivation_key=""))
    first = PostgresSearchSink(dsn, schema=schema)
    first.open()
    first.write_batch([stored])
    first.close()
    # The table as schema 1 had it: the same, without the column.
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'ALTER TABLE "{schema}".wd_article_search DROP COLUMN derivation_key')

    sink = PostgresSearchSink(dsn, schema=schema)
    sink.open()
    try:
        rows = _query(dsn, f'SELECT derivation_key FROM "{schema}".wd_article_search')
        assert rows == [(legacy_key(3, "2026.11.9"),)]
        assert sink.write_batch([stored]) == WriteResult(unchanged=1)
        assert [h.uri for h in sink.search("recede")] == [stored.uri]
        assert sink.write_batch([build_article(1, version=1, headline="Flood warning lifted")]) == (
            WriteResult(updated=1)
        )
        assert [h.uri for h in sink.search("lifted")] == [stored.uri]
    finally:
        sink.close()


def test_nul_characters_do_not_fail_the_batch(storage: PostgresStorageSink) -> None:
    article = build_article(1, headline="a\x00b", body="c\x00d")
    assert storage.write_batch([article]) == WriteResult(inserted=1)
    stored = storage.get(article.uri)
    assert stored is not None
    assert (stored.headline, stored.body_text) == ("ab", "cd")


def test_closed_sink_and_lost_connection(dsn: str, schema: str) -> None:
    sink = PostgresStorageSink(dsn, schema=schema, name=f"pg-{schema}")
    with pytest.raises(SinkClosedError):
        sink.write_batch([build_article(1)])
    sink.open()
    try:
        sink.write_batch([build_article(1)])
        # The server drops us (restart, failover): that call fails retriably, the next reconnects.
        app = f"wiredesk-pg-{schema}"
        (pid,) = _query(dsn, "SELECT pid FROM pg_stat_activity WHERE application_name = %s", app)[0]
        _query(dsn, "SELECT pg_terminate_backend(%s, 5000)", pid)
        with pytest.raises(SinkUnavailable):
            sink.write_batch([build_article(2)])
        assert sink.write_batch([build_article(2)]) == WriteResult(inserted=1)
        assert sink.count() == 2
    finally:
        sink.close()


def test_unreachable_server_is_retriable() -> None:
    sink = PostgresStorageSink("host=127.0.0.1 port=1 dbname=x connect_timeout=1")
    with pytest.raises(SinkUnavailable):
        sink.open()


# --- search -----------------------------------------------------------------------------------


def test_search_is_a_separate_sink(search: PostgresSearchSink, dsn: str, schema: str) -> None:
    assert isinstance(search, Sink)
    assert isinstance(search, SearchIndex)
    search.write_batch([build_article(1)])
    tables = {r[0] for r in _query(dsn, "SELECT tablename FROM pg_tables WHERE schemaname = %s", schema)}
    assert tables == {"wd_article_search"}


def test_search_ranks_headline_above_body(search: PostgresSearchSink) -> None:
    in_body = build_article(1, headline="Markets close higher", body="Analysts discussed the wheat harvest.")
    in_headline = build_article(2, headline="Wheat prices soar", body="Markets reacted to the news.")
    search.write_batch([in_body, in_headline])
    hits = search.search("wheat")
    assert [h.uri for h in hits] == [in_headline.uri, in_body.uri]
    assert hits[0].score > hits[1].score
    assert f"{HIGHLIGHT_START}wheat{HIGHLIGHT_END}" in hits[1].snippet
    assert hits[0].source_url == in_headline.wiredesk.source_url


def test_search_follows_updates_and_ignores_stale(search: PostgresSearchSink) -> None:
    search.write_batch([build_article(1, transform_version="1.9", headline="Storm warning")])
    assert search.write_batch([build_article(1, transform_version="1.10", headline="Hurricane warning")]) == (
        WriteResult(updated=1)
    )
    assert search.write_batch([build_article(1, transform_version="1.9", headline="Storm warning")]) == (
        WriteResult(stale_skipped=1)
    )
    assert len(search.search("hurricane")) == 1
    assert search.search("storm") == []


def test_the_documented_syntax_as_sqlite_answers_it(search: PostgresSearchSink) -> None:
    # The same cases as tests/unit/sinks/test_sink_search_syntax.py: one syntax, two backends.
    corpus = {n: build_article(n, headline=headline, body=body) for n, headline, body in _cases.CORPUS}
    search.write_batch(list(corpus.values()))
    answers = {
        query: _cases.numbers([h.uri for h in search.search(query)], corpus) for query, _ in _cases.CASES
    }
    assert answers == dict(_cases.CASES)
    assert len(search.search("lavrov", limit=1)) == 1
    assert search.search("lavrov", limit=0) == []


@pytest.mark.parametrize(
    "query",
    ['"', "*", "AND(", "a & b | !c", "'", "\\", ":*", "\x00", "", "   ", "-", "<->", "(((", "x" * 3000],
)
def test_hostile_queries_never_raise(search: PostgresSearchSink, query: str) -> None:
    search.write_batch([build_article(1, headline="Lavrov AND Blinken")])
    assert isinstance(search.search(query), list)


def test_search_unicode(search: PostgresSearchSink) -> None:
    accented = build_article(1, headline="Élections à São Paulo", body="Le président a voté à Brasília.")
    cjk = build_article(2, headline="东京大学の研究", body="日本語の記事です。")
    search.write_batch([accented, cjk])
    assert [h.uri for h in search.search("são paulo")] == [accented.uri]
    if search.accent_folding:
        assert [h.uri for h in search.search("sao paulo")] == [accented.uri]
        assert [h.uri for h in search.search("brasilia")] == [accented.uri]
    assert [h.uri for h in search.search("东京大学の研究")] == [cjk.uri]
    for query in ["东京", "記事", "한국어", "🙂"]:
        assert isinstance(search.search(query), list)


def test_the_cli_searches_the_configured_backend_whatever_the_storage(dsn: str, tmp_path: Path) -> None:
    # Storage on SQLite (the default), search on PostgreSQL: `wiredesk search` must ask PostgreSQL.
    # The CLI has no schema setting yet, so this writes one uniquely named article to `public`
    # and removes it afterwards.
    word = f"zq{secrets.token_hex(4)}"
    article = build_article(1, headline=f"Ministers agree {word} plan", uri=f"urn:test:{word}")
    index = PostgresSearchSink(dsn)
    index.open()
    try:
        index.write_batch([article])
        index.flush()
        env = {k: v for k, v in os.environ.items() if not k.startswith("WIREDESK_")}
        env.update(
            {
                "WIREDESK_DATA_DIR": str(tmp_path / "data"),
                "WIREDESK_SINK_SEARCH": "postgres",
                "WIREDESK_SINK_POSTGRES_DSN": dsn,
            }
        )
        result = subprocess.run(
            [sys.executable, "-m", "app.cli", "search", "--json", word],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("DELETE FROM public.wd_article_search WHERE uri = %s", (article.uri,))
        index.close()
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["uri"] for line in result.stdout.splitlines()] == [article.uri]
