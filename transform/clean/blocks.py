"""Turn a content subtree into an ordered list of text blocks, each with its inline HTML.

A block is what a reader sees as one paragraph: a p, a heading, a list item, a table row, a run of
text directly inside a div, or the pieces of any of these split by <br>. Inline markup is kept only
as a[href] (http/https/mailto, relative links resolved against the page URL), em/strong/b/i;
everything else is unwrapped. The HTML is assembled by hand here and sanitised once more by nh3
when the body is built (sanitize.py), so a malformed nesting can never leak through.
"""

from __future__ import annotations

import html as _html
import re
from dataclasses import dataclass
from urllib.parse import urljoin

from .dom import BLOCKISH, TEXT, Node
from .normalize import collapse

HEADING_KIND = {"h1": "h2", "h2": "h2", "h3": "h3", "h4": "h4", "h5": "h4", "h6": "h4"}
# elements that start/end a block of their own: the block-level elements, plus embedded and form
# widgets whose (fallback) text must not run into the neighbouring paragraph
BLOCK_TAGS = BLOCKISH | frozenset(
    {"audio", "dialog", "iframe", "object", "option", "picture", "select", "textarea", "video"}
)
INLINE_KEEP = frozenset({"em", "strong", "b", "i"})
_SAFE_SCHEME = re.compile(r"^(https?:|mailto:)", re.I)


@dataclass(slots=True)
class Block:
    kind: str  # p, h2, h3, h4, li, quote, pre, caption, cell
    text: str
    html: str  # inline HTML (no block wrapper)
    link_chars: int = 0  # characters of text inside links
    group: int = 0  # list / blockquote / table identity, for grouping in body_html
    ordered: bool = False  # an <ol> item
    classes: str = ""  # class/id names of the block and its ancestors up to the root
    origin: int = 0  # identity of (parent element, own class): where it was rendered

    @property
    def link_density(self) -> float:
        return self.link_chars / len(self.text) if self.text else 0.0


class _Builder:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.blocks: list[Block] = []
        self.text: list[str] = []
        self.html: list[str] = []
        self.link_chars = 0
        self.in_link = 0

    def flush(self, kind: str, group: int, ordered: bool, classes: str, origin: int) -> None:
        if not self.text:
            return  # (inline tags opened without text yet carry over to the next block)
        text = collapse("".join(self.text))
        if text:
            raw_html = collapse("".join(self.html))
            self.blocks.append(
                Block(kind, text, raw_html, min(self.link_chars, len(text)), group, ordered, classes, origin)
            )
        self.text = []
        self.html = []
        self.link_chars = 0

    def href(self, node: Node) -> str:
        href = node.get("href").strip()
        if not href or href.startswith("#"):
            return ""
        if not _SAFE_SCHEME.match(href):
            if ":" in href.split("/", 1)[0] or not self.base_url:
                return ""  # javascript:, data:, other schemes, or relative without a base
            href = urljoin(self.base_url, href)
            if not _SAFE_SCHEME.match(href):
                return ""
        return href


_OPEN, _CLOSE_BLOCK, _CLOSE_LINK, _CLOSE_PLAIN_LINK, _CLOSE_INLINE = range(5)


def to_blocks(root: Node, base_url: str = "") -> list[Block]:
    b = _Builder(base_url)
    # context stack entries: (kind, group, ordered, classes, origin)
    ctx: list[tuple[str, int, bool, str, int]] = [("p", 0, False, "", 0)]
    group_counter = 0
    stack: list[tuple[Node, int]] = [(root, _OPEN)]
    while stack:
        node, state = stack.pop()
        tag = node.tag
        if state == _CLOSE_BLOCK:
            b.flush(*ctx.pop())
            continue
        if state in (_CLOSE_LINK, _CLOSE_PLAIN_LINK):
            if state == _CLOSE_LINK:
                b.html.append("</a>")
            b.in_link -= 1
            continue
        if state == _CLOSE_INLINE:
            b.html.append(f"</{tag}>")
            continue
        if tag == TEXT:
            t = node.text
            b.text.append(t)
            b.html.append(_html.escape(t, quote=False) if ("&" in t or "<" in t or ">" in t) else t)
            if b.in_link:
                b.link_chars += len(t.strip())
            continue
        if tag in ("br", "hr"):
            b.flush(*ctx[-1])
            continue
        if tag in BLOCK_TAGS:
            b.flush(*ctx[-1])
            kind, group, ordered, classes, _ = ctx[-1]
            origin = hash((id(node.parent), node.cls))
            names = (node.cls + " " + node.id).strip()
            if names:
                classes = (classes + " " + names).strip()
            if tag in HEADING_KIND:
                kind = HEADING_KIND[tag]
            elif tag in ("li", "dd", "dt"):
                kind = "li"
            elif tag in ("ul", "ol", "dl", "menu", "dir"):
                group_counter += 1
                group, ordered, kind = group_counter, tag == "ol", "li"
            elif tag == "blockquote":
                group_counter += 1
                group, kind = group_counter, "quote"
            elif tag == "pre":
                kind = "pre"
            elif tag in ("figcaption", "caption"):
                kind = "caption"
            elif tag == "table":
                group_counter += 1
                group, kind = group_counter, "cell"
            elif tag == "p" and kind not in ("li", "quote", "caption", "cell"):
                kind = "p"
            elif kind in ("h2", "h3", "h4"):
                kind = "p"  # a block inside a heading: the heading's own text was flushed
            ctx.append((kind, group, ordered, classes, origin))
            stack.append((node, _CLOSE_BLOCK))
            stack.extend([(c, _OPEN) for c in reversed(node.kids())])
            continue
        # inline element
        if tag == "a":
            href = b.href(node)
            if href:
                b.html.append(f'<a href="{_html.escape(href)}">')
            b.in_link += 1
            stack.append((node, _CLOSE_LINK if href else _CLOSE_PLAIN_LINK))
        elif tag in INLINE_KEEP:
            b.html.append(f"<{tag}>")
            stack.append((node, _CLOSE_INLINE))
        stack.extend([(c, _OPEN) for c in reversed(node.kids())])
    b.flush(*ctx[-1])
    return b.blocks


def blocks_to_html(blocks: list[Block]) -> str:
    """Assemble kept blocks into body HTML (not yet sanitised)."""
    out: list[str] = []
    open_group: tuple[str, int] | None = None  # (closing tag, group)
    for blk in blocks:
        want: tuple[str, int] | None = None
        if blk.kind == "li":
            want = ("ol" if blk.ordered else "ul", blk.group)
        elif blk.kind == "quote":
            want = ("blockquote", blk.group)
        if open_group is not None and open_group != want:
            out.append(f"</{open_group[0]}>")
            open_group = None
        if want is not None and open_group is None:
            out.append(f"<{want[0]}>")
            open_group = want
        if blk.kind == "li":
            out.append(f"<li>{blk.html}</li>")
        elif blk.kind in ("h2", "h3", "h4"):
            out.append(f"<{blk.kind}>{blk.html}</{blk.kind}>")
        else:
            out.append(f"<p>{blk.html}</p>")
    if open_group is not None:
        out.append(f"</{open_group[0]}>")
    return "".join(out)
