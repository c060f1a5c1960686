"""sanitize_html: the allow-list keeps structure and drops everything active, whatever the input."""

import pytest

from transform.clean import clean_fragment, clean_page, sanitize_html

HOSTILE = [
    "<script>alert(1)</script><p>ok</p>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT><p>ok</p>",
    "<style>body{display:none}</style><p>ok</p>",
    '<iframe src="https://evil.example/"></iframe><p>ok</p>',
    '<form action="/steal"><input name="pw"><button>Go</button></form><p>ok</p>',
    '<p onclick="alert(1)" onmouseover="x()">ok</p>',
    '<img src=x onerror="alert(1)"><p>ok</p>',
    '<svg onload="alert(1)"><circle r="1"/></svg><p>ok</p>',
    '<a href="javascript:alert(1)">ok</a>',
    '<a href="JaVaScRiPt:alert(1)">ok</a>',
    '<a href="jav&#x09;ascript:alert(1)">ok</a>',
    '<a href="&#106;avascript:alert(1)">ok</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">ok</a>',
    '<a href="vbscript:msgbox(1)">ok</a>',
    '<object data="evil.swf"></object><embed src="evil.swf"><p>ok</p>',
    '<p style="background:url(javascript:alert(1))">ok</p>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">ok</p></noscript>',
    "<!--<script>alert(1)</script>--><p>ok</p>",
    '<p>ok<meta http-equiv="refresh" content="0;url=https://evil.example/"></p>',
    '<base href="https://evil.example/"><p>ok</p>',
    "<template><script>alert(1)</script></template><p>ok</p>",
    "<p>unclosed <b>bold <i>italic",
    '<a href="https://example.com/" target="_blank" rel="opener" id="x" class="y">ok</a>',
]
ACTIVE = (
    "<script",
    "<style",
    "<iframe",
    "<form",
    "<input",
    "<button",
    "<img",
    "<svg",
    "<object",
    "<embed",
    "<meta",
    "<base",
    "<template",
    "javascript:",
    "vbscript:",
    "data:",
    "onerror",
    "onclick",
    "onload",
    "onmouseover",
    "style=",
    "target=",
    "class=",
    "id=",
    "<!--",
)


@pytest.mark.parametrize("html", HOSTILE)
def test_hostile_input_is_defused(html: str) -> None:
    out = sanitize_html(html)
    low = out.lower()
    for bad in ACTIVE:
        assert bad not in low, (bad, out)


@pytest.mark.parametrize("html", HOSTILE)
def test_hostile_fragment_and_page_bodies_are_defused(html: str) -> None:
    for ct in (clean_fragment(html), clean_page(f"<html><body><article>{html}</article></body></html>")):
        low = ct.body_html.lower()
        for bad in ACTIVE:
            assert bad not in low, (bad, ct.body_html)
        assert "alert(" not in " ".join(ct.paragraphs)


def test_structure_is_kept() -> None:
    html = (
        "<h2>Sub</h2><h3>Three</h3><h4>Four</h4><p>A <em>b</em> <strong>c</strong> <b>d</b> <i>e</i><br>f</p>"
        "<ul><li>one</li></ul><ol><li>two</li></ol><blockquote><p>q</p></blockquote>"
        "<figure><figcaption>cap</figcaption></figure>"
    )
    assert sanitize_html(html) == html


def test_links_keep_only_safe_absolute_href() -> None:
    out = sanitize_html(
        '<a href="https://a.example/x?y=1&amp;z=2" title="t">s</a> <a href="http://b.example/">h</a> '
        '<a href="mailto:desk@example.com">m</a> <a href="/relative">r</a> <a href="//proto.example/">p</a> '
        '<a href="ftp://c.example/">f</a>'
    )
    assert '<a href="https://a.example/x?y=1&amp;z=2">s</a>' in out
    assert '<a href="http://b.example/">h</a>' in out
    assert '<a href="mailto:desk@example.com">m</a>' in out
    for gone in ("/relative", "proto.example", "ftp:", "title="):
        assert gone not in out
    assert ">r</a>" in out  # the text of a dropped link stays


def test_unknown_and_layout_tags_are_unwrapped_keeping_text() -> None:
    assert sanitize_html("<div><span>kept</span> <font color=red>text</font></div>") == "kept text"
    assert sanitize_html("<table><tr><td>cell</td></tr></table>") == "cell"
    assert sanitize_html("<h1>Title</h1>") == "Title"


def test_dropped_with_content() -> None:
    out = sanitize_html("<p>a</p><script>var secret=1</script><style>.x{}</style><form>login</form><p>b</p>")
    assert out == "<p>a</p><p>b</p>"


@pytest.mark.parametrize("junk", ["", "   ", "plain text & < >", "<<<>>>", "</p></div>", "\x00\x01\x02"])
def test_never_raises(junk: str) -> None:
    assert isinstance(sanitize_html(junk), str)


def test_text_is_escaped() -> None:
    assert sanitize_html("a < b & c > d") == "a &lt; b &amp; c &gt; d"


def test_body_html_links_resolved_against_page_url() -> None:
    ct = clean_page(
        "<html><body><article><p>Read the <a href='/report.pdf'>full report</a> and the "
        "<a href='javascript:void(0)'>other thing</a>, published by the ministry on Monday, "
        "which runs to forty pages and more, as officials said at length to reporters.</p>"
        "</article></body></html>",
        url="https://news.example/world/story.html",
    )
    assert '<a href="https://news.example/report.pdf">full report</a>' in ct.body_html
    assert "javascript" not in ct.body_html
    assert "other thing" in ct.body_html
