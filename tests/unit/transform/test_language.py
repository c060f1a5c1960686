import re

import feedparser
import pytest

from tests.conftest import shared_path
from transform.language import detect, identify, normalise_code


def test_normalise_codes() -> None:
    assert [normalise_code(c) for c in ("en-IN", "pt_BR", "DE", "", "english", "zh-Hant")] == [
        "en",
        "pt",
        "de",
        "",
        "",
        "zh",
    ]


def test_detects_english_and_german() -> None:
    en = "Russian Foreign Minister Sergey Lavrov has proposed dates for holding a meeting next week."
    de = "Die Bundesregierung hat am Mittwoch beschlossen, dass die neuen Regeln ab Januar gelten sollen."
    assert detect(en) == "en"
    assert detect(de) == "de"


def test_short_text_falls_back_to_declaration() -> None:
    result = identify("Kurz notiert", "de-DE", "en")
    assert (result.language, result.detected, result.mismatch) == ("de", "", False)


def test_mismatch_is_flagged() -> None:
    text = "Die Bundesregierung hat am Mittwoch beschlossen, dass die neuen Regeln ab Januar gelten sollen."
    result = identify(text, "en-US")
    assert result.language == "de"
    assert result.mismatch


def test_broken_unicode_does_not_raise() -> None:
    assert identify("abc \ud800 def" * 20, "en").language == "en"


@pytest.mark.parametrize(
    ("name", "language"),
    [
        ("heise_rss-parser-fixture.atom.xml", "de"),
        ("spiegel_feed-rs-fixture.rss.xml", "de"),
        ("uolNoticias_rss-parser-fixture.rss.xml", "pt"),
    ],
)
def test_real_feeds(name: str, language: str) -> None:
    path = shared_path("data", "feeds", "real-dev", name)
    parsed = feedparser.parse(path.read_bytes(), sanitize_html=False, resolve_relative_uris=False)
    results = []
    for entry in parsed.entries:
        content = entry.get("content") or [{}]
        html = content[0].get("value") or entry.get("summary", "")
        text = re.sub(r"<[^>]+>", " ", f"{entry.get('title', '')}. {html}")
        # No declaration: the text alone must say it.
        results.append(identify(text).language)
    detected = [r for r in results if r]
    assert detected, "no item long enough to detect"
    assert detected.count(language) / len(detected) >= 0.9
