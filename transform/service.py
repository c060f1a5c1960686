"""The transform worker: consume raw items, derive articles, produce them, then commit.

Offsets are committed only after every article (and dead letter) of the batch was acknowledged by
the broker, so a crash re-delivers rather than loses; the sinks' version guard makes the repeat
harmless. One bad item is dead-lettered with its error and the batch goes on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from transform.fulltext import PageFetcher
from transform.pipeline import TRANSFORM_VERSION, SkipItem, derive_article, needs_full_text
from transform.stories import StoryIndex, open_story_index
from wiredesk import bus, records
from wiredesk.consumer_stage import ConsumerStage
from wiredesk.deadletters import Entry, Rejected
from wiredesk.errors import WiredeskError
from wiredesk.http import HttpClient
from wiredesk.metrics import QUALITY_SIGNALS, Metrics
from wiredesk.records import Article, RawItem, RecordError
from wiredesk.settings import Settings

log = logging.getLogger(__name__)

SERVICE = "transform"


class TransformStage(ConsumerStage):
    name = SERVICE

    def __init__(self, settings: Settings, metrics: Metrics, *, group: str | None = None) -> None:
        kafka = settings.kafka
        super().__init__(
            settings,
            metrics,
            group=group or kafka.group(SERVICE),
            topics=[kafka.raw_topic],
            batch_size=kafka.max_poll_records,
        )
        self._stories: StoryIndex | None = None
        self._pages: PageFetcher | None = None

    def open(self) -> None:
        if self._stories is None:
            self._stories = open_story_index(self.settings)
            log.info("transform %s", TRANSFORM_VERSION)
        if self.settings.transform.fetch_full_text and self._pages is None:
            http = HttpClient(self.settings.http)
            self._pages = PageFetcher.from_settings(http, self.metrics, self.settings.transform)

    def release(self) -> None:
        close = getattr(self._stories, "close", None)
        if close is not None:
            close()
        self._stories = None

    # -- the work -------------------------------------------------------------------------
    def handle(self, messages: Sequence[bus.Message]) -> list[Rejected]:
        """Derive and publish a batch; returns once every article was acknowledged."""
        rejected: list[Rejected] = []
        decoded: list[tuple[bus.Message, RawItem]] = []
        for message in messages:
            try:
                decoded.append((message, self._decode(message)))
            except Exception as exc:  # noqa: BLE001 - a value that does not decode is poison
                rejected.append(Rejected(message, exc))
        # The batch's pages all at once, under one deadline inside the max poll interval.
        pages = self._pages.fetch(raw for _, raw in decoded if needs_full_text(raw)) if self._pages else {}
        articles: list[Entry] = []
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
                rejected.append(Rejected(message, exc))
                continue
            except Exception as exc:  # noqa: BLE001 - poison input of any kind is dead-lettered
                rejected.append(Rejected(message, exc))
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
        self.metrics.transform_items.labels("dead_lettered").inc(len(rejected))
        produce_started = time.perf_counter()
        self.publish(self.settings.kafka.articles_topic, articles)
        self.metrics.transform_step_seconds.labels("produce").observe(time.perf_counter() - produce_started)
        return rejected

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

    def _count_article(self, article: Article) -> None:
        feed = article.wiredesk.feed_id
        self.metrics.transform_items.labels("ok").inc()
        self.metrics.transform_articles.labels(feed).inc()
        quality: Any = article.wiredesk.quality
        for signal in QUALITY_SIGNALS:
            if getattr(quality, signal):
                self.metrics.transform_quality.labels(feed, signal).inc()
