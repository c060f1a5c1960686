"""clean_page on small generic pages: chrome around and inside the article, repeats, encodings,
junk and very large input."""

import json
import time

import pytest

from transform.clean import clean_page

LEDE = (
    "The central bank raised its main interest rate by half a percentage point on Thursday, "
    "the largest increase in two decades, as inflation stayed well above its target."
)
P2 = (
    "Policymakers voted seven to two for the move, minutes of the meeting showed, with the two "
    "dissenters arguing for a smaller step given the slowing economy and weak consumer demand."
)
P3 = (
    "Markets had largely priced in the decision, and the currency was little changed after the "
    "announcement, while government bond yields edged higher across most maturities."
)
P4 = (
    "The bank said it expected inflation to peak later this year before easing gradually, "
    "though it warned that energy prices remained a significant risk to that outlook."
)
BODY = [LEDE, P2, P3, P4]


def page(article: str, *, head: str = "", outside: str = "") -> str:
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Rates rise | The Daily</title>{head}"
        "</head><body><header class='site-header'><nav><a href='/'>Home</a><a href='/world'>World</a>"
        "<a href='/business'>Business</a></nav></header>"
        f"<main>{article}</main>{outside}"
        "<footer class='site-footer'><p>© 2024 The Daily. All rights reserved.</p>"
        "<a href='/privacy'>Privacy</a></footer></body></html>"
    )


def paras(*texts: str) -> str:
    return "".join(f"<p>{t}</p>" for t in texts)


def test_plain_article_is_extracted_in_order() -> None:
    ct = clean_page(page(f"<article><h1>Rates rise</h1>{paras(*BODY)}</article>"))
    assert list(ct.paragraphs) == BODY
    assert ct.headline == "Rates rise"


def test_site_chrome_outside_the_article_is_dropped() -> None:
    outside = (
        "<aside class='sidebar'><h3>Most read</h3><ul><li><a href='/a'>Other story one</a></li>"
        "<li><a href='/b'>Other story two</a></li></ul></aside>"
        "<div class='newsletter-signup'><p>Sign up for our morning newsletter and get the news first.</p>"
        "<form><input type='email'><button>Subscribe</button></form></div>"
        "<div id='cookie-banner' class='gdpr'><p>We use cookies to improve your experience.</p></div>"
    )
    ct = clean_page(page(f"<article>{paras(*BODY)}</article>", outside=outside))
    assert list(ct.paragraphs) == BODY


def test_chrome_nested_inside_the_article_is_dropped() -> None:
    article = (
        "<article class='story'><h1>Rates rise</h1>"
        "<div class='byline'>By Jane Doe | Updated: March 3, 2024 10:15 GMT</div>"
        "<div class='share-tools'><a href='#'>Facebook</a><a href='#'>Twitter</a><a href='#'>Email</a></div>"
        "<div class='app-banner'><a href='/app'>Open in App</a></div>"
        f"<div class='story-body'>{paras(LEDE, P2)}"
        "<div class='related-links'><h4>Also read</h4><ul><li><a href='/x'>Bank chief warns on prices</a>"
        "</li><li><a href='/y'>What a rate rise means for you</a></li></ul></div>"
        f"{paras(P3, P4)}<p>Advertisement</p></div>"
        "<div class='tags'><span>Tags:</span><a href='/t/rates'>Rates</a><a href='/t/banks'>Banks</a></div>"
        "</article>"
    )
    ct = clean_page(page(article))
    assert list(ct.paragraphs) == BODY
    assert ct.byline_text == "By Jane Doe | Updated: March 3, 2024 10:15 GMT"
    assert ct.tags == ("Rates", "Banks")


def _link_list(*titles: str) -> str:
    return "<ul>" + "".join(f"<li><a href='/s/{i}'>{t}</a></li>" for i, t in enumerate(titles)) + "</ul>"


@pytest.mark.parametrize(
    "heading", ["International Realted Stories", "Elsewhere in World", "From our partners", "Sport"]
)
def test_a_heading_over_a_list_of_links_after_the_story_is_dropped_whatever_its_wording(heading: str) -> None:
    # The shape, not the words: a short heading followed by nothing but links, once the story has
    # been told, introduces other stories (misspelt, in another section's name, or unnamed).
    article = (
        f"<article><h1>Rates rise</h1>{paras(*BODY)}<h3>Related Stories</h3>"
        f"{_link_list('Bank chief warns on prices', 'What a rate rise means for you')}"
        f"<h3>{heading}</h3>"
        f"{_link_list('Storm closes the port for a second day', 'Minister resigns over the budget leak')}"
        "</article>"
    )
    ct = clean_page(page(article))
    assert list(ct.paragraphs) == BODY
    assert "related-list" in ct.removed


def test_a_heading_over_a_list_of_links_alone_is_dropped() -> None:
    article = (
        f"<article>{paras(*BODY)}<h4>Opinion</h4>"
        f"{_link_list('Storm closes the port for a second day', 'Minister resigns over the budget leak')}"
        "</article>"
    )
    assert list(clean_page(page(article)).paragraphs) == BODY


def test_a_heading_over_prose_one_link_urls_or_short_entries_is_kept() -> None:
    sources = _link_list("https://example.org/monetary-policy-report", "https://example.org/minutes")
    article = (
        f"<article>{paras(LEDE, P2)}<h2>What happens next</h2>"
        "<p>The <a href='/r'>full statement</a> is due on Friday, when the governor will explain the "
        "decision to members of parliament and take questions from the committee.</p>"
        f"<h2>Read the report</h2>{_link_list('The monetary policy report, February')}{paras(P3, P4)}"
        f"<h2>Sources</h2>{sources}<h2>Tools</h2>{_link_list('Rate calculator', 'Mortgage guide')}</article>"
    )
    ct = clean_page(page(article))
    for kept in (
        "What happens next",
        "Read the report",
        "The monetary policy report, February",
        "Sources",
        "https://example.org/minutes",
        "Tools",
        "Mortgage guide",
    ):
        assert kept in ct.paragraphs


def test_summary_heading_repeating_the_lede_is_kept_once() -> None:
    article = (
        f"<article><h1>Rates rise</h1><div class='story-body'><h2 class='standfirst'>{LEDE}</h2>"
        f"{paras(*BODY)}</div></article>"
    )
    ct = clean_page(page(article))
    assert list(ct.paragraphs) == BODY
    assert "repeated-paragraph" in ct.removed
    assert "<h2>" not in ct.body_html


def test_lede_repeated_in_another_container_is_kept_once() -> None:
    article = (
        f"<article><div class='summary'><p>{LEDE}</p></div>"
        f"<div class='content'>{paras(*BODY)}</div></article>"
    )
    assert list(clean_page(page(article)).paragraphs) == BODY


def test_identical_sibling_paragraphs_further_down_are_left_alone() -> None:
    refrain = "We shall not give up, the union leader told the crowd again and again, to loud cheers."
    article = f"<article>{paras(LEDE, P2, P3, refrain, P4, refrain)}</article>"
    assert clean_page(page(article)).paragraphs.count(refrain) == 2


def test_agency_boilerplate_becomes_facts() -> None:
    article = (
        f"<article>{paras(*BODY)}"
        "<p>(Reporting by Jane Doe in London; Additional reporting by Max Roe in Berlin; "
        "Editing by Sam Poe)</p>"
        "<p>(This story has not been edited by Daily staff and is auto-generated from a syndicated feed.)</p>"
        "</article>"
    )
    ct = clean_page(page(article))
    assert list(ct.paragraphs) == BODY
    assert ct.credit_lines == (
        "(Reporting by Jane Doe in London; Additional reporting by Max Roe in Berlin; Editing by Sam Poe)",
    )
    assert ct.auto_published is True


def test_wordpress_appeared_first_on_is_removed() -> None:
    article = (
        f"<article>{paras(*BODY)}<p>The post <a href='https://x.example/p'>Rates rise</a> appeared first on "
        "<a href='https://x.example'>The Daily</a>.</p></article>"
    )
    ct = clean_page(page(article))
    assert list(ct.paragraphs) == BODY
    assert "appeared-first-on" in ct.removed


def test_dateline_is_reported_and_kept_in_the_text() -> None:
    lede = "LONDON (Reuters) - " + LEDE
    ct = clean_page(page(f"<article>{paras(lede, P2, P3, P4)}</article>"))
    assert ct.paragraphs[0] == lede
    assert ct.dateline_text == "LONDON (Reuters)"


def test_subheadings_lists_and_quotes_are_kept() -> None:
    article = (
        f"<article>{paras(LEDE, P2)}<h2>What happens next</h2>"
        "<ul><li>Mortgage rates are expected to rise within weeks.</li>"
        "<li>Savers should see better returns on deposits.</li></ul>"
        "<blockquote><p>We will do whatever it takes to bring inflation down, the governor said.</p>"
        "</blockquote>"
        f"{paras(P3, P4)}</article>"
    )
    ct = clean_page(page(article))
    assert "What happens next" in ct.paragraphs
    assert "Savers should see better returns on deposits." in ct.paragraphs
    assert "<h2>What happens next</h2>" in ct.body_html
    assert "<ul><li>Mortgage rates" in ct.body_html
    assert "<blockquote><p>We will do" in ct.body_html


def test_photo_captions_are_not_body_text() -> None:
    article = (
        "<article><figure><img src='/a.jpg'><figcaption>The governor speaks in London. Photo: Jane Doe/Agency"
        f"</figcaption></figure>{paras(*BODY)}</article>"
    )
    ct = clean_page(page(article))
    assert list(ct.paragraphs) == BODY
    assert "caption" in ct.removed


def test_embedded_social_post_is_kept() -> None:
    tweet = "Rates are up again, and my mortgage with them. Great start to the week."
    article = (
        f"<article>{paras(LEDE, P2)}<div class='social-media-embed'><blockquote class='twitter-tweet'>"
        f"<p>{tweet}</p>— A Reader (@reader) <a href='https://twitter.com/reader/status/1'>March 3, 2024</a>"
        f"</blockquote></div>{paras(P3, P4)}</article>"
    )
    assert tweet in clean_page(page(article)).paragraphs


def test_br_separated_text_becomes_paragraphs() -> None:
    article = f"<div class='post-body'>{LEDE}<br><br>{P2}<br><br>{P3}<br/><br/>{P4}</div>"
    assert list(clean_page(page(article)).paragraphs) == BODY


def test_json_ld_and_meta_are_read() -> None:
    head = (
        '<link rel="canonical" href="https://daily.example/business/rates-rise">'
        '<meta property="og:site_name" content="The Daily">'
        '<meta name="keywords" content="rates, inflation; banks">'
        '<script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"WebSite",'
        '"name":"The Daily"},{"@type":["NewsArticle"],"headline":"Rates rise","datePublished":'
        '"2024-03-03T10:15:00Z","dateModified":"2024-03-03T12:00:00Z","author":[{"@type":"Person","name":'
        '"Jane Doe"},{"@type":"Person","name":"Max Roe"}],"keywords":["rates","central bank"],'
        '"inLanguage":"en-GB"}]}</script>'
    )
    meta = clean_page(page(f"<article>{paras(*BODY)}</article>", head=head)).meta
    assert meta.headline == "Rates rise"
    assert meta.title == "Rates rise | The Daily"
    assert meta.canonical_url == "https://daily.example/business/rates-rise"
    assert meta.published == "2024-03-03T10:15:00Z"
    assert meta.modified == "2024-03-03T12:00:00Z"
    assert meta.authors == ("Jane Doe", "Max Roe")
    assert meta.keywords == ("rates", "central bank", "inflation", "banks")
    assert meta.language == "en"
    assert meta.site_name == "The Daily"


def test_broken_json_ld_is_ignored() -> None:
    head = '<script type="application/ld+json">{"@type": "NewsArticle", "headline": </script>'
    ct = clean_page(page(f"<article>{paras(*BODY)}</article>", head=head))
    assert list(ct.paragraphs) == BODY


def test_mojibake_is_repaired_and_text_is_nfc() -> None:
    broken = "CafÃ© owners said the Â£5 rise was â€œunbearableâ€\x9d for small businesses in the city."
    decomposed = (
        "Cafe\u0301 prices rose again, the owners of the small establishment on the main square said."
    )
    ct = clean_page(page(f"<article>{paras(LEDE, broken, decomposed, P3)}</article>"))
    assert "Café owners said the £5 rise was “unbearable” for small businesses" in ct.paragraphs[1]
    assert ct.paragraphs[2].startswith("Caf\u00e9 prices")


def test_quotes_and_dashes_are_not_rewritten() -> None:
    text = "“It’s over,” she said — and the room went quiet… for a while, they said, before the vote."
    ct = clean_page(page(f"<article>{paras(LEDE, text, P3, P4)}</article>"))
    assert ct.paragraphs[1] == text


def test_whitespace_is_collapsed() -> None:
    spread = LEDE.replace(" ", " \n\t\u00a0 ")
    ct = clean_page(page(f"<article><p>  {spread}  </p>{paras(P2, P3, P4)}</article>"))
    assert ct.paragraphs[0] == LEDE


@pytest.mark.parametrize(
    ("data", "declared"),
    [
        (
            "Le président a déclaré que la réforme des retraites était nécessaire pour l’équilibre.",
            "windows-1252",
        ),
        (
            "Die Bürger müssen sich auf höhere Preise für Energie und Lebensmittel einstellen, sagte er.",
            "utf-8",
        ),
    ],
)
def test_bytes_in_declared_and_mislabelled_charsets(data: str, declared: str) -> None:
    body = " ".join([data] * 8)
    html = (
        f"<html><head><meta charset='{declared}'></head><body><article><p>{body}</p></article></body></html>"
    )
    for encoding in ("utf-8", "cp1252"):
        ct = clean_page(html.encode(encoding))
        assert ct.paragraphs == (body,), encoding


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "   ",
        b"",
        b"\x00\x01\x02\xff\xfe",
        "plain words, no markup at all",
        "<html></html>",
        "<<<>>>&&&",
        "\ufeff",
        "</div></p></body>",
    ],
)
def test_empty_and_junk_input_gives_an_empty_or_small_result(junk: str | bytes) -> None:
    ct = clean_page(junk)
    assert isinstance(ct.paragraphs, tuple)
    assert ct.body_html.count("<script") == 0


def test_binary_garbage_does_not_raise() -> None:
    data = bytes(range(256)) * 400
    clean_page(data)


def test_deep_nesting_does_not_hit_the_recursion_limit() -> None:
    html = "<div>" * 5000 + paras(*BODY) + "</div>" * 5000
    start = time.perf_counter()
    text = " ".join(clean_page(page(html)).paragraphs)
    assert time.perf_counter() - start < 5
    # past the depth cap the markup is flattened: the text survives, in order
    assert text == " ".join(BODY)


def test_moderately_deep_nesting_keeps_paragraphs() -> None:
    html = "<div>" * 100 + paras(*BODY) + "</div>" * 100
    assert list(clean_page(page(html)).paragraphs) == BODY


def test_huge_page_is_handled_quickly() -> None:
    filler = "".join(
        f"<div class='teaser'><a href='/s{i}'>Story number {i} of the day</a></div>" for i in range(20000)
    )
    html = page(f"<article>{paras(*BODY)}</article>", outside=filler)
    assert len(html) > 1_000_000
    start = time.perf_counter()
    ct = clean_page(html)
    assert time.perf_counter() - start < 10
    assert list(ct.paragraphs) == BODY


def test_text_outside_any_container_is_found() -> None:
    html = f"<html><body>{LEDE} {P2}</body></html>"
    assert clean_page(html).paragraphs == (f"{LEDE} {P2}",)


def test_script_rendered_page_falls_back_to_json_ld_article_body() -> None:
    ld = json.dumps({"@type": "NewsArticle", "headline": "Rates rise", "articleBody": "\n\n".join(BODY)})
    html = (
        f'<html><head><script type="application/ld+json">{ld}</script></head><body><div id="app"></div>'
        "<nav><a href='/'>Home</a> <a href='/world'>World</a></nav></body></html>"
    )
    ct = clean_page(html)
    assert list(ct.paragraphs) == BODY
    assert "body-from-json-ld" in ct.removed


def test_json_ld_body_is_not_used_when_the_page_has_the_story() -> None:
    ld = json.dumps({"@type": "NewsArticle", "articleBody": " ".join(BODY)})
    head = f'<script type="application/ld+json">{ld}</script>'
    ct = clean_page(page(f"<article>{paras(*BODY)}</article>", head=head))
    assert list(ct.paragraphs) == BODY
    assert "body-from-json-ld" not in ct.removed
