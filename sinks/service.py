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


class SinkStage:
    name = SERVICE

    def __init__(self, settings: Settings, metrics: Metrics, sinks: Sequence[Sink] | None = None) -> None:
        self.settings = settings
        self.metrics = metrics
        self.sinks = list(sinks) if sinks is not None else build_sinks(settings)
        self.group = group_for(self.sinks)
        self._subscription: bus.Subscription | None = None
        self._publisher: bus.Publisher | None = None
        self._opened = False

    def open_sinks(self) -> None:
        """Open every sink once; start() and the embedded catch-up both come through here."""
        if self._opened:
            return
        for sink in self.sinks:
            self._guard(sink.open, sink.name)
            self.metrics.init_sink(sink.name)
        self._opened = True

    def stored_item_versions(self) -> set[tuple[str, int]]:
        """(item_id, item_version) that any of the stores has already processed."""
        self.open_sinks()
        stored: set[tuple[str, int]] = set()
        for sink in self.sinks:
            if isinstance(sink, ArticleStore):
                stored |= sink.stored_item_versions()
        return stored

    def start(self) -> None:
        kafka = self.settings.kafka
        bus.ensure_topics(kafka)
        self.open_sinks()
        self._publisher = bus.Publisher(kafka, SERVICE, self.metrics)
        self._subscription = bus.Subscription(kafka, self.group, [kafka.articles_topic], self.metrics)
        log.info("sink group %s writing to %s", self.group, ", ".join(s.name for s in self.sinks))

    def ready(self) -> bool:
        return self._subscription is not None

    @property
    def committed_positions(self) -> dict[tuple[str, int], int]:
        return self._subscription.committed_positions if self._subscription else {}

    def step(self, stop: threading.Event) -> bool:
        assert self._subscription is not None
        batch = self._gather(stop)
        if not batch:
            self._subscription.update_lag()
            return False
        self._subscription.handle_then_commit(batch, self.write)
        return True

    def _gather(self, stop: threading.Event) -> list[bus.Message]:
        assert self._subscription is not None
        limit = self.settings.sink.batch_size
        deadline = time.monotonic() + self.settings.sink.batch_timeout_seconds
        batch = self._subscription.poll(timeout_ms=200, max_records=limit)
        # Keep filling a started batch until it is full or old enough: bigger transactions are
        # what make the stores fast, and the timeout bounds the added latency.
        while batch and len(batch) < limit and not stop.is_set():
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0:
                break
            more = self._subscription.poll(timeout_ms=min(remaining_ms, 100), max_records=limit - len(batch))
            if not more:
                break
            batch.extend(more)
        return batch

    def write(self, messages: Sequence[bus.Message]) -> None:
        """Decode, write to every sink, flush; raises a retriable error if a store is down."""
        articles: list[Article] = []
        dead: list[tuple[bytes, bytes, list[tuple[str, bytes]]]] = []
        by_uri: dict[str, bus.Message] = {}
        for message in messages:
            try:
                if message.value is None:
                    raise RecordError("empty message value (tombstone) on the articles topic")
                article = records.loads(Article, message.value)
            except RecordError as exc:
                self.metrics.decode_errors.labels(message.topic).inc()
                dead.append(self._dead_letter(message, exc))
                continue
            articles.append(article)
            by_uri[article.uri] = message
        for sink in self.sinks:
            started = time.perf_counter()
            result = self._write_one(sink, articles, by_uri, dead)
            self._guard(sink.flush, sink.name)
            self.metrics.sink_batch_seconds.labels(sink.name).observe(time.perf_counter() - started)
            self.metrics.sink_writes.labels(sink.name, "inserted").inc(result.inserted)
            self.metrics.sink_writes.labels(sink.name, "updated").inc(result.updated)
            self.metrics.sink_writes.labels(sink.name, "unchanged").inc(
                result.unchanged + result.stale_skipped
            )
        if dead:
            assert self._publisher is not None
            self._publisher.publish(self.settings.kafka.dlq_topic, dead)

    def _write_one(
        self,
        sink: Sink,
        articles: list[Article],
        by_uri: dict[str, bus.Message],
        dead: list[tuple[bytes, bytes, list[tuple[str, bytes]]]],
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
                dead.append(self._dead_letter(by_uri[article.uri], exc))
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

    def _dead_letter(
        self, message: bus.Message, error: BaseException
    ) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
        self.metrics.dead_letters.labels(SERVICE, type(error).__name__).inc()
        log.warning(
            "dead-lettering %s[%d]@%d: %s",
            message.topic,
            message.partition,
            message.offset,
            error,
            extra=bus.log_context(message),
        )
        return (
            message.key or b"",
            message.value or b"",
            bus.dead_letter_headers(message, error, SERVICE, SERVICE),
        )

    def drain(self) -> None:
        for sink in self.sinks:
            try:
                sink.flush()
            except SinkError:
                log.exception("sink %s failed to flush at shutdown", sink.name)

    def close(self) -> None:
        if self._subscription is not None:
            self._subscription.close()
        if self._publisher is not None:
            self._publisher.close()
        for sink in self.sinks:
            sink.close()
