"""End-to-end benchmark: the whole pipeline as users run it, beside the plain script, same bytes.

A local server (bench/e2e_feeds.py) serves N realistic RSS feeds of 50 items (3-8 KB of HTML
each, 10% teasers whose pages it also serves) on 127.0.0.1. For each size the harness runs
`wiredesk run --once` (embedded broker, SQLite storage + FTS5, full cleaning and enrichment,
full-text fetching on) and the plain script (bench/plain_pipeline.py: feedparser, kafka-python
and PostgreSQL with their defaults, one INSERT per row) in turn, A B A B, and reports:

- sustained articles/s from the first feed fetch to the last article searchable, per size, the
  median of the repeats, and the marginal rate between the two sizes (start-up cancels out);
- the ratio wiredesk / plain script, pair by pair, median;
- CPU seconds per process kind (stages, broker) and peak memory, per size.

Optional parts: `--near-duplicates` (every item a light edit of one story: the syndication
load), `--freshness` (a continuous `wiredesk run` while the server publishes items at half the
measured rate; p50/p95/p99 of published -> searchable) and `--services 1,2,4` (ingest,
transform and sink as separate processes on one broker, PostgreSQL storage and search).

    .venv/bin/python bench/bench_e2e.py [--sizes 40,160] [--repeats 3] [--near-duplicates]
        [--freshness] [--json results.json]

Every byte of traffic stays on loopback. Needs PostgreSQL at --dsn for the plain script (each run
uses its own throwaway table).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from e2e_feeds import Corpus, FeedServer, build_corpus, feeds_yaml
from proctree import TreeSampler

from wiredesk.embedded import EmbeddedBroker

BENCH = Path(__file__).resolve().parent
DEFAULT_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres connect_timeout=3"
ITEMS_PER_FEED = 50


@dataclass
class RunResult:
    who: str
    items: int
    stored: int
    seconds: float
    cpu: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.stored / self.seconds if self.seconds > 0 else 0.0


def wiredesk_env(data_dir: Path, feeds_file: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREDESK_")}
    env.update(
        {
            "WIREDESK_DATA_DIR": str(data_dir),
            "WIREDESK_INGEST_FEEDS_FILE": str(feeds_file),
            # The feed server is on loopback, which the SSRF guard refuses by default.
            "WIREDESK_HTTP_ALLOW_PRIVATE_ADDRESSES": "true",
            "WIREDESK_SERVICE_METRICS_PORT": "0",
            "WIREDESK_SERVICE_LOG_LEVEL": "WARNING",
        }
    )
    env.update(extra)
    return env


def _stored_rows(db: Path) -> list[tuple[str, str]]:
    """(source_url, updated_at) of every stored article."""
    if not db.exists():
        return []
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as conn:
        try:
            return conn.execute("SELECT source_url, updated_at FROM articles").fetchall()
        except sqlite3.OperationalError:
            return []


def _ts(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def run_wiredesk_once(corpus: Corpus, workdir: Path, *, timeout_s: float = 900) -> RunResult:
    with FeedServer(corpus) as server:
        feeds = workdir / "feeds.yaml"
        feeds.write_text(feeds_yaml(server), encoding="utf-8")
        data = workdir / "data"
        env = wiredesk_env(data, feeds)
        log = (workdir / "wiredesk.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "run", "--once", "--quiet"], env=env, stdout=log, stderr=log
        )
        sampler = TreeSampler(proc.pid).start()
        try:
            code = proc.wait(timeout_s)
        finally:
            sampler.stop()
            if proc.poll() is None:
                proc.kill()
            log.close()
        rows = _stored_rows(data / "wiredesk.sqlite")
        first = server.first_request_at or server.started_at
    if code != 0:
        tail = (workdir / "wiredesk.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"wiredesk run exited {code}:\n{tail}")
    last = max((_ts(u) for _, u in rows), default=first)
    return RunResult(
        "wiredesk",
        corpus.total,
        len(rows),
        last - first,
        cpu={k: v.cpu_seconds for k, v in sampler.by_label().items()},
        peak_rss_mb=sampler.peak_tree_rss() / 2**20,
    )


def run_plain(corpus: Corpus, workdir: Path, dsn: str, *, timeout_s: float = 900) -> RunResult:
    with EmbeddedBroker(log_file=workdir / "plain-broker.log") as broker, FeedServer(corpus) as server:
        urls = [server.feed_url(f) for f in range(corpus.feeds)]
        cmd = [
            sys.executable,
            str(BENCH / "plain_pipeline.py"),
            "--bootstrap",
            broker.bootstrap,
            "--dsn",
            dsn,
            "--expect",
            str(corpus.total),
            *urls,
        ]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        sampler = TreeSampler(proc.pid).start()
        try:
            out, err = proc.communicate(timeout=timeout_s)
        finally:
            sampler.stop()
        if proc.returncode != 0:
            raise RuntimeError(
                f"plain script exited {proc.returncode}: {err.decode(errors='replace')[-2000:]}"
            )
        report = orjson.loads(out.splitlines()[-1])
    return RunResult(
        "plain",
        corpus.total,
        report["stored"],
        report["seconds"],
        cpu={"plain": sum(s.cpu_seconds for s in sampler.stats.values())},
        peak_rss_mb=sampler.peak_tree_rss() / 2**20,
    )


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def _fmt_cpu(results: Sequence[RunResult]) -> str:
    kinds = sorted({k for r in results for k in r.cpu})
    return ", ".join(f"{k} {_median([r.cpu.get(k, 0.0) for r in results]):.1f}s" for k in kinds)


def compare(sizes: Sequence[int], repeats: int, dsn: str, *, near_duplicates: bool) -> dict[str, Any]:
    """wiredesk and the plain script in turn at each size; medians, ratios and the marginal rate."""
    table: dict[int, dict[str, list[RunResult]]] = {}
    for feeds in sizes:
        corpus = build_corpus(feeds, ITEMS_PER_FEED, near_duplicates=near_duplicates)
        runs: dict[str, list[RunResult]] = {"wiredesk": [], "plain": []}
        for n in range(repeats):
            with tempfile.TemporaryDirectory(prefix="wd-e2e-") as tmp:
                wd = run_wiredesk_once(corpus, Path(tmp))
                runs["wiredesk"].append(wd)
                if not near_duplicates:
                    runs["plain"].append(run_plain(corpus, Path(tmp), dsn))
            line = f"  {feeds} feeds, run {n + 1}: wiredesk {wd.stored}/{wd.items} in {wd.seconds:.1f}s"
            if runs["plain"]:
                pl = runs["plain"][-1]
                line += f"; plain {pl.stored} in {pl.seconds:.1f}s"
            print(line, flush=True)
        table[feeds] = runs
    summary: dict[str, Any] = {"sizes": {}}
    kind = "near-duplicate" if near_duplicates else "distinct stories"
    print(f"\n### {kind}: {ITEMS_PER_FEED} items per feed, median of {repeats}\n")
    print("| feeds | items | wiredesk articles/s | plain rows/s | ratio (pairwise) | CPU | peak RSS MB |")
    print("|---:|---:|---:|---:|---:|---|---:|")
    for feeds, runs in table.items():
        wd, pl = runs["wiredesk"], runs["plain"]
        ratios = [a.rate / b.rate for a, b in zip(wd, pl, strict=False) if b.rate > 0]
        row = {
            "items": wd[0].items,
            "wiredesk_rate": _median([r.rate for r in wd]),
            "wiredesk_seconds": _median([r.seconds for r in wd]),
            "plain_rate": _median([r.rate for r in pl]),
            "ratio": _median(ratios),
            "peak_rss_mb": _median([r.peak_rss_mb for r in wd]),
            "cpu": {k: _median([r.cpu.get(k, 0.0) for r in wd]) for k in {k for r in wd for k in r.cpu}},
            "stored_all": all(r.stored == r.items for r in wd),
        }
        summary["sizes"][feeds] = row
        print(
            f"| {feeds} | {row['items']} | {row['wiredesk_rate']:.0f} | {row['plain_rate']:.0f} | "
            f"{row['ratio']:.2f} | {_fmt_cpu(wd)} | {row['peak_rss_mb']:.0f} |"
        )
    if len(sizes) >= 2:
        small, large = summary["sizes"][sizes[0]], summary["sizes"][sizes[-1]]
        extra_items = large["items"] - small["items"]
        extra_s = large["wiredesk_seconds"] - small["wiredesk_seconds"]
        marginal = extra_items / extra_s if extra_s > 0 else float("inf")
        summary["marginal_rate"] = marginal
        print(f"\nmarginal wiredesk rate {sizes[0]} -> {sizes[-1]} feeds: {marginal:.0f} articles/s")
    return summary


def freshness(feeds: int, rate: float, workdir: Path) -> dict[str, float]:
    """A continuous run while items are published at `rate`/s; latency published -> searchable."""
    corpus = build_corpus(feeds, ITEMS_PER_FEED, publish_rate=rate)
    with FeedServer(corpus) as server:
        feeds_file = workdir / "feeds.yaml"
        feeds_file.write_text(feeds_yaml(server, interval_seconds=1), encoding="utf-8")
        data = workdir / "data"
        env = wiredesk_env(data, feeds_file, WIREDESK_INGEST_MIN_INTERVAL_SECONDS="0.5")
        with (workdir / "wiredesk.log").open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "run", "--quiet"], env=env, stdout=log, stderr=log
            )
            deadline = time.monotonic() + corpus.total / rate + 120
            rows: list[tuple[str, str]] = []
            while time.monotonic() < deadline:
                time.sleep(1)
                rows = _stored_rows(data / "wiredesk.sqlite")
                if len(rows) >= corpus.total:
                    break
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
        published = {server.base_url + it.link: server.published_at(it) for f in corpus.items for it in f}
    latencies = sorted(_ts(updated) - published[url] for url, updated in rows if url in published)
    if not latencies:
        return {}

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))]

    result = {"items": len(latencies), "rate": rate, "p50": pct(0.5), "p95": pct(0.95), "p99": pct(0.99)}
    print(
        f"\n### freshness at {rate:.0f} items/s published ({len(latencies)} items): "
        f"p50 {result['p50']:.2f}s, p95 {result['p95']:.2f}s, p99 {result['p99']:.2f}s"
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="40,160", help="feed counts (50 items each)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dsn", default=DEFAULT_DSN)
    parser.add_argument("--near-duplicates", action="store_true", help="also the syndication load")
    parser.add_argument("--freshness", action="store_true", help="also freshness at half the sustained rate")
    parser.add_argument("--json", type=Path, help="write every figure here")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[str, Any] = {"distinct": compare(sizes, args.repeats, args.dsn, near_duplicates=False)}
    if args.near_duplicates:
        results["near_duplicates"] = compare(sizes, args.repeats, args.dsn, near_duplicates=True)
        distinct = results["distinct"]["sizes"][sizes[-1]]["wiredesk_rate"]
        near = results["near_duplicates"]["sizes"][sizes[-1]]["wiredesk_rate"]
        print(f"\nnear-duplicate rate / distinct rate at {sizes[-1]} feeds: {near / distinct:.2f}")
    if args.freshness:
        rate = results["distinct"]["sizes"][sizes[-1]]["wiredesk_rate"] / 2
        with tempfile.TemporaryDirectory(prefix="wd-fresh-") as tmp:
            results["freshness"] = freshness(sizes[0], max(1.0, rate), Path(tmp))
    if args.json:
        args.json.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
