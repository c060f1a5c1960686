"""User input becomes FTS5 expressions that SQLite always accepts, following the one syntax."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from sinks.fts_query import fts5_query
from sinks.search_query import MAX_TERMS, SearchQuery, Term, parse_query

HOSTILE = [
    '"',
    '""',
    '"unterminated',
    "*",
    "AND(",
    "a AND( b",
    "NOT",
    "OR OR OR",
    "a OR",
    "NOT NOT a",
    "-a -b",
    "a -",
    "--a",
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
    expression = fts5_query(query)
    if expression is not None:
        fts.execute("SELECT rowid FROM t WHERE t MATCH ?", (expression,)).fetchall()


def test_operators_are_capitals_and_lower_case_ones_are_words() -> None:
    assert parse_query("war or peace NOT drill") == SearchQuery(
        groups=((Term(("war",)),), (Term(("or",)),), (Term(("peace",)),)), excluded=(Term(("drill",)),)
    )


def test_column_filters_are_not_honoured() -> None:
    expression = fts5_query("body:lavrov")
    assert expression == '"body" AND "lavrov"'


def test_phrases_prefixes_and_compounds() -> None:
    assert (
        fts5_query('"Sergey  Lavrov" blink* Jean-Pierre') == '"Sergey Lavrov" AND "blink"* AND "Jean Pierre"'
    )


def test_or_binds_tighter_than_the_implied_and_and_exclusions_apply_to_all() -> None:
    assert fts5_query("a b OR c -d") == '("a" AND ("b" OR "c")) NOT "d"'


def test_wide_script_terms_match_as_prefix() -> None:
    assert fts5_query("东京") == '"东京"*'


def test_no_words_or_only_exclusions_mean_no_query() -> None:
    assert fts5_query('  ** () "" ') is None
    assert fts5_query("-lavrov NOT blinken") is None


def test_terms_are_bounded() -> None:
    parsed = parse_query(" ".join(f"w{i}" for i in range(200)))
    assert len(parsed.groups) == MAX_TERMS
