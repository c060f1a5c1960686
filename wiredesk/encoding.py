"""Bytes of a web page to text, the way a browser reads them, leaning to UTF-8 when the bytes are.

The one HTML decoder: transform's page fetches, the cleaner, `wiredesk clean` and the benchmarks
all use it. Order:

1. a byte order mark (UTF-8, UTF-16 LE/BE) decides, whatever is declared;
2. the declared charset: the HTTP `Content-Type` header's, else a `<meta charset>`, a
   `<meta http-equiv>` or an XML declaration in the first 4 KB. Labels mean what the WHATWG
   Encoding Standard (what browsers follow) says, not what Python's codec of that name does:
   ISO-8859-1, Latin-1 and ASCII mean windows-1252, so bytes 0x80-0x9f of such a page are curly
   quotes, dashes and the euro sign, never C1 control characters; a `<meta>` saying UTF-16 means
   UTF-8 (the page could not have been read to find it otherwise);
3. bytes that are valid multi-byte UTF-8 are UTF-8, even under a legacy declaration (a common CMS
   mistake; legacy text that happens to be valid UTF-8 is vanishingly rare);
4. declared or undeclared UTF-8 that does not decode: a few corrupt bytes in UTF-8 text stay UTF-8
   (replaced); otherwise the text is windows-1252;
5. any other declared charset decodes as declared.

Nothing raises: undecodable bytes become U+FFFD, including windows-1252's five unassigned bytes
(which browsers map to C1 controls; those are never text).
"""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_PRESCAN_BYTES = 4096

# WHATWG labels whose decoder differs from Python's codec of the same name, by Python codec.
_WHATWG_LABELS: dict[str, str] = {
    "cp1252": "ansi_x3.4-1968 ascii cp1252 cp819 csisolatin1 ibm819 iso-8859-1 iso-ir-100 iso8859-1"
    " iso88591 iso_8859-1 iso_8859-1:1987 l1 latin1 latin-1 us-ascii windows-1252 x-cp1252",
    "cp1254": "cp1254 csisolatin5 iso-8859-9 iso-ir-148 iso8859-9 iso88599 iso_8859-9 iso_8859-9:1989"
    " l5 latin5 windows-1254 x-cp1254",
    "cp874": "dos-874 iso-8859-11 iso8859-11 iso885911 tis-620 windows-874",
    "gb18030": "chinese csgb2312 csiso58gb231280 gb2312 gb_2312 gb_2312-80 gbk iso-ir-58 x-gbk gb18030",
    "cp949": "cseuckr csksc56011987 euc-kr iso-ir-149 korean ks_c_5601-1987 ks_c_5601-1989 ksc5601"
    " ksc_5601 windows-949",
    "cp932": "csshiftjis ms932 ms_kanji shift-jis shift_jis sjis windows-31j x-sjis",
    "big5hkscs": "big5 big5-hkscs cn-big5 csbig5 x-x-big5",
    "iso8859-8": "iso-8859-8-i csiso88598i logical",
}
_CODEC_OF_LABEL = {label: codec for codec, labels in _WHATWG_LABELS.items() for label in labels.split()}


def _codec(label: str) -> str | None:
    """The Python codec a browser's decoder for `label` corresponds to; None if unknown."""
    label = label.strip().lower()
    if label in _CODEC_OF_LABEL:
        return _CODEC_OF_LABEL[label]
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def declared_codec(data: bytes, content_type: str = "") -> str | None:
    """The codec the page declares: the HTTP header's charset, else the document's own; or None."""
    match = _HEADER_CHARSET.search(content_type or "")
    if match:
        codec = _codec(match.group(1))
        if codec is not None:
            return codec
    head = data[:_PRESCAN_BYTES]
    found = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    if not found:
        return None
    codec = _codec(found.group(1).decode("ascii", "ignore"))
    # A document that could be scanned as ASCII-compatible bytes is not UTF-16 (WHATWG prescan).
    return "utf-8" if codec is not None and codec.startswith("utf-16") else codec


def decode_html(data: bytes | str, content_type: str = "") -> str:
    """Bytes of an HTML (or XML) page as text; see the module doc for the order of evidence."""
    if isinstance(data, str):
        return data
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", "replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", "replace")
    declared = declared_codec(data, content_type)
    if declared is None or declared in ("utf-8", "cp1252"):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            if declared == "cp1252":
                return data.decode("cp1252", "replace")
            return _utf8_or_cp1252(data)
    if not data.isascii():
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return data.decode(declared, "replace")


def _utf8_or_cp1252(data: bytes) -> str:
    """UTF-8 that does not decode: more good multi-byte characters than bad bytes means a few
    corrupt bytes in UTF-8 text; otherwise the text is really windows-1252."""
    text = data.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    good = len(_NON_ASCII.findall(text)) - bad
    if good > bad:
        return text
    return data.decode("cp1252", "replace")


__all__ = ["declared_codec", "decode_html"]
