"""The whole chain on the seed story's three forms, plus the chain's own rules."""

import calendar
import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from transform import pipeline
from transform.stories import MemoryStoryIndex
from wiredesk import ids
from wiredesk.records import Article, FeedMeta, RawItem, dumps, loads

SEED = Path(__file__).resolve().parents[2] / "fixtures" / "seed"
EXPECTED = json.loads((SEED / "expected.json").read_text(encoding="utf-8"))
FETCHED = datetime(2022, 2, 18, 3, 0, tzinfo=UTC)
LINK = (
    "https://www.example-times.test/international/"
    "blinken-accepts-invitation-to-meet-lavrov-late-next-week-if-russia-does-not-inva/"
)


def _raw(**fields: object) -> RawItem:
    base: dict[str, object] = {
        "feed_id": "seed-feed",
        "item_id": ids.item_id("seed-feed", link=str(fields.get("link", LINK))),
        "version": 1,
        "fetched_at": FETCHED,
        "content_hash": "h",
        "link": LINK,
    }
    base.update(fields)
    return RawItem(**base)  # type: ignore[arg-type]


def _from_feed() -> RawItem:
    parsed = feedparser.parse(
        (SEED / "agency-feed.rss.xml").read_bytes(), sanitize_html=False, resolve_relative_uris=False
    )
    entry = parsed.entries[0]
    published = datetime.fromtimestamp(calendar.timegm(entry.published_parsed), tz=UTC)
    return _raw(
        guid=entry.id,
        link=entry.link,
        title=entry.title,
        summary=entry.summary,
        content=entry.content[0].value,
        content_type="text/html",
        authors=tuple(a["name"] for a in entry.get("authors", []) if a.get("name")),
        categories=tuple(t.term for t in entry.tags),
        published=published,
        feed=FeedMeta(title=parsed.feed.title, link=parsed.feed.link, language=parsed.feed.language),
    )


def _seed_page() -> str:
    return (SEED / "agency-article-page.html").read_text(encoding="utf-8")


# Each form: the RawItem, and the article page when the caller has it (as `clean --as html` does).
SEED_FORMS: dict[str, Callable[[], tuple[RawItem, str | None]]] = {
    "html page": lambda: (_raw(), _seed_page()),
    "plain text": lambda: (
        _raw(
            content=(SEED / "agency-article-page.txt").read_text(encoding="utf-8"), content_type="text/plain"
        ),
        None,
    ),
    "feed item": lambda: (_from_feed(), None),
}


@pytest.fixture(params=list(SEED_FORMS))
def seed_article(request: pytest.FixtureRequest) -> Article:
    raw, page_html = SEED_FORMS[request.param]()
    return pipeline.derive_article(raw, story_index=MemoryStoryIndex(), now=FETCHED, page_html=page_html)


def test_seed_body_paragraphs(seed_article: Article) -> None:
    assert seed_article.paragraphs == EXPECTED["body_paragraphs"]


def test_seed_agency_byline_dates_language(seed_article: Article) -> None:
    assert seed_article.wiredesk.agency == EXPECTED["agency"]
    assert seed_article.byline == EXPECTED["byline"]
    assert seed_article.versioncreated == datetime.fromisoformat(EXPECTED["versioncreated"])
    assert seed_article.wiredesk.auto_published is EXPECTED["auto_published"]
    assert seed_article.language == EXPECTED["language"]
    assert seed_article.headline == EXPECTED["headline"]


def test_seed_subjects(seed_article: Article) -> None:
    assert [s.name for s in seed_article.subject] == EXPECTED["publisher_tags_clean"]


def test_seed_entities(seed_article: Article) -> None:
    found = {
        "person": {e.name for e in seed_article.person},
        "organisation": {e.name for e in seed_article.organisation},
        "place": {e.name for e in seed_article.place},
    }
    for etype, names in EXPECTED["entities_required"].items():
        assert set(names) <= found[etype], f"{etype}: missing {set(names) - found[etype]}"
    everything = set().union(*found.values())
    assert not everything & set(EXPECTED["entities_forbidden"])


def test_seed_provenance(seed_article: Article) -> None:
    prov = seed_article.wiredesk
    assert prov.transform_version == pipeline.TRANSFORM_VERSION
    assert prov.canonical_url == ids.canonical_url(LINK)
    assert seed_article.uri == ids.article_uri(prov.canonical_url, prov.item_id)
    assert prov.story_id
    assert len(prov.fingerprint) == 128
    assert (
        abs(prov.word_count - EXPECTED["body_word_count_approx"]) <= 0.1 * EXPECTED["body_word_count_approx"]
    )
    assert prov.reading_time_seconds == pytest.approx(prov.word_count * 60 / 230, abs=1)
    assert prov.quality == type(prov.quality)()
    # The record survives the wire unchanged.
    assert loads(Article, dumps(seed_article)) == seed_article


def test_the_three_forms_are_one_story() -> None:
    index = MemoryStoryIndex()
    stories = set()
    for make in SEED_FORMS.values():
        raw, page_html = make()
        article = pipeline.derive_article(raw, story_index=index, now=FETCHED, page_html=page_html)
        stories.add(article.wiredesk.story_id)
    assert len(stories) == 1


def test_nothing_usable_is_skipped() -> None:
    with pytest.raises(pipeline.SkipItem, match="no title and no body"):
        pipeline.derive_article(_raw(link=""), story_index=MemoryStoryIndex(), now=FETCHED)


def test_future_and_missing_dates_are_flagged() -> None:
    text = " ".join(EXPECTED["body_paragraphs"])
    future = _raw(
        title="A story", content=text, content_type="text/plain", published=FETCHED + timedelta(days=2)
    )
    article = pipeline.derive_article(future, story_index=MemoryStoryIndex(), now=FETCHED)
    assert article.wiredesk.quality.future_date
    assert article.wiredesk.quality.missing_date
    assert article.firstcreated is None


def test_language_mismatch_is_flagged() -> None:
    text = " ".join(EXPECTED["body_paragraphs"])
    raw = _raw(title="A story", content=text, content_type="text/plain")
    raw = dataclasses.replace(raw, feed=FeedMeta(language="de"))
    article = pipeline.derive_article(raw, story_index=MemoryStoryIndex(), now=FETCHED)
    assert article.language == "en"
    assert article.wiredesk.quality.language_mismatch


def test_teaser_only_item() -> None:
    raw = _raw(title="A story", summary="Russian Foreign Minister Sergey Lavrov has proposed dates …")
    assert pipeline.needs_full_text(raw)
    article = pipeline.derive_article(raw, story_index=MemoryStoryIndex(), now=FETCHED)
    assert article.wiredesk.quality.teaser_only


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"fetch_full_text": True, "content": "<p>" + "long text " * 100 + "</p>"}, True),
        ({"summary": "A short teaser."}, True),
        ({"content": "<p>" + "long text " * 100 + "</p>"}, False),
        ({"content": "<p>" + "long text " * 100 + " Read more</p>"}, True),
        ({"summary": "A short teaser.", "link": ""}, False),
    ],
)
def test_needs_full_text(fields: dict[str, object], expected: bool) -> None:
    assert pipeline.needs_full_text(_raw(**fields)) is expected


def test_a_page_carried_in_a_raw_message_is_not_read() -> None:
    # The page HTML is an input of `wiredesk clean --as html` (given to derive_article directly),
    # not a field of the topic contract: a raw message that carries one (an older producer, or
    # anyone who can write to the topic) is decoded without it and derived from the item alone.
    text = "\n\n".join(EXPECTED["body_paragraphs"])
    doc = json.loads(dumps(_raw(title="A story", content=text, content_type="text/plain")))
    doc["page_html"] = (
        "<html><body><article><p>" + "Injected page text. " * 40 + "</p></article></body></html>"
    )
    raw = loads(RawItem, json.dumps(doc))
    article = pipeline.derive_article(raw, story_index=MemoryStoryIndex(), now=FETCHED)
    assert "Injected" not in article.body_text
    assert article.paragraphs == EXPECTED["body_paragraphs"]


def test_implausible_canonical_is_ignored() -> None:
    assert pipeline._canonical("https://www.example.org/", "https://www.example.org/a/story") == (
        "https://www.example.org/a/story"
    )
    assert pipeline._canonical("/relative", "https://x.test/a") == "https://x.test/a"
    assert pipeline._canonical("https://x.test/b?utm_source=z", "https://x.test/a") == "https://x.test/b"


def test_registry_agency_hint_applies_only_when_the_copy_credits_none() -> None:
    now = datetime(2024, 5, 1, tzinfo=UTC)
    plain = RawItem(
        feed_id="f",
        item_id=ids.item_id("f", guid="x"),
        version=1,
        fetched_at=now,
        content_hash="h",
        title="Port reopens after strike",
        content="<p>Dock workers returned to work on Thursday after a pay deal.</p>",
        agency_hint="associated press",
    )
    assert pipeline.derive_article(plain, story_index=MemoryStoryIndex(), now=now).wiredesk.agency == "AP"
    credited = dataclasses.replace(
        plain, content="<p>LONDON, May 1 (Reuters) - Dock workers returned to work on Thursday.</p>"
    )
    article = pipeline.derive_article(credited, story_index=MemoryStoryIndex(), now=now)
    assert article.wiredesk.agency == "Reuters"
