"""The one date parser both stages use: every form either stage read before, and its own rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from wiredesk.dates import FoundDate, find_dates, parse_date

SEED_UTC = datetime(2022, 2, 18, 2, 50, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # forms only ingest's parser read before
        ("Seg, 24 Set 2018 19:42:40 -0300", datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)),
        ("Di, 3 Mär 2020 10:00:00 +0100", datetime(2020, 3, 3, 9, 0, tzinfo=UTC)),
        ("lun. 5 févr. 2018 08:00", datetime(2018, 2, 5, 8, 0, tzinfo=UTC)),
        ("12 dic 2019 7:05 UTC", datetime(2019, 12, 12, 7, 5, tzinfo=UTC)),
        ("24/09/2018 10:00", datetime(2018, 9, 24, 10, 0, tzinfo=UTC)),
        ("09/24/2018", datetime(2018, 9, 24, tzinfo=UTC)),
        ("05/29/2007 09:49:00", datetime(2007, 5, 29, 9, 49, tzinfo=UTC)),
        # transform's parser read this one an hour off (its RFC 2822 reader ignores CET)
        ("mar, 24 mar 2018 10:00 CET", datetime(2018, 3, 24, 9, 0, tzinfo=UTC)),
        # a zone abbreviation only transform's parser knew (ingest read it as UTC)
        ("February 18, 2022 07:50 PKT", SEED_UTC),
        ("18 Feb 2022 10:50 SGT", SEED_UTC),
        # forms both read
        ("2022-02-18T08:20:00+05:30", SEED_UTC),
        ("2022-02-18T08:20:00+0530", SEED_UTC),
        ("2022-02-18 02:50:00", SEED_UTC),
        ("2022-02-18 02:50 UTC", SEED_UTC),
        ("Fri, 18 Feb 2022 08:20:00 +0530", SEED_UTC),
        ("Fri, 18 Feb 2022 02:50:00 GMT", SEED_UTC),
        ("Wed, 02 Oct 02 13:00:00 GMT", datetime(2002, 10, 2, 13, 0, tzinfo=UTC)),
        ("Updated: February 18, 2022 08:20 IST", SEED_UTC),
        ("Feb. 17, 2022, 9:50 p.m. EST", SEED_UTC),
        ("18. Februar 2022, 03:50 MEZ", SEED_UTC),
        ("Tuesday, March 3, 2020 5:30 PM EST", datetime(2020, 3, 3, 22, 30, tzinfo=UTC)),
        ("2016-06-14T11:45:52.123+00:00", datetime(2016, 6, 14, 11, 45, 52, 123000, tzinfo=UTC)),
        ("June 14, 2016", datetime(2016, 6, 14, tzinfo=UTC)),
    ],
)
def test_parse_date_to_utc(text: str, expected: datetime) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "   ", "garbage", "tomorrow", "yesterday at noon", "2022-02-30", "February 31, 2022", "31 Feb 2020",
     "x" * 300, "June 14, 1066", "3 hours ago"],
)  # fmt: skip
def test_what_cannot_be_placed_is_none(text: str) -> None:
    assert parse_date(text) is None


def test_two_letter_zones_count_only_in_capitals() -> None:
    # "et" is a French word, not US Eastern time.
    assert parse_date("5 mars 2020 10:00 et") == datetime(2020, 3, 5, 10, 0, tzinfo=UTC)
    assert parse_date("5 March 2020 10:00 ET") == datetime(2020, 3, 5, 15, 0, tzinfo=UTC)


def test_find_dates_gives_each_date_in_running_text_with_its_place() -> None:
    text = "By ANI | Updated: February 18, 2022 08:20 IST, first filed 17 Feb 2022 10:00 GMT"
    found = find_dates(text)
    assert [f.when for f in found] == [SEED_UTC, datetime(2022, 2, 17, 10, 0, tzinfo=UTC)]
    assert text[found[0].start : found[0].end] == "February 18, 2022 08:20 IST"
    assert find_dates("no dates here") == []
    assert find_dates("Di, 3 Mär 2020 10:00:00 +0100") == [
        FoundDate(4, 29, datetime(2020, 3, 3, 9, 0, tzinfo=UTC))
    ]
