"""Cleaning: main-text extraction, agency boilerplate, sanitising. Pure functions, no I/O.

    clean_page(html: str | bytes, url: str = "") -> CleanText   a full article page
    clean_fragment(html: str, url: str = "") -> CleanText      feed item content (content:encoded)
    clean_plain_text(text: str) -> CleanText                   a page's text or a text/plain body
    sanitize_html(html: str) -> str                            nh3 allow-list

CleanText.paragraphs is the story body in order, without headline, byline, summary, tags or
credit lines; those are returned as facts (headline, byline_text, dateline_text, credit_lines,
auto_published, tags) with `removed` naming what was taken out, and `meta` (PageMeta) holding what
<head> says (title, og:*, canonical, dates and authors as found, keywords, language, site name).
body_html is sanitised HTML of the same blocks. `url` (optional) resolves relative links.

Choices a wire editor should know: photo captions and credits, author boxes, "Related"/"Also read"
lists, share bars and newsletter/app/cookie prompts are never body text; a paragraph repeated in a
different form (a summary <h2> and the first <p>; the lede twice in a page's text) is kept once,
while identical paragraphs further down are left alone; tags are returned raw, as the page has
them (one string per tag link, or the run-together "Tags:" line of a page's text) for the tag
cleaner to split; dates are returned as found, for the date parser. When a page's DOM carries
(almost) none of the story but its JSON-LD has an articleBody, that is used instead.

Measured here (one core; ../shared/tools/eval_extraction.py and bench/bench_extract.py): F1 0.987
on scrapinghub-dev and 0.984 on the Readability cases (trafilatura 0.952 / 0.928), ~130 / ~100
pages/s in-process (trafilatura ~43); clean_fragment ~5,800 real feed items/s. ftfy runs only on
text the mojibake regex flags (1 us a paragraph; ftfy itself ~32 us a paragraph, 34 ms to import).

Modules, one concern each:
    normalize   NFC, mojibake repair (ftfy, only when detected), whitespace; bytes are decoded
                by wiredesk.encoding, the one HTML decoder
    dom         a small mutable tree copied once from lexbor's HTML5 parse (selectolax)
    readable    main-content selection: Mozilla Readability's algorithm on that tree
    blocks      content subtree -> paragraphs with inline HTML
    boilerplate agency credits, syndication disclaimers, bylines, tags, chrome, repeats
    page_meta   <head> and JSON-LD metadata
    sanitize    the nh3 allow-list
    extract     clean_page / clean_fragment;  plaintext: clean_plain_text
    model       CleanText and the assembly of a result (NFC, sanitised body_html)
"""

from .extract import clean_fragment, clean_page
from .model import CleanText
from .page_meta import PageMeta
from .plaintext import clean_plain_text
from .sanitize import sanitize_html

__all__ = ["CleanText", "PageMeta", "clean_fragment", "clean_page", "clean_plain_text", "sanitize_html"]
