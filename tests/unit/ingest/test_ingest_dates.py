from __future__ import annotations

import time
from datetime import UTC, datetime

import orjson
import pytest

from ingest.dates import entry_date, from_struct, parse_date
from ingest.parser import parse_feed


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Seg, 24 Set 2018 19:42:40 -0300", datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)),
        ("Di, 3 Mär 2020 10:00:00 +0100", datetime(2020, 3, 3, 9, 0, tzinfo=UTC)),
        ("mar, 24 mar 2018 10:00 CET", datetime(2018, 3, 24, 9, 0, tzinfo=UTC)),
        ("lun. 5 févr. 2018 08:00", datetime(2018, 2, 5, 8, 0, tzinfo=UTC)),
        ("12 dic 2019 7:05 UTC", datetime(2019, 12, 12, 7, 5, tzinfo=UTC)),
        ("Tuesday, March 3, 2020 5:30 PM EST", datetime(2020, 3, 3, 22, 30, tzinfo=UTC)),
        ("2024-01-02 10:00", datetime(2024, 1, 2, 10, 0, tzinfo=UTC)),
        ("2018-09-24T10:00:00+02:00", datetime(2018, 9, 24, 8, 0, tzinfo=UTC)),
        ("24/09/2018 10:00", datetime(2018, 9, 24, 10, 0, tzinfo=UTC)),
        ("09/24/2018", datetime(2018, 9, 24, tzinfo=UTC)),
        ("Wed, 02 Oct 02 13:00:00 GMT", datetime(2002, 10, 2, 13, 0, tzinfo=UTC)),
    ],
)
def test_parse_date(raw: str, expected: datetime) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["", "nonsense", "31 Feb 2020", "yesterday at noon", "x" * 200])
def test_unreadable_dates_are_none(raw: str) -> None:
    assert parse_date(raw) is None


def test_from_struct() -> None:
    assert from_struct(time.struct_time((2024, 3, 1, 8, 30, 0, 4, 61, 0))) == datetime(
        2024, 3, 1, 8, 30, tzinfo=UTC
    )
    assert from_struct(None) is None


# Zone abbreviations only transform's parser knew before the stages shared one: ingest read these
# wall-clock times as UTC, hours off.
TRANSFORM_FORMS = [
    ("February 18, 2022 07:50 PKT", datetime(2022, 2, 18, 2, 50, tzinfo=UTC)),
    ("Fri, 18 Feb 2022 10:50:00 SGT", datetime(2022, 2, 18, 2, 50, tzinfo=UTC)),
    ("Updated: February 18, 2022 05:50 EAT", datetime(2022, 2, 18, 2, 50, tzinfo=UTC)),
]


@pytest.mark.parametrize(("raw", "expected"), TRANSFORM_FORMS)
def test_zone_abbreviations_transform_knew(raw: str, expected: datetime) -> None:
    assert parse_date(raw) == expected


def _published_in_rss_and_json_feed(raw: str) -> list[datetime | None]:
    rss = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Wire</title>'
        "<link>https://wire.example.test/</link><item><title>Budget agreed</title>"
        f"<link>https://wire.example.test/budget</link><pubDate>{raw}</pubDate></item></channel></rss>"
    )
    json_feed = orjson.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "Wire",
            "items": [{"id": "1", "url": "https://wire.example.test/budget", "title": "Budget agreed",
                       "date_published": raw}],
        }
    )  # fmt: skip
    fetched = datetime(2024, 1, 1, tzinfo=UTC)
    return [
        parse_feed(data, feed_id="wire", fetched_at=fetched).items[0].published
        for data in (rss.encode(), json_feed)
    ]


@pytest.mark.parametrize(("raw", "expected"), TRANSFORM_FORMS)
def test_feed_items_dated_so_are_placed_in_utc(raw: str, expected: datetime) -> None:
    assert _published_in_rss_and_json_feed(raw) == [expected, expected]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # feedparser reads these without complaint, and wrong: PM ignored, fraction dropped
        ("Sat, Dec 16 2023 02:02:33 PM", datetime(2023, 12, 16, 14, 2, 33, tzinfo=UTC)),
        ("2009-12-08T16:59:02.544-08:00", datetime(2009, 12, 9, 0, 59, 2, 544000, tzinfo=UTC)),
    ],
)
def test_strings_feedparser_misreads_are_read_right(raw: str, expected: datetime) -> None:
    assert _published_in_rss_and_json_feed(raw) == [expected, expected]


def test_entry_date_falls_back_to_feedparsers_reading() -> None:
    parsed = time.struct_time((2024, 3, 1, 8, 30, 0, 4, 61, 0))
    assert entry_date("a form only feedparser knows", parsed) == datetime(2024, 3, 1, 8, 30, tzinfo=UTC)
    assert entry_date(None, parsed) == datetime(2024, 3, 1, 8, 30, tzinfo=UTC)
    assert entry_date("", None) is None
