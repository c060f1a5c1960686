"""User input becomes FTS5 expressions that SQLite always accepts."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from sinks.fts_query import MAX_TERMS, fts5_queries, query_terms

HOSTILE = [
    '"',
    '""',
    '"unterminated',
    "*",
    "AND(",
    "a AND( b",
    "NOT",
    "OR OR OR",
    "NEAR(a b, 3)",
    "headline:lavrov",
    "^start",
    "col : x",
    "(((",
    ")",
    "'; DROP TABLE articles; --",
    "-",
    "+",
    "\\",
    "\x00",
    "a\x00b",
    "{headline body}: x",
    "东京*",
    "emoji 🙂 query",
    "x" * 5000,
    " ".join(["word"] * 500),
]


@pytest.fixture
def fts() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE VIRTUAL TABLE t USING fts5 (headline, body, "
        "tokenize = 'porter unicode61 remove_diacritics 2')"
    )
    conn.execute("INSERT INTO t VALUES ('Lavrov meets Blinken', 'NOT a drill AND( more')")
    yield conn
    conn.close()


@pytest.mark.parametrize("query", HOSTILE)
def test_every_expression_is_valid_fts5(fts: sqlite3.Connection, query: str) -> None:
    for expression in fts5_queries(query):
        fts.execute("SELECT rowid FROM t WHERE t MATCH ?", (expression,)).fetchall()


def test_operators_are_searched_as_words(fts: sqlite3.Connection) -> None:
    # "NOT" and "AND" in user input are words, not operators: they find the body text.
    (expression, *_) = fts5_queries("NOT AND(")
    assert fts.execute("SELECT count(*) FROM t WHERE t MATCH ?", (expression,)).fetchone() == (1,)


def test_column_filters_are_not_honoured(fts: sqlite3.Connection) -> None:
    (expression, *_) = fts5_queries("body:lavrov")
    assert "body" in expression
    assert ":" not in expression


def test_phrases_and_prefixes_survive() -> None:
    assert query_terms('"Sergey  Lavrov" blink*') == ['"Sergey Lavrov"', '"blink"*']


def test_wide_script_terms_match_as_prefix() -> None:
    assert query_terms("东京") == ['"东京"*']


def test_no_words_means_no_query() -> None:
    assert fts5_queries('  ** () "" ') == []


def test_strict_then_loose() -> None:
    assert fts5_queries("a b") == ['"a" "b"', '"a" OR "b"']


def test_terms_are_bounded() -> None:
    assert len(query_terms(" ".join(f"w{i}" for i in range(200)))) == MAX_TERMS
