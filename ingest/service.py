"""The ingest service: poll due feeds, publish new or changed items, then record them as published.

The ledger is updated only after the broker acknowledged the items, so a crash between the two
re-publishes (at-least-once) rather than loses; downstream ids and version guards absorb repeats.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from ingest.fetcher import Fetcher
from ingest.poller import FeedPollResult, poll_all_once
from ingest.registry import Registry
from ingest.state import IngestState
from wiredesk import bus, records
from wiredesk.http import HttpClient
from wiredesk.metrics import Metrics
from wiredesk.records import RawItem
from wiredesk.settings import Settings

log = logging.getLogger(__name__)

SERVICE = "ingest"
_IDLE_WAIT_S = 1.0


class IngestStage:
    name = SERVICE

    def __init__(
        self,
        settings: Settings,
        metrics: Metrics,
        registry: Registry,
        *,
        once: bool = False,
        republish: Iterable[Sequence[RawItem]] = (),
    ) -> None:
        """`republish`: chunks of items to publish again at start, before polling (the embedded
        catch-up); iterated afresh if a start has to be retried, and consumed lazily so that
        memory stays bounded."""
        self.settings = settings
        self.metrics = metrics
        self.registry = registry
        self.once = once
        self._republish = republish
        self._state: IngestState | None = None
        self._fetcher: Fetcher | None = None
        self._publisher: bus.Publisher | None = None
        self.cycles = 0
        self.published = 0
        self.republished = 0
        self.polled = 0
        self.feed_errors = 0
        self.produced_positions: dict[tuple[str, int], int] = {}

    @property
    def cycle_done(self) -> bool:
        return self.cycles > 0

    def start(self) -> None:
        bus.ensure_topics(self.settings.kafka)
        if self._state is None:
            path = self.settings.data_path(self.settings.ingest.state_path, "ingest.sqlite")
            path.parent.mkdir(parents=True, exist_ok=True)
            self._state = IngestState(path)
            self._fetcher = Fetcher(HttpClient(self.settings.http))
        self._publisher = bus.Publisher(self.settings.kafka, SERVICE, self.metrics)
        for feed in self.registry.enabled:
            self.metrics.init_feed(feed.id)
        republished = 0
        for chunk in self._republish:
            self._publish(chunk)
            republished += len(chunk)
            self.republished += len(chunk)
            for item in chunk:
                self.metrics.ingest_items.labels(item.feed_id, "republished").inc()
        self._republish = ()
        if republished:
            log.info("re-published %d items the sinks had not stored", republished)

    def ready(self) -> bool:
        return self._publisher is not None

    def step(self, stop: threading.Event) -> bool:
        assert self._state is not None and self._fetcher is not None
        if self.once and self.cycle_done:
            stop.wait(_IDLE_WAIT_S)
            return False
        now = datetime.now(UTC)
        feeds = self.registry.enabled if self.once else self._state.due_feeds(self.registry.enabled, now)
        if not feeds:
            stop.wait(min(_IDLE_WAIT_S, self._state.seconds_until_next_due(self.registry.enabled, now)))
            return False
        for result in poll_all_once(
            feeds,
            self._fetcher,
            self._state,
            now,
            max_workers=self.settings.ingest.concurrency,
            settings=self.settings.ingest,
        ):
            self._handle(result)
        self.cycles += 1
        return True

    def _handle(self, result: FeedPollResult) -> None:
        feed = result.feed_id
        self.polled += 1
        self.metrics.ingest_polls.labels(feed, result.status).inc()
        self.metrics.ingest_poll_seconds.observe(result.elapsed_seconds)
        if result.status == "error":
            self.feed_errors += 1
            self.metrics.ingest_consecutive_failures.labels(feed).set(result.consecutive_failures)
            return
        self.metrics.ingest_consecutive_failures.labels(feed).set(0)
        self.metrics.ingest_last_success.labels(feed).set(time.time())
        for outcome, count in result.counts.items():
            self.metrics.ingest_items.labels(feed, outcome).inc(count)
        if result.items_to_publish:
            self._publish(result.items_to_publish)
            self.published += len(result.items_to_publish)
            log.info(
                "feed %s: published %d items", feed, len(result.items_to_publish), extra={"feed_id": feed}
            )

    def _publish(self, items: Sequence[RawItem]) -> None:
        assert self._publisher is not None and self._state is not None
        # Each published version gets its own trace id, carried in the record and its header, so
        # the item's log lines in every service can be found together.
        items = [item if item.trace_id else replace(item, trace_id=bus.new_trace_id()) for item in items]
        entries = [
            (
                records.record_key(item),
                records.dumps(item),
                bus.record_headers(RawItem.SCHEMA, RawItem.SCHEMA_VERSION, SERVICE, item.trace_id),
            )
            for item in items
        ]
        topic = self.settings.kafka.raw_topic
        for partition, offset in self._publisher.publish(topic, entries):
            key = (topic, partition)
            self.produced_positions[key] = max(self.produced_positions.get(key, 0), offset + 1)
        # Only now, with every item acknowledged, does the ledger call them published.
        self._state.mark_published(items)

    def drain(self) -> None:
        return

    def close(self) -> None:
        if self._publisher is not None:
            self._publisher.close()
        if self._state is not None:
            self._state.close()
