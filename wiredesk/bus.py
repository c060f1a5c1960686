"""The one typed adapter over kafka-python: producers, consumers, topics, headers, dead letters.

kafka-python is untyped and its defaults changed in 3.x; everything Kafka-specific lives here so
the stages see `Message`, `Publisher` and `Subscription` only. Broker-agnostic by design: nothing
here depends on Tansu (the embedded broker) beyond settings the tests choose.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.coordinator.assignors.cooperative_sticky import CooperativeStickyAssignor
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata, TopicPartition

from wiredesk.errors import InfrastructureError, WiredeskError
from wiredesk.metrics import Metrics
from wiredesk.settings import KafkaSettings

log = logging.getLogger(__name__)

H_SCHEMA = "wd-schema"
H_SCHEMA_VERSION = "wd-schema-version"
H_PRODUCER = "wd-producer"
H_TRACE = "wd-trace-id"
H_ERROR_CLASS = "wd-error-class"
H_ERROR_MESSAGE = "wd-error-message"
H_ERROR_STAGE = "wd-error-stage"
H_SOURCE_TOPIC = "wd-source-topic"
H_SOURCE_PARTITION = "wd-source-partition"
H_SOURCE_OFFSET = "wd-source-offset"
H_FAILED_AT = "wd-failed-at"
H_REDRIVES = "wd-redrive-count"

_MAX_ERROR_HEADER = 2_000


def new_trace_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Mapping[str, bytes] = field(default_factory=dict)
    timestamp_ms: int = 0

    def header(self, name: str, default: str = "") -> str:
        raw = self.headers.get(name)
        return raw.decode("utf-8", "replace") if raw is not None else default


def log_context(message: Message) -> dict[str, object]:
    """The fixed log keys for a line about one consumed message."""
    return {
        "topic": message.topic,
        "partition": message.partition,
        "offset": message.offset,
        "trace_id": message.header(H_TRACE) or None,
    }


def record_headers(schema: str, version: int, producer: str, trace_id: str) -> list[tuple[str, bytes]]:
    return [
        (H_SCHEMA, schema.encode()),
        (H_SCHEMA_VERSION, str(version).encode()),
        (H_PRODUCER, producer.encode()),
        (H_TRACE, (trace_id or new_trace_id()).encode()),
    ]


def client_config(kafka: KafkaSettings) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bootstrap_servers": [s.strip() for s in kafka.bootstrap.split(",") if s.strip()],
        "client_id": kafka.client_id,
        "security_protocol": kafka.security_protocol,
        "request_timeout_ms": kafka.request_timeout_ms,
    }
    if kafka.sasl_mechanism:
        config["sasl_mechanism"] = kafka.sasl_mechanism
        config["sasl_plain_username"] = kafka.sasl_username
        config["sasl_plain_password"] = kafka.sasl_password.get_secret_value()
    if kafka.ssl_cafile:
        config["ssl_cafile"] = kafka.ssl_cafile
    return config


def ensure_topics(kafka: KafkaSettings, timeout_s: float = 30.0) -> None:
    """Create wiredesk's topics with their configured partition counts if they do not exist.

    Explicit creation matters: an auto-created topic gets the broker's default partition count,
    which silently caps how far consumer groups can scale.
    """
    wanted = {
        kafka.raw_topic: kafka.raw_partitions,
        kafka.articles_topic: kafka.articles_partitions,
        kafka.dlq_topic: kafka.dlq_partitions,
    }
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            admin = KafkaAdminClient(**client_config(kafka))
            break
        except KafkaError as exc:
            if time.monotonic() > deadline:
                raise InfrastructureError(f"cannot reach Kafka at {kafka.bootstrap}: {exc}") from exc
            time.sleep(0.5)
    try:
        existing = set(admin.list_topics())
        missing = {name: n for name, n in wanted.items() if name not in existing}
        if missing:
            try:
                admin.create_topics(
                    {
                        name: {"num_partitions": n, "replication_factor": kafka.replication_factor}
                        for name, n in missing.items()
                    },
                    wait_for_metadata=True,
                )
                log.info("created topics %s", ", ".join(sorted(missing)))
            except TopicAlreadyExistsError:
                pass  # another replica won the race
    finally:
        admin.close()


def list_topics(kafka: KafkaSettings) -> dict[str, int]:
    """Topic name -> partition count, for `wiredesk topics`."""
    consumer = KafkaConsumer(**client_config(kafka))
    try:
        topics = consumer.topics()
        return {t: len(consumer.partitions_for_topic(t) or ()) for t in sorted(topics)}
    finally:
        consumer.close()


class Publisher:
    """An acks=all, idempotent producer whose `publish` returns only after the broker acked."""

    def __init__(self, kafka: KafkaSettings, service: str, metrics: Metrics) -> None:
        self._service = service
        self._metrics = metrics
        self._kafka = kafka
        self._producer = self._create()

    def _create(self) -> Any:
        k = self._kafka
        try:
            return KafkaProducer(
                **client_config(k),
                acks="all",
                enable_idempotence=True,
                linger_ms=k.linger_ms,
                batch_size=k.batch_size,
                compression_type=None if k.compression_type == "none" else k.compression_type,
                max_in_flight_requests_per_connection=5,
            )
        except KafkaError as exc:
            raise InfrastructureError(f"cannot create producer for {k.bootstrap}: {exc}") from exc

    def publish(
        self,
        topic: str,
        entries: Sequence[tuple[bytes, bytes, list[tuple[str, bytes]]]],
        timeout_s: float = 60.0,
    ) -> list[tuple[int, int]]:
        """Send (key, value, headers) entries and wait for every ack; returns (partition, offset)s."""
        if not entries:
            return []
        futures = [
            self._producer.send(topic, key=key, value=value, headers=headers)
            for key, value, headers in entries
        ]
        self._producer.flush(timeout=timeout_s)
        positions: list[tuple[int, int]] = []
        try:
            for future in futures:
                meta = future.get(timeout=timeout_s)
                positions.append((meta.partition, meta.offset))
        except KafkaError as exc:
            # An idempotent producer can be left fenced (e.g. the broker lost its producer ids):
            # recreate it so the caller's retry starts clean.
            self._reset()
            raise InfrastructureError(f"publish to {topic} failed: {exc}") from exc
        self._metrics.messages_produced.labels(topic).inc(len(entries))
        return positions

    def _reset(self) -> None:
        try:
            self._producer.close(timeout=1)
        except Exception:
            log.debug("error closing producer", exc_info=True)
        self._producer = self._create()

    def close(self, timeout_s: float = 10.0) -> None:
        self._producer.flush(timeout=timeout_s)
        self._producer.close(timeout=timeout_s)


class Subscription:
    """A consumer-group member that commits only offsets the caller says are durable."""

    def __init__(self, kafka: KafkaSettings, group: str, topics: Iterable[str], metrics: Metrics) -> None:
        self.group = group
        self._metrics = metrics
        try:
            self._consumer = KafkaConsumer(
                *topics,
                **client_config(kafka),
                group_id=group,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                session_timeout_ms=kafka.session_timeout_ms,
                heartbeat_interval_ms=kafka.heartbeat_interval_ms,
                max_poll_interval_ms=kafka.max_poll_interval_ms,
                fetch_max_wait_ms=kafka.fetch_max_wait_ms,
                max_poll_records=kafka.max_poll_records,
                partition_assignment_strategy=_assignors(),
            )
        except KafkaError as exc:
            raise InfrastructureError(f"cannot join group {group} at {kafka.bootstrap}: {exc}") from exc
        self.committed_positions: dict[tuple[str, int], int] = {}

    def poll(self, timeout_ms: int = 200, max_records: int | None = None) -> list[Message]:
        try:
            batches = self._consumer.poll(timeout_ms=timeout_ms, max_records=max_records)
        except KafkaError as exc:
            raise InfrastructureError(f"poll for group {self.group} failed: {exc}") from exc
        messages: list[Message] = []
        for tp, records in batches.items():
            for rec in records:
                messages.append(
                    Message(
                        topic=tp.topic,
                        partition=tp.partition,
                        offset=rec.offset,
                        key=rec.key,
                        value=rec.value,
                        headers={k: (v or b"") for k, v in (rec.headers or [])},
                        timestamp_ms=rec.timestamp or 0,
                    )
                )
            if records:
                self._metrics.messages_consumed.labels(tp.topic).inc(len(records))
        return messages

    def commit(self, messages: Sequence[Message]) -> None:
        """Commit past the highest offset of each partition in `messages` (all durable downstream)."""
        if not messages:
            return
        upto: dict[TopicPartition, int] = {}
        for m in messages:
            tp = TopicPartition(m.topic, m.partition)
            upto[tp] = max(upto.get(tp, -1), m.offset + 1)
        try:
            self._consumer.commit({tp: OffsetAndMetadata(off, "", -1) for tp, off in upto.items()})
        except KafkaError as exc:
            raise InfrastructureError(f"commit for group {self.group} failed: {exc}") from exc
        for tp, off in upto.items():
            self.committed_positions[(tp.topic, tp.partition)] = off
        self._metrics.commits.labels(self.group).inc()

    def handle_then_commit(
        self, messages: Sequence[Message], handle: Callable[[Sequence[Message]], None]
    ) -> None:
        """Run `handle` on a polled batch, then commit it; on a failure, rewind so it comes again.

        `handle` returns only once its output is durable (acknowledged or written), which is what
        makes committing right after it safe.
        """
        try:
            handle(messages)
        except WiredeskError:
            self.rewind(messages)
            raise
        self.commit(messages)

    def rewind(self, messages: Sequence[Message]) -> None:
        """Seek back to the first of `messages` per partition, so a failed batch is polled again.

        Without this, a batch whose output failed would be skipped: the consumer's position has
        already moved past it even though nothing was committed.
        """
        first: dict[TopicPartition, int] = {}
        for m in messages:
            tp = TopicPartition(m.topic, m.partition)
            first[tp] = min(first.get(tp, m.offset), m.offset)
        assigned = self._consumer.assignment()
        for tp, offset in first.items():
            if tp in assigned:
                self._consumer.seek(tp, offset)

    def update_lag(self) -> int:
        """Refresh the lag gauges from fetch high-water marks (correct on Kafka and Tansu alike)."""
        total = 0
        for tp in self._consumer.assignment():
            high = self._consumer.highwater(tp)
            if high is None:
                continue
            try:
                position = self._consumer.position(tp, timeout_ms=1000)
            except KafkaError:
                continue
            if position is None:
                continue
            lag = max(0, high - position)
            total += lag
            self._metrics.consumer_lag.labels(self.group, tp.topic, str(tp.partition)).set(lag)
        return total

    def assigned(self) -> bool:
        return bool(self._consumer.assignment())

    def close(self) -> None:
        self._consumer.close(autocommit=False)


def _assignors() -> tuple[Any, ...]:
    # Cooperative-sticky keeps unaffected partitions flowing during a rebalance. kafka-python
    # cannot mix it with an eager assignor in one member, so no range fallback is listed.
    return (CooperativeStickyAssignor,)


def dead_letter_headers(
    message: Message, error: BaseException, stage: str, producer: str
) -> list[tuple[str, bytes]]:
    """Headers saying what failed, where and when; the original headers are kept in front."""
    text = f"{error}"[:_MAX_ERROR_HEADER]
    redrives = int(message.header(H_REDRIVES, "0") or 0)
    kept = [
        (k, v)
        for k, v in message.headers.items()
        if not k.startswith("wd-error")
        and k
        not in (H_SOURCE_TOPIC, H_SOURCE_PARTITION, H_SOURCE_OFFSET, H_FAILED_AT, H_PRODUCER, H_REDRIVES)
    ]
    return [
        *kept,
        (H_PRODUCER, producer.encode()),
        (H_ERROR_CLASS, type(error).__name__.encode()),
        (H_ERROR_MESSAGE, text.encode("utf-8", "replace")),
        (H_ERROR_STAGE, stage.encode()),
        (H_SOURCE_TOPIC, message.topic.encode()),
        (H_SOURCE_PARTITION, str(message.partition).encode()),
        (H_SOURCE_OFFSET, str(message.offset).encode()),
        (H_FAILED_AT, datetime.now(UTC).isoformat().encode()),
        (H_REDRIVES, str(redrives).encode()),
    ]
