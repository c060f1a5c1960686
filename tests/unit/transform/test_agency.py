import pytest

from transform.agency import agencies_in, attribute, parse_byline, parse_dateline
from transform.clean import boilerplate
from wiredesk.agencies import ALIASES


@pytest.mark.parametrize(
    ("text", "place", "agency"),
    [
        ("NEW DELHI, Feb 18 (Reuters) - The government said", "New Delhi", "Reuters"),
        ("LONDON, Feb 18 (Reuters) - Shares fell", "London", "Reuters"),
        ("WASHINGTON (AP) — The Senate voted", "Washington", "AP"),
        ("Moscow [Russia], February 18 (ANI): Russian Foreign Minister", "Moscow", "ANI"),
        ("PARIS, 18 February 2022 (AFP) - France said", "Paris", "AFP"),
        ("NEW DELHI: The government said", "New Delhi", ""),
        ("Tensions: rising in the region", "", ""),
        ("Apple (AAPL) - shares rose", "", ""),
        ("Barack Obama (pictured) - said", "", ""),
        ("NAIROBI, Kenya (AP) — Dock workers returned", "Nairobi", "AP"),
        ("SPRINGFIELD, Ill., May 2 (Reuters) - Lawmakers", "Springfield", "Reuters"),
        ("LOS ANGELES, California, Feb 18 (AFP) - Fires", "Los Angeles", "AFP"),
        ("Paris, France - the city said", "", ""),
        ("Tensions rose, Moscow (AP) — officials said", "", ""),
        ("NEW DELHI, Feb 18 (PTI) The second part of the session", "New Delhi", "PTI"),
        ("Mumbai, Feb 18 (IANS) Shares rose", "Mumbai", "IANS"),
        ("Barack Obama (pictured) He said", "", ""),
        ("WASHINGTON (CNN) The Senate voted", "", ""),
    ],
)
def test_datelines(text: str, place: str, agency: str) -> None:
    assert parse_dateline(text) == (place, agency)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("( With inputs from ANI )", ["ANI"]),
        ("With inputs from Associated Press of Pakistan and AP", ["APP", "AP"]),
        ("Reporting by Agence France-Presse; Press Trust of India", ["AFP", "PTI"]),
        ("UNICEF Apple APPLE PAkistan AP-NORC cp Unicorn uni", []),
        ("Source: dpa", ["DPA"]),
    ],
)
def test_agencies_in_credit_text(text: str, expected: list[str]) -> None:
    assert agencies_in(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("By ANI | Updated: February 18, 2022 08:20 IST", "ANI"),
        ("By John Smith, Reuters", "John Smith, Reuters"),
        ("By Jane Doe and Max Mustermann Feb 18, 2022", "Jane Doe and Max Mustermann"),
        ("Updated: Feb 18, 2022", ""),
    ],
)
def test_byline(text: str, expected: str) -> None:
    assert parse_byline(text) == expected


def test_seed_byline_and_credit() -> None:
    result = attribute(
        byline_text="By ANI | Updated: February 18, 2022 08:20 IST",
        credit_lines=("( With inputs from ANI )",),
    )
    assert (result.agency, result.byline) == ("ANI", "ANI")


def test_feed_author_is_the_byline_and_agency() -> None:
    result = attribute(authors=["ANI"], paragraphs=["Some lead.", "Body."])
    assert (result.agency, result.byline) == ("ANI", "ANI")


def test_body_mentions_are_not_credits() -> None:
    paragraphs = [
        '"AFP got it wrong," the minister said of a Reuters report.',
        "The PA system failed; AP classes resumed and UNI students protested.",
        "He spoke to reporters at length about the next steps for the project.",
    ]
    assert attribute(paragraphs=paragraphs).agency == ""


def test_credit_beats_body_and_dateline_gives_place() -> None:
    paragraphs = [
        "WASHINGTON (AP) — Officials said AFP was wrong.",
        "More text here.",
        "( With inputs from PTI )",
    ]
    result = attribute(paragraphs=paragraphs, credit_lines=("With inputs from Reuters",))
    assert result.agency == "Reuters"
    assert result.located == "Washington"


def test_closing_credit_paragraph_counts() -> None:
    assert attribute(paragraphs=["Lead paragraph of the story.", "-- AFP"]).agency == "AFP"
    assert attribute(paragraphs=["Lead paragraph of the story.", "(With inputs from IANS)"]).agency == "IANS"


# Every spelling of the one agency list (wiredesk/agencies.tsv) is a credit to the attribution and
# to the cleaning rules alike: no stage keeps a list of its own.
@pytest.mark.parametrize(("alias", "name"), ALIASES)
def test_every_listed_agency_is_credited_by_attribution_and_cleaning(alias: str, name: str) -> None:
    assert agencies_in(f"( With inputs from {alias} )") == [name]
    assert attribute(dateline_text=f"LONDON, Feb 18 ({alias}) - Shares fell").agency == name
    assert boilerplate.is_credit(f"({alias})")
    assert boilerplate.dateline_of(f"LONDON, Feb 18 ({alias}) - Shares fell") == f"LONDON, Feb 18 ({alias})"
