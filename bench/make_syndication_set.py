"""Build tests/fixtures/syndication/: syndicated variants of real article texts, with story labels.

Base texts are the ground-truth article bodies of the public article-extraction benchmark
(../shared/data/extraction-dev/scrapinghub, MIT). For each base text the script writes the story
as published, then the ways other outlets and feeds carry the same story: leftover site chrome, an
agency dateline and credit line, a sentence added or removed, small copy edits, a teaser cut to
the first sentence or two, and a combination. Hard negatives are written under their *own* story:
another base text that reuses a background paragraph of this one, and another base text with one
of this story's sentences quoted in it. Everything is drawn from one fixed seed, so the fixture is
reproducible: `python bench/make_syndication_set.py` rewrites it byte for byte.

Output: variants.jsonl, one {"id", "story", "kind", "published", "text"} per line.
"""

from __future__ import annotations

import json
import random
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TRUTH = SHARED / "data" / "extraction-dev" / "scrapinghub" / "ground-truth.json"
OUT = REPO / "tests" / "fixtures" / "syndication"
SEED = 20260218
BASES = 24

CHROME_TOP = ["Advertisement", "Share this article", "Listen to this article", "Subscribe now"]
CHROME_BOTTOM = ["Read more:", "Sign up for our newsletter", "Follow us on Twitter and Facebook", "Comments"]
AGENCIES = ["Reuters", "AFP", "AP", "ANI", "PTI", "IANS", "dpa"]
CITIES = ["NEW DELHI", "LONDON", "WASHINGTON", "PARIS", "BERLIN", "TOKYO", "NAIROBI", "SYDNEY"]
EDITS = {
    "said": "told reporters",
    "the": "this",
    "and": "as well as",
    "percent": "per cent",
    "government": "administration",
    "new": "latest",
    "people": "residents",
}
ADDED = [
    "The company did not immediately respond to a request for comment.",
    "Officials did not say when a final decision would be taken.",
    "The story is developing and will be updated.",
    "Further details were not immediately available.",
]

FOOTER = (
    "Our journalism is supported by readers like you. Sign up for the morning briefing to get the "
    "day's most important stories delivered to your inbox, follow our reporters on social media, and "
    "send tips to the newsroom. Copies of this article may be reproduced for personal, non-commercial "
    "use only; all other rights reserved by the publisher and its licensors."
)


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if s]


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n+", text) if p.strip()]


def join(paras: list[str]) -> str:
    return "\n\n".join(paras)


def with_chrome(text: str, rng: random.Random) -> str:
    return join([rng.choice(CHROME_TOP), *paragraphs(text), rng.choice(CHROME_BOTTOM)])


def with_agency(text: str, rng: random.Random) -> str:
    paras = paragraphs(text)
    agency = rng.choice(AGENCIES)
    paras[0] = f"{rng.choice(CITIES)}, Feb {rng.randint(1, 28)} ({agency}) - {paras[0]}"
    return join([*paras, f"( With inputs from {agency} )"])


def sentence_added(text: str, rng: random.Random) -> str:
    sents = sentences(text)
    sents.insert(rng.randint(1, max(1, len(sents) - 1)), rng.choice(ADDED))
    return " ".join(sents)


def sentence_removed(text: str, rng: random.Random) -> str:
    sents = sentences(text)
    if len(sents) > 3:
        del sents[rng.randint(1, len(sents) - 1)]
    return " ".join(sents)


def small_edits(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    for i, word in enumerate(words):
        if word in EDITS and rng.random() < 0.3:
            words[i] = EDITS[word]
        elif word.isdigit() and rng.random() < 0.5:
            words[i] = str(int(word) + 1)
    return " ".join(words)


def teaser(text: str, rng: random.Random) -> str:
    lead = ""
    target = rng.randint(200, 400)
    for sentence in sentences(text):
        # At least ~150 characters: "South Dakota Gov." alone is a split abbreviation, not a teaser.
        if len(lead) >= 150 and len(lead) + len(sentence) > target:
            break
        lead = f"{lead} {sentence}".strip()
    return lead[:400].rstrip() + " …"


def combined(text: str, rng: random.Random) -> str:
    return with_agency(small_edits(sentence_removed(text, rng), rng), rng)


VARIANTS = [with_chrome, with_agency, sentence_added, sentence_removed, small_edits, teaser, combined]


def main() -> int:
    if not TRUTH.exists():
        print(f"missing {TRUTH}", file=sys.stderr)
        return 1
    rng = random.Random(SEED)
    truth = json.loads(TRUTH.read_text(encoding="utf-8"))
    texts = [v["articleBody"].strip() for _, v in sorted(truth.items())]
    texts = [t for t in texts if 150 <= len(t.split()) <= 1400]
    bases = rng.sample(texts, BASES)
    start = datetime(2022, 2, 18, tzinfo=UTC)
    rows = []
    for n, base in enumerate(bases):
        story = f"s{n:02d}"
        published = start + timedelta(hours=n)
        rows.append((story, "original", published, base))
        for variant in VARIANTS:
            when = published + timedelta(minutes=rng.randint(1, 600))
            rows.append((story, variant.__name__, when, variant(base, rng)))
    for n, base in enumerate(bases):
        other = (n + 1) % BASES
        background = paragraphs(bases[other])[-1]
        when = start + timedelta(hours=n, minutes=30)
        # A different story that reuses another story's closing paragraph as background.
        rows.append((f"s{n:02d}", "background_reuse", when, join([*paragraphs(base), background])))
        # A different story quoting one sentence of another.
        quoted = rng.choice(sentences(bases[other])[1:] or sentences(bases[other]))
        sents = sentences(base)
        sents.insert(min(2, len(sents)), f'"{quoted}"')
        rows.append((f"s{n:02d}", "quote_reuse", when, " ".join(sents)))
        # Different stories of one site that all kept the same long footer through cleaning.
        rows.append((f"s{n:02d}", "shared_footer", when, join([*paragraphs(base), FOOTER])))
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / "variants.jsonl").open("w", encoding="utf-8") as out:
        for i, (story, kind, when, text) in enumerate(rows):
            record = {
                "id": f"v{i:04d}",
                "story": story,
                "kind": kind,
                "published": when.isoformat(),
                "text": text,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} variants of {BASES} stories to {OUT / 'variants.jsonl'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
