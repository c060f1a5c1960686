"""clean_plain_text: a page's text or a text/plain feed body."""

import pytest

from transform.clean import clean_plain_text

HEADLINE = "Floods force thousands from their homes in the north"
P1 = (
    "Floodwaters rose across the northern provinces on Sunday, forcing thousands of families from "
    "their homes and cutting road links to dozens of villages, officials said."
)
P2 = (
    "Rescue teams used boats to reach people stranded on rooftops, and the army said it had "
    "deployed helicopters to drop food and water to cut-off areas."
)
P3 = "Forecasters expect more heavy rain in the coming days."


def test_page_text_with_chrome_headline_byline_and_tail() -> None:
    text = "\n".join(
        [
            "Home",
            "World",
            "Epaper",
            "",
            HEADLINE,
            "",
            "By Jane Doe | Updated: June 2, 2024 10:15 IST",
            "",
            P1,
            "",
            "Advertisement",
            "",
            P2,
            "",
            P3,
            "",
            "(With inputs from Reuters)",
            "",
            "Tags: FloodsMonsoonRescue",
            "Open in App",
            "",
            "Related Stories",
            "",
            "Other story one",
            "Other story two, with a sentence.",
        ]
    )
    ct = clean_plain_text(text)
    assert ct.paragraphs == (P1, P2, P3)
    assert ct.headline == HEADLINE
    assert ct.byline_text == "By Jane Doe | Updated: June 2, 2024 10:15 IST"
    assert ct.credit_lines == ("(With inputs from Reuters)",)
    assert ct.tags == ("FloodsMonsoonRescue",)
    assert {"byline", "chrome", "credit-line", "tags", "related-list"} <= set(ct.removed)


def test_text_plain_feed_body_without_headline_or_byline() -> None:
    ct = clean_plain_text(f"{P1}\n\n{P2}\n\n{P3}\n")
    assert ct.paragraphs == (P1, P2, P3)
    assert ct.headline == ""
    assert ct.byline_text == ""


def test_title_like_first_line_is_the_headline() -> None:
    ct = clean_plain_text(f"{HEADLINE}\n\n{P1}\n\n{P2}")
    assert ct.headline == HEADLINE
    assert ct.paragraphs == (P1, P2)


def test_hard_wrapped_paragraphs_are_joined() -> None:
    def wrap(p: str, width: int = 60) -> str:
        lines, cur = [], ""
        for word in p.split():
            if cur and len(cur) + 1 + len(word) > width:
                lines.append(cur)
                cur = word
            else:
                cur = f"{cur} {word}".strip()
        lines.append(cur)
        return "\n".join(lines)

    ct = clean_plain_text(f"{wrap(P1)}\n\n{wrap(P2)}\n\n{P3}")
    assert ct.paragraphs == (P1, P2, P3)


def test_one_block_per_line_when_not_wrapped() -> None:
    ct = clean_plain_text(f"{P1}\n{P2}\n{P3}")
    assert ct.paragraphs == (P1, P2, P3)


def test_repeated_lede_is_kept_once() -> None:
    ct = clean_plain_text(f"{P1}\n\nOpen in App\n\n{P1}\n\n{P2}")
    assert ct.paragraphs == (P1, P2)
    assert "repeated-paragraph" in ct.removed


def test_short_lines_inside_the_body_are_kept() -> None:
    ct = clean_plain_text(f"{P1}\n\nWhat comes next\n\n{P2}\n\n{P3}")
    assert ct.paragraphs == (P1, "What comes next", P2, P3)


def test_crlf_mojibake_and_nfc() -> None:
    ct = clean_plain_text(
        "CafÃ© owners said prices rose again this week.\r\n\r\nCafe\u0301 prices rose, they said."
    )
    assert ct.paragraphs == (
        "Café owners said prices rose again this week.",
        "Caf\u00e9 prices rose, they said.",
    )


def test_body_html_is_escaped_paragraphs() -> None:
    ct = clean_plain_text("Profits <rose> & costs fell, the company said on Monday.")
    assert ct.body_html == "<p>Profits &lt;rose&gt; &amp; costs fell, the company said on Monday.</p>"


@pytest.mark.parametrize("junk", ["", "\n\n\n", "   \t  ", "\x00", "Home\nWorld\nEpaper"])
def test_empty_and_chrome_only(junk: str) -> None:
    assert clean_plain_text(junk).paragraphs == ()


def test_bytes_are_decoded() -> None:
    assert clean_plain_text(f"{P1}\n\n{P2}".encode()).paragraphs == (P1, P2)
