"""The batching sink consumer: articles in, durable writes, then (and only then) a commit.

A batch is gathered up to `sink.batch_size` articles or `sink.batch_timeout_seconds`, written to
every configured sink and flushed; only after every flush returned are the input offsets
committed. A record that cannot be decoded or stored is dead-lettered and the batch goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import TypeVar

from sinks.base import ArticleStore, Sink, SinkError, SinkRecordError, WriteResult
from sinks.factory import build_sinks
from wiredesk import bus, records
from wiredesk.consumer_stage import ConsumerStage
from wiredesk.deadletters import Rejected
from wiredesk.errors import InfrastructureError
from wiredesk.metrics import Metrics
from wiredesk.records import Article, RawItem, RecordError
from wiredesk.settings import KafkaSettings, Settings

log = logging.getLogger(__name__)

SERVICE = "sink"
T = TypeVar("T")


def group_for(sinks: Sequence[Sink], kafka: KafkaSettings) -> str:
    """One consumer group per set of sinks: storage and search may run as separate groups."""
    return kafka.group("sink-" + "-".join(sorted(s.name for s in sinks)))


class SinkStage(ConsumerStage):
    name = SERVICE

    def __init__(
        self,
        settings: Settings,
        metrics: Metrics,
        sinks: Sequence[Sink] | None = None,
        *,
        record_dead_letters: bool = False,
    ) -> None:
        """`record_dead_letters`: also consume the DLQ and note its item versions as dealt with.

        The embedded runner needs this: its broker keeps topics in memory only, so at each start
        it re-publishes from ingest's ledger whatever the stores have not dealt with, and a
        version transform dead-lettered must count as dealt with or it would be re-published
        (and dead-lettered) on every start. The sink is where that record belongs: it already
        owns the ledger of processed versions, it writes it durably before committing, and
        transform stays free of local state, so any number of transform workers can run.
        """
        chosen = list(sinks) if sinks is not None else build_sinks(settings)
        kafka = settings.kafka
        super().__init__(
            settings,
            metrics,
            group=group_for(chosen, kafka),
            topics=[kafka.articles_topic, *([kafka.dlq_topic] if record_dead_letters else [])],
            batch_size=settings.sink.batch_size,
            linger_s=settings.sink.batch_timeout_seconds,
        )
        self.sinks = chosen
        self._opened = False
        self._released = False
        # The embedded catch-up asks the stores from ingest's thread while this stage starts.
        self._open_lock = threading.Lock()

    def open(self) -> None:
        """Open every sink once; start() and the embedded catch-up both come through here."""
        with self._open_lock:
            if self._released:
                raise InfrastructureError("the sink stage has stopped")
            if self._opened:
                return
            for sink in self.sinks:
                self._guard(sink.open, sink.name)
                self.metrics.init_sink(sink.name)
            self._opened = True

    def processed_among(self, versions: Sequence[tuple[str, int]]) -> set[tuple[str, int]]:
        """Those (item_id, item_version) any store has processed or recorded as dead-lettered."""
        self.open()
        found: set[tuple[str, int]] = set()
        for name, store in self._stores():
            found |= self._guard(partial(store.processed_among, versions), name)
        return found

    def _stores(self) -> list[tuple[str, ArticleStore]]:
        return [(sink.name, sink) for sink in self.sinks if isinstance(sink, ArticleStore)]

    def handle(self, messages: Sequence[bus.Message]) -> list[Rejected]:
        """Decode, write to every sink, flush; raises a retriable error if a store is down."""
        articles: list[Article] = []
        rejected: list[Rejected] = []
        by_uri: dict[str, bus.Message] = {}
        dead_lettered: list[tuple[str, int]] = []
        for message in messages:
            if message.topic == self.settings.kafka.dlq_topic:
                version = self._dead_lettered_version(message)
                if version is not None:
                    dead_lettered.append(version)
                continue
            try:
                if message.value is None:
                    raise RecordError("empty message value (tombstone) on the articles topic")
                article = records.loads(Article, message.value)
            except RecordError as exc:
                rejected.append(Rejected(message, exc))
                continue
            articles.append(article)
            by_uri[article.uri] = message
        for sink in self.sinks:
            started = time.perf_counter()
            result = self._write_one(sink, articles, by_uri, rejected)
            self._guard(sink.flush, sink.name)
            self.metrics.sink_batch_seconds.labels(sink.name).observe(time.perf_counter() - started)
            self.metrics.sink_writes.labels(sink.name, "inserted").inc(result.inserted)
            self.metrics.sink_writes.labels(sink.name, "updated").inc(result.updated)
            self.metrics.sink_writes.labels(sink.name, "unchanged").inc(
                result.unchanged + result.stale_skipped
            )
        if dead_lettered:
            for name, store in self._stores():
                self._guard(partial(store.record_dead_lettered, dead_lettered), name)
        return rejected

    def _dead_lettered_version(self, letter: bus.Message) -> tuple[str, int] | None:
        """The item version a dead letter stands for, if it names one.

        A letter is never dead-lettered again: one that does not decode (poison that was never
        an item, so never in ingest's ledger either) is passed over.
        """
        kind = {self.settings.kafka.raw_topic: RawItem, self.settings.kafka.articles_topic: Article}.get(
            letter.header(bus.H_SOURCE_TOPIC)
        )
        if kind is None or letter.value is None:
            return None
        try:
            record = records.loads(kind, letter.value)
        except RecordError:
            return None
        if isinstance(record, Article):
            return record.wiredesk.item_id, record.wiredesk.item_version
        return record.item_id, record.version

    def _write_one(
        self,
        sink: Sink,
        articles: list[Article],
        by_uri: dict[str, bus.Message],
        rejected: list[Rejected],
    ) -> WriteResult:
        try:
            return self._guard(lambda: sink.write_batch(articles), sink.name)
        except SinkRecordError as exc:
            # One article the store refuses: write the others one by one so it alone is dropped.
            log.warning("sink %s refused a record (%s); writing the batch one by one", sink.name, exc)
        total = WriteResult()
        for article in articles:
            try:
                total = total + self._guard(partial(sink.write_batch, [article]), sink.name)
            except SinkRecordError as exc:
                self.metrics.sink_writes.labels(sink.name, "failed").inc()
                rejected.append(Rejected(by_uri[article.uri], exc))
        return total

    @staticmethod
    def _guard(call: Callable[[], T], sink_name: str) -> T:
        try:
            return call()
        except SinkRecordError:
            raise
        except SinkError as exc:
            if exc.retriable:
                raise InfrastructureError(f"sink {sink_name}: {exc}") from exc
            raise

    def drain(self) -> None:
        for sink in self.sinks:
            try:
                sink.flush()
            except SinkError:
                log.exception("sink %s failed to flush at shutdown", sink.name)

    def release(self) -> None:
        with self._open_lock:
            for sink in self.sinks:
                sink.close()
            self._opened = False
            self._released = True
