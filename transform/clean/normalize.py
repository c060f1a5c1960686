"""Text normalisation: decoding, NFC, mojibake repair, whitespace.

The text itself is never rewritten: no quote uncurling, no ligature or width folding. Only
whitespace is collapsed, invisible zero-width characters are dropped, the text is put in NFC,
and mojibake (UTF-8 read as cp1252/latin-1) is repaired by ftfy, which is imported and called
only when a cheap regex sees the tell-tale byte pairs (ftfy costs ~60 ms to import and far more
per call than the regex; on clean text it never runs).
"""

from __future__ import annotations

import codecs
import functools
import re
import unicodedata
from typing import Any

_WS = re.compile(r"\s+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
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


# --- decoding -----------------------------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)
# WHATWG: these labels mean windows-1252 in a browser
_AS_CP1252 = {
    "iso-8859-1",
    "iso8859-1",
    "latin-1",
    "latin1",
    "l1",
    "us-ascii",
    "ascii",
    "cp819",
    "iso_8859-1",
    "windows-1252",
    "cp1252",
    "x-cp1252",
}


def _codec(label: str) -> str | None:
    label = label.strip().lower()
    if label in _AS_CP1252:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_html(data: bytes | str) -> str:
    """Bytes to str the way a browser would, leaning towards UTF-8 when the bytes are valid UTF-8.

    Order: BOM; a <meta charset> / XML declaration in the first 4 KB; valid UTF-8; cp1252.
    A page declaring a single-byte charset whose bytes are nevertheless valid multi-byte UTF-8 is
    read as UTF-8 (a common CMS mistake; the reverse case ends up as cp1252 mojibake-free text).
    """
    if isinstance(data, str):
        return data
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", "replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", "replace")
    head = data[:4096]
    m = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    declared = _codec(m.group(1).decode("ascii", "ignore")) if m else None
    if declared in (None, "utf-8", "cp1252"):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return _utf8_or_cp1252(data) if declared != "cp1252" else data.decode("cp1252", "replace")
    # a declared legacy charset, but the bytes are valid multi-byte UTF-8: they are UTF-8
    if not data.isascii():
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode(declared, "replace")
    except (LookupError, TypeError):
        return data.decode("utf-8", "replace")


def _utf8_or_cp1252(data: bytes) -> str:
    """Declared UTF-8 but not valid: more good multi-byte characters than bad bytes means a few
    corrupt bytes in UTF-8 text; otherwise the text is really cp1252."""
    text = data.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    good = len(_NON_ASCII.findall(text)) - bad
    if good > bad:
        return text
    return data.decode("cp1252", "replace")
