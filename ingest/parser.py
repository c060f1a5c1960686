"""Feed bytes → normalised RawItems: RSS 0.9x/1.0/2.0 and Atom via feedparser, JSON Feed by hand.

feedparser runs with `sanitize_html=False, resolve_relative_uris=False`: about 3x faster
(shared/notes/libraries.md), and transform sanitises once, later, with nh3. Links are still
resolved here, against the feed's own link or the URL it was fetched from, because item ids
rest on them. feedparser 6 does not read JSON Feed, so JSON Feed 1.0/1.1 is mapped here.

What a caller can rely on:
- `parse_feed` raises `ParseError` only when the bytes are not a feed at all (an HTML page,
  garbage, JSON that is not a JSON Feed). An ill-formed feed yields whatever items feedparser
  recovered, with `ParsedFeed.bozo` saying what was wrong.
- An item with no link, no title and no content is rejected with a reason; the others go on.
- Titles are plain text (tags stripped, entities decoded); summary and content stay as the feed
  sent them, with `content_type` saying text/html or text/plain.
- Dates are UTC. feedparser's *_parsed are already UTC; when it cannot read a date, ingest.dates
  tries localised month names; a date without zone is taken as UTC.
- `version` is 1 on every parsed item: ingest.state decides the real version.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import orjson

from ingest.dates import entry_date, parse_date
from wiredesk import ids
from wiredesk.errors import RecordFailure
from wiredesk.records import ContentType, Enclosure, FeedMeta, RawItem

_TAG = re.compile(r"<[^>]*>")
# Tags that separate words when rendered; other (inline) tags vanish without a space.
_BREAKING_TAG = re.compile(r"</?(?:br|p|div|li|h[1-6]|tr|td|th)\b", re.I)
_SPACE = re.compile(r"\s+")
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "html", "xhtml"})
_JSON_FEED_PREFIX = "https://jsonfeed.org/version/"

REJECT_EMPTY = "empty"  # no link, no title, no content: nothing to identify or show


class ParseError(RecordFailure):
    """The bytes are not a feed; retrying the same bytes will not help."""


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    meta: FeedMeta
    items: list[RawItem]
    rejected: list[tuple[str, str]] = field(default_factory=list)
    format: str = ""
    # Publisher hints on how often to poll, in seconds (RSS <ttl>, <sy:updatePeriod>).
    ttl_seconds: float | None = None
    bozo: str = ""
    # WebSub (W3C Recommendation 2018): the hubs the feed advertises, and its own ("self") URL,
    # the topic to subscribe to.
    hubs: tuple[str, ...] = ()
    self_url: str = ""
    # Entries past `max_items` that were not read (feeds list their newest entries first).
    unread: int = 0


def parse_feed(
    data: bytes,
    *,
    feed_id: str,
    fetched_at: datetime,
    base_url: str = "",
    headers: Mapping[str, str] | None = None,
    fetch_full_text: bool = False,
    max_items: int | None = None,
) -> ParsedFeed:
    """Parse one fetched document. `headers` (HTTP response headers) help charset detection.

    `max_items` bounds the work: only the first entries of a longer document are read (the
    document is cut before feedparser sees it, which is where the cost is), and `unread` says
    how many were left.
    """
    if _looks_like_json(data):
        return _parse_json_feed(data, feed_id, fetched_at, base_url, fetch_full_text, max_items=max_items)
    data, unread = _first_entries(data, max_items)
    # Content-Location is dropped on purpose: feedparser would resolve relative item links
    # against the URL the feed was fetched from; they are meant relative to the site (the
    # feed's <link>), which _resolve below does. xml:base in the document is still honoured.
    response_headers = {k.lower(): v for k, v in (headers or {}).items() if k.lower() != "content-location"}
    try:
        parsed = feedparser.parse(
            data,
            sanitize_html=False,
            resolve_relative_uris=False,
            response_headers=response_headers,
        )
    except Exception as exc:  # feedparser is meant to never raise; if it does, it is a bad feed
        raise ParseError(f"feed parser failed: {type(exc).__name__}: {exc}") from exc
    entries = parsed.get("entries") or []
    version = parsed.get("version") or ""
    bozo = str(parsed.get("bozo_exception", "")) if parsed.get("bozo") else ""
    channel = parsed.get("feed") or {}
    # feedparser reads almost anything loosely; with no feed format recognised, no entries and
    # no channel element, nothing was recovered. (CDF channels have no version.)
    if not version and not entries and (_looks_like_html(data) or not channel):
        reason = f" ({bozo})" if bozo else ""
        raise ParseError(f"not an RSS, Atom or JSON feed{reason}")
    feed_link = _resolve(_str(channel.get("link")), base_url)
    meta = FeedMeta(
        title=_plain(channel.get("title_detail"), _str(channel.get("title"))),
        link=feed_link,
        language=_str(channel.get("language")),
    )
    link_base = feed_link or base_url
    items: list[RawItem] = []
    rejected: list[tuple[str, str]] = []
    for index, entry in enumerate(entries):
        try:
            item = _entry_item(
                entry,
                feed_id=feed_id,
                fetched_at=fetched_at,
                meta=meta,
                link_base=link_base,
                fetch_full_text=fetch_full_text,
            )
        except (TypeError, ValueError, AttributeError) as exc:
            # One odd entry must not cost the feed's others.
            rejected.append(("malformed", f"entry {index}: {type(exc).__name__}: {exc}"))
            continue
        if item is None:
            rejected.append((REJECT_EMPTY, f"entry {index}: no link, title or content"))
            continue
        items.append(item)
    links = [link for link in channel.get("links") or [] if isinstance(link, Mapping)]
    return ParsedFeed(
        meta=meta,
        items=items,
        rejected=rejected,
        format=version,
        ttl_seconds=_ttl_seconds(channel),
        bozo=bozo,
        hubs=_unique(_web_url(link.get("href"), base_url) for link in links if _has_rel(link, "hub")),
        self_url=next((_web_url(ln.get("href"), base_url) for ln in links if _has_rel(ln, "self")), ""),
        unread=unread,
    )


_ENTRY_START = re.compile(rb"<(?:[A-Za-z][\w.-]*:)?(?:item|entry)[\s>/]")
_ROOT = re.compile(rb"<((?:[A-Za-z][\w.-]*:)?(?:rss|feed|RDF))[\s>]")


def _first_entries(data: bytes, max_items: int | None) -> tuple[bytes, int]:
    """The document cut before its (max_items + 1)-th entry and closed again; how many were cut.

    Counting start tags in the bytes costs milliseconds where parsing 100,000 entries costs a
    minute and hundreds of MB. The closing tags make the cut document well-formed again for the
    common shapes (RSS 2.0 channel, Atom feed, RSS 1.0 RDF); anything else is left to
    feedparser's lenient parser, on a bounded document either way.
    """
    if max_items is None:
        return data, 0
    starts = [m.start() for m in _ENTRY_START.finditer(data)]
    if len(starts) <= max_items:
        return data, 0
    root = _ROOT.search(data, 0, starts[0])
    name = root.group(1) if root else b"rss"
    closing = (b"</channel>" if name.endswith(b"rss") else b"") + b"</" + name + b">"
    return data[: starts[max_items]] + closing, len(starts) - max_items


def _entry_item(
    entry: Mapping[str, Any],
    *,
    feed_id: str,
    fetched_at: datetime,
    meta: FeedMeta,
    link_base: str,
    fetch_full_text: bool,
) -> RawItem | None:
    guid = _str(entry.get("id"))
    link = _resolve(_entry_link(entry), link_base)
    title = _plain(entry.get("title_detail"), _str(entry.get("title")))
    summary_detail = entry.get("summary_detail") or {}
    summary = _str(entry.get("summary"))
    content, content_type = _content(entry.get("content"), summary_detail)
    if not (link or title or content or summary):
        return None
    authors = _authors(entry)
    categories = _unique(_str(t.get("term")) or _str(t.get("label")) for t in entry.get("tags") or [])
    enclosures = _enclosures(entry, link_base)
    published = entry_date(entry.get("published"), entry.get("published_parsed"))
    # _own, not entry.get: FeedParserDict maps a missing "updated" to "published" (with a
    # DeprecationWarning); an item that was never updated must not claim it was.
    updated = entry_date(_own(entry, "updated"), _own(entry, "updated_parsed"))
    return _item(
        feed_id=feed_id,
        fetched_at=fetched_at,
        meta=meta,
        guid=guid,
        link=link,
        title=title,
        summary=summary,
        content=content,
        content_type=content_type,
        authors=authors,
        categories=categories,
        enclosures=enclosures,
        published=published,
        updated=updated,
        fetch_full_text=fetch_full_text,
    )


def _item(
    *,
    feed_id: str,
    fetched_at: datetime,
    meta: FeedMeta,
    guid: str,
    link: str,
    title: str,
    summary: str,
    content: str,
    content_type: ContentType,
    authors: tuple[str, ...],
    categories: tuple[str, ...],
    enclosures: tuple[Enclosure, ...],
    published: datetime | None,
    updated: datetime | None,
    fetch_full_text: bool,
) -> RawItem:
    # A guid that is only whitespace is no guid; ids.item_id falls back to link, then text.
    item_id = ids.item_id(feed_id, guid, link, title, content or summary)
    # Dates are left out of the hash on purpose: many feeds rewrite pubDate on every build, and
    # a bumped date with the same words is not a new version of the story.
    content_hash = ids.content_hash(
        title,
        link,
        summary,
        content,
        content_type,
        "\x1e".join(authors),
        "\x1e".join(categories),
        "\x1e".join(e.url for e in enclosures),
    )
    return RawItem(
        feed_id=feed_id,
        item_id=item_id,
        version=1,
        fetched_at=fetched_at,
        content_hash=content_hash,
        guid=guid,
        link=link,
        title=title,
        summary=summary,
        content=content,
        content_type=content_type,
        authors=authors,
        categories=categories,
        enclosures=enclosures,
        published=published,
        updated=updated,
        feed=meta,
        fetch_full_text=fetch_full_text,
    )


def _own(entry: Mapping[str, Any], key: str) -> Any:
    """The entry's own value for key, bypassing FeedParserDict's key aliases."""
    return dict.get(entry, key) if isinstance(entry, dict) else entry.get(key)


def _entry_link(entry: Mapping[str, Any]) -> str:
    link = _str(entry.get("link"))
    if link:
        return link
    for candidate in entry.get("links") or []:
        if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
            return _str(candidate.get("href"))
    # RSS items with <guid isPermaLink="true"> (the default) and no <link>: the guid is the URL.
    if entry.get("guidislink") and _is_web_url(_str(entry.get("id"))):
        return _str(entry.get("id"))
    return ""


def _content(contents: Any, summary_detail: Mapping[str, Any]) -> tuple[str, ContentType]:
    """The richest content block, HTML preferred; without one, the summary's type."""
    best_value, best_type = "", ""
    for block in contents or []:
        value = _str(block.get("value"))
        if not value:
            continue
        kind = _str(block.get("type")).lower()
        if not best_value or (kind in _HTML_TYPES and best_type not in _HTML_TYPES):
            best_value, best_type = value, kind
    if not best_value:
        best_type = _str(summary_detail.get("type")).lower() if summary_detail else ""
    return best_value, _content_type(best_type)


def _content_type(kind: str) -> ContentType:
    return "text/plain" if kind == "text/plain" else "text/html"


def _authors(entry: Mapping[str, Any]) -> tuple[str, ...]:
    names = []
    for author in entry.get("authors") or []:
        if isinstance(author, Mapping):
            names.append(_str(author.get("name")) or _str(author.get("email")))
    if not any(names):
        names.append(_str(entry.get("author")))
    return _unique(_clean_text(n) for n in names)


def _enclosures(entry: Mapping[str, Any], base: str) -> tuple[Enclosure, ...]:
    found: dict[str, Enclosure] = {}
    candidates = [*(entry.get("enclosures") or []), *(entry.get("media_content") or [])]
    for enc in candidates:
        url = _resolve(_str(enc.get("href")) or _str(enc.get("url")), base)
        if not url or url in found:
            continue
        found[url] = Enclosure(
            url=url,
            type=_str(enc.get("type")) or _str(enc.get("medium")),
            length=_int(enc.get("length") or enc.get("filesize")),
        )
    return tuple(found.values())


def _ttl_seconds(channel: Mapping[str, Any]) -> float | None:
    """RSS <ttl> (minutes) or <sy:updatePeriod>/<sy:updateFrequency>, whichever is longer."""
    hints = []
    ttl = _int(channel.get("ttl"))
    if ttl and ttl > 0:
        hints.append(ttl * 60.0)
    period = _str(channel.get("sy_updateperiod")).lower()
    period_seconds = {"hourly": 3600, "daily": 86400, "weekly": 604800, "monthly": 2592000}.get(period)
    if period_seconds:
        frequency = _int(channel.get("sy_updatefrequency")) or 1
        hints.append(period_seconds / max(1, frequency))
    return max(hints) if hints else None


# --- JSON Feed 1.0 / 1.1 (https://jsonfeed.org/version/1.1) ---------------------------------


_HTML_START = re.compile(rb"^(?:\s|<!--.*?-->|<\?xml[^>]*>)*<(?:!doctype\s+html|html)\b", re.I | re.S)


def _looks_like_html(data: bytes) -> bool:
    return _HTML_START.match(data[:2048].lstrip(b"\xef\xbb\xbf")) is not None


def _looks_like_json(data: bytes) -> bool:
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{")


def _parse_json_feed(
    data: bytes,
    feed_id: str,
    fetched_at: datetime,
    base_url: str,
    fetch_full_text: bool,
    *,
    max_items: int | None = None,
) -> ParsedFeed:
    try:
        doc = orjson.loads(data.lstrip(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError as exc:
        raise ParseError(f"JSON that does not decode: {exc}") from None
    if not isinstance(doc, dict):
        raise ParseError("JSON document is not an object")
    version = _str(doc.get("version"))
    raw_items = doc.get("items")
    if not version.startswith(_JSON_FEED_PREFIX) and not isinstance(raw_items, list):
        raise ParseError("JSON, but not a JSON Feed (no jsonfeed.org version, no items)")
    feed_link = _resolve(_str(doc.get("home_page_url")), base_url)
    meta = FeedMeta(
        title=_clean_text(_str(doc.get("title"))),
        link=feed_link,
        language=_str(doc.get("language")),
    )
    feed_authors = _json_authors(doc)
    unread = 0
    if isinstance(raw_items, list) and max_items is not None and len(raw_items) > max_items:
        unread, raw_items = len(raw_items) - max_items, raw_items[:max_items]
    items: list[RawItem] = []
    rejected: list[tuple[str, str]] = []
    link_base = feed_link or base_url
    for index, raw in enumerate(raw_items if isinstance(raw_items, list) else []):
        if not isinstance(raw, dict):
            rejected.append(("malformed", f"item {index}: not an object"))
            continue
        link = _resolve(_str(raw.get("url")) or _str(raw.get("external_url")), link_base)
        title = _clean_text(_str(raw.get("title")))
        html_body, text_body = _str(raw.get("content_html")), _str(raw.get("content_text"))
        content, content_type = (html_body, "text/html") if html_body else (text_body, "text/plain")
        summary = _str(raw.get("summary"))
        if not (link or title or content or summary):
            rejected.append((REJECT_EMPTY, f"item {index}: no link, title or content"))
            continue
        tags = raw.get("tags")
        enclosures = tuple(
            Enclosure(
                url=_resolve(_str(a.get("url")), link_base),
                type=_str(a.get("mime_type")),
                length=_int(a.get("size_in_bytes")),
            )
            for a in raw.get("attachments") or []
            if isinstance(a, dict) and a.get("url")
        )
        items.append(
            _item(
                feed_id=feed_id,
                fetched_at=fetched_at,
                meta=meta,
                # JSON Feed ids may be numbers; they are compared as strings.
                guid=_str(raw.get("id")),
                link=link,
                title=title,
                summary=summary,
                content=content,
                content_type=content_type,  # type: ignore[arg-type]
                authors=_json_authors(raw) or feed_authors,
                categories=_unique(_str(t) for t in tags) if isinstance(tags, list) else (),
                enclosures=enclosures,
                published=_date(raw.get("date_published")),
                updated=_date(raw.get("date_modified")),
                fetch_full_text=fetch_full_text,
            )
        )
    hubs = doc.get("hubs")
    return ParsedFeed(
        meta=meta,
        items=items,
        rejected=rejected,
        format="json" + version[-3:],
        hubs=_unique(
            _web_url(hub.get("url"), base_url)
            for hub in (hubs if isinstance(hubs, list) else [])
            if isinstance(hub, dict) and _str(hub.get("type")).lower() == "websub"
        ),
        self_url=_web_url(doc.get("feed_url"), base_url),
        unread=unread,
    )


def _json_authors(obj: Mapping[str, Any]) -> tuple[str, ...]:
    # 1.1 has "authors" (list); 1.0 had "author" (object).
    raw = obj.get("authors")
    people = raw if isinstance(raw, list) else [obj.get("author")]
    return _unique(_clean_text(_str(p.get("name"))) for p in people if isinstance(p, dict))


# --- small helpers ---------------------------------------------------------------------------


def _str(value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value).strip()


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _date(value: Any) -> datetime | None:
    text = _str(value)
    return parse_date(text) if text else None


def _clean_text(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _plain(detail: Any, value: str) -> str:
    """Plain text of a title: feedparser already decoded text/plain; HTML needs tags stripped."""
    kind = _str(detail.get("type")).lower() if isinstance(detail, Mapping) else ""
    if kind in _HTML_TYPES or (not kind and "<" in value):
        value = html.unescape(_TAG.sub(_tag_replacement, value))
    return _clean_text(value)


def _tag_replacement(match: re.Match[str]) -> str:
    return " " if _BREAKING_TAG.match(match.group()) else ""


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _has_rel(link: Mapping[str, Any], rel: str) -> bool:
    return rel in _str(link.get("rel")).lower().split()


def _web_url(value: Any, base: str) -> str:
    """An absolute http(s) URL from a link's value, or "" (hubs and topics must be web URLs)."""
    resolved = _resolve(_str(value), base)
    return resolved if _is_web_url(resolved) else ""


def _is_web_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def _resolve(link: str, base: str) -> str:
    """Absolute link; relative ones resolved against base when base is an absolute http(s) URL."""
    if not link:
        return ""
    try:
        if urlsplit(link).scheme:
            return link
    except ValueError:
        return link
    if base and _is_web_url(base):
        try:
            return urljoin(base, link)
        except ValueError:
            return link
    return link


__all__ = ["REJECT_EMPTY", "ParseError", "ParsedFeed", "parse_feed"]
