"""The derivation key: its byte order is the order of an article's derivations (docs/topics.md).

And the dotted transform versions inside it order numerically, byte-wise."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from wiredesk import ids
from wiredesk.derivation import (
    compare_transform_versions,
    content_time,
    derivation_key,
    legacy_key,
    raw_item_key,
    transform_sort_key,
)
from wiredesk.records import RawItem

T = datetime(2024, 3, 6, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("2026.11.1", "2026.11.10"),
        ("2026.11.9", "2026.11.10"),
        ("2026.9.30", "2026.10.1"),
        ("1.2", "1.2.1"),
        ("1.9", "1.10"),
        ("0.9.99", "1.0"),
        ("1.0.dev", "1.0.0"),
        ("2025.12.31", "2026.1.0"),
        ("", "0"),
    ],
)
def test_older_sorts_before_newer(older: str, newer: str) -> None:
    assert compare_transform_versions(older, newer) == -1
    assert compare_transform_versions(newer, older) == 1
    assert transform_sort_key(older) < transform_sort_key(newer)


@pytest.mark.parametrize(("a", "b"), [("1.01", "1.1"), (" 2026.1.0 ", "2026.1.0"), ("1.0RC", "1.0rc")])
def test_equivalent_spellings_compare_equal(a: str, b: str) -> None:
    assert compare_transform_versions(a, b) == 0


def test_sort_key_matches_numeric_tuple_order() -> None:
    rng = random.Random(7)
    versions = [
        ".".join(str(rng.choice([0, 1, 2, 9, 10, 11, 99, 100, 2026])) for _ in range(rng.randint(1, 4)))
        for _ in range(400)
    ]
    by_key = sorted(versions, key=transform_sort_key)
    by_tuple = sorted(versions, key=lambda v: tuple(int(p) for p in v.split(".")))
    assert [tuple(int(p) for p in v.split(".")) for v in by_key] == [
        tuple(int(p) for p in v.split(".")) for v in by_tuple
    ]


def _raw(**changes: object) -> RawItem:
    item = RawItem(
        feed_id="agency",
        item_id=ids.item_id("agency", guid="g-1"),
        version=1,
        fetched_at=T,
        content_hash=ids.content_hash("text"),
        published=T - timedelta(hours=1),
    )
    return replace(item, **changes)  # type: ignore[arg-type]


def _key(content: datetime, observed: datetime, item: str = "i", digest: str = "h", tv: str = "1.0") -> str:
    return derivation_key(
        content_time=content, observed_at=observed, item_id=item, content_hash=digest, transform_version=tv
    )


def test_content_time_then_observation_then_transform_version() -> None:
    later_content = _key(T + timedelta(minutes=1), T, tv="1.0")
    later_fetch = _key(T, T + timedelta(minutes=5), tv="1.0")
    newer_transform = _key(T, T, tv="1.10")
    base = _key(T, T, tv="1.9")
    assert base < newer_transform < later_fetch < later_content


def test_the_tie_break_is_deterministic_and_below_the_times() -> None:
    a, b = _key(T, T, item="feed-a"), _key(T, T, item="feed-b")
    assert a != b
    assert a == _key(T, T, item="feed-a")
    assert max(a, b) < _key(T, T + timedelta(microseconds=1), item="feed-a")


def test_content_time_is_the_later_feed_date_never_after_the_fetch() -> None:
    assert content_time(T - timedelta(hours=2), T - timedelta(hours=1), T) == T - timedelta(hours=1)
    assert content_time(T - timedelta(hours=2), None, T) == T - timedelta(hours=2)
    # An "updated" before "published" is a CMS artefact: the later date counts.
    assert content_time(T - timedelta(hours=1), T - timedelta(hours=3), T) == T - timedelta(hours=1)
    assert content_time(None, None, T) == T
    assert content_time(T + timedelta(days=365), None, T) == T


def test_a_raw_items_key_depends_only_on_its_content_dates_fetch_and_the_transform() -> None:
    raw = _raw()
    key = raw_item_key(raw, "2026.1.0")
    # Not on its per-feed version number, its trace id, or anything else ingest may vary.
    assert raw_item_key(replace(raw, version=9, trace_id="t"), "2026.1.0") == key
    assert raw_item_key(raw, "2026.1.1") > key
    assert raw_item_key(replace(raw, fetched_at=T + timedelta(seconds=1)), "2026.1.0") > key
    assert raw_item_key(replace(raw, content_hash="other"), "2026.1.0") != key


def test_fields_keep_their_width_so_bytes_order_like_the_tuple() -> None:
    early = _key(datetime(999, 1, 1, tzinfo=UTC), datetime(999, 1, 1, tzinfo=UTC))
    late = _key(T, T.replace(microsecond=0))
    assert len(early.split(" ")[1]) == len(late.split(" ")[1]) == len("2024-03-06T10:00:00.000000Z")
    assert early < late
    # A non-UTC datetime is the same instant.
    assert _key(T.astimezone(timezone(timedelta(hours=5))), T) == _key(T, T)


def test_legacy_keys_keep_their_old_order_below_every_keyed_derivation() -> None:
    assert legacy_key(2, "2026.1.0") > legacy_key(1, "2027.1.0")
    assert legacy_key(1, "2026.1.10") > legacy_key(1, "2026.1.9")
    assert legacy_key(10, "1") > legacy_key(9, "1")
    assert legacy_key(999, "9999") < _key(datetime(1, 1, 1, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC))


def test_keys_use_only_printable_ascii() -> None:
    for key in (transform_sort_key("2026.11.1-β\x00 x"), raw_item_key(_raw(item_id="é\x00"), "1.β")):
        assert all(0x20 <= ord(ch) <= 0x7E for ch in key)
