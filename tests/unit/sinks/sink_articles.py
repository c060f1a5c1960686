"""Article builders shared by the sink tests (unit and integration).

A plain module with a unique name, not a conftest, so that it can be imported explicitly
without clashing with other stages' conftest modules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from transform.pipeline import derive_article
from transform.stories import MemoryStoryIndex
from wiredesk import derivation, ids
from wiredesk.records import Article, Provenance, RawItem

ArticleFactory = Callable[..., Article]

_BASE_TIME = datetime(2022, 2, 18, 2, 50, tzinfo=UTC)


def build_article(
    n: int = 0,
    *,
    version: int = 1,
    transform_version: str = "2026.1.0",
    headline: str | None = None,
    body: str | None = None,
    feed_id: str = "feed-a",
    uri: str | None = None,
    **overrides: Any,
) -> Article:
    link = f"https://news.test/world/story-{n}"
    item = ids.item_id(feed_id, link=link)
    published = _BASE_TIME + timedelta(minutes=n)
    # Each later item version was fetched later, as ingest publishes them; a re-derivation of the
    # same version (another transform_version) is of the same raw content.
    fetched = published + timedelta(seconds=version)
    key = derivation.derivation_key(
        content_time=published,
        observed_at=fetched,
        item_id=item,
        content_hash=f"{n}:{version}",
        transform_version=transform_version,
    )
    return Article(
        uri=uri or ids.article_uri(ids.canonical_url(link), item),
        version=version,
        headline=headline if headline is not None else f"Story number {n}",
        body_text=body if body is not None else f"Paragraph one of story {n}.\n\nParagraph two.",
        wiredesk=Provenance(
            feed_id=feed_id,
            item_id=item,
            item_version=version,
            transform_version=transform_version,
            ingested_at=fetched,
            derivation_key=key,
            source_url=link,
            canonical_url=link,
            agency="ANI",
            story_id=f"story-{n}",
        ),
        versioncreated=published,
        firstcreated=_BASE_TIME,
        language="en",
        **overrides,
    )


# --- copies derived by the real transform chain --------------------------------------------------

COPY_LINK = "https://agency.test/world/2024/03/ceasefire-talks?utm_source=rss"
COPY_TIME = datetime(2024, 3, 6, 10, 0, tzinfo=UTC)


def derive_copy(
    feed_id: str,
    version: int,
    *,
    fetched: float,
    updated: float | None,
    body: str,
    derived_later_days: float = 0,
) -> Article:
    """One feed's copy of the story at COPY_LINK, derived from its RawItem by the transform chain.

    `version` is the item's version within its own feed; `fetched` (when ingest fetched it) and
    `updated` (the feed's date for it) are minutes after COPY_TIME. The chain runs at the fetch
    time, or so many days later (a replay).
    """
    title = "Ceasefire talks in Geneva"
    content = "".join(f"<p>{sentence}</p>" for sentence in body.split(". ") if sentence)
    fetched_at = COPY_TIME + timedelta(minutes=fetched)
    raw = RawItem(
        feed_id=feed_id,
        item_id=ids.item_id(feed_id, guid=f"{feed_id}-ceasefire"),
        version=version,
        fetched_at=fetched_at,
        content_hash=ids.content_hash(title, COPY_LINK, content),
        guid=f"{feed_id}-ceasefire",
        link=COPY_LINK,
        title=title,
        content=content,
        published=COPY_TIME - timedelta(hours=1),
        updated=None if updated is None else COPY_TIME + timedelta(minutes=updated),
    )
    now = fetched_at + timedelta(days=derived_later_days)
    return derive_article(raw, story_index=MemoryStoryIndex(), now=now)
