"""Text normalisation: NFC, mojibake repair, whitespace (bytes are decoded by wiredesk.encoding).

The text itself is never rewritten: no quote uncurling, no ligature or width folding. Only
whitespace is collapsed, invisible zero-width characters are dropped, the text is put in NFC,
and mojibake (UTF-8 read as cp1252/latin-1) is repaired by ftfy, which is imported and called
only when a cheap regex sees the tell-tale byte pairs (ftfy costs ~60 ms to import and far more
per call than the regex; on clean text it never runs).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

_WS = re.compile(r"\s+")
# zero-width space, BOM/zero-width no-break space, soft hyphen, word joiner: invisible, break tokens
_INVISIBLE = re.compile("[\u200b\ufeff\u00ad\u2060]")
# A UTF-8 lead byte (C2-F4) read as cp1252/latin-1, followed by a continuation byte (80-BF) read the
# same way: the signature of mojibake. Continuation bytes 80-9F show as cp1252 punctuation/letters
# or as C1 controls (latin-1), A0-BF as NBSP..¿.
_MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)


def has_mojibake(text: str) -> bool:
    return _MOJIBAKE.search(text) is not None


def fix_mojibake(text: str) -> str:
    """Repair UTF-8-as-cp1252 mojibake when ftfy is confident; otherwise return text unchanged."""
    if not has_mojibake(text):
        return text
    fixed: str = _ftfy().fix_encoding(text)
    return fixed


@functools.cache
def _ftfy() -> Any:
    import ftfy  # noqa: PLC0415 - ~60 ms to import, needed only for mojibake

    return ftfy


def nfc(text: str) -> str:
    if text.isascii() or unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


def collapse(text: str) -> str:
    """Collapse every whitespace run (including NBSP and line breaks) to one space and strip."""
    if "\u200b" in text or "\ufeff" in text or "\u00ad" in text or "\u2060" in text:
        text = _INVISIBLE.sub("", text)
    return _WS.sub(" ", text).strip()


def clean_text(text: str) -> str:
    """collapse + mojibake repair + NFC: what every output string goes through."""
    return nfc(fix_mojibake(collapse(text)))
