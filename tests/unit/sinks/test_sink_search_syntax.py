"""The documented search syntax on the SQLite FTS5 index (PostgreSQL runs the same cases)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from search_cases import CASES, CORPUS, numbers
from sink_articles import build_article

from sinks.sqlite import SqliteSink
from wiredesk.records import Article


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SqliteSink, dict[int, Article]]]:
    corpus = {n: build_article(n, headline=headline, body=body) for n, headline, body in CORPUS}
    with SqliteSink(Path(tmp_path_factory.mktemp("search")) / "w.sqlite", fts=True) as sink:
        sink.write_batch(list(corpus.values()))
        yield sink, corpus


@pytest.mark.parametrize(("query", "expected"), CASES)
def test_the_documented_syntax(
    indexed: tuple[SqliteSink, dict[int, Article]], query: str, expected: set[int]
) -> None:
    sink, corpus = indexed
    assert numbers([hit.uri for hit in sink.search(query)], corpus) == expected


def test_limit(indexed: tuple[SqliteSink, dict[int, Article]]) -> None:
    sink, _ = indexed
    assert len(sink.search("lavrov", limit=1)) == 1
    assert sink.search("lavrov", limit=0) == []
