"""Cleaning throughput on one core: clean_page pages/s over the extraction-dev pages (beside
trafilatura's in the same run, when it is importable) and clean_fragment items/s over the feed
items of the real-dev feeds (content:encoded, else the summary), plus sanitize_html alone; and
clean_fragment over article-sized fragments (the Readability cases' expected.html: whole articles
with their figures and markup, as a full-content feed carries them).

CPU time (time.process_time) of the calling process, median of --repeats runs; input is read into
memory first, so only the cleaning is timed.

    .venv/bin/python bench/bench_extract.py [--repeats 5] [--shared ../shared] [--no-trafilatura]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import feedparser

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from transform.clean import clean_fragment, clean_page, sanitize_html

REPO = Path(__file__).resolve().parents[1]


def _pages(shared: Path) -> list[bytes]:
    base = shared / "data" / "extraction-dev"
    files = sorted((base / "scrapinghub" / "html").glob("*.html"))
    files += sorted((base / "readability").glob("*/source.html"))
    return [f.read_bytes() for f in files]


def _fragments(shared: Path) -> list[str]:
    folder = shared / "data" / "feeds" / "real-dev"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    items: list[str] = []
    for entry in manifest:
        parsed = feedparser.parse(
            (folder / entry["file"]).read_bytes(), sanitize_html=False, resolve_relative_uris=False
        )
        for e in parsed.entries:
            content = e.get("content") or []
            html = content[0].get("value", "") if content else e.get("summary", "")
            if html and html.strip():
                items.append(html)
    return items


def _article_fragments(shared: Path) -> list[str]:
    base = shared / "data" / "extraction-dev" / "readability"
    return [f.read_text(encoding="utf-8") for f in sorted(base.glob("*/expected.html"))]


def _rate(fn: Callable[..., object], inputs: Sequence[Any], repeats: int) -> float:
    rates = []
    for _ in range(repeats):
        started = time.process_time()
        for x in inputs:
            fn(x)
        elapsed = time.process_time() - started
        rates.append(len(inputs) / elapsed if elapsed > 0 else float("inf"))
    return statistics.median(rates)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--no-trafilatura", action="store_true")
    args = parser.parse_args()
    if not (args.shared / "data").exists():
        print(
            f"no data at {args.shared}/data: the shared data sets live beside the repository", file=sys.stderr
        )
        return 2

    pages = _pages(args.shared)
    fragments = _fragments(args.shared)
    articles = _article_fragments(args.shared)
    mib = sum(len(p) for p in pages) / 2**20
    kib = sum(len(f.encode()) for f in fragments) / 2**10
    print(
        f"pages: {len(pages)} extraction-dev pages, {mib:.1f} MiB; fragments: {len(fragments)} feed items, "
        f"{kib:.0f} KiB; {args.repeats} repeats, median, one core"
    )

    clean_page(pages[0])  # warm imports
    print(f"clean_page              {_rate(clean_page, pages, args.repeats):9.1f} pages/s")
    if not args.no_trafilatura:
        try:
            import trafilatura
        except ImportError:
            print("trafilatura             not importable, skipped")
        else:
            rate = _rate(trafilatura.extract, pages, max(1, min(args.repeats, 3)))
            print(f"trafilatura.extract     {rate:9.1f} pages/s  (same pages, same run)")
    print(f"clean_fragment          {_rate(clean_fragment, fragments, args.repeats):9.0f} items/s")
    print(f"sanitize_html alone     {_rate(sanitize_html, fragments, args.repeats):9.0f} items/s")
    akib = sum(len(a.encode()) for a in articles) / len(articles) / 2**10
    rate = _rate(clean_fragment, articles, args.repeats)
    print(f"clean_fragment          {rate:9.0f} items/s  ({len(articles)} article-sized, {akib:.0f} KiB avg)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
