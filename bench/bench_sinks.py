"""Sink throughput and search latency on synthetic ~5 KB news articles.

Prints, for each store, the median over repeats of rows/s written in batches (a fresh table per
repeat) and the p50 latency of 2-term search queries. PostgreSQL parts run when a server answers
at --dsn (each in a throwaway schema) and are skipped otherwise.

    .venv/bin/python bench/bench_sinks.py [--articles 5000] [--batch 500] [--repeats 3]
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sinks.base import SearchIndex, Sink
from sinks.sqlite import SqliteSink
from wiredesk import ids
from wiredesk.records import Article, Provenance, dumps

_SYLLABLES = ["ka", "lo", "mir", "ven", "tor", "sa", "del", "ri", "an", "po", "lu", "gre", "ost", "nel"]


def _vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 4))))
    return sorted(words)


def _zipf_words(rng: random.Random, vocab: list[str], n: int) -> list[str]:
    # Word frequencies in news follow Zipf's law; uniform words would flatter the FTS index.
    weights = [1.0 / (rank + 1) for rank in range(len(vocab))]
    return rng.choices(vocab, weights=weights, k=n)


def make_articles(n: int, seed: int = 1, target_bytes: int = 5_000) -> tuple[list[Article], list[str]]:
    rng = random.Random(seed)
    vocab = _vocabulary(rng)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    articles = []
    for i in range(n):
        # ~10 bytes a word with its space and the JSON around it: about target_bytes of JSON.
        words = _zipf_words(rng, vocab, target_bytes // 10)
        paragraphs = [" ".join(words[j : j + 60]).capitalize() + "." for j in range(0, len(words), 60)]
        link = f"https://bench.test/news/{seed}/{i}"
        item = ids.item_id("bench", link=link)
        articles.append(
            Article(
                uri=ids.article_uri(link, item),
                version=1,
                headline=" ".join(_zipf_words(rng, vocab, 10)).capitalize(),
                body_text="\n\n".join(paragraphs),
                wiredesk=Provenance(
                    feed_id="bench",
                    item_id=item,
                    item_version=1,
                    transform_version="2026.1.0",
                    ingested_at=base,
                    source_url=link,
                    canonical_url=link,
                    agency="BENCH",
                    story_id=f"story-{i}",
                ),
                versioncreated=base + timedelta(seconds=i),
                language="en",
            )
        )
    return articles, vocab


def _batches(articles: Sequence[Article], size: int) -> list[Sequence[Article]]:
    return [articles[i : i + size] for i in range(0, len(articles), size)]


def rows_per_second(make_sink: Callable[[], Any], articles: list[Article], batch: int, repeats: int) -> float:
    rates = []
    for _ in range(repeats):
        sink = make_sink()
        sink.open()
        try:
            started = time.perf_counter()
            for chunk in _batches(articles, batch):
                sink.write_batch(chunk)
            sink.flush()
            rates.append(len(articles) / (time.perf_counter() - started))
        finally:
            sink.close()
            cleanup = getattr(sink, "bench_cleanup", None)
            if cleanup:
                cleanup()
    return statistics.median(rates)


def search_p50_ms(index: SearchIndex, vocab: list[str], queries: int = 300, seed: int = 2) -> float:
    rng = random.Random(seed)
    # Mid-frequency words: common enough to match, rare enough to need ranking.
    pool = vocab[50:2000]
    timings = []
    for _ in range(queries):
        q = f"{rng.choice(pool)} {rng.choice(pool)}"
        started = time.perf_counter()
        index.search(q, limit=10)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def _pg_available(dsn: str) -> bool:
    try:
        import psycopg
    except ImportError:
        print("PostgreSQL skipped: psycopg is not installed")
        return False
    try:
        with psycopg.connect(dsn, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        print(f"PostgreSQL skipped ({dsn}): {exc}")
        return False
    return True


def _pg_factory(dsn: str, cls: type[Any]) -> Callable[[], Sink]:
    import psycopg

    def make() -> Sink:
        schema = f"wd_bench_{secrets.token_hex(4)}"
        sink = cls(dsn, schema=schema)

        def cleanup() -> None:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

        sink.bench_cleanup = cleanup
        return sink  # type: ignore[no-any-return]

    return make


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dsn", default="host=127.0.0.1 port=5432 dbname=test user=postgres")
    args = parser.parse_args()

    articles, vocab = make_articles(args.articles)
    mean_kb = statistics.mean(len(dumps(a)) for a in articles) / 1024
    print(f"{len(articles)} articles, mean {mean_kb:.1f} KB JSON, batch {args.batch}, {args.repeats} repeats")

    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(1_000_000))

        def sqlite_sink(fts: bool) -> Callable[[], SqliteSink]:
            return lambda: SqliteSink(Path(tmp) / f"bench-{next(counter)}.sqlite", fts=fts)

        rate = rows_per_second(sqlite_sink(True), articles, args.batch, args.repeats)
        print(f"sqlite storage+fts5        {rate:9,.0f} rows/s")
        rate = rows_per_second(sqlite_sink(False), articles, args.batch, args.repeats)
        print(f"sqlite storage only        {rate:9,.0f} rows/s")
        with SqliteSink(Path(tmp) / "search.sqlite") as index:
            for chunk in _batches(articles, args.batch):
                index.write_batch(chunk)
            print(f"sqlite fts5 search p50     {search_p50_ms(index, vocab):9.2f} ms ({len(articles)} docs)")

    if _pg_available(args.dsn):
        from sinks.postgres import PostgresSearchSink, PostgresStorageSink

        rate = rows_per_second(_pg_factory(args.dsn, PostgresStorageSink), articles, args.batch, args.repeats)
        print(f"postgres storage           {rate:9,.0f} rows/s")
        rate = rows_per_second(_pg_factory(args.dsn, PostgresSearchSink), articles, args.batch, args.repeats)
        print(f"postgres search (tsvector) {rate:9,.0f} rows/s")
        make = _pg_factory(args.dsn, PostgresSearchSink)
        pg_index = make()
        pg_index.open()
        try:
            for chunk in _batches(articles, args.batch):
                pg_index.write_batch(chunk)
            assert isinstance(pg_index, PostgresSearchSink)
            print(
                f"postgres search p50        {search_p50_ms(pg_index, vocab):9.2f} ms ({len(articles)} docs)"
            )
        finally:
            pg_index.close()
            pg_index.bench_cleanup()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
