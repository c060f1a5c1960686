"""Transform and sink workers on a real broker: poison to the DLQ, good items through, redrive, replay."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from app import commands
from ingest.parser import parse_feed
from sinks.service import SinkStage
from tests.conftest import SEED, serve_page
from transform.service import TransformStage
from wiredesk import bus, ids, records
from wiredesk.metrics import Metrics
from wiredesk.records import RawItem
from wiredesk.service import ServiceRunner
from wiredesk.settings import Settings

pytestmark = pytest.mark.integration


def seed_item(**changes: object) -> RawItem:
    """The seed story as ingest publishes it from the seed feed (full text in the item)."""
    feed = (SEED / "agency-feed.rss.xml").read_bytes()
    (item,) = parse_feed(feed, feed_id="seed", fetched_at=datetime.now(UTC)).items
    return replace(item, **changes)  # type: ignore[arg-type]


def publish(settings: Settings, topic: str, entries: list[tuple[bytes, bytes]]) -> None:
    bus.ensure_topics(settings.kafka)
    publisher = bus.Publisher(settings.kafka, "test", Metrics())
    publisher.publish(topic, [(k, v, bus.record_headers("test", 1, "test", "trace-x")) for k, v in entries])
    publisher.close()


def run_until(stage: object, done: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    runner = ServiceRunner("t", [stage], Metrics(), metrics_port=None)  # type: ignore[list-item]
    assert runner.run(until=lambda: done() or time.monotonic() > deadline) == 0
    assert time.monotonic() <= deadline, "condition not reached in time"


def read_all(settings: Settings, topic: str) -> list[bus.Message]:
    return list(bus.read_topic(settings.kafka, topic))


def test_transform_dead_letters_poison_and_publishes_the_rest(kafka_settings: Settings) -> None:
    k = kafka_settings.kafka
    good = seed_item()
    publish(
        kafka_settings,
        k.raw_topic,
        [
            (b"bad-1", b"{not json"),
            (b"bad-2", b'{"feed_id": 3}'),
            (records.record_key(good), records.dumps(good)),
        ],
    )
    metrics = Metrics()
    stage = TransformStage(kafka_settings, metrics)
    run_until(stage, lambda: sum(stage.committed_positions.values()) >= 3)

    dead = read_all(kafka_settings, k.dlq_topic)
    assert sorted(m.key for m in dead) == [b"bad-1", b"bad-2"]
    for message in dead:
        assert message.header(bus.H_ERROR_CLASS) == "RecordError"
        assert message.header(bus.H_ERROR_STAGE) == "transform"
        assert message.header(bus.H_SOURCE_TOPIC) == k.raw_topic
        assert message.header(bus.H_SOURCE_OFFSET).isdigit()
        assert message.header(bus.H_TRACE) == "trace-x"
    articles = [
        records.loads(records.Article, m.value or b"") for m in read_all(kafka_settings, k.articles_topic)
    ]
    assert len(articles) == 1
    assert articles[0].wiredesk.agency == "ANI"
    assert (
        metrics.registry.get_sample_value(
            "wiredesk_dlq_messages_total", {"stage": "transform", "error": "RecordError"}
        )
        == 2
    )


def test_items_skipped_on_purpose_are_counted_not_dead_lettered(kafka_settings: Settings) -> None:
    # "No title and no body" is an outcome of a healthy transform, not poison: nothing to redrive.
    k = kafka_settings.kafka
    empty = RawItem(
        feed_id="seed",
        item_id=ids.item_id("seed", guid="empty-1"),
        version=1,
        fetched_at=datetime.now(UTC),
        content_hash=ids.content_hash(""),
        guid="empty-1",
    )
    good = seed_item()
    publish(
        kafka_settings,
        k.raw_topic,
        [(records.record_key(empty), records.dumps(empty)), (records.record_key(good), records.dumps(good))],
    )
    metrics = Metrics()
    stage = TransformStage(kafka_settings, metrics)
    run_until(stage, lambda: sum(stage.committed_positions.values()) >= 2)

    assert read_all(kafka_settings, k.dlq_topic) == []
    assert len(read_all(kafka_settings, k.articles_topic)) == 1

    def items(outcome: str) -> float | None:
        return metrics.registry.get_sample_value("wiredesk_transform_items_total", {"outcome": outcome})

    assert (items("skipped"), items("dead_lettered"), items("ok")) == (1, 0, 1)
    assert metrics.registry.get_sample_value(
        "wiredesk_dlq_messages_total", {"stage": "transform", "error": "SkipItem"}
    ) in (None, 0)


def test_sink_stores_idempotently_and_dead_letters_undecodable(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    k = kafka_settings.kafka
    transform = TransformStage(kafka_settings, Metrics())
    transform.start_without_group()
    from transform.pipeline import derive_article
    from transform.stories import MemoryStoryIndex

    article = derive_article(seed_item(), story_index=MemoryStoryIndex(), now=datetime.now(UTC))
    transform.close()
    value = records.dumps(article)
    publish(
        kafka_settings,
        k.articles_topic,
        [(b"x", b"\xff\xfe"), (article.uri.encode(), value), (article.uri.encode(), value)],
    )
    metrics = Metrics()
    stage = SinkStage(kafka_settings, metrics)
    run_until(stage, lambda: sum(stage.committed_positions.values()) >= 3)

    from sinks.sqlite import SqliteSink

    store = SqliteSink(kafka_settings.data_path(kafka_settings.sink.sqlite_path, "wiredesk.sqlite"))
    store.open()
    try:
        assert store.count() == 1
        assert store.get(article.uri) == article
    finally:
        store.close()
    dead = read_all(kafka_settings, k.dlq_topic)
    assert [m.key for m in dead] == [b"x"]
    assert dead[0].header(bus.H_ERROR_STAGE) == "sink"
    assert (
        metrics.registry.get_sample_value(
            "wiredesk_sink_writes_total", {"sink": "sqlite", "outcome": "inserted"}
        )
        == 1
    )


def test_dlq_redrive_sends_dead_letters_back_once(
    kafka_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    k = kafka_settings.kafka
    publish(kafka_settings, k.raw_topic, [(b"poison", b"[]")])
    stage = TransformStage(kafka_settings, Metrics())
    run_until(stage, lambda: sum(stage.committed_positions.values()) >= 1)
    assert len(read_all(kafka_settings, k.dlq_topic)) == 1

    assert commands.dlq_redrive(kafka_settings, error_class="RecordError", stage=None, dry_run=False) == 0
    assert commands.dlq_redrive(kafka_settings, error_class=None, stage=None, dry_run=False) == 0
    raw = read_all(kafka_settings, k.raw_topic)
    assert [m.value for m in raw] == [b"[]", b"[]"]  # the original and exactly one redrive
    assert raw[1].header(bus.H_REDRIVES) == "1"
    assert raw[1].header(bus.H_PRODUCER) == "dlq-redrive"
    assert "redrove 1 dead letters" in capsys.readouterr().err


def test_replay_rederives_retained_raw_items(kafka_settings: Settings) -> None:
    k = kafka_settings.kafka
    item = seed_item()
    publish(kafka_settings, k.raw_topic, [(records.record_key(item), records.dumps(item))])
    assert commands.replay_transform(kafka_settings, since="2000-01-01T00:00:00Z") == 0
    articles = read_all(kafka_settings, k.articles_topic)
    assert len(articles) == 1
    data = orjson.loads(articles[0].value or b"")
    assert data["wiredesk"]["item_id"] == item.item_id


def test_teaser_items_get_their_full_text_from_the_page(kafka_settings: Settings) -> None:
    with serve_page((SEED / "agency-article-page.html").read_bytes()) as base:
        url = f"{base}/international/story/"
        teaser = seed_item(
            content="",
            link=url,
            title="Blinken accepts invitation to meet Lavrov",
            fetch_full_text=True,
            summary="Russian Foreign Minister Sergey Lavrov has proposed dates for holding a meeting...",
        )
        k = kafka_settings.kafka
        publish(kafka_settings, k.raw_topic, [(records.record_key(teaser), records.dumps(teaser))])
        stage = TransformStage(kafka_settings, Metrics())
        run_until(stage, lambda: sum(stage.committed_positions.values()) >= 1)
    articles = [
        records.loads(records.Article, m.value or b"") for m in read_all(kafka_settings, k.articles_topic)
    ]
    assert len(articles) == 1
    assert len(articles[0].paragraphs) == 8
    assert not articles[0].wiredesk.quality.teaser_only
