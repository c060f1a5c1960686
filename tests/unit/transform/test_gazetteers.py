"""The hand-curated gazetteers are not fitted to the held-out entity texts.

tests/fixtures/entities/labelled.json splits its texts into "dev" (looked at while writing rules
and lists) and "test" (never looked at). A curated entry that occurs in test texts but in no dev
text and not in the seed story can only have come from the test texts, which would make the
test-split figures of bench/eval_entities.py flattering. The generated lists (places, census
first names, common words) come from packages and are not checked; demonyms.tsv is a closed class
(one adjective per country or region) and is not checked either.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
GAZETTEERS = REPO / "transform" / "gazetteers"
FIXTURES = REPO / "tests" / "fixtures"

# Test-only entries kept on purpose: names any newswire list has whatever texts one reads. A new
# entry needs a reason to join them; a given name never does (extra_first_names.txt has none).
GENERAL_NEWSWIRE = {
    "extra_places.txt": {"UK", "Siberia", "Mediterranean", "Soviet Union"},
    "orgs.txt": {"U.N.", "EU", "Congress", "Parliament", "AP", "AFP", "ABC", "Amazon", "Walmart"},
}


def _entries(name: str) -> list[str]:
    text = (GAZETTEERS / name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if name == "extra_first_names.txt":  # one line of space-separated names
        return [word for line in lines for word in line.split()]
    return [line.strip() for line in lines]


def _occurs(entry: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(entry)}(?!\w)", text) is not None


@pytest.mark.parametrize("name", ["extra_first_names.txt", "extra_places.txt", "orgs.txt"])
def test_no_curated_entry_comes_only_from_the_test_texts(name: str) -> None:
    docs = json.loads((FIXTURES / "entities" / "labelled.json").read_text(encoding="utf-8"))
    seed = json.loads((FIXTURES / "seed" / "expected.json").read_text(encoding="utf-8"))
    seen = [d["text"] for d in docs if d["split"] == "dev"] + ["\n".join(seed["body_paragraphs"])]
    held_out = [d["text"] for d in docs if d["split"] == "test"]
    assert seen and held_out
    only_test = sorted(
        entry
        for entry in set(_entries(name))
        if any(_occurs(entry, t) for t in held_out) and not any(_occurs(entry, t) for t in seen)
    )
    assert only_test == sorted(GENERAL_NEWSWIRE.get(name, set())), only_test
