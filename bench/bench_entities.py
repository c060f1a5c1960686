"""Entity tagging speed: docs/s and tokens/s on the labelled texts, median of 5 runs, one core.

    .venv/bin/python bench/bench_entities.py

Texts are the 38 labelled article bodies (1.5-2 KB each) plus the same texts doubled to ~4 KB,
the size of a typical agency story. "cold" clears the per-run cache first (every name seen for
the first time; in a 4 KB text the second half still hits what the first half cached); "warm"
runs over texts seen before, as recurring names in a live stream are.
Target: < 0.5 ms per 3-5 KB article, so the whole transform
chain can reach 500 items/s per core.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from transform.entities import _analyse, entity_names, find_entities  # noqa: E402
from transform.tags import clean_tags  # noqa: E402


def run(texts: list[str], cold: bool, repeats: int = 5) -> tuple[float, float]:
    find_entities(texts[0])  # load the gazetteers outside the timing
    times = []
    for _ in range(repeats):
        if cold:
            _analyse.cache_clear()  # every capitalised run analysed afresh (first sight of a name)
        t0 = time.perf_counter()
        for text in texts:
            entity_names(find_entities(text))
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    tokens = sum(len(t.split()) for t in texts)
    return len(texts) / median, tokens / median


def main() -> None:
    docs = json.loads((REPO / "tests/fixtures/entities/labelled.json").read_text(encoding="utf-8"))
    short = [d["text"] for d in docs] * 5
    long = [d["text"] + "\n\n" + d["text"] for d in docs] * 5
    for label, texts, cold in (
        ("~4 KB bodies, cold cache", [d["text"] + "\n\n" + d["text"] for d in docs], True),
        ("~2 KB bodies, warm cache", short, False),
        ("~4 KB bodies, warm cache", long, False),
    ):
        docs_s, tok_s = run(texts, cold)
        size = statistics.mean(len(t) for t in texts) / 1000
        print(
            f"find_entities+entity_names {label} (mean {size:.1f} KB): {docs_s:,.0f} docs/s, "
            f"{tok_s:,.0f} tokens/s, {1000 / docs_s:.3f} ms/doc"
        )
    seed = json.loads((REPO / "tests/fixtures/seed/expected.json").read_text(encoding="utf-8"))
    body = "\n\n".join(seed["body_paragraphs"])
    raw = ["DonetskAntony blinkenState DepartmentMoscowTwitterSergey LavrovTwitter twitterTwitter seva"]
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(2000):
            clean_tags(raw, body)
        times.append(time.perf_counter() - t0)
    print(f"clean_tags (seed, 11 tags): {2000 / statistics.median(times):,.0f} calls/s")


if __name__ == "__main__":
    main()
