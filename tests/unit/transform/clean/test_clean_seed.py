"""The seed story in its three forms must each give expected.json's body paragraphs and facts."""

import json
from pathlib import Path

import feedparser
import pytest

from transform.clean import CleanText, clean_fragment, clean_page, clean_plain_text

SEED = Path(__file__).resolve().parents[3] / "fixtures" / "seed"
EXPECTED = json.loads((SEED / "expected.json").read_text(encoding="utf-8"))
RUN_TOGETHER_TAGS = (
    "DonetskAntony blinkenState DepartmentMoscowTwitterSergey LavrovTwitter twitterTwitter sevaSergey "
    "lavrovaTwitter cmoTwitter inc."
)
ANI_CREDIT = "( With inputs from ANI )"


def _page() -> CleanText:
    return clean_page((SEED / "agency-article-page.html").read_bytes())


def _text() -> CleanText:
    return clean_plain_text((SEED / "agency-article-page.txt").read_text(encoding="utf-8"))


def _rss() -> CleanText:
    feed = feedparser.parse((SEED / "agency-feed.rss.xml").read_bytes(), sanitize_html=False)
    return clean_fragment(feed.entries[0].content[0].value)


FORMS = {"html": _page, "txt": _text, "rss": _rss}


@pytest.fixture(params=sorted(FORMS), scope="module")
def form(request: pytest.FixtureRequest) -> tuple[str, CleanText]:
    return request.param, FORMS[request.param]()


def test_body_paragraphs_exactly_as_expected(form: tuple[str, CleanText]) -> None:
    _, ct = form
    assert list(ct.paragraphs) == EXPECTED["body_paragraphs"]


def test_agency_facts_kept_out_of_the_body(form: tuple[str, CleanText]) -> None:
    _, ct = form
    assert ANI_CREDIT in ct.credit_lines
    assert ct.auto_published is True
    assert {"credit-line", "disclaimer"} <= set(ct.removed)
    body = "\n".join(ct.paragraphs)
    for word in ("Disclaimer", "auto-published", "With inputs from", "Open in App", "Related Stories"):
        assert word not in body


def test_forbidden_entities_never_reach_the_body(form: tuple[str, CleanText]) -> None:
    _, ct = form
    body = "\n".join(ct.paragraphs)
    for name in EXPECTED["entities_forbidden"]:
        assert name not in body, name


def test_word_count_near_expected(form: tuple[str, CleanText]) -> None:
    _, ct = form
    words = sum(len(p.split()) for p in ct.paragraphs)
    assert abs(words - EXPECTED["body_word_count_approx"]) <= 10


@pytest.mark.parametrize("make", [_page, _text], ids=["html", "txt"])
def test_page_forms_headline_byline_tags(make: object) -> None:
    ct = make()  # type: ignore[operator]
    assert ct.headline == EXPECTED["headline"]
    assert "ANI" in ct.byline_text
    assert "Updated: February 18, 2022 08:20 IST" in ct.byline_text
    # the tag list as the page has it: one run-together string in the text, one link per tag in HTML
    assert RUN_TOGETHER_TAGS in ct.tags or "".join(ct.tags) == RUN_TOGETHER_TAGS


def test_txt_tags_are_the_raw_run_together_line() -> None:
    assert _text().tags == (RUN_TOGETHER_TAGS,)


def test_html_tags_are_the_tag_links_in_order() -> None:
    tags = _page().tags
    assert tags[0] == "Donetsk" and tags[-1] == "Twitter inc."
    assert "".join(tags) == RUN_TOGETHER_TAGS


def test_txt_removed_labels_name_the_chrome() -> None:
    removed = set(_text().removed)
    assert {"byline", "chrome", "tags", "related-list", "repeated-paragraph"} <= removed


def test_html_body_is_sanitised_paragraphs() -> None:
    ct = _page()
    assert ct.body_html.startswith("<p>Russian Foreign Minister")
    assert ct.body_html.count("<p>") == len(ct.paragraphs)
    for bad in ("<script", "<div", "class=", "Disclaimer", "Open in App"):
        assert bad not in ct.body_html


def test_html_page_meta() -> None:
    meta = _page().meta
    assert meta.headline == EXPECTED["headline"]
    assert meta.title.startswith(EXPECTED["headline"]) and meta.title.endswith("| Example Times")
    assert meta.canonical_url.startswith("https://www.example-times.test/international/blinken-accepts")
    assert meta.published == "2022-02-18T08:20:00+05:30"
    assert meta.modified == "2022-02-18T08:20:00+05:30"
    assert meta.authors == ("ANI",)
    assert meta.language == EXPECTED["language"]
    assert meta.site_name == "Example Times"
    assert meta.description.startswith("Russian Foreign Minister Sergey Lavrov has proposed dates")


def test_html_as_str_and_bytes_agree() -> None:
    raw = (SEED / "agency-article-page.html").read_bytes()
    assert clean_page(raw.decode("utf-8")) == clean_page(raw)


def test_related_lists_inside_the_story_body_do_not_reach_the_body() -> None:
    # The same page with its related-stories box rendered inside the story's own container, in a
    # box whose class does not say "related": both link lists (the second under a misspelt
    # heading) must still stay out of the body.
    html = (SEED / "agency-article-page.html").read_text(encoding="utf-8")
    start, end = html.index('<aside class="related">'), html.index("</aside>") + len("</aside>")
    box = (
        '<div class="box">' + html[start + len('<aside class="related">') : end - len("</aside>")] + "</div>"
    )
    without = html[:start] + html[end:]
    last_paragraph_end = without.index("reviewed by an editor</p>") + len("reviewed by an editor</p>")
    moved = without[:last_paragraph_end] + box + without[last_paragraph_end:]
    ct = clean_page(moved)
    assert list(ct.paragraphs) == EXPECTED["body_paragraphs"]
