"""Main-content selection: Mozilla Readability's algorithm, ported to the Node tree in dom.py.

Readability (Apache-2.0) scores every paragraph-like block (length, commas), propagates the score
to its ancestors (1, 1/2, 1/6, 1/9, 1/12), scales each candidate by (1 - link density), takes the
best, widens it when close rivals share an ancestor, adds siblings that score well or read like
prose, then strips what is left of chrome: share bars, asides, forms, link-heavy or image-heavy
divs and lists, headers with negative class names. It retries with fewer rules when the result is
shorter than 500 characters. Signals used: class/id names, link density, text density, tag kinds,
commas and length of paragraphs.

Differences from readability.js, all deliberate: JSON-LD/metadata never suppress byline removal (a
wire editor wants the byline out of the body); title similarity tokenises with Unicode \\w.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from .dom import TEXT, Node, aggregate

FLAG_STRIP_UNLIKELYS = 1
FLAG_WEIGHT_CLASSES = 2
FLAG_CLEAN_CONDITIONALLY = 4
ALL_FLAGS = 7
CHAR_THRESHOLD = 500
N_TOP_CANDIDATES = 5

UNLIKELY = re.compile(
    r"-ad-|ai2html|banner|breadcrumbs|combx|comment|community|cover-wrap|disqus|extra|footer|gdpr|"
    r"header|legends|menu|related|remark|replies|rss|shoutbox|sidebar|skyscraper|social|sponsor|"
    r"supplemental|ad-break|agegate|pagination|pager|popup|yom-remote",
    re.I,
)
MAYBE_CANDIDATE = re.compile(r"and|article|body|column|content|main|mathjax|shadow", re.I)
POSITIVE = re.compile(
    r"article|body|content|entry|hentry|h-entry|main|page|pagination|post|text|blog|story", re.I
)
NEGATIVE = re.compile(
    r"-ad-|hidden|^hid$| hid$| hid |^hid |banner|combx|comment|com-|contact|footer|gdpr|masthead|"
    r"media|meta|outbrain|promo|related|scroll|share|shoutbox|sidebar|skyscraper|sponsor|shopping|"
    r"tags|widget",
    re.I,
)
BYLINE = re.compile(r"byline|author|dateline|writtenby|p-author", re.I)
SHARE = re.compile(r"(\b|_)(share|sharedaddy)(\b|_)", re.I)
COMMAS = re.compile("[\u002c\u060c\ufe50\ufe10\ufe11\u2e41\u2e34\u2e32\uff0c]")
AD_WORDS = re.compile(r"^(ad(vertising|vertisement)?|pub(licité)?|werb(ung)?|广告|Реклама|Anuncio)$", re.I)
LOADING_WORDS = re.compile(r"^((loading|正在加载|Загрузка|chargement|cargando)(…|\.\.\.)?)$", re.I)
SENTENCE_END = re.compile(r"\.( |$)")
WORD = re.compile(r"\w+")

UNLIKELY_ROLES = frozenset(
    {"menu", "menubar", "complementary", "navigation", "alert", "alertdialog", "dialog"}
)
DIV_TO_P_ELEMS = frozenset({"blockquote", "dl", "div", "img", "ol", "p", "pre", "table", "ul"})
PHRASING_ELEMS = frozenset(
    {
        "abbr",
        "audio",
        "b",
        "bdo",
        "br",
        "button",
        "cite",
        "code",
        "data",
        "datalist",
        "dfn",
        "em",
        "embed",
        "i",
        "img",
        "input",
        "kbd",
        "label",
        "mark",
        "math",
        "meter",
        "noscript",
        "object",
        "output",
        "progress",
        "q",
        "ruby",
        "samp",
        "script",
        "select",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "textarea",
        "time",
        "var",
        "wbr",
    }
)
TAGS_TO_SCORE = frozenset({"section", "h2", "h3", "h4", "h5", "h6", "p", "td", "pre"})
TEXTISH = TAGS_TO_SCORE | {"span", "li", "td"}
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
ALTER_TO_DIV_EXCEPTIONS = frozenset({"div", "article", "section", "p"})
EMBEDS = frozenset({"object", "embed", "iframe"})


_NAME_CACHE: dict[str, tuple[bool, bool]] = {}
_WEIGHT_CACHE: dict[str, int] = {}


def _name_flags(match: str) -> tuple[bool, bool]:
    """(unlikely candidate, byline-like) for a "class id" string; memoised, class names repeat."""
    r = _NAME_CACHE.get(match)
    if r is None:
        if len(_NAME_CACHE) > 20000:
            _NAME_CACHE.clear()
        r = (bool(UNLIKELY.search(match)) and not MAYBE_CANDIDATE.search(match), bool(BYLINE.search(match)))
        _NAME_CACHE[match] = r
    return r


def _weight(name: str) -> int:
    w = _WEIGHT_CACHE.get(name)
    if w is None:
        if len(_WEIGHT_CACHE) > 20000:
            _WEIGHT_CACHE.clear()
        w = (-25 if NEGATIVE.search(name) else 0) + (25 if POSITIVE.search(name) else 0)
        _WEIGHT_CACHE[name] = w
    return w


_MAYBE_EMPTY = frozenset({"div", "section", "header", *HEADINGS})


def is_phrasing(node: Node) -> bool:
    t = node.tag
    if t == TEXT or t in PHRASING_ELEMS:
        return True
    return t in ("a", "del", "ins") and all(is_phrasing(c) for c in node.kids())


def is_whitespace(node: Node) -> bool:
    return (node.tag == TEXT and not node.text.strip()) or node.tag == "br"


def text_similarity(a: str, b: str) -> float:
    ta = [t for t in WORD.findall(a.lower()) if t]
    tb = [t for t in WORD.findall(b.lower()) if t]
    if not ta or not tb:
        return 0.0
    sa = set(ta)
    uniq_b = [t for t in tb if t not in sa]
    return 1 - len(" ".join(uniq_b)) / len(" ".join(tb))


def has_single_tag_inside(node: Node, tag: str) -> bool:
    kids = node.kids()
    els = [c for c in kids if c.tag != TEXT]
    if len(els) != 1 or els[0].tag != tag:
        return False
    return not any(c.tag == TEXT and c.text and not c.text[-1].isspace() for c in kids)


def has_child_block(node: Node) -> bool:
    return any(n.tag in DIV_TO_P_ELEMS for n in node.iter())


def is_without_content(node: Node) -> bool:
    if node.tlen:
        return False
    els = node.elements()
    if not els:
        return True
    return len(els) == sum(1 for n in node.iter() if n.tag in ("br", "hr"))


def _hidden_by_role(node: Node) -> bool:
    return node.get("aria-modal") == "true" and node.get("role") == "dialog"


class Grabber:
    """One extraction of one page; `grab` runs readability's attempts loop."""

    def __init__(self, make_body: Callable[[], Node], title: str, alt_titles: tuple[str, ...] = ()):
        self.make_body = make_body
        self.title = title
        self.titles = tuple(t for t in (title, *alt_titles) if t)
        self.byline = ""
        self.flags = ALL_FLAGS
        self.data_tables: set[int] = set()
        self.removed: dict[str, None] = {}  # labels of what was taken out, in order (for metrics)

    # --- weights -------------------------------------------------------------------------------
    def class_weight(self, node: Node) -> int:
        if not self.flags & FLAG_WEIGHT_CLASSES:
            return 0
        cls, nid = node.cls, node.id
        return (_weight(cls) if cls else 0) + (_weight(nid) if nid else 0)

    def init_node(self, node: Node) -> None:
        t = node.tag
        s = 0.0
        if t == "div":
            s = 5
        elif t in ("pre", "td", "blockquote"):
            s = 3
        elif t in ("address", "ol", "ul", "dl", "dd", "dt", "li", "form"):
            s = -3
        elif t in HEADINGS or t == "th":
            s = -5
        node.score = s + self.class_weight(node)

    # --- the attempts loop ---------------------------------------------------------------------
    def grab(self) -> Node | None:
        attempts: list[tuple[Node, int]] = []
        while True:
            body = self.make_body()
            html = Node("html")
            html.append(body)
            content = self._grab_once(body)
            text_len = content.tlen
            if text_len >= CHAR_THRESHOLD:
                return content
            attempts.append((content, text_len))
            if self.flags & FLAG_STRIP_UNLIKELYS:
                self.flags &= ~FLAG_STRIP_UNLIKELYS
            elif self.flags & FLAG_WEIGHT_CLASSES:
                self.flags &= ~FLAG_WEIGHT_CLASSES
            elif self.flags & FLAG_CLEAN_CONDITIONALLY:
                self.flags &= ~FLAG_CLEAN_CONDITIONALLY
            else:
                best = max(attempts, key=lambda a: a[1])
                return best[0] if best[1] else None

    def _header_duplicates_title(self, node: Node) -> bool:
        if node.tag not in ("h1", "h2"):
            return False
        heading = node.inner_text()
        return any(text_similarity(t, heading) > 0.75 for t in self.titles)

    def _is_byline(self, node: Node, byline_name: bool) -> bool:
        if not (byline_name or node.get("rel") == "author" or "author" in node.get("itemprop")):
            return False
        if not 0 < node.tlen < 110:
            return False
        return 0 < len(node.raw_text().strip()) < 100

    def _collect(self, root: Node) -> list[Node]:
        """The traversal: drop unlikely/invisible nodes, turn divs of phrasing content into p."""
        to_score: list[Node] = []
        remove_title_header = True
        strip = self.flags & FLAG_STRIP_UNLIKELYS
        stack = [root]
        while stack:
            node = stack.pop()
            if node.parent is None and node is not root:
                continue
            tag = node.tag
            attrs = node.attrs
            unlikely = False
            if attrs:
                match = (attrs.get("class") or "") + " " + (attrs.get("id") or "")
                unlikely, byline_name = _name_flags(match) if match != " " else (False, False)
                if "aria-modal" in attrs and _hidden_by_role(node):
                    node.remove()
                    continue
                if not self.byline and self._is_byline(node, byline_name):
                    name = next((n for n in node.iter() if "name" in n.get("itemprop")), node)
                    self.byline = name.raw_text().strip()
                    self.removed["byline"] = None
                    node.remove()
                    continue
            if remove_title_header and tag in ("h1", "h2") and self._header_duplicates_title(node):
                remove_title_header = False
                self.removed["headline"] = None
                node.remove()
                continue
            if attrs and strip and tag not in ("body", "a") and self._unlikely(node, unlikely):
                if node.tlen:
                    self.removed["page-chrome"] = None  # nav, menus, sidebars, comments, related...
                node.remove()
                continue
            if tag in _MAYBE_EMPTY and is_without_content(node):
                node.remove()
                continue
            if tag in TAGS_TO_SCORE:
                to_score.append(node)
            if tag == "div":
                node = self._div_to_p(node, to_score)
            stack.extend([c for c in reversed(node.kids()) if c.tag != TEXT])
        return to_score

    @staticmethod
    def _unlikely(node: Node, unlikely_name: bool) -> bool:
        if unlikely_name and not node.has_ancestor("table") and not node.has_ancestor("code"):
            return True
        return node.get("role") in UNLIKELY_ROLES

    def _div_to_p(self, node: Node, to_score: list[Node]) -> Node:
        # put runs of phrasing content into paragraphs
        p: Node | None = None
        new_children: list[Node] = []
        for child in node.kids():
            if is_phrasing(child):
                if p is not None:
                    child.parent = p
                    p.children.append(child)
                    continue
                if not is_whitespace(child):
                    p = Node("p", {}, node)
                    child.parent = p
                    p.children.append(child)
                    new_children.append(p)
                    continue
            elif p is not None:
                aggregate((p,))
                while p.children and is_whitespace(p.children[-1]):
                    p.children.pop().parent = None
                p = None
            new_children.append(child)
        if p is not None:
            aggregate((p,))
        node.children = new_children
        if has_single_tag_inside(node, "p") and node.link_density < 0.25:
            child = node.elements()[0]
            node.replace_with(child)
            to_score.append(child)
            return child
        if not has_child_block(node):
            node.tag = "p"
            to_score.append(node)
        return node

    def _grab_once(self, body: Node) -> Node:
        self.data_tables = set()
        to_score = self._collect(body)
        candidates: list[Node] = []
        for el in to_score:
            if el.parent is None:
                continue
            n_text = el.tlen
            if n_text < 25:
                continue
            ancestors: list[Node] = []
            a: Node | None = el.parent
            while a is not None and len(ancestors) < 5:
                ancestors.append(a)
                a = a.parent
            if not ancestors:
                continue
            score = 1 + el.commas + 1 + min(n_text // 100, 3)
            for level, anc in enumerate(ancestors):
                if anc.parent is None:
                    break
                if anc.score is None:
                    self.init_node(anc)
                    candidates.append(anc)
                divider = 1 if level == 0 else 2 if level == 1 else level * 3
                anc.score = (anc.score or 0.0) + score / divider

        top: list[Node] = []
        for c in candidates:
            c.score = (c.score or 0.0) * (1 - c.link_density)
            top.append(c)
        top.sort(key=lambda n: -(n.score or 0.0))
        top = top[:N_TOP_CANDIDATES]

        top_candidate = top[0] if top else None
        if top_candidate is None or top_candidate.tag == "body":
            top_candidate = Node("div", {}, None)
            moved = body.kids()
            for child in moved:
                child.parent = top_candidate
            top_candidate.children = moved
            top_candidate.tlen, top_candidate.commas, top_candidate.llen = body.tlen, body.commas, body.llen
            body.children = [top_candidate]
            top_candidate.parent = body
            self.init_node(top_candidate)
        else:
            top_candidate = self._widen(top_candidate, top)

        content = Node("div")
        tc_score = top_candidate.score or 0.0
        threshold = max(10.0, tc_score * 0.2)
        parent = top_candidate.parent
        siblings = parent.elements() if parent is not None else [top_candidate]
        tc_class = top_candidate.cls
        for sib in siblings:
            append = sib is top_candidate
            if not append:
                bonus = tc_score * 0.2 if tc_class and sib.cls == tc_class else 0.0
                if sib.score is not None and sib.score + bonus >= threshold:
                    append = True
                elif sib.tag == "p":
                    ld = sib.link_density
                    n = sib.tlen
                    if (n > 80 and ld < 0.25) or (
                        0 < n < 80 and ld == 0 and SENTENCE_END.search(sib.inner_text())
                    ):
                        append = True
            if append:
                if sib.tag not in ALTER_TO_DIV_EXCEPTIONS:
                    sib.tag = "div"
                content.append(sib)
        self._prep_article(content)
        return content

    def _widen(self, top_candidate: Node, top: list[Node]) -> Node:
        tc_score = top_candidate.score or 0.0
        alternatives: list[list[Node]] = []
        for cand in top[1:]:
            if tc_score and (cand.score or 0.0) / tc_score >= 0.75:
                anc = []
                a = cand.parent
                while a is not None:
                    anc.append(a)
                    a = a.parent
                alternatives.append(anc)
        if len(alternatives) >= 3:
            p = top_candidate.parent
            while p is not None and p.tag != "body":
                n = 0
                for anc in alternatives:
                    if n >= 3:
                        break
                    n += any(x is p for x in anc)
                if n >= 3:
                    top_candidate = p
                    break
                p = p.parent
        if top_candidate.score is None:
            self.init_node(top_candidate)

        # climb while the parents' scores go up: content is likely spread across siblings
        p = top_candidate.parent
        last = top_candidate.score or 0.0
        threshold = last / 3
        while p is not None and p.tag != "body":
            if p.score is None:
                p = p.parent
                continue
            if p.score < threshold:
                break
            if p.score > last:
                top_candidate = p
                break
            last = p.score
            p = p.parent

        # an only child: use the parent so that sibling joining sees the real siblings
        p = top_candidate.parent
        while p is not None and p.tag != "body" and len(p.elements()) == 1:
            top_candidate = p
            p = top_candidate.parent
        if top_candidate.score is None:
            self.init_node(top_candidate)
        return top_candidate

    # --- cleaning the chosen content -------------------------------------------------------------
    def _prep_article(self, content: Node) -> None:
        # one walk indexes the tags every step needs; each step then skips what earlier steps removed
        index: dict[str, list[Node]] = {t: [] for t in _PREP_TAGS}
        for n in content.iter():
            found = index.get(n.tag)
            if found is not None:
                found.append(n)

        def live(*tags: str) -> list[Node]:
            nodes = index[tags[0]] if len(tags) == 1 else [n for n in content.iter() if n.tag in tags]
            return [n for n in nodes if _attached(n, content)]

        self._mark_data_tables(live("table"))
        self._clean_conditionally(live("form"), "form")
        self._clean_conditionally(live("fieldset"), "fieldset")
        for tag in ("object", "embed", "footer", "link", "aside"):
            for n in live(tag):
                n.remove()
        for top in content.elements():
            self._clean_matched(top, self._share_bar)
        for tag in ("iframe", "input", "textarea", "select", "button"):
            for n in live(tag):
                n.remove()
        for h in live("h1", "h2"):
            if self.class_weight(h) < 0:
                h.remove()
        self._clean_conditionally(live("table"), "table")
        self._clean_conditionally(live("ul"), "ul")
        self._clean_conditionally(live("div"), "div")
        for n in live("h1"):
            n.tag = "h2"
        for p in reversed(live("p")):
            if (
                p.parent is not None
                and not p.tlen
                and not any(n.tag in ("img", "embed", "object", "iframe") for n in p.iter())
            ):
                p.remove()
        for br in live("br"):
            parent = br.parent
            if parent is None:
                continue
            kids = parent.kids()
            i = kids.index(br) + 1
            while i < len(kids) and kids[i].tag == TEXT and not kids[i].text.strip():
                i += 1
            if i < len(kids) and kids[i].tag == "p":
                br.remove()
        for table in live("table"):
            tbody = table.elements()[0] if has_single_tag_inside(table, "tbody") else table
            if has_single_tag_inside(tbody, "tr"):
                row = tbody.elements()[0]
                if has_single_tag_inside(row, "td"):
                    cell = row.elements()[0]
                    cell.tag = "p" if all(is_phrasing(c) for c in cell.kids()) else "div"
                    table.replace_with(cell)

    def _share_bar(self, node: Node, match: str) -> bool:
        if SHARE.search(match) and node.tlen < CHAR_THRESHOLD:
            self.removed["share-bar"] = None
            return True
        return False

    @staticmethod
    def _clean_matched(top: Node, pred: Callable[[Node, str], bool]) -> None:
        stack = [c for c in reversed(top.kids()) if c.tag != TEXT]
        while stack:
            n = stack.pop()
            if n.parent is None:
                continue
            if pred(n, n.cls + " " + n.id):
                n.remove()
                continue
            stack.extend(c for c in reversed(n.kids()) if c.tag != TEXT)

    def _mark_data_tables(self, tables: list[Node]) -> None:
        for table in tables:
            if self._is_data_table(table):
                self.data_tables.add(id(table))

    @staticmethod
    def _is_data_table(table: Node) -> bool:
        if table.get("role") == "presentation" or table.get("datatable") == "0":
            return False
        if table.get("summary"):
            return True
        desc = list(table.iter())
        cap = next((n for n in desc if n.tag == "caption"), None)
        if cap is not None and cap.kids():
            return True
        if any(n.tag in ("col", "colgroup", "tfoot", "thead", "th") for n in desc):
            return True
        if any(n.tag == "table" for n in desc):
            return False
        rows = cols = 0
        for tr in (n for n in desc if n.tag == "tr"):
            rows += _int_attr(tr.get("rowspan"))
            cols = max(cols, sum(_int_attr(c.get("colspan")) for c in tr.elements() if c.tag == "td"))
        if rows == 1 or cols == 1:
            return False
        if rows >= 10 or cols > 4:
            return True
        return rows * cols > 10

    def _in_data_table(self, node: Node) -> bool:
        a = node.parent
        while a is not None:
            if a.tag == "table" and id(a) in self.data_tables:
                return True
            a = a.parent
        return False

    def _clean_conditionally(self, nodes: list[Node], tag: str) -> None:
        """Remove the nodes (all of kind `tag`) that look like chrome; last first, as readability."""
        if not self.flags & FLAG_CLEAN_CONDITIONALLY:
            return
        for node in reversed(nodes):
            if node.parent is None:
                continue
            if self._should_remove(node, tag):
                if node.tlen:
                    self.removed["link-or-widget-block"] = None
                node.remove()

    def _should_remove(self, node: Node, tag: str) -> bool:
        n_text = node.tlen
        p = img = li = inputs = embeds = 0
        list_len = heading_len = textish_len = 0
        has_data_table = False
        for n in node.iter():
            t = n.tag
            if t == "p":
                p += 1
            elif t == "img":
                img += 1
            elif t == "li":
                li += 1
            elif t == "input":
                inputs += 1
            elif t in EMBEDS:
                embeds += 1
            elif t in ("ul", "ol"):
                list_len += n.tlen
            elif t == "table" and id(n) in self.data_tables:
                has_data_table = True
            if t in HEADINGS:
                heading_len += n.tlen
            if t in TEXTISH:
                textish_len += n.tlen
        is_list = tag in ("ul", "ol") or (n_text > 0 and list_len / n_text > 0.9)
        if tag == "table" and id(node) in self.data_tables:
            return False
        if has_data_table or self._in_data_table(node) or node.has_ancestor("code"):
            return False
        weight = self.class_weight(node)
        if weight < 0:
            return True
        if node.commas >= 10:
            return False
        if n_text < 40:
            text = node.inner_text()
            if AD_WORDS.search(text) or LOADING_WORDS.search(text):
                return True
        heading_density = heading_len / n_text if n_text else 0.0
        tdens = textish_len / n_text if n_text else 0.0
        ld = node.link_density
        in_figure = node.has_ancestor("figure")
        remove = (
            (not in_figure and img > 1 and p / img < 0.5)
            or (not is_list and li - 100 > p)
            or (inputs > math.floor(p / 3))
            or (
                not is_list
                and not in_figure
                and heading_density < 0.9
                and n_text < 25
                and (img == 0 or img > 2)
                and ld > 0
            )
            or (not is_list and weight < 25 and ld > 0.2)
            or (weight >= 25 and ld > 0.5)
            or (embeds == 1 and n_text < 75)
            or embeds > 1
            or (img == 0 and tdens == 0)
        )
        if is_list and remove:
            for child in node.elements():
                if len(child.elements()) > 1:
                    return remove
            if img == li:
                return False
        return remove


_PREP_TAGS = (
    "table",
    "form",
    "fieldset",
    "object",
    "embed",
    "footer",
    "link",
    "aside",
    "iframe",
    "input",
    "textarea",
    "select",
    "button",
    "ul",
    "div",
    "h1",
    "p",
    "br",
)


def _attached(node: Node, root: Node) -> bool:
    n: Node | None = node
    while n is not None:
        if n is root:
            return True
        n = n.parent
    return False


def _int_attr(v: str) -> int:
    try:
        return int(v) if v else 1
    except ValueError:
        return 1


def prep_document(body: Node, brs: list[Node] | None = None) -> None:
    """readability's _prepDocument: <br><br> chains become paragraphs (<font> became <span> in
    dom.build). `brs`: the <br> elements if the caller collected them, else they are looked up."""
    for br in brs if brs is not None else body.find_all(("br",)):
        parent = br.parent
        if parent is None:
            continue
        kids = parent.kids()
        i = kids.index(br)
        j = i + 1
        replaced = False
        while True:
            while j < len(kids) and kids[j].tag == TEXT and not kids[j].text.strip():
                j += 1
            if j < len(kids) and kids[j].tag == "br":
                replaced = True
                kids.pop(j).parent = None
                continue
            break
        if not replaced:
            continue
        p = Node("p", {}, parent)
        kids[i] = p
        br.parent = None
        k = i + 1
        while k < len(kids):
            nxt = kids[k]
            if nxt.tag == "br":
                m = k + 1
                while m < len(kids) and kids[m].tag == TEXT and not kids[m].text.strip():
                    m += 1
                if m < len(kids) and kids[m].tag == "br":
                    break
            if not is_phrasing(nxt):
                break
            kids.pop(k)
            nxt.parent = p
            p.children.append(nxt)
        while p.children and is_whitespace(p.children[-1]):
            p.children.pop().parent = None
        aggregate((p,))
        if parent.tag == "p":
            parent.tag = "div"
