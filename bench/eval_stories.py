"""Pairwise precision/recall of story_id assignment on tests/fixtures/syndication/variants.jsonl.

A pair of variants is "same story" in the truth when their `story` labels agree, and predicted so
when the index gave them one story_id. Variants are fed in several shuffled orders (workers see
syndicated copies in any order); figures are the medians over orders, for a few thresholds.

    .venv/bin/python bench/eval_stories.py [--threshold 0.5] [--orders 5]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import datetime
from itertools import combinations
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from transform.fingerprint import fingerprint  # noqa: E402
from transform.stories import MemoryStoryIndex  # noqa: E402

FIXTURE = REPO / "tests" / "fixtures" / "syndication" / "variants.jsonl"


def pairwise(truth: dict[str, str], predicted: dict[str, str]) -> tuple[float, float]:
    tp = fp = fn = 0
    for a, b in combinations(sorted(truth), 2):
        same_true = truth[a] == truth[b]
        same_pred = predicted[a] == predicted[b]
        tp += same_true and same_pred
        fp += same_pred and not same_true
        fn += same_true and not same_pred
    return tp / max(1, tp + fp), tp / max(1, tp + fn)


def run(rows: list[dict[str, str]], threshold: float, seed: int) -> tuple[float, float, list[str]]:
    order = rows[:]
    random.Random(seed).shuffle(order)
    index = MemoryStoryIndex(threshold=threshold)
    predicted = {}
    for row in order:
        predicted[row["id"]] = index.assign(
            row["id"], fingerprint(row["text"]), datetime.fromisoformat(row["published"])
        )
    truth = {row["id"]: row["story"] for row in rows}
    precision, recall = pairwise(truth, predicted)
    # Which kinds of variant were split from their story's majority id: what recall loses.
    majority: dict[str, str] = {}
    for story in set(truth.values()):
        ids = [predicted[i] for i, s in truth.items() if s == story]
        majority[story] = max(set(ids), key=ids.count)
    missed = [row["kind"] for row in rows if predicted[row["id"]] != majority[row["story"]]]
    return precision, recall, missed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threshold", type=float, action="append")
    parser.add_argument("--orders", type=int, default=5)
    args = parser.parse_args()
    if not FIXTURE.exists():
        print(f"missing {FIXTURE}: run bench/make_syndication_set.py", file=sys.stderr)
        return 1
    rows = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    print(f"{len(rows)} variants, {len({r['story'] for r in rows})} stories")
    for threshold in args.threshold or [0.3, 0.4, 0.5, 0.6, 0.7]:
        started = time.perf_counter()
        results = [run(rows, threshold, seed) for seed in range(args.orders)]
        elapsed = (time.perf_counter() - started) / args.orders
        precision = statistics.median(r[0] for r in results)
        recall = statistics.median(r[1] for r in results)
        missed = sorted({k for r in results for k in r[2]})
        print(
            f"threshold {threshold:.2f}: pairwise precision {precision:.4f} recall {recall:.4f} "
            f"({len(rows) / elapsed:,.0f} assigns/s incl. fingerprint) split kinds: {missed}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
