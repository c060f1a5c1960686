"""Feed parsing throughput: items/s on one core over the real-dev feeds (../shared/data/feeds).

For each repeat, parses every real-dev feed once with ingest.parser.parse_feed (feedparser with
sanitising off + normalisation into RawItems) and, for comparison, with feedparser's defaults.
Prints the median items/s per core, and the ledger's classify throughput on the parsed items.

    .venv/bin/python bench/bench_parse.py [--repeats 5] [--data ../shared/data/feeds/real-dev]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import feedparser

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.parser import parse_feed
from ingest.state import IngestState
from wiredesk.records import RawItem

REPO = Path(__file__).resolve().parents[1]


def _feeds(folder: Path) -> list[tuple[str, bytes]]:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return [(entry["file"], (folder / entry["file"]).read_bytes()) for entry in manifest]


def _rate(items: int, seconds: float) -> float:
    return items / seconds if seconds > 0 else float("inf")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "feeds" / "real-dev")
    args = parser.parse_args()
    if not args.data.exists():
        print(f"no data at {args.data}: the shared data sets live beside the repository", file=sys.stderr)
        return 2
    feeds = _feeds(args.data)
    now = datetime.now(UTC)
    ours: list[float] = []
    defaults: list[float] = []
    items: list[RawItem] = []
    for _ in range(args.repeats):
        started = time.process_time()
        items = []
        for name, data in feeds:
            items.extend(parse_feed(data, feed_id=Path(name).stem, fetched_at=now).items)
        ours.append(_rate(len(items), time.process_time() - started))
        started = time.process_time()
        count = sum(len(feedparser.parse(data).entries) for _, data in feeds)
        defaults.append(_rate(count, time.process_time() - started))
    classify: list[float] = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp, IngestState(Path(tmp) / "ledger.sqlite") as state:
            started = time.perf_counter()
            state.classify_all(items)
            state.mark_published(items)
            classify.append(_rate(len(items), time.perf_counter() - started))
    total_bytes = sum(len(d) for _, d in feeds)
    kib = total_bytes / 1024
    print(f"real-dev: {len(feeds)} feeds, {len(items)} items, {kib:.0f} KiB; {args.repeats} repeats")
    print(f"parse_feed (sanitise off + normalise): {statistics.median(ours):8.0f} items/s per core (median)")
    reference = statistics.median(defaults)
    print(f"feedparser.parse defaults (reference):  {reference:8.0f} items/s per core (median)")
    print(f"ledger classify + mark_published:       {statistics.median(classify):8.0f} items/s (median)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
