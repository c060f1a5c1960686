"""The loop every consuming stage shares: poll a batch, handle it, dead-letter what failed, commit.

A stage (transform, sink) supplies only `handle`: process a batch, make its output durable, and
return the records it could not process. The base owns the Kafka side in one place: the
subscription and producer, gathering a batch, publishing dead letters through the one policy in
`wiredesk.deadletters`, committing only after all of that was acknowledged (a failure rewinds
the batch so it comes again), lag gauges, and closing in order.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence

from wiredesk import bus
from wiredesk.deadletters import Entry, Rejected, dead_letter_entries
from wiredesk.metrics import Metrics
from wiredesk.settings import Settings

log = logging.getLogger(__name__)

_POLL_MS = 200


class ConsumerStage(ABC):
    """A consumer-group member running one stage's batch handler under the shared loop.

    `batch_size` caps a batch; `linger_s` is how long a started batch may wait to fill up
    (0: take what one poll returns). Subclasses set `name` (their service name, used in
    metrics and dead-letter headers) and may override `open`, `drain` and `release`.
    """

    name: str

    def __init__(
        self,
        settings: Settings,
        metrics: Metrics,
        *,
        group: str,
        topics: Sequence[str],
        batch_size: int,
        linger_s: float = 0.0,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.group = group
        self.topics = list(topics)
        self.batch_size = batch_size
        self.linger_s = linger_s
        self.produced_positions: dict[tuple[str, int], int] = {}
        self._subscription: bus.Subscription | None = None
        self._publisher: bus.Publisher | None = None

    # -- what a stage supplies ------------------------------------------------------------
    @abstractmethod
    def handle(self, messages: Sequence[bus.Message]) -> Sequence[Rejected]:
        """Process a batch and make its output durable; return the records that failed.

        Raise a retriable WiredeskError when the batch as a whole cannot be done now (a store
        or the broker is down): the batch is then rewound and tried again.
        """

    def open(self) -> None:
        """Open what the stage owns (stores, indexes, HTTP clients); called once per start."""
        return

    def drain(self) -> None:
        """Finish in-flight work at shutdown. Each step commits before returning, so by default
        there is nothing left to do."""
        return

    def release(self) -> None:
        """Close what `open` opened; called once, after the Kafka clients are closed."""
        return

    # -- lifecycle (wiredesk.service.Stage) -----------------------------------------------
    def start(self) -> None:
        self.start_without_group()
        self._subscription = bus.Subscription(self.settings.kafka, self.group, self.topics, self.metrics)
        log.info("%s consuming %s in group %s", self.name, ", ".join(self.topics), self.group)

    def start_without_group(self) -> None:
        """Everything but the group membership: for tools that read partitions themselves (replay)."""
        bus.ensure_topics(self.settings.kafka)
        self.open()
        if self._publisher is None:
            self._publisher = bus.Publisher(self.settings.kafka, self.name, self.metrics)

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
        self._subscription.handle_then_commit(batch, self.process)
        return True

    def close(self) -> None:
        try:
            if self._subscription is not None:
                self._subscription.close()
                self._subscription = None
            if self._publisher is not None:
                self._publisher.close()
                self._publisher = None
        finally:
            self.release()

    # -- the shared work ------------------------------------------------------------------
    def process(self, messages: Sequence[bus.Message]) -> None:
        """Handle a batch, then dead-letter what it rejected; returns once all is acknowledged."""
        rejected = self.handle(messages)
        if rejected:
            entries = dead_letter_entries(rejected, stage=self.name, metrics=self.metrics)
            self.publish(self.settings.kafka.dlq_topic, entries)

    def publish(self, topic: str, entries: Sequence[Entry]) -> None:
        """Publish and wait for the acks, remembering how far each partition was written."""
        assert self._publisher is not None, "start the stage before publishing"
        for partition, offset in self._publisher.publish(topic, entries):
            key = (topic, partition)
            self.produced_positions[key] = max(self.produced_positions.get(key, 0), offset + 1)

    def _gather(self, stop: threading.Event) -> list[bus.Message]:
        assert self._subscription is not None
        limit = self.batch_size
        deadline = time.monotonic() + self.linger_s
        batch = self._subscription.poll(timeout_ms=_POLL_MS, max_records=limit)
        # Keep filling a started batch until it is full or old enough: bigger transactions are
        # what make stores fast, and the linger bounds the added latency.
        while batch and len(batch) < limit and not stop.is_set():
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0:
                break
            more = self._subscription.poll(timeout_ms=min(remaining_ms, 100), max_records=limit - len(batch))
            if not more:
                break
            batch.extend(more)
        return batch
