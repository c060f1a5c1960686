"""clean_plain_text: a page's text (as a browser's "save as text" gives it) or a text/plain feed
body, in clean paragraphs.

Paragraphs are separated by blank lines; a text whose paragraphs are hard-wrapped (every inner
line 40-100 characters) has its lines joined, otherwise each line is a block of its own (a page's
text puts one block per line). Before the headline and after the last prose paragraph, short lines
that are not sentences ("City", "Epaper") are site chrome and dropped; anywhere, the chrome
vocabulary ("Open in App", "Advertisement") is. The headline is the sentence-like line just before
the byline ("By X | Updated: ..."), or a title-like first line. Everything from a "Related
Stories"-like line on is dropped. Then the same agency rules as for HTML apply.
"""

from __future__ import annotations

import html as _html
import re

from wiredesk.encoding import decode_html

from . import boilerplate as bp
from .blocks import Block
from .model import CleanText, finish
from .normalize import collapse, fix_mojibake
from .page_meta import PageMeta

_END_PUNCT = re.compile(r"[.!?…:;\"'”’)\]]$")
_TITLE_END = re.compile(r"[.,;:]$")


def _is_sentence(text: str) -> bool:
    return bool(_END_PUNCT.search(text)) or len(text) > 100


def _is_short_non_sentence(text: str) -> bool:
    return len(text) < 60 and len(text.split()) <= 6 and not _is_sentence(text)


def _hard_wrapped(groups: list[list[str]]) -> bool:
    inner = [line for g in groups if len(g) > 1 for line in g[:-1]]
    if len(inner) < 3:
        return False
    longest = max(len(line) for g in groups for line in g)
    wrapped = sum(1 for line in inner if 40 <= len(line) <= 100)
    return longest <= 110 and wrapped >= 0.8 * len(inner)


def _looks_like_title(text: str) -> bool:
    n = len(text.split())
    return 3 <= n <= 40 and len(text) < 300 and not _TITLE_END.search(text)


def clean_plain_text(text: str | bytes) -> CleanText:
    if isinstance(text, bytes):
        text = decode_html(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    groups: list[list[str]] = []
    cur: list[str] = []
    for raw_line in text.split("\n"):
        line = collapse(raw_line)
        if line:
            cur.append(line)
        elif cur:
            groups.append(cur)
            cur = []
    if cur:
        groups.append(cur)
    wrapped = _hard_wrapped(groups)
    units = [" ".join(g) for g in groups] if wrapped else [line for g in groups for line in g]
    units = [fix_mojibake(u) for u in units]
    f = bp.Findings()

    # the headline and byline, near the top
    headline = ""
    start = 0
    for i, u in enumerate(units[:12]):
        if bp.match_byline(u):
            f.byline = u
            f.drop("byline")
            for j in range(i - 1, -1, -1):
                if _looks_like_title(units[j]) and not bp.is_chrome(units[j]):
                    headline = units[j]
                    break
            start = i + 1
            if start - 1 > 0:
                f.drop("chrome")
            break
    if not headline:
        # no byline: a title-like first line (after short chrome lines) followed by prose
        i = 0
        while (
            i < len(units)
            and i < 8
            and (_is_short_non_sentence(units[i]) or bp.is_chrome(units[i]))
            and not _looks_like_title(units[i])
        ):
            i += 1
        if i < len(units) - 1 and _looks_like_title(units[i]) and len(units[i + 1]) > len(units[i]):
            headline = units[i]
            start = i + 1
            if i:
                f.drop("chrome")
    body_units = units[start:]

    # tail chrome: short non-sentences after the last prose paragraph
    last_prose = max((i for i, u in enumerate(body_units) if len(u) > 100 or _is_sentence(u)), default=-1)
    blocks: list[Block] = []
    for i, u in enumerate(body_units):
        if i > last_prose and _is_short_non_sentence(u) and not bp.split_tags_line(u):
            f.drop("chrome")
            continue
        blocks.append(Block("p", u, _html.escape(u, quote=False)))
    blocks = bp.apply_rules(blocks, f, headline=headline, mode="text")
    return finish(blocks, f, headline=headline, meta=PageMeta())
