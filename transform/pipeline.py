"""The transform chain: one RawItem in, one ninjs Article out (or SkipItem with a reason).

clean (page, fragment or plain text) -> headline/description -> agency, byline, dateline -> dates
-> language -> entities (body only) -> tags -> fingerprint -> story -> provenance and quality.
Pure apart from the injected StoryIndex: no Kafka, HTTP or metrics here, so the same function
runs in the worker, in unit tests and in backfills.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlsplit

from transform.agency import agencies_in, attribute
from transform.clean import CleanText, clean_fragment, clean_page, clean_plain_text
from transform.dates import DateCandidate, DateKind, dates_in_text, parse_date, resolve_dates
from transform.entities import entity_names, find_entities
from transform.fingerprint import fingerprint
from transform.language import identify
from transform.stories import StoryIndex
from transform.tags import clean_tags
from wiredesk import derivation, ids
from wiredesk.errors import RecordFailure
from wiredesk.records import Article, Entity, Provenance, Quality, RawItem, Subject

# Bump when the output for the same input changes (rules, word lists, fingerprint parameters):
# sinks and consumers can then tell re-derived articles from old ones.
TRANSFORM_VERSION = "2026.12.1"
WORDS_PER_MINUTE = 230
# A feed item whose only text is shorter than this is a teaser, not the story.
TEASER_CHARS = 400
_TRUNCATED = re.compile(
    r"(?:…|\.\.\.|\[…\]|\[\.\.\.\])\s*$|\b(?:read more|continue reading|weiterlesen|leia mais|lire la suite"
    r"|leer más|mehr lesen)\b",
    re.IGNORECASE,
)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


class SkipItem(RecordFailure):
    """The item has nothing usable (no title and no body): callers count it as skipped, not poison."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _plain(markup: str) -> str:
    """Text of a small HTML snippet (a feed summary): cheap, no DOM needed at this size."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", markup))).strip()


def _is_teaser(text: str) -> bool:
    return len(text) < TEASER_CHARS or bool(_TRUNCATED.search(text[-200:]))


def needs_full_text(raw: RawItem) -> bool:
    """Whether the article page must be fetched: the registry says so, or the item is a teaser."""
    if not raw.link:
        return False
    if raw.fetch_full_text:
        return True
    content = _plain(raw.content) if raw.content_type == "text/html" else raw.content.strip()
    if content:
        return _is_teaser(content)
    return _is_teaser(_plain(raw.summary))


def _clean(raw: RawItem, page_html: str) -> tuple[CleanText | None, CleanText | None, bool]:
    """(page result, item-content result, teaser_only)."""
    page = clean_page(page_html, raw.link) if page_html else None
    if page is not None and page.paragraphs:
        return page, None, False
    content: CleanText | None = None
    if raw.content.strip():
        content = (
            clean_fragment(raw.content) if raw.content_type == "text/html" else clean_plain_text(raw.content)
        )
    teaser = False
    if content is None or not content.paragraphs:
        if raw.summary.strip():
            content = clean_fragment(raw.summary)
            teaser = True
    elif _is_teaser("\n".join(content.paragraphs)) and needs_full_text(raw):
        teaser = True
    return page, content, teaser


def _canonical(meta_canonical: str, link: str) -> str:
    """The canonical URL: the page's own claim when it is plausible, else the item link.

    Some sites put their home page in every `rel=canonical`; a canonical that is not an absolute
    http(s) URL, or that points at a site root while the link does not, is ignored.
    """
    claim = meta_canonical.strip()
    if claim:
        parts = urlsplit(claim)
        link_path = urlsplit(link).path if link else ""
        if (
            parts.scheme in ("http", "https")
            and parts.netloc
            and not (parts.path in ("", "/") and link_path not in ("", "/"))
        ):
            return ids.canonical_url(claim)
    return ids.canonical_url(link) if link else ""


def _date_candidates(raw: RawItem, cleaned: Iterable[CleanText]) -> list[DateCandidate]:
    found: list[DateCandidate] = []
    if raw.published is not None:
        found.append(DateCandidate(raw.published, "published", "feed"))
    if raw.updated is not None:
        found.append(DateCandidate(raw.updated, "updated", "feed"))
    for ct in cleaned:
        meta_dates: tuple[tuple[str, DateKind], ...] = (
            (ct.meta.published, "published"),
            (ct.meta.modified, "updated"),
        )
        for value, kind in meta_dates:
            when = parse_date(value) if value else None
            if when is not None:
                found.append(DateCandidate(when, kind, "meta"))
        for text in (ct.byline_text, ct.dateline_text):
            if text:
                found.extend(dates_in_text(text))
    return found


def _dedupe(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for value in values:
        key = value.strip().casefold()
        if key and key not in seen:
            seen.add(key)
            out.append(value.strip())
    return out


def derive_article(
    raw: RawItem,
    *,
    story_index: StoryIndex,
    now: datetime,
    page_html: str | None = None,
    future_skew_seconds: int = 900,
) -> Article:
    """The Article for one RawItem; raises SkipItem when there is no title and no body.

    `page_html` is the article page when the caller has it (transform fetched it for a teaser,
    or `wiredesk clean --as html` read it from a file); it is not part of the RawItem contract.
    """
    page, content, teaser_only = _clean(raw, page_html or "")
    main = page if page is not None and page.paragraphs else content
    sources = [ct for ct in (page, content) if ct is not None]
    paragraphs = list(main.paragraphs) if main is not None else []
    meta = page.meta if page is not None else (content.meta if content is not None else None)

    headline = _plain(raw.title) or next(
        (ct.headline or ct.meta.headline or ct.meta.title for ct in sources), ""
    )
    if not headline and not paragraphs:
        raise SkipItem("no title and no body")
    body_text = "\n\n".join(paragraphs)
    description = _plain(raw.summary) or (meta.description.strip() if meta is not None else "")

    who = attribute(
        byline_text=next((ct.byline_text for ct in sources if ct.byline_text), ""),
        credit_lines=[line for ct in sources for line in ct.credit_lines],
        dateline_text=next((ct.dateline_text for ct in sources if ct.dateline_text), ""),
        authors=[*raw.authors, *(a for ct in sources for a in ct.meta.authors)],
        paragraphs=paragraphs,
    )
    dates = resolve_dates(_date_candidates(raw, sources), now=now, future_skew_seconds=future_skew_seconds)
    declared = [ct.meta.language for ct in sources] + [raw.feed.language]
    language = identify(body_text or f"{headline}. {description}", *declared)

    names = entity_names(find_entities(body_text)) if body_text else {}
    tags_kept, _ = clean_tags(
        tuple(_dedupe([*raw.categories, *(t for ct in sources for t in ct.tags)])),
        body_text,
        entity_names=tuple(n for values in names.values() for n in values),
    )

    canonical = _canonical(meta.canonical_url if meta is not None else "", raw.link)
    uri = ids.article_uri(canonical, raw.item_id)
    fp = fingerprint(body_text or description)
    story_id = story_index.assign(uri, fp, dates.firstcreated or raw.fetched_at)
    word_count = len(body_text.split())

    return Article(
        uri=uri,
        version=raw.version,
        headline=headline,
        body_text=body_text,
        body_html=main.body_html if main is not None else "",
        firstcreated=dates.firstcreated,
        versioncreated=dates.versioncreated,
        byline=who.byline,
        located=who.located,
        description_text=description,
        language=language.language,
        person=tuple(Entity(n) for n in names.get("person", [])),
        organisation=tuple(Entity(n) for n in names.get("organisation", [])),
        place=tuple(Entity(n) for n in names.get("place", [])),
        subject=tuple(Subject(t) for t in tags_kept),
        wiredesk=Provenance(
            feed_id=raw.feed_id,
            item_id=raw.item_id,
            item_version=raw.version,
            transform_version=TRANSFORM_VERSION,
            ingested_at=raw.fetched_at,
            derivation_key=derivation.raw_item_key(raw, TRANSFORM_VERSION),
            source_url=raw.link,
            canonical_url=canonical,
            agency=who.agency or _hinted_agency(raw.agency_hint),
            auto_published=any(ct.auto_published for ct in sources),
            story_id=story_id,
            fingerprint="" if fp.empty else fp.hex(),
            word_count=word_count,
            reading_time_seconds=math.ceil(word_count * 60 / WORDS_PER_MINUTE),
            trace_id=raw.trace_id,
            quality=Quality(
                empty_body=not paragraphs,
                missing_date=dates.missing_date,
                future_date=dates.future_date,
                language_mismatch=language.mismatch,
                teaser_only=teaser_only,
            ),
        ),
    )


def _hinted_agency(hint: str) -> str:
    """The registry's agency hint in the canonical spelling the copy's own credits would get."""
    found = agencies_in(hint)
    return found[0] if found else hint.strip()
