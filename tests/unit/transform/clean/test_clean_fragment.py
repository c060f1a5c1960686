"""clean_fragment: feed item content (content:encoded, description) is all story, minus the chrome
publishers put inside it."""

import pytest

from transform.clean import clean_fragment

P1 = (
    "Floodwaters rose across the northern provinces on Sunday, forcing thousands of families from "
    "their homes and cutting road links to dozens of villages, officials said."
)
P2 = (
    "Rescue teams used boats to reach people stranded on rooftops, and the army said it had "
    "deployed helicopters to drop food and water to cut-off areas."
)
P3 = "Forecasters expect more heavy rain in the coming days."


def test_paragraphs_in_order() -> None:
    ct = clean_fragment(f"<p>{P1}</p>\n<p>{P2}</p>\n<p>{P3}</p>")
    assert ct.paragraphs == (P1, P2, P3)
    assert ct.body_html == f"<p>{P1}</p><p>{P2}</p><p>{P3}</p>"


def test_no_main_content_search_short_items_survive() -> None:
    assert clean_fragment("<p>Markets closed higher.</p>").paragraphs == ("Markets closed higher.",)


def test_wordpress_footer_is_removed() -> None:
    html = (
        f"<p>{P1}</p><p>{P2}</p><p>The post <a href='https://x.example/floods'>Floods force thousands from "
        "homes</a> appeared first on <a href='https://x.example'>Example News</a>.</p>"
    )
    ct = clean_fragment(html)
    assert ct.paragraphs == (P1, P2)
    assert ct.removed == ("appeared-first-on",)


def test_share_bars_related_lists_and_newsletter_boxes_are_removed() -> None:
    html = (
        f"<p>{P1}</p>"
        "<div class='sharedaddy sd-sharing-enabled'><h3>Share this:</h3><ul><li><a href='#'>Twitter</a></li>"
        "<li><a href='#'>Facebook</a></li></ul></div>"
        f"<p>{P2}</p>"
        "<div class='newsletter-box'><p>Get the morning briefing in your inbox every day.</p></div>"
        "<h3>Related</h3><ul><li><a href='https://x.example/a'>Earlier floods left hundreds homeless</a></li>"
        "<li><a href='https://x.example/b'>Why the rains are getting heavier</a></li></ul>"
    )
    ct = clean_fragment(html)
    assert ct.paragraphs == (P1, P2)
    assert "related-list" in ct.removed


@pytest.mark.parametrize(
    "heading",
    ["Related Stories", "You may also like...", "Other People Are Reading", "More Great WIRED Stories"],
)
def test_related_headings_and_their_link_lists(heading: str) -> None:
    html = (
        f"<p>{P1}</p><p>{P2}</p><h3>{heading}</h3>"
        "<ul><li><a href='https://x.example/a'>Earlier floods</a></li>"
        "<li><a href='https://x.example/b'>Why the rains are heavier</a></li></ul>"
    )
    assert clean_fragment(html).paragraphs == (P1, P2)


def test_inline_read_more_teasers_are_removed() -> None:
    html = (
        f"<p>{P1}</p><p><strong>Also read:</strong> <a href='https://x.example/c'>Dams near capacity</a></p>"
        f"<p>{P2}</p><p><a href='https://x.example/floods'>Continue reading...</a></p>"
    )
    assert clean_fragment(html).paragraphs == (P1, P2)


def test_agency_lines_become_facts() -> None:
    html = (
        f"<p>{P1}</p><p>{P2}</p><p>(With inputs from PTI)</p>"
        "<p>(Only the headline of this report may have been reworked by the Example staff; the rest of the "
        "content is auto-generated from a syndicated feed.)</p>"
    )
    ct = clean_fragment(html)
    assert ct.paragraphs == (P1, P2)
    assert ct.credit_lines == ("(With inputs from PTI)",)
    assert ct.auto_published is True


@pytest.mark.parametrize(
    "line",
    [
        "Disclaimer: This post has been auto-published from an agency feed without any modifications to "
        "the text and has not been reviewed by an editor",
        "(Except for the headline, this story has not been edited by Example staff and is published from "
        "a syndicated feed.)",
        "This story has not been edited by Example staff and is auto-generated from a syndicated feed.",
        "This is an auto-generated story from a syndicated news feed. Example staff may not have modified "
        "or edited the content body.",
    ],
)
def test_syndication_disclaimers(line: str) -> None:
    ct = clean_fragment(f"<p>{P1}</p><p>{line}</p>")
    assert ct.paragraphs == (P1,)
    assert ct.auto_published is True


@pytest.mark.parametrize(
    "line",
    [
        "(Reporting by Jane Doe; Editing by Sam Poe)",
        "Reporting by Jane Doe in Jakarta; Writing by Max Roe; Editing by Sam Poe",
        "-- AFP",
        "(ANI)",
        "PTI ABC DEF",
        "Copyright 2024 The Associated Press. All rights reserved. This material may not be published, "
        "broadcast, rewritten or redistributed.",
    ],
)
def test_credit_and_copyright_lines(line: str) -> None:
    ct = clean_fragment(f"<p>{P1}</p><p>{line}</p>")
    assert ct.paragraphs == (P1,)
    assert ct.credit_lines == (line,)


def test_sentences_mentioning_agencies_are_kept() -> None:
    kept = [
        "The agency said the feed from its cameras had been cut by the storm, and staff were working on it.",
        "Reuters reported that the minister had resigned, citing two people familiar with the matter.",
        "By the end of the week, the government will have spent the whole relief fund, officials said.",
        "With inputs from the public, the council drew up a new flood plan last year.",
    ]
    html = "".join(f"<p>{t}</p>" for t in [P1, *kept])
    assert clean_fragment(html).paragraphs == (P1, *kept)


def test_figures_are_not_body_text() -> None:
    figure = "<figure><img src='a.jpg'><figcaption>A flooded street. Photo: Agency</figcaption></figure>"
    html = f"{figure}<p>{P1}</p>"
    assert clean_fragment(html).paragraphs == (P1,)


def test_plain_text_content_is_routed_to_the_text_cleaner() -> None:
    ct = clean_fragment(f"{P1}\n\n{P2}")
    assert ct.paragraphs == (P1, P2)


def test_lists_and_links_in_body_html() -> None:
    ct = clean_fragment(
        f"<p>{P1} <a href='https://x.example/map'>See the map</a>.</p><ol><li>North</li><li>East</li></ol>",
        url="https://x.example/",
    )
    assert '<a href="https://x.example/map">See the map</a>' in ct.body_html
    assert "<ol><li>North</li><li>East</li></ol>" in ct.body_html


def test_relative_links_resolve_only_with_a_url() -> None:
    html = f"<p>{P1} <a href='/map'>map</a></p>"
    assert "href" not in clean_fragment(html).body_html
    assert 'href="https://x.example/map"' in clean_fragment(html, url="https://x.example/a/b").body_html


@pytest.mark.parametrize(
    "junk", ["", " ", "<p></p>", "<br><br>", "<script>x()</script>", "&nbsp;", "<!-- c -->"]
)
def test_empty_fragments(junk: str) -> None:
    ct = clean_fragment(junk)
    assert ct.paragraphs == ()
    assert ct.body_html == ""


def test_entities_and_nbsp_are_decoded_and_collapsed() -> None:
    ct = clean_fragment("<p>Prices&nbsp;rose&nbsp;&amp;&nbsp;fell &#8212; twice &eacute;t&eacute;.</p>")
    assert ct.paragraphs == ("Prices rose & fell — twice été.",)
    assert ct.body_html == "<p>Prices rose &amp; fell — twice été.</p>"


@pytest.mark.parametrize(
    ("html", "last", "credit"),
    [
        (
            "<p>The conflict has been going on since 2014 in the region. (ANI)</p>",
            "since 2014 in the region.",
            "(ANI)",
        ),
        ("<p>Markets closed higher for the third day in a row. <em>(IANS)</em></p>", "in a row.", "(IANS)"),
        (
            "<p>Officials said the (AP) report was wrong and would be corrected soon.</p>",
            "corrected soon.",
            None,
        ),
        ("<p>Short. (AFP)</p>", "Short. (AFP)", None),
    ],
)
def test_agency_sign_off_glued_to_the_last_sentence(html: str, last: str, credit: str | None) -> None:
    result = clean_fragment(html)
    assert result.paragraphs[-1].endswith(last)
    if credit is None:
        assert not result.credit_lines
    else:
        assert result.credit_lines == (credit,)
        assert credit not in result.body_html
