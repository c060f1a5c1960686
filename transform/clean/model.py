"""The result of cleaning: CleanText (and PageMeta, re-exported from page_meta)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .blocks import Block, blocks_to_html
from .boilerplate import Findings
from .normalize import collapse, nfc
from .page_meta import PageMeta
from .sanitize import sanitize_html

__all__ = ["CleanText", "PageMeta", "finish"]


@dataclass(frozen=True, slots=True)
class CleanText:
    paragraphs: tuple[str, ...]
    """The story body, clean, in order; headline, byline, summary, tags and credit lines excluded."""
    body_html: str
    """Sanitised HTML of the kept blocks: p, h2-h4, ul/ol/li, blockquote, a[href], em/strong/b/i."""
    headline: str = ""
    byline_text: str = ""
    dateline_text: str = ""
    credit_lines: tuple[str, ...] = ()
    auto_published: bool = False
    tags: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    meta: PageMeta = field(default_factory=PageMeta)

    @property
    def text(self) -> str:
        """The body as plain text, paragraphs separated by a blank line."""
        return "\n\n".join(self.paragraphs)


def finish(blocks: list[Block], f: Findings, *, headline: str, meta: PageMeta, byline: str = "") -> CleanText:
    """Assemble the result from the kept blocks and the findings (NFC, sanitised body HTML)."""
    paragraphs = []
    for blk in blocks:
        paragraphs.append(nfc(blk.text))
        if not blk.html.isascii():
            blk.html = nfc(blk.html)
    body_html = sanitize_html(blocks_to_html(blocks)) if blocks else ""
    return CleanText(
        paragraphs=tuple(paragraphs),
        body_html=body_html,
        headline=nfc(headline),
        byline_text=nfc(collapse(byline or f.byline)),
        dateline_text=nfc(f.dateline),
        credit_lines=tuple(nfc(c) for c in f.credits),
        auto_published=f.auto_published,
        tags=tuple(dict.fromkeys(nfc(t) for t in f.tags)),
        removed=tuple(f.removed),
        meta=meta,
    )
