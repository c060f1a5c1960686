"""Page metadata from <head> (and JSON-LD anywhere): title, og:*, canonical, dates, authors...

Values are the raw strings as found (dates are parsed by another module), whitespace-collapsed.
Precedence per field: JSON-LD NewsArticle/Article > OpenGraph/article:* > plain <meta> > <title>.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from .normalize import clean_text

_ARTICLE_TYPE = re.compile(r"Article|BlogPosting|Report|NewsArticle|LiveBlogPosting|WebPage|Posting", re.I)
_SPLIT_KEYWORDS = re.compile(r"\s*[,;|]\s*")
_URLISH = re.compile(r"^(https?:)?//", re.I)


@dataclass(frozen=True, slots=True)
class PageMeta:
    title: str = ""
    headline: str = ""
    canonical_url: str = ""
    description: str = ""
    published: str = ""
    modified: str = ""
    authors: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    language: str = ""
    site_name: str = ""


@dataclass(frozen=True, slots=True)
class JsonLdArticle:
    headline: str = ""
    description: str = ""
    published: str = ""
    modified: str = ""
    authors: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    language: str = ""
    publisher: str = ""
    body: str = ""
    url: str = ""


def _str(v: Any) -> str:
    if isinstance(v, str):
        return clean_text(v)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    if isinstance(v, dict):
        return _str(v.get("@value") or v.get("name") or "")
    if isinstance(v, list) and v:
        return _str(v[0])
    return ""


def _names(v: Any) -> list[str]:
    if isinstance(v, list):
        out: list[str] = []
        for x in v:
            out.extend(_names(x))
        return out
    if isinstance(v, dict):
        name = v.get("name")
        if isinstance(name, list):
            return _names(name)
        s = _str(name) if name else ""
        return [s] if s else []
    if isinstance(v, str):
        s = clean_text(v)
        return [s] if s and not _URLISH.match(s) else []
    return []


def _keywords(v: Any) -> list[str]:
    if isinstance(v, list):
        out: list[str] = []
        for x in v:
            out.extend(_keywords(x))
        return out
    if isinstance(v, str):
        return [k for k in (clean_text(p) for p in _SPLIT_KEYWORDS.split(v)) if k]
    return []


def _walk_jsonld(data: Any, found: list[dict[str, Any]], depth: int = 0) -> None:
    if depth > 6:
        return
    if isinstance(data, list):
        for x in data:
            _walk_jsonld(x, found, depth + 1)
    elif isinstance(data, dict):
        types = data.get("@type")
        tlist = types if isinstance(types, list) else [types]
        if any(isinstance(t, str) and _ARTICLE_TYPE.search(t) for t in tlist):
            found.append(data)
        for key in ("@graph", "mainEntity", "mainEntityOfPage", "hasPart", "itemListElement"):
            if key in data:
                _walk_jsonld(data[key], found, depth + 1)


def _article_score(d: dict[str, Any]) -> int:
    t = d.get("@type")
    t = " ".join(x for x in t if isinstance(x, str)) if isinstance(t, list) else str(t or "")
    score = 0
    if re.search(r"Article|BlogPosting|Report", t):
        score += 4
    if d.get("articleBody"):
        score += 2
    if d.get("headline"):
        score += 1
    return score


def parse_jsonld(scripts: list[str]) -> JsonLdArticle:
    found: list[dict[str, Any]] = []
    for script in scripts:
        raw = script.strip()
        if not raw:
            continue
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            # control characters inside strings are a common publisher mistake
            try:
                data = orjson.loads(re.sub(r"[\x00-\x1f]+", " ", raw))
            except orjson.JSONDecodeError:
                continue
        _walk_jsonld(data, found)
    if not found:
        return JsonLdArticle()
    d = max(found, key=_article_score)
    publisher = d.get("publisher")
    pub = _names(publisher)
    body = d.get("articleBody")
    return JsonLdArticle(
        headline=_str(d.get("headline") or d.get("name")),
        description=_str(d.get("description")),
        published=_str(d.get("datePublished") or d.get("dateCreated")),
        modified=_str(d.get("dateModified")),
        authors=tuple(dict.fromkeys(_names(d.get("author")) or _names(d.get("creator")))),
        keywords=tuple(dict.fromkeys(_keywords(d.get("keywords")))),
        language=_str(d.get("inLanguage")),
        publisher=pub[0] if pub else "",
        body=body if isinstance(body, str) else "",
        url=_str(d.get("url")),
    )


def extract_meta(tree: Any) -> tuple[PageMeta, JsonLdArticle]:
    """PageMeta and the JSON-LD article (with its articleBody, if any) of a lexbor tree."""
    metas: dict[str, str] = {}
    authors: list[str] = []
    for m in tree.css("meta"):
        a = m.attributes
        key = a.get("property") or a.get("name") or a.get("itemprop") or a.get("http-equiv") or ""
        content = a.get("content")
        if not key or content is None:
            continue
        key = key.strip().lower()
        if key in ("author", "article:author", "dc.creator", "sailthru.author", "parsely-author"):
            v = clean_text(content)
            if v and not _URLISH.match(v):
                authors.append(v)
        if key not in metas:
            metas[key] = content
    ld = parse_jsonld([s.text() for s in tree.css('script[type="application/ld+json"]')])

    def first(*keys: str) -> str:
        for k in keys:
            v = metas.get(k)
            if v:
                v = clean_text(v)
                if v:
                    return v
        return ""

    title_node = tree.css_first("title")
    title = clean_text(title_node.text()) if title_node is not None else ""
    canonical = ""
    for link in tree.css("link[rel]"):
        rel = (link.attributes.get("rel") or "").lower().split()
        if "canonical" in rel:
            canonical = clean_text(link.attributes.get("href") or "")
            if canonical:
                break
    html_node = tree.css_first("html")
    lang = clean_text((html_node.attributes.get("lang") or "") if html_node is not None else "")
    keywords = list(ld.keywords)
    for k in ("news_keywords", "keywords", "article:tag"):
        keywords.extend(_keywords(metas.get(k, "")))
    for m in tree.css('meta[property="article:tag"]'):
        keywords.extend(_keywords(m.attributes.get("content") or ""))
    meta = PageMeta(
        title=title,
        headline=ld.headline or first("og:title", "twitter:title", "dc.title", "headline", "title"),
        canonical_url=canonical or first("og:url") or ld.url,
        description=first("description", "og:description", "twitter:description") or ld.description,
        published=ld.published
        or first(
            "article:published_time",
            "datepublished",
            "pubdate",
            "publishdate",
            "dc.date",
            "dc.date.issued",
            "date",
            "og:published_time",
            "sailthru.date",
            "parsely-pub-date",
        ),
        modified=ld.modified
        or first(
            "article:modified_time", "datemodified", "og:updated_time", "last-modified", "dc.date.modified"
        ),
        authors=ld.authors or tuple(dict.fromkeys(authors)),
        keywords=tuple(dict.fromkeys(k for k in keywords if k)),
        language=lang or ld.language or first("content-language", "og:locale", "dc.language", "language"),
        site_name=first("og:site_name", "application-name") or ld.publisher,
    )
    return meta, ld
