from datetime import UTC, datetime, timedelta

import pytest

from transform.dates import DateCandidate, dates_in_text, parse_date, resolve_dates

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
