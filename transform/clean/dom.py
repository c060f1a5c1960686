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
SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "math", "link", "meta",
                       "head", "title", "base", "param", "source", "track", "canvas", "map",
                       "dialog"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_WS = re.compile(r"\s+")


class Node:
    __slots__ = ("attrs", "children", "parent", "score", "tag", "text")

    def __init__(self, tag: str, attrs: dict[str, str] | None = None, parent: Node | None = None,
                 text: str = "") -> None:
        self.tag = tag
        self.attrs: dict[str, str] = attrs if attrs is not None else {}
        self.parent = parent
        self.children: list[Node] = []
        self.text = text  # text nodes only
        self.score: float | None = None

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

    @property
    def is_text(self) -> bool:
        return self.tag == TEXT

    def get(self, name: str) -> str:
        return self.attrs.get(name) or ""

    def elements(self) -> list[Node]:
        return [c for c in self.children if c.tag != TEXT]

    def append(self, child: Node) -> None:
        if child.parent is not None:
            child.parent.children.remove(child)
        child.parent = self
        self.children.append(child)

    def remove(self) -> None:
        if self.parent is not None:
            self.parent.children.remove(self)
            self.parent = None

    def replace_with(self, other: Node) -> None:
        parent = self.parent
        if parent is None:
            return
        if other.parent is not None:
            other.parent.children.remove(other)
        idx = parent.children.index(self)
        parent.children[idx] = other
        other.parent = parent
        self.parent = None

    def iter(self) -> Iterator[Node]:
        """Element descendants in document order (self excluded)."""
        stack = [c for c in reversed(self.children) if c.tag != TEXT]
        while stack:
            node = stack.pop()
            yield node
            if node.children:
                stack.extend(c for c in reversed(node.children) if c.tag != TEXT)

    def find_all(self, tags: Iterable[str]) -> list[Node]:
        tags = tags if isinstance(tags, (set, frozenset)) else frozenset(tags)
        return [n for n in self.iter() if n.tag in tags]

    def raw_text(self) -> str:
        if self.tag == TEXT:
            return self.text
        parts: list[str] = []
        stack = list(reversed(self.children))
        while stack:
            node = stack.pop()
            if node.tag == TEXT:
                parts.append(node.text)
            elif node.children:
                stack.extend(reversed(node.children))
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


def is_hidden(attrs: dict[str, Any]) -> bool:
    if "hidden" in attrs:
        return True
    style = attrs.get("style")
    if style and _HIDDEN_STYLE.search(style):
        return True
    if attrs.get("aria-hidden") == "true":
        return "fallback-image" not in (attrs.get("class") or "")
    return False


def build(lex_node: Any, tag: str = "body", skip_hidden: bool = True) -> Node:
    """Copy a selectolax (lexbor) node's subtree into a Node tree rooted at a new `tag` node."""
    root = Node(tag, _attrs(lex_node.attributes) if lex_node is not None else {})
    if lex_node is None:
        return root
    stack = [(lex_node, root)]
    while stack:
        lnode, parent = stack.pop()
        kids = parent.children
        for ch in lnode.iter(include_text=True):
            t = ch.tag
            if t == "-text":
                txt = ch.text_content
                if txt:
                    kids.append(Node(TEXT, None, parent, txt))
                continue
            if t in SKIP_TAGS or t[0] in "-_!":
                continue
            attrs = _attrs(ch.attributes)
            if skip_hidden and attrs and is_hidden(attrs):
                continue
            n = Node(t, attrs, parent)
            kids.append(n)
            stack.append((ch, n))
    return root


def _attrs(attrs: dict[str, Any]) -> dict[str, str]:
    if not attrs:
        return {}
    return {k: (v if v is not None else "") for k, v in attrs.items()}
