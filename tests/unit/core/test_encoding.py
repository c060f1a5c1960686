"""The one HTML decoder: bytes of a page to text, the way a browser reads them."""

from __future__ import annotations

import codecs
import json
import re
from pathlib import Path

import pytest

from app import cli
from wiredesk.encoding import decode_html

# Curly quotes, the euro sign, en and em dashes, an ellipsis, a trade mark: all bytes 0x80-0x9f in
# windows-1252, and C1 control characters if those bytes are read as ISO-8859-1.
CP1252_TEXT = "“Prices rose by €5 – or 4 % — this year,” he said… ‘Café’ and Brand™ stay."
C1 = re.compile("[\u0080-\u009f]")


def page(text: str, *, meta: str = "") -> str:
    head = f"<meta charset='{meta}'>" if meta else ""
    return f"<html><head>{head}<title>t</title></head><body><p>{text}</p></body></html>"


@pytest.mark.parametrize(
    "label", ["iso-8859-1", "ISO_8859-1", "latin1", "l1", "us-ascii", "ascii", "windows-1252"]
)
def test_labels_a_browser_reads_as_windows_1252_decode_0x80_to_0x9f_as_text(label: str) -> None:
    data = page(CP1252_TEXT, meta=label).encode("cp1252")
    text = decode_html(data)
    assert CP1252_TEXT in text
    assert not C1.search(text)


@pytest.mark.parametrize("label", ["iso-8859-1", "latin1", "ascii"])
def test_a_content_type_header_declaring_latin1_is_read_as_windows_1252(label: str) -> None:
    data = page(CP1252_TEXT).encode("cp1252")
    text = decode_html(data, f"text/html; charset={label}")
    assert CP1252_TEXT in text
    assert not C1.search(text)


def test_old_style_meta_http_equiv_declaration() -> None:
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
        f"</head><body><p>{CP1252_TEXT}</p></body></html>"
    )
    assert CP1252_TEXT in decode_html(html.encode("cp1252"))


def test_the_http_header_outranks_the_meta_tag() -> None:
    text = "Жители города вышли на улицы."
    data = page(text, meta="windows-1252").encode("koi8-r")
    assert text in decode_html(data, "text/html; charset=KOI8-R")


def test_valid_multibyte_utf8_under_a_legacy_declaration_is_utf8() -> None:
    # A common CMS mistake: UTF-8 bytes served as iso-8859-1; read as declared they are mojibake.
    data = page(CP1252_TEXT, meta="iso-8859-1").encode("utf-8")
    assert CP1252_TEXT in decode_html(data)
    assert CP1252_TEXT in decode_html(page(CP1252_TEXT).encode("utf-8"), "text/html; charset=iso-8859-1")


def test_cp1252_bytes_declared_utf8_are_read_as_cp1252() -> None:
    data = page(CP1252_TEXT, meta="utf-8").encode("cp1252")
    assert CP1252_TEXT in decode_html(data)


def test_utf8_with_a_few_corrupt_bytes_stays_utf8() -> None:
    text = "Die Bürger müssen sich auf höhere Preise für Energie einstellen, sagte er. " * 4
    data = page(text, meta="utf-8").encode("utf-8") + b"\xff tail"
    decoded = decode_html(data)
    assert text in decoded
    assert "\ufffd" in decoded


def test_undeclared_bytes_are_utf8_else_windows_1252() -> None:
    assert CP1252_TEXT in decode_html(page(CP1252_TEXT).encode("utf-8"))
    assert CP1252_TEXT in decode_html(page(CP1252_TEXT).encode("cp1252"))


def test_other_declared_legacy_charsets_are_honoured() -> None:
    text = "Żółta łódź płynie po zalewie."
    assert text in decode_html(page(text, meta="iso-8859-2").encode("iso-8859-2"))


def test_xml_declaration() -> None:
    data = f"<?xml version='1.0' encoding='ISO-8859-1'?><html><body><p>{CP1252_TEXT}</p></body></html>"
    assert CP1252_TEXT in decode_html(data.encode("cp1252"))


@pytest.mark.parametrize(
    ("bom", "codec"),
    [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")],
)
def test_a_byte_order_mark_outranks_every_declaration(bom: bytes, codec: str) -> None:
    text = page(CP1252_TEXT, meta="iso-8859-1")
    decoded = decode_html(bom + text.encode(codec), "text/html; charset=iso-8859-1")
    assert decoded == text


def test_unknown_labels_fall_back_to_the_bytes() -> None:
    assert CP1252_TEXT in decode_html(page(CP1252_TEXT, meta="x-no-such-charset").encode("utf-8"))
    assert CP1252_TEXT in decode_html(page(CP1252_TEXT).encode("utf-8"), "text/html; charset=bogus")


def test_bytes_undefined_in_windows_1252_do_not_become_controls() -> None:
    # 0x81, 0x8d, 0x8f, 0x90 and 0x9d have no character in windows-1252.
    data = b"<html><body><p>a\x81b\x8dc\x8fd\x90e\x9df \x80</p></body></html>"
    text = decode_html(data, "text/html; charset=iso-8859-1")
    assert not C1.search(text)
    assert "€" in text


def test_text_is_returned_unchanged() -> None:
    assert decode_html(CP1252_TEXT) == CP1252_TEXT


def article_page(meta: str) -> str:
    paragraphs = "".join(
        f"<p>{CP1252_TEXT} Paragraph {n} of the story goes on with more words about prices.</p>"
        for n in range(6)
    )
    return (
        f"<html><head>{meta}<title>Prices rise – again</title></head>"
        f"<body><article><h1>Prices rise – again</h1>{paragraphs}</article></body></html>"
    )


def test_wiredesk_clean_reads_a_cp1252_page_declaring_iso_8859_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "page.html"
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
    path.write_bytes(article_page(meta).encode("cp1252"))
    assert cli.main(["clean", "--as", "html", str(path)]) == 0
    article = json.loads(capsys.readouterr().out)
    assert CP1252_TEXT in article["body_text"]
    assert article["headline"] == "Prices rise – again"
    assert not C1.search(json.dumps(article, ensure_ascii=False))
