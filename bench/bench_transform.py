"""Throughput of the transform chain, per core: feed items/s and pages/s, medians of repeats.

    .venv/bin/python bench/bench_transform.py [--repeats 5] [--profile]

Feed items: every item of ../shared/data/feeds/real-dev/*.xml (feedparser, sanitize_html=False,
resolve_relative_uris=False) as a RawItem, through derive_article with a MemoryStoryIndex.
Pages: ../shared/data/extraction-dev pages, given to derive_article as page_html; trafilatura's
`extract` on the same pages in the same run, for scale. Also each enrichment step alone, so the
step that bounds the chain is visible; --profile prints the top functions of one chain run.
Goal: >= 500 feed items/s per core including entities and fingerprints.
"""

from __future__ import annotations

import argparse
import calendar
import cProfile
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "data"

import feedparser  # noqa: E402

from transform.agency import attribute  # noqa: E402
from transform.dates import dates_in_text, parse_date  # noqa: E402
from transform.entities import entity_names, find_entities  # noqa: E402
from transform.fingerprint import fingerprint  # noqa: E402
from transform.language import identify  # noqa: E402
from wiredesk import ids  # noqa: E402
from wiredesk.records import FeedMeta, RawItem  # noqa: E402

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def _when(parsed: Any) -> datetime | None:
    return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC) if parsed else None


def feed_items() -> list[RawItem]:
    items = []
    for path in sorted((SHARED / "feeds" / "real-dev").glob("*.xml")):
        parsed = feedparser.parse(path.read_bytes(), sanitize_html=False, resolve_relative_uris=False)
        meta = FeedMeta(
            title=parsed.feed.get("title", ""),
            link=parsed.feed.get("link", ""),
            language=parsed.feed.get("language", ""),
        )
        for entry in parsed.entries:
            content = entry.get("content") or []
            link = entry.get("link", "")
            items.append(
                RawItem(
                    feed_id=path.stem,
                    item_id=ids.item_id(
                        path.stem, guid=entry.get("id", ""), link=link, title=entry.get("title", "")
                    ),
                    version=1,
                    fetched_at=NOW,
                    content_hash="",
                    guid=entry.get("id", ""),
                    link=link,
                    title=entry.get("title", ""),
                    summary=entry.get("summary", ""),
                    content=content[0].get("value", "") if content else "",
                    authors=tuple(a.get("name", "") for a in entry.get("authors", []) if a.get("name")),
                    categories=tuple(t.get("term", "") for t in entry.get("tags", []) if t.get("term")),
                    published=_when(entry.get("published_parsed")),
                    updated=_when(entry.get("updated_parsed")),
                    feed=meta,
                )
            )
    return items


def pages() -> list[tuple[str, str]]:
    found = [
        (p.read_text(encoding="utf-8", errors="replace"), "")
        for p in (SHARED / "extraction-dev" / "scrapinghub" / "html").glob("*.html")
    ]
    found += [
        (p.read_text(encoding="utf-8", errors="replace"), "")
        for p in sorted((SHARED / "extraction-dev" / "readability").glob("*/source.html"))
    ]
    return found


def rate(work: Callable[[], int], repeats: int) -> float:
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        n = work()
        rates.append(n / (time.perf_counter() - started))
    return statistics.median(rates)


def steps(texts: Sequence[str], repeats: int) -> None:
    def each(fn: Callable[[str], object]) -> Callable[[], int]:
        def run() -> int:
            for t in texts:
                fn(t)
            return len(texts)

        return run

    for name, fn in (
        ("fingerprint", fingerprint),
        ("language", identify),
        ("entities", lambda t: entity_names(find_entities(t))),
        (
            "agency+dates",
            lambda t: (attribute(paragraphs=t.split("\n\n")), dates_in_text(t[:300]), parse_date(t[:40])),
        ),
    ):
        print(f"  step {name:<14} {rate(each(fn), repeats):>10,.0f} items/s")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if not SHARED.exists():
        print(f"missing {SHARED}", file=sys.stderr)
        return 1
    items = feed_items()
    page_list = pages()
    print(f"{len(items)} feed items, {len(page_list)} pages; medians of {args.repeats} repeats, one core")
    try:
        from transform.pipeline import SkipItem, derive_article
        from transform.stories import MemoryStoryIndex
    except ImportError as exc:
        print(f"chain unavailable ({exc}); enrichment steps only, on feed item text:")
        steps([f"{i.title}\n\n{i.summary}\n\n{i.content}" for i in items], args.repeats)
        return 0

    def chain(raws: Sequence[RawItem], pages_html: Sequence[str | None] = ()) -> Callable[[], int]:
        def run() -> int:
            index = MemoryStoryIndex()
            for raw, page_html in zip(raws, pages_html or [None] * len(raws), strict=True):
                try:
                    derive_article(raw, story_index=index, now=NOW, page_html=page_html)
                except SkipItem:
                    pass
            return len(raws)

        return run

    print(f"chain  feed items     {rate(chain(items), args.repeats):>10,.0f} items/s")
    page_items = [
        RawItem(feed_id="pages", item_id=f"p{n}", version=1, fetched_at=NOW, content_hash="")
        for n in range(len(page_list))
    ]
    page_html = [html for html, _ in page_list]
    print(f"chain  pages          {rate(chain(page_items, page_html), args.repeats):>10,.0f} pages/s")
    try:
        import trafilatura

        def traf() -> int:
            for html, _ in page_list:
                trafilatura.extract(html)
            return len(page_list)

        print(f"trafilatura extract   {rate(traf, max(1, args.repeats // 2)):>10,.0f} pages/s")
    except ImportError:
        print("trafilatura not installed")
    articles = []
    index = MemoryStoryIndex()
    for raw in items:
        try:
            articles.append(derive_article(raw, story_index=index, now=NOW))
        except SkipItem:
            pass
    print("enrichment steps alone, on the derived feed articles' bodies:")
    steps([a.body_text for a in articles], args.repeats)
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(chain(items))
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
