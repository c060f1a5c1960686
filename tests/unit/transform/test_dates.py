from datetime import UTC, datetime, timedelta

import pytest

from transform.dates import DateCandidate, dates_in_text, parse_date, resolve_dates
from transform.pipeline import derive_article
from transform.stories import MemoryStoryIndex
from wiredesk import ids
from wiredesk.records import RawItem

SEED_UTC = datetime(2022, 2, 18, 2, 50, tzinfo=UTC)
NOW = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-02-18T08:20:00+05:30", SEED_UTC),
        ("2022-02-18T02:50:00Z", SEED_UTC),
        ("2022-02-18T08:20:00+0530", SEED_UTC),
        ("2022-02-18 02:50:00", SEED_UTC),
        ("Fri, 18 Feb 2022 08:20:00 +0530", SEED_UTC),
        ("Fri, 18 Feb 2022 02:50:00 GMT", SEED_UTC),
        ("February 18, 2022 08:20 IST", SEED_UTC),
        ("Feb. 17, 2022, 9:50 p.m. EST", SEED_UTC),
        ("17 February 2022 18:50 PST", SEED_UTC),
        ("18 February 2022 03:50 CET", SEED_UTC),
        ("18. Februar 2022, 03:50 MEZ", SEED_UTC),
        ("February 18, 2022 11:50 JST", SEED_UTC),
        ("February 18, 2022 07:50 PKT", SEED_UTC),
        ("2016-06-14T11:45:52.123+00:00", datetime(2016, 6, 14, 11, 45, 52, 123000, tzinfo=UTC)),
        ("June 14, 2016", datetime(2016, 6, 14, tzinfo=UTC)),
    ],
)
def test_parse_date_to_utc(text: str, expected: datetime) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["", "garbage", "2022-02-30", "February 31, 2022", "tomorrow"])
def test_unplaceable_dates_are_none(text: str) -> None:
    assert parse_date(text) is None


def test_byline_text_gives_an_updated_candidate() -> None:
    found = dates_in_text("By ANI | Updated: February 18, 2022 08:20 IST")
    assert found == [DateCandidate(SEED_UTC, "updated", "text")]


def test_labels_distinguish_published_from_updated() -> None:
    found = dates_in_text("Published: 17 Feb 2022 10:00 GMT, Last updated on Feb 18, 2022 9:00 pm PST")
    kinds = {c.kind: c.when for c in found}
    assert kinds == {
        "published": datetime(2022, 2, 17, 10, tzinfo=UTC),
        "updated": datetime(2022, 2, 19, 5, tzinfo=UTC),
    }


def test_first_and_version_rules() -> None:
    early, late = SEED_UTC - timedelta(hours=2), SEED_UTC
    resolved = resolve_dates(
        [
            DateCandidate(late, "published", "meta"),
            DateCandidate(early, "published", "feed"),
            DateCandidate(late + timedelta(hours=1), "updated", "meta"),
        ],
        now=NOW,
    )
    assert resolved.firstcreated == early
    assert resolved.versioncreated == late + timedelta(hours=1)
    assert not resolved.future_date
    assert not resolved.missing_date


def test_only_updated_gives_both_fields() -> None:
    resolved = resolve_dates([DateCandidate(SEED_UTC, "updated", "text")], now=NOW)
    assert resolved.firstcreated == resolved.versioncreated == SEED_UTC


def test_versioncreated_falls_back_to_firstcreated() -> None:
    resolved = resolve_dates([DateCandidate(SEED_UTC, "published", "feed")], now=NOW)
    assert resolved.versioncreated == SEED_UTC


def test_future_dates_are_flagged_and_ignored() -> None:
    now = SEED_UTC
    resolved = resolve_dates(
        [
            DateCandidate(now - timedelta(hours=1), "published", "feed"),
            DateCandidate(now + timedelta(days=3), "updated", "meta"),
            DateCandidate(now + timedelta(seconds=600), "published", "text"),  # within skew
        ],
        now=now,
        future_skew_seconds=900,
    )
    assert resolved.future_date
    assert resolved.versioncreated == now - timedelta(hours=1)
    assert resolved.firstcreated == now - timedelta(hours=1)


def test_no_dates_is_missing() -> None:
    resolved = resolve_dates([], now=NOW)
    assert resolved.missing_date
    assert resolved.firstcreated is None
    assert resolved.versioncreated is None


# Dates only ingest's parser read before the stages shared one (and one transform read an hour off).
INGEST_FORMS = [
    ("Di, 3 Mär 2020 10:00:00 +0100", datetime(2020, 3, 3, 9, 0, tzinfo=UTC)),
    ("Seg, 24 Set 2018 19:42:40 -0300", datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)),
    ("mar, 24 mar 2018 10:00 CET", datetime(2018, 3, 24, 9, 0, tzinfo=UTC)),
    ("05/29/2007 09:49:00", datetime(2007, 5, 29, 9, 49, tzinfo=UTC)),
]


@pytest.mark.parametrize(("text", "expected"), INGEST_FORMS)
def test_dates_ingest_reads_transform_reads_too(text: str, expected: datetime) -> None:
    assert parse_date(text) == expected


def test_a_localised_byline_date_is_found_and_labelled() -> None:
    found = dates_in_text("Von dpa | Aktualisiert: Di, 3 Mär 2020 10:00:00 +0100")
    assert found == [DateCandidate(datetime(2020, 3, 3, 9, 0, tzinfo=UTC), "updated", "text")]


@pytest.mark.parametrize(("text", "expected"), INGEST_FORMS)
def test_a_page_meta_date_in_such_a_form_dates_the_article(text: str, expected: datetime) -> None:
    story = "".join(
        f"<p>The council met on the budget and agreed to spend more on schools, paragraph {n}.</p>"
        for n in range(6)
    )
    page = (
        f"<html><head><title>Council agrees budget</title>"
        f'<meta property="article:published_time" content="{text}"></head>'
        f"<body><article><h1>Council agrees budget</h1>{story}</article></body></html>"
    )
    raw = RawItem(
        feed_id="wire",
        item_id=ids.item_id("wire", guid="budget"),
        version=1,
        fetched_at=NOW,
        content_hash="h",
        guid="budget",
        link="https://news.example.test/council-budget",
        title="Council agrees budget",
    )
    article = derive_article(raw, story_index=MemoryStoryIndex(), now=NOW, page_html=page)
    assert article.firstcreated == expected
    assert article.versioncreated == expected
    assert not article.wiredesk.quality.missing_date
