"""The boilerplate rules one line at a time: what they take out, and the look-alike sentences of
ordinary news copy that they must leave alone."""

import pytest

from transform.clean import boilerplate as bp
from transform.clean import clean_fragment

STORY = [
    "Floodwaters rose across the northern provinces on Sunday, forcing thousands of families from their "
    "homes and cutting road links to dozens of villages, officials said.",
    "Rescue teams used boats to reach people stranded on rooftops, and the army said it had deployed "
    "helicopters to drop food and water to cut-off areas.",
    "Forecasters expect more heavy rain in the coming days, and schools will stay closed until Friday.",
    "The government has promised compensation to farmers whose crops were destroyed by the water.",
]


def _html(lines: list[str]) -> str:
    return "".join(f"<p>{line}</p>" for line in lines)


@pytest.mark.parametrize(
    "line",
    [
        "By the end of the week, the government will have spent the relief fund, officials said.",
        "With inputs from the public, the council drew up a new flood plan last year.",
        "Edited by a team of volunteers, the flood map has been viewed a million times.",
        "The agency said the feed from its cameras had been cut, and staff were working on it.",
        "Reuters reported the minister had resigned, citing two people familiar with the matter.",
        "Get ready for more alerts as the storm approaches, forecasters warned on Sunday.",
        "Supporters were urged to follow him on Twitter, where he posted updates from the region.",
        "Copyright disputes over the flood footage went to court last year, the broadcaster said.",
        "Published reports said the dam had been inspected only once since it was built in 1962.",
        "Share prices of insurers fell sharply on Monday as claims were expected to rise.",
        "Tags on the rescued cattle showed they had drifted more than 20 km, farmers said.",
        "Watch out for falling debris, the mayor told residents returning to their homes.",
    ],
)
def test_ordinary_sentences_are_kept(line: str) -> None:
    ct = clean_fragment(_html([STORY[0], STORY[1], line, STORY[2], STORY[3]]))
    assert line in ct.paragraphs
    assert ct.credit_lines == ()
    assert ct.auto_published is False


@pytest.mark.parametrize(
    ("line", "label"),
    [
        ("Advertisement", "chrome"),
        ("ADVERTISEMENT", "chrome"),
        ("Story continues below advertisement", "chrome"),
        ("Open in App", "chrome"),
        ("This slideshow requires JavaScript.", "chrome"),
        ('[button link="https://x.example/s"]Send us your story[/button]', "chrome"),
        ("Also Read | Dams near capacity as rains continue", "also-read"),
        ("READ MORE: Dams near capacity", "also-read"),
        ("Sign up for our morning newsletter to get the news first.", "chrome"),
        ("Get the latest updates right in your inbox. Subscribe to our newsletters.", "contact-or-promo"),
        ("This post may contain affiliate links. Please see my disclosure page.", "author-box-or-disclosure"),
        ("The post Floods force thousands from homes appeared first on Example News.", "appeared-first-on"),
        (
            "Catch all the Business News, Market News and Latest News Updates on Example. "
            "Download The Example News App to get Daily Market Updates.",
            "contact-or-promo",
        ),
        ("Download The Example News App", "chrome"),
    ],
)
def test_chrome_lines_are_removed(line: str, label: str) -> None:
    ct = clean_fragment(_html([STORY[0], line, STORY[1]]))
    assert ct.paragraphs == (STORY[0], STORY[1])
    assert label in ct.removed


def test_writer_contact_line_is_removed_only_at_the_end() -> None:
    contact = "Jane Doe can be reached at jdoe@example.com. Follow her on Twitter @janedoe."
    ct = clean_fragment(_html([*STORY, contact]))
    assert ct.paragraphs == tuple(STORY)
    assert "contact-or-promo" in ct.removed
    middle = clean_fragment(
        _html([STORY[0], contact, STORY[1], STORY[2], STORY[3], STORY[0][:40] + " more."])
    )
    assert contact in middle.paragraphs


@pytest.mark.parametrize(
    ("line", "byline"),
    [
        ("By Jane Doe | Updated: June 2, 2024 10:15 IST", True),
        ("By JANE DOE and MAX ROE, Associated Press", True),
        ("Por Matt Spetalnick e Jason Szep", True),
        ("By the end of the day, most roads had reopened.", False),
        ("Byron Bay was also hit by the storm, officials said.", False),
    ],
)
def test_byline_recognition(line: str, byline: bool) -> None:
    assert bp.match_byline(line) is byline


def test_byline_at_the_top_becomes_a_fact() -> None:
    ct = clean_fragment(_html(["By Jane Doe, Reuters", *STORY]))
    assert ct.byline_text == "By Jane Doe, Reuters"
    assert ct.paragraphs == tuple(STORY)


@pytest.mark.parametrize(
    ("lede", "dateline"),
    [
        (
            "NEW DELHI, Feb 18 (ANI): The government said on Friday it would hold talks.",
            "NEW DELHI, Feb 18 (ANI)",
        ),
        ("WASHINGTON (AP) — The Senate passed the bill late on Thursday.", "WASHINGTON (AP)"),
        ("(Reuters) - The company said profits rose.", "(Reuters)"),
        ("LONDON — Prices rose at the fastest pace in a decade.", "LONDON"),
        ("The government said on Friday it would hold talks.", ""),
    ],
)
def test_dateline_found_and_text_kept(lede: str, dateline: str) -> None:
    ct = clean_fragment(_html([lede, STORY[1]]))
    assert ct.paragraphs[0] == lede
    assert ct.dateline_text == dateline


def test_tags_line_in_the_body() -> None:
    ct = clean_fragment(_html([*STORY, "Tags: floods, monsoon, rescue"]))
    assert ct.tags == ("floods, monsoon, rescue",)
    assert ct.paragraphs == tuple(STORY)


@pytest.mark.parametrize(
    "line",
    [
        "(Inputs from PTI)",
        "This article was originally published on The Conversation. Read the original article.",
        "This story has been republished with permission from Example Wire.",
    ],
)
def test_more_credit_lines(line: str) -> None:
    ct = clean_fragment(_html([*STORY, line]))
    assert ct.paragraphs == tuple(STORY)
    assert ct.credit_lines == (line,)


def test_several_credit_lines_in_order() -> None:
    ct = clean_fragment(
        _html([*STORY, "(Reporting by Jane Doe; Editing by Sam Poe)", "© Thomson Reuters 2024"])
    )
    assert ct.credit_lines == ("(Reporting by Jane Doe; Editing by Sam Poe)", "© Thomson Reuters 2024")


def test_key_ignores_case_and_punctuation() -> None:
    assert bp.key("“It’s over,” she said.") == bp.key("it s over she said")


@pytest.mark.parametrize(
    "caption",
    [
        "A flooded street in the north on Sunday. (Photo: Jane Doe/Agency)",
        "Rescuers carry a child to safety. Photo Credit: PTI File Photo",
        "The dam at dawn. Image: Example Water Board",
        "Residents wade through water | Getty Images",
        "A boat in the main square on Sunday. (AP Photo/Jane Doe)",
        "Smoke rises over the port on Monday. (EPA/Getty Images)",
        "Fans gather outside the stadium. Jane Doe/AFP via Getty Images",
        "Firefighters at work. Example Photo Service via Getty Images",
    ],
)
def test_captions_recognised_by_their_photo_credit(caption: str) -> None:
    ct = clean_fragment(_html([STORY[0], caption, STORY[1]]))
    assert ct.paragraphs == (STORY[0], STORY[1])
    assert "caption" in ct.removed


@pytest.mark.parametrize(
    "line",
    [
        "sexta-feira, 22 de outubro de 2010 às 20:13",
        "Nov 19, 2019 | 10:15 GMT",
        "Published: 18 Feb 2022, 08:20 IST",
    ],
)
def test_date_lines_at_the_top_and_the_end_are_removed(line: str) -> None:
    assert clean_fragment(_html([line, *STORY])).paragraphs == tuple(STORY)
    assert clean_fragment(_html([*STORY, line])).paragraphs == tuple(STORY)


def test_dates_inside_the_story_and_in_tables_are_kept() -> None:
    ct = clean_fragment(
        _html([STORY[0], "29 November 2018 – 20 January 2019", STORY[1], STORY[2]])
        + "<table><tr><td>1947</td><td>First recorded flood</td></tr></table>"
    )
    assert "29 November 2018 – 20 January 2019" in ct.paragraphs
    assert "1947" in ct.paragraphs
