from __future__ import annotations

from dataclasses import FrozenInstanceError, replace
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from wiredesk import ids, records
from wiredesk.records import Article, Enclosure, Entity, FeedMeta, Provenance, Quality, RawItem, RecordError

NOW = datetime(2022, 2, 18, 2, 50, tzinfo=UTC)


def raw_item(**changes: object) -> RawItem:
    base = RawItem(
        feed_id="wire",
        item_id=ids.item_id("wire", guid="g-1"),
        version=1,
        fetched_at=NOW,
        content_hash=ids.content_hash("t", "c"),
        guid="g-1",
        link="https://example.org/a?utm_source=x",
        title="Title",
        content="<p>Body</p>",
        authors=("ANI",),
        categories=("Moscow", "Twitter"),
        enclosures=(Enclosure("https://example.org/a.jpg", "image/jpeg", 123),),
        published=NOW,
        feed=FeedMeta(title="Wire", link="https://example.org/", language="en"),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def article(**changes: object) -> Article:
    base = Article(
        uri=ids.article_uri("https://example.org/a", "item-x"),
        version=2,
        headline="Headline",
        body_text="One.\n\nTwo.",
        wiredesk=Provenance(
            feed_id="wire",
            item_id="item-x",
            item_version=2,
            transform_version="2026.11.1",
            ingested_at=NOW,
            agency="ANI",
            quality=Quality(missing_date=True),
        ),
        versioncreated=NOW,
        person=(Entity("Sergey Lavrov"),),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_raw_item_round_trips_through_bytes() -> None:
    item = raw_item()
    assert records.loads(RawItem, records.dumps(item)) == item


def test_article_round_trips_and_paragraphs_split() -> None:
    art = article()
    again = records.loads(Article, records.dumps(art))
    assert again == art
    assert again.paragraphs == ["One.", "Two."]


def test_datetimes_serialise_as_utc_z() -> None:
    data = orjson.loads(records.dumps(raw_item()))
    assert data["fetched_at"] == "2022-02-18T02:50:00Z"


def test_non_utc_input_is_normalised_to_utc() -> None:
    data = orjson.loads(records.dumps(raw_item()))
    data["published"] = "2022-02-18T08:20:00+05:30"
    item = records.from_dict(RawItem, data)
    assert item.published == NOW
    assert item.published is not None and item.published.utcoffset() == timedelta(0)


def test_records_are_frozen() -> None:
    with pytest.raises(FrozenInstanceError):
        raw_item().title = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"feed_id": "f"}', "missing"),
    ],
)
def test_malformed_values_raise_record_error(value: bytes, message: str) -> None:
    with pytest.raises(RecordError, match=message):
        records.loads(RawItem, value)


def test_wrong_scalar_type_is_rejected() -> None:
    data = orjson.loads(records.dumps(raw_item()))
    data["version"] = "2"
    with pytest.raises(RecordError, match="version"):
        records.from_dict(RawItem, data)
    data["version"] = True
    with pytest.raises(RecordError, match="version"):
        records.from_dict(RawItem, data)


def test_naive_datetime_is_rejected() -> None:
    data = orjson.loads(records.dumps(raw_item()))
    data["published"] = "2022-02-18T08:20:00"
    with pytest.raises(RecordError, match="naive"):
        records.from_dict(RawItem, data)


def test_unknown_fields_are_ignored_for_additive_evolution() -> None:
    data = orjson.loads(records.dumps(article()))
    data["added_in_v1_5"] = {"x": 1}
    data["wiredesk"]["new_fact"] = True
    assert records.from_dict(Article, data) == article()


def test_key_is_the_record_id() -> None:
    item = raw_item()
    assert records.record_key(item) == item.item_id.encode()
    art = article()
    assert records.record_key(art) == art.uri.encode()


def test_utc_helper_rejects_naive_and_converts_aware() -> None:
    with pytest.raises(RecordError):
        records.utc(datetime(2022, 1, 1))
    ist = timezone(timedelta(hours=5, minutes=30))
    assert records.utc(datetime(2022, 2, 18, 8, 20, tzinfo=ist)) == NOW
