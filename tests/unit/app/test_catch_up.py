"""The embedded catch-up: which ledger items to publish again after the broker forgot its topics."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from app.runner import CatchUp
from ingest.state import IngestState
from sinks.service import SinkStage
from sinks.sqlite import SqliteSink
from tests.unit.sinks.sink_articles import build_article
from wiredesk import ids
from wiredesk.metrics import Metrics
from wiredesk.records import RawItem
from wiredesk.settings import load_settings


def _raw(n: int) -> RawItem:
    link = f"https://news.test/world/story-{n}"
    return RawItem(
        feed_id="feed-a",
        item_id=ids.item_id("feed-a", link=link),
        version=1,
        fetched_at=datetime.now(UTC),
        content_hash=ids.content_hash(str(n)),
        link=link,
        title=f"Story number {n}",
    )


def test_catch_up_yields_in_chunks_only_what_no_store_dealt_with(tmp_path: Path) -> None:
    settings = load_settings(environ={"WIREDESK_DATA_DIR": str(tmp_path)})
    with IngestState(settings.data_path(settings.ingest.state_path, "ingest.sqlite")) as state:
        published = [item for _, item in state.classify_all([_raw(n) for n in range(1_200)])]
        state.mark_published(published)
        state.classify(_raw(5_000))  # pending, never published: not ours to re-publish

    sink = SinkStage(settings, Metrics(), record_dead_letters=True)
    sink.open()
    try:
        (store,) = sink.sinks
        assert isinstance(store, SqliteSink)
        store.write_batch([build_article(n) for n in range(300)])  # stored
        store.record_dead_lettered([(item.item_id, 1) for item in published[300:400]])  # dead-lettered
        chunks = list(CatchUp(settings, sink))
        again = list(CatchUp(settings, sink))  # a retried start iterates afresh
    finally:
        sink.close()

    assert all(len(chunk) <= CatchUp.CHUNK for chunk in chunks)
    assert [item.item_id for chunk in chunks for item in chunk] == [item.item_id for item in published[400:]]
    assert [len(chunk) for chunk in again] == [len(chunk) for chunk in chunks]


def test_catch_up_without_a_ledger_yields_nothing(tmp_path: Path) -> None:
    settings = load_settings(environ={"WIREDESK_DATA_DIR": str(tmp_path)})
    sink = SinkStage(settings, Metrics())
    try:
        assert list(CatchUp(settings, sink)) == []
    finally:
        sink.close()
