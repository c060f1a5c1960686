from __future__ import annotations

import pytest

from wiredesk import ids


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://Example.ORG:443/a/B?utm_source=rss&id=7&fbclid=x#frag", "https://example.org/a/B?id=7"),
        ("http://example.org:80", "http://example.org/"),
        ("https://example.org/a?b=2&a=1", "https://example.org/a?a=1&b=2"),
        ("https://example.org:8443/x?gclid=1&mc_cid=2", "https://example.org:8443/x"),
        ("  https://example.org/x  ", "https://example.org/x"),
        ("ftp://example.org/x", "ftp://example.org/x"),
        ("not a url", "not a url"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert ids.canonical_url(url) == expected


def test_item_id_prefers_guid_scoped_to_feed() -> None:
    a = ids.item_id("feed-a", guid="123", link="https://x.org/1")
    assert a == ids.item_id("feed-a", guid="123", link="https://x.org/other")
    assert a != ids.item_id("feed-b", guid="123", link="https://x.org/1")


def test_item_id_falls_back_to_normalised_link_then_text() -> None:
    by_link = ids.item_id("f", link="https://x.org/1?utm_medium=rss")
    assert by_link == ids.item_id("f", link="https://X.org/1")
    by_text = ids.item_id("f", title="T", content="C")
    assert by_text == ids.item_id("f", title=" T ", content="C")
    assert by_text != ids.item_id("f", title="T", content="D")


def test_an_item_repeating_a_guid_is_identified_by_guid_and_normalised_link() -> None:
    with_link = ids.item_id_with_link("f", "section", "https://x.org/1?utm_source=rss")
    assert with_link == ids.item_id_with_link("f", " section ", "https://X.org/1")
    assert with_link != ids.item_id_with_link("f", "section", "https://x.org/2")
    assert with_link != ids.item_id_with_link("g", "section", "https://x.org/1")
    assert with_link != ids.item_id("f", guid="section", link="https://x.org/1")


def test_ids_are_stable_across_runs() -> None:
    # A literal: ids must never change between releases, or every stored article would duplicate.
    assert ids.item_id("f", guid="g") == "item-" + ids._digest("guid", "f", "g")
    assert ids.article_uri("https://x.org/1", "i").startswith("urn:wiredesk:article:")
    assert ids.article_uri("", "i") != ids.article_uri("", "j")
