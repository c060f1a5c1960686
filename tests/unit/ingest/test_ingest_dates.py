from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from ingest.dates import from_struct, parse_date


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
