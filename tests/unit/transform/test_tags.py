"""Publisher tag splitting and support checks: the seed page, the seed feed, and generic cases."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from transform.tags import clean_tags, split_tags

SEED = Path(__file__).resolve().parents[2] / "fixtures" / "seed"


@pytest.fixture(scope="module")
def seed() -> dict[str, object]:
    data: dict[str, object] = json.loads((SEED / "expected.json").read_text(encoding="utf-8"))
    return data


def _body(seed: dict[str, object]) -> str:
    return "\n\n".join(seed["body_paragraphs"])  # type: ignore[arg-type]


def test_seed_page_glued_tag_string(seed: dict[str, object]) -> None:
    page = (SEED / "agency-article-page.txt").read_text(encoding="utf-8")
    tag_line = next(line for line in page.splitlines() if line.startswith("Tags: "))
    kept, rejected = clean_tags([tag_line.removeprefix("Tags: ")], _body(seed))
    assert kept == seed["publisher_tags_clean"]
    assert set(seed["publisher_tags_rejected"]) <= set(rejected)  # type: ignore[arg-type]


def test_seed_feed_categories_give_the_same_result(seed: dict[str, object]) -> None:
    rss = (SEED / "agency-feed.rss.xml").read_text(encoding="utf-8")
    categories = re.findall(r"<category>([^<]*)</category>", rss)
    assert len(categories) > 5
    kept, rejected = clean_tags(categories, _body(seed))
    assert kept == seed["publisher_tags_clean"]
    assert set(seed["publisher_tags_rejected"]) <= set(rejected)  # type: ignore[arg-type]


def test_delimited_strings_split_and_story_casing_kept() -> None:
    body = "The European Central Bank met in Frankfurt; Christine Lagarde spoke."
    for raw in (
        "european central bank, Frankfurt; christine lagarde",
        "european central bank|Frankfurt|christine lagarde",
    ):
        kept, rejected = clean_tags([raw], body)
        assert kept == ["European Central Bank", "Frankfurt", "Christine Lagarde"]
        assert rejected == []


def test_unsupported_and_repeated_tags() -> None:
    body = "Apple sold more phones in India."
    kept, rejected = clean_tags(["Apple", "apple", "India", "Apple stock", "Breaking News"], body)
    assert kept == ["Apple", "India"]
    assert rejected == ["Apple stock", "Breaking News"]


def test_entity_names_support_tags() -> None:
    kept, rejected = clean_tags(["Sergey Lavrov"], "Mr. Lavrov spoke.", entity_names=["Sergey Lavrov"])
    assert kept == ["Sergey Lavrov"]
    assert rejected == []


def test_camel_case_name_in_body_is_not_split() -> None:
    body = "WeWork and YouTube were named."
    assert split_tags("WeWorkYouTube", body) == ["WeWork", "YouTube"]
    assert split_tags("MoscowTwitter", "") == ["Moscow", "Twitter"]


def test_phrase_must_match_on_word_boundaries() -> None:
    kept, rejected = clean_tags(["Ran", "Iran"], "Iran said so.")
    assert kept == ["Iran"]
    assert rejected == ["Ran"]
