"""Bytes of a web page to text: the declared charset if it decodes, else UTF-8, else cp1252.

Pages lie about their encoding often enough (a UTF-8 meta tag over cp1252 bytes) that the
declaration is tried first but never trusted blindly; cp1252 decodes any byte string, so the last
fallback never fails and never loses the rest of the page.
"""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def declared_charset(data: bytes, content_type: str = "") -> str:
    match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", content_type or "", re.I)
    if match:
        return match.group(1).lower()
    meta = _META_CHARSET.search(data[:4096])
    return meta.group(1).decode("ascii", "ignore").lower() if meta else ""


def decode_html(data: bytes, content_type: str = "") -> str:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data.decode(codec, "replace")
    candidates = [declared_charset(data, content_type), "utf-8", "cp1252"]
    for charset in candidates:
        if not charset:
            continue
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", "replace")
