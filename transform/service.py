"""The transform worker: consume raw items, derive articles, produce them, then commit.

Offsets are committed only after every article (and dead letter) of the batch was acknowledged by
the broker, so a crash re-delivers rather than loses; the sinks' version guard makes the repeat
harmless. One bad item is dead-lettered with its error and the batch goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from transform.fulltext import PageFetcher
from transform.pipeline import TRANSFORM_VERSION, SkipItem, derive_article, needs_full_text
from transform.stories import StoryIndex, open_story_index
from wiredesk import bus, records
from wiredesk.errors import WiredeskError
from wiredesk.http import HttpClient
from wiredesk.metrics import QUALITY_SIGNALS, Metrics
from wiredesk.records import Article, RawItem, RecordError
from wiredesk.settings import Settings

log = logging.getLogger(__name__)

GROUP = "wiredesk-transform"
SERVICE = "transform"


class TransformStage:
    name = SERVICE

    def __init__(self, settings: Settings, metrics: Metrics, *, group: str = GROUP) -> None:
        self.settings = settings
        self.metrics = metrics
        self.group = group
        self._subscription: bus.Subscription | None = None
        self._publisher: bus.Publisher | None = None
        self._stories: StoryIndex | None = None
        self._pages: PageFetcher | None = None
        self.produced_positions: dict[tuple[str, int], int] = {}

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        self.start_producing_only()
        kafka = self.settings.kafka
        self._subscription = bus.Subscription(kafka, self.group, [kafka.raw_topic], self.metrics)
        log.info("transform %s consuming %s", TRANSFORM_VERSION, kafka.raw_topic)

    def start_producing_only(self) -> None:
        """Start without joining the group: for `wiredesk replay`, which reads partitions itself."""
        bus.ensure_topics(self.settings.kafka)
        self._stories = open_story_index(self.settings)
        self._publisher = bus.Publisher(self.settings.kafka, SERVICE, self.metrics)
        if self.settings.transform.fetch_full_text:
            http = HttpClient(self.settings.http)
            self._pages = PageFetcher.from_settings(http, self.metrics, self.settings.transform)

    def ready(self) -> bool:
        return self._subscription is not None

    @property
    def committed_positions(self) -> dict[tuple[str, int], int]:
        return self._subscription.committed_positions if self._subscription else {}

    def step(self, stop: threading.Event) -> bool:
        assert self._subscription is not None
        messages = self._subscription.poll(timeout_ms=200)
        if not messages:
            self._subscription.update_lag()
            return False
        self._subscription.handle_then_commit(messages, self.process_batch)
        return True

    def drain(self) -> None:
        # Each step commits what it produced before returning, so nothing is in flight here.
        return

    def close(self) -> None:
        if self._subscription is not None:
            self._subscription.close()
        if self._publisher is not None:
            self._publisher.close()
        close = getattr(self._stories, "close", None)
        if close is not None:
            close()

    # -- the work -------------------------------------------------------------------------
    def process_batch(self, messages: Sequence[bus.Message]) -> None:
        """Derive and publish a batch; returns once every output was acknowledged."""
        assert self._publisher is not None
        kafka = self.settings.kafka
        articles: list[tuple[bytes, bytes, list[tuple[str, bytes]]]] = []
        dead: list[tuple[bytes, bytes, list[tuple[str, bytes]]]] = []
        decoded: list[tuple[bus.Message, RawItem]] = []
        for message in messages:
            try:
                decoded.append((message, self._decode(message)))
            except Exception as exc:  # noqa: BLE001 - a value that does not decode is poison
                dead.append(self._dead_letter(message, exc))
        # The batch's pages all at once, under one deadline inside the max poll interval.
        pages = self._pages.fetch(raw for _, raw in decoded if needs_full_text(raw)) if self._pages else {}
        for message, raw in decoded:
            started = time.perf_counter()
            try:
                article = self._derive(raw, pages.get(raw))
            except SkipItem as skip:
                # Skipped on purpose (nothing usable in the item): an outcome, not poison.
                self.metrics.transform_items.labels("skipped").inc()
                log.info("skipping %s[%d]@%d: %s", message.topic, message.partition, message.offset,
                         skip.reason, extra=bus.log_context(message))  # fmt: skip
                continue
            except WiredeskError as exc:
                if exc.retriable:
                    raise
                dead.append(self._dead_letter(message, exc))
                continue
            except Exception as exc:  # noqa: BLE001 - poison input of any kind is dead-lettered
                dead.append(self._dead_letter(message, exc))
                continue
            trace = message.header(bus.H_TRACE) or article.wiredesk.trace_id
            articles.append(
                (
                    records.record_key(article),
                    records.dumps(article),
                    bus.record_headers(Article.SCHEMA, Article.SCHEMA_VERSION, SERVICE, trace),
                )
            )
            self._count_article(article)
            self.metrics.transform_step_seconds.labels("total").observe(time.perf_counter() - started)
        produce_started = time.perf_counter()
        for topic, entries in ((kafka.articles_topic, articles), (kafka.dlq_topic, dead)):
            for partition, offset in self._publisher.publish(topic, entries):
                key = (topic, partition)
                self.produced_positions[key] = max(self.produced_positions.get(key, 0), offset + 1)
        self.metrics.transform_step_seconds.labels("produce").observe(time.perf_counter() - produce_started)

    def _decode(self, message: bus.Message) -> RawItem:
        started = time.perf_counter()
        if message.value is None:
            raise RecordError("empty message value (tombstone) on the raw topic")
        raw = records.loads(RawItem, message.value)
        self.metrics.transform_step_seconds.labels("decode").observe(time.perf_counter() - started)
        return raw

    def _derive(self, raw: RawItem, page_html: str | None) -> Article:
        started = time.perf_counter()
        assert self._stories is not None
        try:
            article = derive_article(
                raw,
                story_index=self._stories,
                now=datetime.now(UTC),
                page_html=page_html,
                future_skew_seconds=self.settings.transform.future_skew_seconds,
            )
        finally:
            self.metrics.transform_step_seconds.labels("derive").observe(time.perf_counter() - started)
        return article

    def _dead_letter(
        self, message: bus.Message, error: BaseException
    ) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
        self.metrics.transform_items.labels("dead_lettered").inc()
        self.metrics.dead_letters.labels(SERVICE, type(error).__name__).inc()
        if isinstance(error, RecordError):
            self.metrics.decode_errors.labels(message.topic).inc()
        log.warning(
            "dead-lettering %s[%d]@%d: %s: %s",
            message.topic,
            message.partition,
            message.offset,
            type(error).__name__,
            error,
            extra=bus.log_context(message),
        )
        return (
            message.key or b"",
            message.value or b"",
            bus.dead_letter_headers(message, error, SERVICE, SERVICE),
        )

    def _count_article(self, article: Article) -> None:
        feed = article.wiredesk.feed_id
        self.metrics.transform_items.labels("ok").inc()
        self.metrics.transform_articles.labels(feed).inc()
        quality: Any = article.wiredesk.quality
        for signal in QUALITY_SIGNALS:
            if getattr(quality, signal):
                self.metrics.transform_quality.labels(feed, signal).inc()
