"""clean_page and clean_fragment: HTML in, CleanText out. Pure functions, no I/O."""

from __future__ import annotations

import functools
import html as _html
import re
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from wiredesk.encoding import decode_html

from . import boilerplate as bp
from .blocks import Block, to_blocks
from .dom import TEXT, Node, build
from .model import CleanText, finish
from .normalize import clean_text, collapse, fix_mojibake, has_mojibake
from .page_meta import PageMeta, extract_meta
from .plaintext import clean_plain_text
from .readable import (
    MAYBE_CANDIDATE,
    NEGATIVE,
    UNLIKELY,
    UNLIKELY_ROLES,
    Grabber,
    prep_document,
    text_similarity,
)

MAX_INPUT_CHARS = 8_000_000  # larger pages are cut (the article is in the first megabytes)

_TAG_CONTAINER = re.compile(
    r"(?:^|[\s_-])(?:tags?|tag-?list|tags-?list|post-?tags|entry-?tags|article-?tags|story-?tags|"
    r"keywords?|topics?|topic-?list|tag-?links|taglist)(?:$|[\s_-])",
    re.I,
)
_TAG_LABEL = re.compile(r"^\s*(?:tags|tagged|topics|keywords|filed under)\s*[:|]?\s*", re.I)
_CHROME_ANCESTORS = frozenset({"nav", "header", "footer", "aside"})
_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:»·•/\\]\s+")
_FRAGMENT_DROP_TAGS = frozenset(
    {
        "nav",
        "aside",
        "footer",
        "form",
        "button",
        "input",
        "select",
        "textarea",
        "iframe",
        "object",
        "embed",
        "video",
        "audio",
        "figure",
    }
)
_FRAGMENT_CHROME = re.compile(
    r"share|social|related|newsletter|promo|advert|\bads?\b|-ad-|sponsor|subscribe|signup|sign-up|"
    r"(?:^|[\s_-])comments?(?:$|[\s_-])|author-bio|jp-relatedposts|wp-block-buttons|yarpp|addtoany|"
    r"(?:^|[\s_-])(?:tags?|tag-?list|post-?tags|entry-?tags)(?:$|[\s_-])",
    re.I,
)


def _title_candidates(meta: PageMeta) -> tuple[str, tuple[str, ...]]:
    """Readability's title plus alternates: og/JSON-LD headline, <title>, <title> minus site name."""
    alts: list[str] = []
    if meta.title:
        alts.append(meta.title)
        parts = _TITLE_SEPARATORS.split(meta.title)
        if len(parts) > 1:
            longest = max(parts, key=len)
            if len(longest.split()) >= 3:
                alts.append(longest)
    main = meta.headline or (alts[-1] if alts else "")
    return main, tuple(a for a in alts if a != main)


def _page_headline(tree: Any, main: str, alts: tuple[str, ...]) -> str:
    h1s = [clean_text(h.text()) for h in tree.css("h1")]
    h1s = [h for h in h1s if h and len(h) < 400]
    titles = [t for t in (main, *alts) if t]
    best, best_sim = "", 0.0
    for h in h1s:
        for t in titles:
            sim = min(text_similarity(t, h), text_similarity(h, t))
            if sim > best_sim:
                best, best_sim = h, sim
    if best and best_sim >= 0.5:
        return best
    return main or (h1s[0] if h1s else "")


def _in_chrome(node: Any) -> bool:
    p = node.parent
    depth = 0
    while p is not None and depth < 30:
        if p.tag in _CHROME_ANCESTORS:
            return True
        p = p.parent
        depth += 1
    return False


def _page_tags(tree: Any) -> list[str]:
    """Raw tag strings of the page's tag list: link texts of the first tag container found."""
    sel = '[class*="tag"], [id*="tag"], [class*="keyword"], [class*="topic"], [id*="topic"]'
    for node in tree.css(sel):
        attrs = node.attributes
        names = f"{attrs.get('class') or ''} {attrs.get('id') or ''}"
        if not _TAG_CONTAINER.search(names) or node.tag in ("body", "html", "meta", "a", "li"):
            continue
        text = collapse(node.text())
        if not text or len(text) > 3000:
            continue
        links = [clean_text(a.text()) for a in node.css("a")]
        links = [t for t in links if t and len(t) < 80]
        if not links:
            continue
        link_chars = sum(len(t) for t in links)
        label = _TAG_LABEL.sub("", text)
        if link_chars < 0.6 * len(label):
            continue
        if _in_chrome(node):
            continue
        return list(dict.fromkeys(links))
    return []


_SOCIAL_EMBED = re.compile(
    r"twitter-tweet|twitter-video|instagram-media|tiktok-embed|bluesky-embed|"
    r"threads-embed|reddit-embed|fb-xfbml|mastodon-embed",
    re.I,
)


def _make_body(lex_body: Any, stats: bool = True) -> Node:
    found: dict[str, list[Node]] = {"br": [], "blockquote": []}
    body = build(lex_body, collect=found, stats=stats)
    prep_document(body, found["br"])
    for bq in found["blockquote"]:
        if _SOCIAL_EMBED.search(bq.cls):
            _unmark_embed_wrappers(bq)
    return body


def _unmark_embed_wrappers(bq: Node) -> None:
    """A post quoted from a social network is part of the story: its wrappers (class names like
    "social-media-embed", link-heavy) must not get it removed as a share bar."""
    bq.attrs = {}
    top = bq
    while top.parent is not None and len(top.parent.elements()) == 1 and top.parent.tag != "body":
        top = top.parent
    if top is not bq:
        top.replace_with(bq)  # unwrap: the wrappers would be cleaned away as link-heavy divs


def _repair(blocks: list[Block]) -> list[Block]:
    for blk in blocks:
        if has_mojibake(blk.text):
            blk.text = fix_mojibake(blk.text)
            blk.html = fix_mojibake(blk.html)
    return blocks


def clean_page(html: str | bytes, url: str = "") -> CleanText:
    """Main text and facts of a full article page."""
    text = decode_html(html)
    if len(text) > MAX_INPUT_CHARS:
        text = text[:MAX_INPUT_CHARS]
    if not text.strip():
        return CleanText((), "")
    tree = LexborHTMLParser(text)
    meta, ld = extract_meta(tree)
    main, alts = _title_candidates(meta)
    headline = _page_headline(tree, main, alts)
    page_tags = _page_tags(tree)
    lex_body = tree.body
    if lex_body is None:
        return CleanText((), "", headline=headline, meta=meta)
    grabber = Grabber(lambda: _make_body(lex_body), main, (*alts, headline))
    content = grabber.grab()
    blocks = _repair(to_blocks(content, url or meta.canonical_url)) if content is not None else []
    f = bp.Findings()
    blocks = bp.apply_rules(blocks, f, headline=headline, mode="page")
    if _prefer_jsonld_body(blocks, ld.body):
        # the page renders its story with script (or hides it): the JSON-LD articleBody is the text
        f = bp.Findings()
        blocks = bp.apply_rules(_text_blocks(ld.body), f, headline=headline, mode="text")
        f.drop("body-from-json-ld")
    if page_tags:
        f.tags = page_tags
    f.removed[:0] = [label for label in grabber.removed if label not in f.removed]
    return finish(blocks, f, headline=headline, meta=meta, byline=grabber.byline)


_PARA_BREAK = re.compile(r"\s*\n\s*\n\s*|\s*\n\s*(?=\S)")


def _prefer_jsonld_body(blocks: list[Block], ld_body: str) -> bool:
    """The DOM gave (almost) nothing while JSON-LD carries a real article body."""
    if len(ld_body) < 400:
        return False
    found = sum(len(b.text) for b in blocks)
    return found < 0.25 * len(collapse(ld_body))


def _text_blocks(body: str) -> list[Block]:
    text = _html.unescape(body) if "&" in body else body
    if "<" in text and ">" in text:
        text = LexborHTMLParser(text).text(separator="\n")
    out = []
    for part in _PARA_BREAK.split(text):
        para = collapse(part)
        if para:
            out.append(Block("p", para, _html.escape(para, quote=False)))
    return out


@functools.lru_cache(maxsize=8192)
def _chrome_names(names: str) -> bool:
    if _FRAGMENT_CHROME.search(names):
        return True
    return bool(UNLIKELY.search(names) and NEGATIVE.search(names) and not MAYBE_CANDIDATE.search(names))


def _strip_fragment_chrome(body: Node) -> None:
    stack = [body]
    while stack:
        node = stack.pop()
        for child in node.kids():
            if child.tag == TEXT:
                continue
            if child.tag in _FRAGMENT_DROP_TAGS:
                child.remove()
                continue
            attrs = child.attrs
            if attrs:
                names = child.cls + " " + child.id
                if (names != " " and _chrome_names(names)) or attrs.get("role") in UNLIKELY_ROLES:
                    child.remove()
                    continue
            stack.append(child)


def clean_fragment(html: str, url: str = "") -> CleanText:
    """Clean a feed item's HTML content (e.g. RSS content:encoded): no main-content search, the
    whole fragment is the story; chrome inside it (share bars, related lists, newsletter boxes,
    agency boilerplate) is removed."""
    if not html or not html.strip():
        return CleanText((), "")
    if len(html) > MAX_INPUT_CHARS:
        html = html[:MAX_INPUT_CHARS]
    if "<" not in html:
        return clean_plain_text(_html.unescape(html) if "&" in html else html)
    tree = LexborHTMLParser(html)
    body = _make_body(tree.body, stats=False) if tree.body is not None else Node("body")
    _strip_fragment_chrome(body)
    blocks = _repair(to_blocks(body, url))
    f = bp.Findings()
    blocks = bp.apply_rules(blocks, f, mode="fragment")
    return finish(blocks, f, headline="", meta=PageMeta())
