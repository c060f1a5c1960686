"""A small mutable DOM built once from lexbor's parse (selectolax).

lexbor parses HTML5 the way browsers do (~0.7 ms for a 170 KB page here); the extraction
algorithm then needs to rename, move and drop nodes and keep per-node scores, which selectolax
nodes do not support cheaply. So the body is copied once into plain slotted Python objects
(~2 ms a page) and everything after that is ordinary Python over them.

Dropped while copying: script, style, noscript, template, svg, comments, and elements a reader
cannot see (hidden attribute, inline display:none / visibility:hidden, aria-hidden="true").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

TEXT = "#text"
SKIP_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "link",
        "meta",
        "head",
        "title",
        "base",
        "param",
        "source",
        "track",
        "canvas",
        "map",
        "dialog",
    }
)
# block-level elements: whitespace-only text next to them renders as nothing and is not copied
BLOCKISH = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "caption",
        "center",
        "dd",
        "details",
        "dir",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "html",
        "legend",
        "li",
        "main",
        "menu",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_WS = re.compile(r"\s+")
_NO_ATTRS: dict[str, str] = {}
MAX_DEPTH = 160  # elements nested deeper keep only their text (real pages stay well under 100)


class Node:
    """An element or text node. tlen/llen/commas are cached statistics of the subtree (computed
    by `build`): text length (whitespace runs counted as one, whitespace-only nodes as nothing),
    the part of it inside links (hash links weighted 0.3, as readability does) and comma count.
    remove/append/replace_with keep the ancestors' statistics current."""

    __slots__ = ("attrs", "children", "commas", "dirty", "llen", "parent", "score", "tag", "text", "tlen")

    def __init__(
        self, tag: str, attrs: dict[str, str] | None = None, parent: Node | None = None, text: str = ""
    ) -> None:
        self.tag = tag
        self.attrs: dict[str, str] = attrs if attrs is not None else {}
        self.parent = parent
        self.children: list[Node] = []
        self.text = text  # text nodes only
        self.score: float | None = None
        self.tlen = 0
        self.llen = 0.0
        self.commas = 0
        self.dirty = False  # children holds removed nodes (removal is lazy: see remove)

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        if self.tag == TEXT:
            return f"#text({self.text[:30]!r})"
        return f"<{self.tag} class={self.cls!r} id={self.id!r}>"

    @property
    def cls(self) -> str:
        return self.attrs.get("class") or ""

    @property
    def id(self) -> str:
        return self.attrs.get("id") or ""

    def get(self, name: str) -> str:
        return self.attrs.get(name) or ""

    def kids(self) -> list[Node]:
        """The children, without the ones removed since the last look."""
        if self.dirty:
            self.children = [c for c in self.children if c.parent is self]
            self.dirty = False
        return self.children

    def elements(self) -> list[Node]:
        return [c for c in self.kids() if c.tag != TEXT]

    def append(self, child: Node) -> None:
        if child.parent is not None:
            child.remove()
        child.parent = self
        self.children.append(child)
        _propagate(self, child.tlen, child.commas, child.llen)

    def remove(self) -> None:
        """Detach from the parent. The parent's list is compacted on its next kids() call, so
        removing many children of one parent costs O(n), not O(n^2)."""
        parent = self.parent
        if parent is not None:
            self.parent = None
            parent.dirty = True
            _propagate(parent, -self.tlen, -self.commas, -self.llen)

    def replace_with(self, other: Node) -> None:
        parent = self.parent
        if parent is None:
            return
        if other.parent is not None:
            other.remove()
        kids = parent.kids()
        idx = kids.index(self)
        kids[idx] = other
        other.parent = parent
        self.parent = None
        _propagate(parent, other.tlen - self.tlen, other.commas - self.commas, other.llen - self.llen)

    @property
    def link_density(self) -> float:
        return self.llen / self.tlen if self.tlen else 0.0

    def iter(self) -> Iterator[Node]:
        """Element descendants in document order (self excluded)."""
        stack = [c for c in reversed(self.kids()) if c.tag != TEXT]
        while stack:
            node = stack.pop()
            yield node
            if node.children:
                stack.extend([c for c in reversed(node.kids()) if c.tag != TEXT])

    def find_all(self, tags: Iterable[str]) -> list[Node]:
        tags = tags if isinstance(tags, (set, frozenset)) else frozenset(tags)
        return [n for n in self.iter() if n.tag in tags]

    def raw_text(self) -> str:
        if self.tag == TEXT:
            return self.text
        parts: list[str] = []
        stack = list(reversed(self.kids()))
        while stack:
            node = stack.pop()
            if node.tag == TEXT:
                parts.append(node.text)
            elif node.children:
                stack.extend(reversed(node.kids()))
        return "".join(parts)

    def inner_text(self) -> str:
        """Text with whitespace runs collapsed and stripped (readability's getInnerText)."""
        return _WS.sub(" ", self.raw_text()).strip()

    def has_ancestor(self, tag: str, max_depth: int = 3) -> bool:
        """readability's _hasAncestorTag: parents up to max_depth+1 levels up (<= 0: any)."""
        depth = 0
        node = self
        while node.parent is not None:
            if 0 < max_depth < depth:
                return False
            if node.parent.tag == tag:
                return True
            node = node.parent
            depth += 1
        return False


class TextNode(Node):
    """A text node: the element-only fields are shared class attributes (cheaper to create)."""

    __slots__ = ()
    attrs = _NO_ATTRS
    children: list[Node] = []  # noqa: RUF012  (never mutated: text nodes have no children)
    score = None
    dirty = False
    llen = 0.0

    def __init__(self, parent: Node | None, text: str) -> None:
        self.tag = TEXT
        self.parent = parent
        self.text = text
        self.tlen = 0
        self.commas = 0


def _link_weight(node: Node) -> float:
    href = node.attrs.get("href") or ""
    return 0.3 if len(href) > 1 and href[0] == "#" else 1.0


def _propagate(node: Node | None, dt: int, dc: int, dl: float) -> None:
    while node is not None and (dt or dc or dl):
        node.tlen += dt
        node.commas += dc
        if node.tag == "a":
            new_l = node.tlen * _link_weight(node)
            dl = new_l - node.llen
            node.llen = new_l
        else:
            node.llen += dl
        node = node.parent


_COMMAS = re.compile("[\u002c\u060c\ufe50\ufe10\ufe11\u2e41\u2e34\u2e32\uff0c]")


def measure_text(node: Node) -> None:
    t = node.text
    if t.isspace():
        node.tlen = 0
        node.commas = 0
    else:
        node.tlen = (
            len(_WS.sub(" ", t))
            if ("  " in t or "\n" in t or "\t" in t or "\r" in t or "\xa0" in t)
            else len(t)
        )
        node.commas = len(_COMMAS.findall(t)) if "," in t or not t.isascii() else 0


def aggregate(bottom_up: Iterable[Node]) -> None:
    """tlen/llen/commas of elements from their children's (children must come first)."""
    for n in bottom_up:
        tl = cm = 0
        ll = 0.0
        for c in n.children:
            tl += c.tlen
            cm += c.commas
            ll += c.llen
        n.tlen = tl
        n.commas = cm
        n.llen = tl * _link_weight(n) if n.tag == "a" else ll


def is_hidden(attrs: dict[str, Any]) -> bool:
    if "hidden" in attrs:
        return True
    style = attrs.get("style")
    if style and _HIDDEN_STYLE.search(style):
        return True
    if attrs.get("aria-hidden") == "true":
        return "fallback-image" not in (attrs.get("class") or "")
    return False


def build(
    lex_node: Any,
    tag: str = "body",
    skip_hidden: bool = True,
    collect: dict[str, list[Node]] | None = None,
    stats: bool = True,
) -> Node:
    """Copy a selectolax (lexbor) node's subtree into a Node tree rooted at a new `tag` node.

    Statistics (tlen/llen/commas) are computed on the way; <font> becomes <span> (as readability
    does); `collect`, when given, maps tag names to lists that receive those elements in
    document order. stats=False skips the statistics (for callers that never score the tree).
    """
    root = Node(tag, lex_node.attributes if lex_node is not None else {})
    if lex_node is None:
        return root
    elements = [root]
    stack = [(lex_node, root, 0)]
    while stack:
        lnode, parent, depth = stack.pop()
        kids = parent.children
        depth += 1
        # whitespace-only text is dropped at the start and end of a block and next to a block child
        after_block = parent.tag in BLOCKISH
        pending = False  # the last child is whitespace-only text that may still be dropped
        for ch in lnode.iter(include_text=True):
            t = ch.tag
            if t == "-text":
                txt = ch.text_content
                if not txt:
                    continue
                if txt.isspace():
                    if after_block or pending:
                        continue
                    pending = True
                else:
                    pending = False
                    after_block = False
                tn = TextNode(parent, txt)
                if stats:
                    measure_text(tn)
                kids.append(tn)
                continue
            if t in SKIP_TAGS or t[0] in "-_!":
                continue
            attrs = ch.attributes
            if (
                skip_hidden
                and attrs
                and ("style" in attrs or "hidden" in attrs or "aria-hidden" in attrs)
                and is_hidden(attrs)
            ):
                continue
            if t == "font":
                t = "span"
            after_block = t in BLOCKISH
            if pending and after_block:
                kids.pop()
            pending = False
            n = Node(t, attrs, parent)
            kids.append(n)
            elements.append(n)
            if depth < MAX_DEPTH:
                stack.append((ch, n, depth))
            else:  # absurdly deep markup: keep the text, flattened, so no pass goes quadratic
                txt = ch.text(separator=" ")
                if txt:
                    tn = TextNode(n, txt)
                    measure_text(tn)
                    n.children.append(tn)
        if pending and parent.tag in BLOCKISH:
            kids.pop()
    if stats:
        aggregate(reversed(elements))
    if collect:
        for n in elements:
            found = collect.get(n.tag)
            if found is not None:
                found.append(n)
    return root
