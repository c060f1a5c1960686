"""The batching sink consumer: articles in, durable writes, then (and only then) a commit.

A batch is gathered up to `sink.batch_size` articles or `sink.batch_timeout_seconds`, written to
every configured sink and flushed; only after every flush returned are the input offsets
committed. A record that cannot be decoded or stored is dead-lettered and the batch goes on.
"""

from __future__ import annotations

import logging
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
from wiredesk.records import Article, RecordError
from wiredesk.settings import Settings

log = logging.getLogger(__name__)

SERVICE = "sink"
T = TypeVar("T")


def group_for(sinks: Sequence[Sink]) -> str:
    """One consumer group per set of sinks: storage and search may run as separate groups."""
    return "wiredesk-sink-" + "-".join(sorted(s.name for s in sinks))


class SinkStage(ConsumerStage):
    name = SERVICE

    def __init__(self, settings: Settings, metrics: Metrics, sinks: Sequence[Sink] | None = None) -> None:
        chosen = list(sinks) if sinks is not None else build_sinks(settings)
        super().__init__(
            settings,
            metrics,
            group=group_for(chosen),
            topics=[settings.kafka.articles_topic],
            batch_size=settings.sink.batch_size,
            linger_s=settings.sink.batch_timeout_seconds,
        )
        self.sinks = chosen
        self._opened = False

    def open(self) -> None:
        """Open every sink once; start() and the embedded catch-up both come through here."""
        if self._opened:
            return
        for sink in self.sinks:
            self._guard(sink.open, sink.name)
            self.metrics.init_sink(sink.name)
        self._opened = True

    def stored_item_versions(self) -> set[tuple[str, int]]:
        """(item_id, item_version) that any of the stores has already processed."""
        self.open()
        stored: set[tuple[str, int]] = set()
        for sink in self.sinks:
            if isinstance(sink, ArticleStore):
                stored |= sink.stored_item_versions()
        return stored

    def handle(self, messages: Sequence[bus.Message]) -> list[Rejected]:
        """Decode, write to every sink, flush; raises a retriable error if a store is down."""
        articles: list[Article] = []
        rejected: list[Rejected] = []
        by_uri: dict[str, bus.Message] = {}
        for message in messages:
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
        return rejected

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
        for sink in self.sinks:
            sink.close()
        self._opened = False
