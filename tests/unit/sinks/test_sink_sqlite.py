"""The SQLite sink: idempotent, version-guarded storage and FTS5 search in one file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sink_articles import ArticleFactory, build_article

from sinks.base import (
    HIGHLIGHT_END,
    HIGHLIGHT_START,
    ArticleStore,
    SearchIndex,
    Sink,
    SinkClosedError,
    SinkConfigError,
    SinkError,
    SinkUnavailable,
    WriteResult,
)
from sinks.sqlite import SqliteSink
from wiredesk.derivation import legacy_key, transform_sort_key
from wiredesk.records import Article, dumps


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "wiredesk.sqlite"


@pytest.fixture
def sink(db_path: Path) -> Iterator[SqliteSink]:
    s = SqliteSink(db_path)
    s.open()
    yield s
    s.close()


def _raw(db_path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql).fetchall()


def test_implements_the_ports(sink: SqliteSink) -> None:
    assert isinstance(sink, Sink)
    assert isinstance(sink, SearchIndex)
    assert isinstance(sink, ArticleStore)


def test_empty_batch_is_a_no_op(sink: SqliteSink) -> None:
    assert sink.write_batch([]) == WriteResult()
    assert sink.count() == 0


def test_same_batch_twice_changes_nothing(sink: SqliteSink, db_path: Path) -> None:
    batch = [build_article(i) for i in range(20)]
    assert sink.write_batch(batch) == WriteResult(inserted=20)
    before = _raw(db_path, "SELECT uri, doc, updated_at FROM articles ORDER BY uri")
    fts_before = _raw(db_path, "SELECT count(*) FROM articles_fts")

    assert sink.write_batch(batch) == WriteResult(unchanged=20)

    assert _raw(db_path, "SELECT uri, doc, updated_at FROM articles ORDER BY uri") == before
    assert _raw(db_path, "SELECT count(*) FROM articles_fts") == fts_before == [(20,)]
    assert sink.get(batch[3].uri) == batch[3]


def test_older_version_after_newer_is_ignored(sink: SqliteSink) -> None:
    newer = build_article(1, version=3, headline="Ceasefire agreed in Geneva")
    older = build_article(1, version=2, headline="Talks collapse in Geneva")
    assert sink.write_batch([newer]) == WriteResult(inserted=1)

    assert sink.write_batch([older]) == WriteResult(stale_skipped=1)

    assert sink.get(newer.uri) == newer
    assert [h.uri for h in sink.search("ceasefire")] == [newer.uri]
    assert sink.search("collapse") == []


def test_newer_transform_version_replaces_derivation(sink: SqliteSink) -> None:
    first = build_article(1, transform_version="2026.11.9", headline="Storm warning for the coast")
    improved = build_article(1, transform_version="2026.11.10", headline="Hurricane warning for the coast")
    sink.write_batch([first])

    assert sink.write_batch([improved]) == WriteResult(updated=1)
    # The dotted comparison, not string order, decides: replaying 11.9 now is stale.
    assert sink.write_batch([first]) == WriteResult(stale_skipped=1)

    stored = sink.get(first.uri)
    assert stored is not None
    assert stored.wiredesk.transform_version == "2026.11.10"
    assert [h.uri for h in sink.search("hurricane")] == [first.uri]
    assert sink.search("storm") == []
    assert sink.count() == 1


def test_repeats_within_one_batch_keep_the_newest(sink: SqliteSink) -> None:
    v1, v2 = build_article(5, version=1), build_article(5, version=2)
    result = sink.write_batch([v2, v1, v2])
    assert result == WriteResult(inserted=1, unchanged=1, stale_skipped=1)
    stored = sink.get(v1.uri)
    assert stored is not None
    assert stored.version == 2


def test_processed_among_includes_skipped_and_dead_lettered_versions(sink: SqliteSink) -> None:
    newer, older = build_article(1, version=2), build_article(1, version=1)
    sink.write_batch([newer])
    sink.write_batch([older])
    item, other = newer.wiredesk.item_id, build_article(2).wiredesk.item_id
    sink.record_dead_lettered([(other, 3)])
    sink.record_dead_lettered([(other, 3)])  # idempotent
    asked = [(item, 1), (item, 2), (item, 3), (other, 3), (other, 4)]
    assert sink.processed_among(asked) == {(item, 1), (item, 2), (other, 3)}


def test_processed_among_answers_more_versions_than_one_query_binds(sink: SqliteSink) -> None:
    sink.record_dead_lettered([(f"item-{n}", 1) for n in range(0, 40_000, 2)])
    asked = [(f"item-{n}", 1) for n in range(40_000)]
    assert len(sink.processed_among(asked)) == 20_000


def test_headline_match_outranks_body_match(sink: SqliteSink) -> None:
    in_body = build_article(1, headline="Markets close higher", body="Analysts discussed the wheat harvest.")
    in_headline = build_article(2, headline="Wheat prices soar", body="Markets reacted to the news.")
    sink.write_batch([in_body, in_headline])

    hits = sink.search("wheat")

    assert [h.uri for h in hits] == [in_headline.uri, in_body.uri]
    assert hits[0].score > hits[1].score
    assert f"{HIGHLIGHT_START}wheat{HIGHLIGHT_END}" in hits[1].snippet
    assert hits[0].headline == "Wheat prices soar"
    assert hits[0].source_url == in_headline.wiredesk.source_url
    assert hits[0].versioncreated == in_headline.versioncreated


def test_every_term_is_required(sink: SqliteSink) -> None:
    both = build_article(1, headline="Lavrov and Blinken to meet")
    one = build_article(2, headline="Lavrov speaks in Moscow")
    sink.write_batch([both, one])
    assert [h.uri for h in sink.search("lavrov blinken")] == [both.uri]
    # No article has both terms: nothing, not a silent switch to "either" (that is `OR`).
    assert sink.search("blinken moscow") == []


def test_stemming_and_limit(sink: SqliteSink) -> None:
    sink.write_batch([build_article(i, headline=f"Troops running drill {i}") for i in range(15)])
    assert len(sink.search("run", limit=5)) == 5
    assert len(sink.search("runs")) == 10


@pytest.mark.parametrize(
    "query",
    ['"', "*", "AND(", "NEAR(", "lavrov:", "^", "'", "OR", "\x00", "", "   ", "-x", '"a" AND( "b'],
)
def test_hostile_queries_never_raise(sink: SqliteSink, query: str) -> None:
    sink.write_batch([build_article(1, headline="Lavrov AND Blinken")])
    assert isinstance(sink.search(query), list)


def test_accents_fold_both_ways(sink: SqliteSink) -> None:
    accented = build_article(1, headline="Élections à São Paulo", body="Le président a voté à Brasília.")
    plain = build_article(2, headline="Sao Tome prepares vote", body="Nothing else.")
    sink.write_batch([accented, plain])
    assert {h.uri for h in sink.search("sao")} == {accented.uri, plain.uri}
    assert [h.uri for h in sink.search("brasilia")] == [accented.uri]
    assert [h.uri for h in sink.search("ÉLECTIONS")] == [accented.uri]


def test_cjk_text_is_searchable(sink: SqliteSink) -> None:
    article = build_article(1, headline="东京大学の研究", body="日本語の記事です。東京で会議が開かれた。")
    sink.write_batch([article])
    assert [h.uri for h in sink.search("东京大学")] == [article.uri]
    assert [h.uri for h in sink.search("东京")] == [article.uri]
    for query in ["記事", "。", "東京で", "한국어"]:
        assert isinstance(sink.search(query), list)


def test_survives_close_and_reopen(db_path: Path) -> None:
    batch = [build_article(i) for i in range(3)]
    with SqliteSink(db_path) as first:
        first.write_batch(batch)
        first.flush()

    with SqliteSink(db_path) as again:
        assert again.count() == 3
        assert again.get(batch[2].uri) == batch[2]
        assert len(again.search("story")) == 3
        assert again.write_batch(batch) == WriteResult(unchanged=3)
    assert _raw(db_path, "PRAGMA journal_mode") == [("wal",)]


def test_failed_batch_is_rolled_back_entirely(sink: SqliteSink, db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON articles WHEN NEW.headline = 'poison' "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    batch = [build_article(1), build_article(2, headline="poison"), build_article(3)]
    with pytest.raises(SinkError, match="refused"):
        sink.write_batch(batch)
    assert sink.count() == 0
    assert _raw(db_path, "SELECT count(*) FROM articles_fts") == [(0,)]
    assert sink.processed_among([(a.wiredesk.item_id, a.wiredesk.item_version) for a in batch]) == set()


def test_locked_database_is_retriable(db_path: Path) -> None:
    s = SqliteSink(db_path, busy_timeout_seconds=0.05)
    s.open()
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(SinkUnavailable) as caught:
            s.write_batch([build_article(1)])
        assert caught.value.retriable
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert s.write_batch([build_article(1)]) == WriteResult(inserted=1)
    s.close()


def test_calls_on_a_closed_sink_fail_clearly(db_path: Path) -> None:
    s = SqliteSink(db_path)
    with pytest.raises(SinkClosedError):
        s.write_batch([build_article(1)])
    s.open()
    s.close()
    s.close()  # closing twice is fine
    with pytest.raises(SinkClosedError):
        s.count()


def test_storage_only_then_search_backfills(db_path: Path, make_article: ArticleFactory) -> None:
    article = make_article(1, headline="Harvest festival opens")
    with SqliteSink(db_path, fts=False) as storage_only:
        storage_only.write_batch([article])
        with pytest.raises(SinkError):
            storage_only.search("harvest")
    with SqliteSink(db_path, fts=True) as with_search:
        assert [h.uri for h in with_search.search("harvest")] == [article.uri]


def test_nul_characters_are_stored_without_them(sink: SqliteSink) -> None:
    article = build_article(1, headline="Bad\x00byte headline", body="text\x00more")
    sink.write_batch([article])
    stored = sink.get(article.uri)
    assert stored is not None
    assert stored == replace(article, headline="Badbyte headline", body_text="textmore")
    assert b"\\u0000" not in dumps(stored)


def test_search_sink_indexes_rows_a_storage_sink_stored_first(db_path: Path) -> None:
    """`sink --only storage` and `sink --only search` share the file and race each other."""
    v1 = build_article(1, version=1, headline="Flood warning issued")
    v2 = build_article(1, version=2, headline="Flood waters recede")
    other = build_article(2, headline="Harvest begins early")
    with SqliteSink(db_path, fts=False) as storage, SqliteSink(db_path, fts=True) as search:
        search.write_batch([v1])
        storage.write_batch([v2, other])
        # The search sink now sees a replay of `other` and a stale v1: it must still index the
        # stored derivations it has not indexed yet.
        assert search.write_batch([v1, other]) == WriteResult(unchanged=1, stale_skipped=1)
        assert [h.uri for h in search.search("recede")] == [v1.uri]
        assert search.search("warning") == []
        assert [h.uri for h in search.search("harvest")] == [other.uri]
        assert _raw(db_path, "SELECT count(*) FROM articles_fts") == [(2,)]


def test_a_newer_schema_is_refused(db_path: Path) -> None:
    with SqliteSink(db_path):
        pass
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(SinkConfigError, match="schema version 99"):
        SqliteSink(db_path).open()


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(SinkError, match=r"junk\.sqlite"):
        SqliteSink(path).open()


# The layout wiredesk wrote as schema 1, before derivation keys.
_SCHEMA_1 = """
CREATE TABLE articles (
    uri TEXT NOT NULL UNIQUE, version INTEGER NOT NULL, transform_version TEXT NOT NULL,
    transform_key TEXT NOT NULL, item_id TEXT NOT NULL, item_version INTEGER NOT NULL,
    feed_id TEXT NOT NULL, story_id TEXT NOT NULL, headline TEXT NOT NULL, versioncreated TEXT,
    firstcreated TEXT, language TEXT NOT NULL, agency TEXT NOT NULL, canonical_url TEXT NOT NULL,
    source_url TEXT NOT NULL, doc BLOB NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE processed_items (
    item_id TEXT NOT NULL, item_version INTEGER NOT NULL, PRIMARY KEY (item_id, item_version)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE articles_fts USING fts5 (
    headline, body, indexed_key UNINDEXED, tokenize = 'porter unicode61 remove_diacritics 2'
);
PRAGMA user_version = 1;
"""


def _unkeyed(article: Article) -> Article:
    """The article as a wiredesk from before derivation keys produced it."""
    return replace(article, wiredesk=replace(article.wiredesk, derivation_key=""))


def test_a_schema_1_file_is_migrated_and_keeps_its_order(db_path: Path) -> None:
    old = build_article(1, version=3, transform_version="2026.11.9", headline="Flood waters recede")
    stored = _unkeyed(old)
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as conn:
        conn.executescript(_SCHEMA_1)
        conn.execute(
            "INSERT INTO articles VALUES (?, 3, '2026.11.9', ?, ?, 3, 'feed-a', 's', ?, NULL, NULL, 'en',"
            " 'ANI', '', '', ?, '2024-01-01T00:00:00Z')",
            (
                stored.uri,
                transform_sort_key("2026.11.9"),
                stored.wiredesk.item_id,
                stored.headline,
                dumps(stored),
            ),
        )
        conn.execute(
            "INSERT INTO articles_fts (rowid, headline, body, indexed_key) VALUES (1, ?, '', '3:old')",
            (stored.headline,),
        )
    conn.close()

    with SqliteSink(db_path) as sink:
        assert _raw(db_path, "PRAGMA user_version") == [(2,)]
        assert _raw(db_path, "SELECT derivation_key FROM articles") == [(legacy_key(3, "2026.11.9"),)]
        # In-flight messages from the old transform still order by (version, transform_version)...
        assert sink.write_batch([stored]) == WriteResult(unchanged=1)
        older = _unkeyed(build_article(1, version=2, transform_version="2026.11.9"))
        assert sink.write_batch([older]) == WriteResult(stale_skipped=1)
        assert [h.uri for h in sink.search("recede")] == [stored.uri]
        # ...and every keyed derivation is newer than all of them.
        keyed = build_article(1, version=1, headline="Flood warning lifted")
        assert sink.write_batch([keyed]) == WriteResult(updated=1)
        assert sink.get(stored.uri) == keyed
        assert [h.uri for h in sink.search("lifted")] == [stored.uri]
        assert sink.search("recede") == []

    with SqliteSink(db_path) as again:  # opening a migrated file again changes nothing
        assert again.get(stored.uri) == keyed
