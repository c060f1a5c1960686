"""Article builders shared by the sink tests (unit and integration).

A plain module with a unique name, not a conftest, so that it can be imported explicitly
without clashing with other stages' conftest modules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from wiredesk import ids
from wiredesk.records import Article, Provenance

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
            ingested_at=_BASE_TIME + timedelta(minutes=n),
            source_url=link,
            canonical_url=link,
            agency="ANI",
            story_id=f"story-{n}",
        ),
        versioncreated=_BASE_TIME + timedelta(minutes=n),
        firstcreated=_BASE_TIME,
        language="en",
        **overrides,
    )
