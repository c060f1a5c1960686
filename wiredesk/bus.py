"""The one typed adapter over kafka-python: producers, consumers, topics, headers, dead letters.

kafka-python is untyped and its defaults changed in 3.x; everything Kafka-specific lives here so
the stages see `Message`, `Publisher` and `Subscription` only. Broker-agnostic by design: nothing
here depends on Tansu (the embedded broker) beyond settings the tests choose.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.coordinator.assignors.cooperative_sticky import CooperativeStickyAssignor
from kafka.errors import KafkaError, NoError, TopicAlreadyExistsError
from kafka.net.compat import KafkaNetClient
from kafka.structs import OffsetAndMetadata, TopicPartition

from wiredesk.errors import InfrastructureError, WiredeskError
from wiredesk.metrics import Metrics
from wiredesk.settings import KafkaSettings

log = logging.getLogger(__name__)
T = TypeVar("T")

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
        "bootstrap_servers": _servers(kafka),
        "client_id": kafka.client_id,
        "security_protocol": kafka.security_protocol,
        "request_timeout_ms": kafka.request_timeout_ms,
        # kafka-python's constructors block up to this long for a first broker answer.
        "bootstrap_timeout_ms": int(kafka.connect_timeout_seconds * 1000),
    }
    if kafka.sasl_mechanism:
        config["sasl_mechanism"] = kafka.sasl_mechanism
        config["sasl_plain_username"] = kafka.sasl_username
        config["sasl_plain_password"] = kafka.sasl_password.get_secret_value()
    if kafka.ssl_cafile:
        config["ssl_cafile"] = kafka.ssl_cafile
    return config


def _servers(kafka: KafkaSettings) -> list[str]:
    return [s.strip() for s in kafka.bootstrap.split(",") if s.strip()]


def _host_port(server: str) -> tuple[str, int]:
    host, sep, port = server.rpartition(":")
    if not sep or not port.isdigit():
        return server.strip("[]"), 9092
    return host.strip("[]"), int(port)


def check_reachable(kafka: KafkaSettings) -> None:
    """Raise at once, with the operating system's reason, if no bootstrap server takes a connection.

    kafka-python retries a refused connection until its bootstrap timeout and then reports a
    bare timeout; a plain TCP connect says "connection refused" or "unknown host" in
    milliseconds, which keeps commands quick and lets a stopping service stop.
    """
    problems: list[str] = []
    timeout_s = min(2.0, kafka.connect_timeout_seconds)
    for server in _servers(kafka):
        try:
            with socket.create_connection(_host_port(server), timeout=timeout_s):
                return
        except OSError as exc:
            problems.append(f"{server}: {exc}" if len(_servers(kafka)) > 1 else str(exc))
    raise InfrastructureError(
        f"cannot reach Kafka at {kafka.bootstrap}: {'; '.join(problems) or 'no servers'}"
    )


class _NetClient(KafkaNetClient):  # type: ignore[misc]  # kafka-python is untyped
    """kafka-python's network client, closing its connections on its own IO thread.

    Consumers and admin clients run their network on a background IO thread, but
    `KafkaNetClient.close()` closes the sockets from the caller's thread while that IO thread may
    be reading them: a clean shutdown then logged "Metadata refresh: failed Cancelled",
    "AttributeError: 'NoneType' object has no attribute 'recv'" and selector tracebacks at
    error level. Here the IO thread itself lets an in-flight metadata refresh finish and then
    closes the connections, so nothing is torn from under it; the inherited close() then stops
    the thread. (Producers drive their network from their sender thread, which closes it.)
    """

    _CLOSE_WAIT_MS = 2_000

    def close(self, node_id: Any = None) -> None:
        if node_id is None and not self._manager.closed:
            try:
                self._net.run(self._close_connections)
            except Exception:  # the inherited close below still closes everything
                log.debug("closing connections on the IO thread failed", exc_info=True)
        super().close(node_id)

    async def _close_connections(self) -> None:
        cluster = self._manager.cluster
        if cluster.metadata_refresh_in_progress:
            with contextlib.suppress(Exception):
                await self._manager.wait_for(cluster._refresh_future, self._CLOSE_WAIT_MS)
        self._manager.close()


def _connect(kafka: KafkaSettings, factory: Callable[..., T], *args: Any, **config: Any) -> T:
    """A kafka-python client, or one InfrastructureError saying why the broker cannot be reached."""
    check_reachable(kafka)
    if factory is not KafkaProducer:
        config["kafka_client"] = _NetClient
    try:
        return factory(*args, **client_config(kafka), **config)
    except KafkaError as exc:
        raise InfrastructureError(f"cannot reach Kafka at {kafka.bootstrap}: {exc}") from exc


def ensure_topics(kafka: KafkaSettings) -> None:
    """Create wiredesk's topics with their configured partition counts if they do not exist.

    Explicit creation matters: an auto-created topic gets the broker's default partition count,
    which silently caps how far consumer groups can scale. One attempt: callers retry.
    """
    wanted = {
        kafka.raw_topic: kafka.raw_partitions,
        kafka.articles_topic: kafka.articles_partitions,
        kafka.dlq_topic: kafka.dlq_partitions,
    }
    admin = _connect(kafka, KafkaAdminClient)
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
    except KafkaError as exc:
        raise InfrastructureError(f"creating topics on {kafka.bootstrap} failed: {exc}") from exc
    finally:
        admin.close()


def list_topics(kafka: KafkaSettings) -> dict[str, int]:
    """Topic name -> partition count, for `wiredesk topics`."""
    consumer = _connect(kafka, KafkaConsumer)
    try:
        topics = consumer.topics()
        return {t: len(consumer.partitions_for_topic(t) or ()) for t in sorted(topics)}
    except KafkaError as exc:
        raise InfrastructureError(f"listing topics on {kafka.bootstrap} failed: {exc}") from exc
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
        return _connect(
            k,
            KafkaProducer,
            acks="all",
            enable_idempotence=True,
            linger_ms=k.linger_ms,
            batch_size=k.batch_size,
            compression_type=None if k.compression_type == "none" else k.compression_type,
            max_in_flight_requests_per_connection=5,
        )

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
        self._consumer = _connect(
            kafka,
            KafkaConsumer,
            *topics,
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
        self.committed_positions: dict[tuple[str, int], int] = {}

    def poll(self, timeout_ms: int = 200, max_records: int | None = None) -> list[Message]:
        try:
            batches = self._consumer.poll(timeout_ms=timeout_ms, max_records=max_records)
        except KafkaError as exc:
            raise InfrastructureError(f"poll for group {self.group} failed: {exc}") from exc
        messages: list[Message] = []
        for tp, records in batches.items():
            messages.extend(_message(tp, rec) for rec in records)
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


def _message(tp: TopicPartition, rec: Any) -> Message:
    return Message(
        topic=tp.topic,
        partition=tp.partition,
        offset=rec.offset,
        key=rec.key,
        value=rec.value,
        headers={k: (v or b"") for k, v in (rec.headers or [])},
        timestamp_ms=rec.timestamp or 0,
    )


class TopicReader:
    """Reads one topic with no consumer group, from a chosen start to the end it had at the start.

    The start of each partition is its beginning, the first record at or after `since`, or the
    offset given in `offsets` (partitions it leaves out start at their beginning). The end of
    each partition is fixed when reading begins: records appended meanwhile are not returned,
    so a reader whose work feeds records back into the same topic (a redrive) still finishes.
    Ends come from fetch high-water marks: ListOffsets(LATEST) answers wrongly on some brokers
    (shared/notes/broker.md #2); the high-water mark of a fetch response is right everywhere.
    """

    def __init__(
        self,
        kafka: KafkaSettings,
        topic: str,
        *,
        since: datetime | None = None,
        offsets: Mapping[int, int] | None = None,
        batch_size: int | None = None,
    ) -> None:
        self.topic = topic
        self.starts: dict[int, int] = {}
        self.ends: dict[int, int] = {}
        self._kafka = kafka
        self._since_ms = int(since.timestamp() * 1000) if since is not None else None
        self._before_since: set[int] = set()
        self._pending: list[Message] = []
        self._consumer = _connect(
            kafka,
            KafkaConsumer,
            enable_auto_commit=False,
            fetch_max_wait_ms=kafka.fetch_max_wait_ms,
            max_poll_records=batch_size or kafka.max_poll_records,
        )
        try:
            self._begin(dict(offsets or {}))
        except KafkaError as exc:
            self.close()
            raise InfrastructureError(f"reading {topic} failed: {exc}") from exc
        except BaseException:
            self.close()
            raise

    # -- set-up ---------------------------------------------------------------------------
    def _begin(self, offsets: dict[int, int]) -> None:
        consumer = self._consumer
        partitions = [
            TopicPartition(self.topic, p) for p in sorted(consumer.partitions_for_topic(self.topic))
        ]
        if not partitions:
            return
        hints: Mapping[TopicPartition, Any] = {}
        if self._since_ms is not None:
            hints = consumer.offsets_for_times(dict.fromkeys(partitions, self._since_ms))
            # None: the broker knows no record at or after `since` in that partition.
            partitions = [tp for tp in partitions if hints.get(tp) is not None]
            self._before_since = {tp.partition for tp in partitions}
        consumer.assign(partitions)
        for tp in partitions:
            given = offsets.get(tp.partition, -1)
            if tp in hints:
                consumer.seek(tp, max(hints[tp].offset, given))
            elif given >= 0:
                consumer.seek(tp, given)
            else:
                consumer.seek_to_beginning(tp)
        timeout_ms = self._kafka.request_timeout_ms
        for tp in partitions:
            self.starts[tp.partition] = consumer.position(tp, timeout_ms=timeout_ms)
        self._fix_ends(partitions)

    def _fix_ends(self, partitions: list[TopicPartition]) -> None:
        """Fetch until every partition's high-water mark is known; it is that partition's end."""
        deadline = time.monotonic() + self._kafka.request_timeout_ms / 1000
        unknown = set(partitions)
        while unknown:
            self._pending.extend(self._fetch())
            for tp in list(unknown):
                high = self._consumer.highwater(tp)
                if high is not None:
                    self.ends[tp.partition] = high
                    unknown.discard(tp)
            if unknown and time.monotonic() > deadline:
                raise InfrastructureError(f"no fetch response for {self.topic} from {self._kafka.bootstrap}")
        self._pending = self._within_ends(self._pending)

    # -- reading --------------------------------------------------------------------------
    @property
    def total(self) -> int:
        """How many records lie between the starts and the ends (before any `since` filtering)."""
        return sum(max(0, self.ends[p] - self.starts.get(p, 0)) for p in self.ends)

    def batches(self) -> Iterator[list[Message]]:
        """The records in batches of at most `batch_size`, each partition in offset order."""
        stalled_since = time.monotonic()
        while True:
            if self._pending:
                batch, self._pending = self._pending, []
                stalled_since = time.monotonic()
                yield batch
            if self._done():
                return
            self._pending = self._within_ends(self._fetch())
            if not self._pending and time.monotonic() - stalled_since > self._kafka.request_timeout_ms / 1000:
                raise InfrastructureError(f"reading {self.topic} stalled before its end offsets {self.ends}")

    def __iter__(self) -> Iterator[Message]:
        for batch in self.batches():
            yield from batch

    def _fetch(self) -> list[Message]:
        try:
            polled = self._consumer.poll(timeout_ms=200)
        except KafkaError as exc:
            raise InfrastructureError(f"reading {self.topic} failed: {exc}") from exc
        messages: list[Message] = []
        for tp, records in polled.items():
            messages.extend(_message(tp, rec) for rec in records)
        return messages

    def _within_ends(self, messages: list[Message]) -> list[Message]:
        kept: list[Message] = []
        for m in messages:
            if m.offset >= self.ends.get(m.partition, m.offset + 1):
                continue
            if m.partition in self._before_since:
                # The broker's time index may point early (or not at all, on some brokers): the
                # read starts at the first record whose own timestamp is at or after `since`.
                if m.timestamp_ms < (self._since_ms or 0):
                    continue
                self._before_since.discard(m.partition)
            kept.append(m)
        return kept

    def _done(self) -> bool:
        finished = []
        for tp in self._consumer.assignment():
            try:
                position = self._consumer.position(tp, timeout_ms=self._kafka.request_timeout_ms)
            except KafkaError as exc:
                raise InfrastructureError(f"reading {self.topic} failed: {exc}") from exc
            if position >= self.ends[tp.partition]:
                finished.append(tp)
        if finished:
            self._consumer.pause(*finished)
        return len(self._consumer.paused()) == len(self._consumer.assignment())

    # -- end ------------------------------------------------------------------------------
    def close(self) -> None:
        self._consumer.close(autocommit=False)

    def __enter__(self) -> TopicReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def read_topic(
    kafka: KafkaSettings,
    topic: str,
    *,
    since: datetime | None = None,
    offsets: Mapping[int, int] | None = None,
) -> Iterator[Message]:
    """Every record of `topic` from the chosen start up to its end as reading began (TopicReader)."""
    with TopicReader(kafka, topic, since=since, offsets=offsets) as reader:
        yield from reader


class GroupOffsets:
    """A consumer group's committed offsets, read and written without joining the group.

    For tools that keep their progress in a group no service consumes with (the DLQ redrive):
    the group must have no active members while they write.
    """

    def __init__(self, kafka: KafkaSettings, group: str) -> None:
        self.group = group
        self._admin = _connect(kafka, KafkaAdminClient)

    def committed(self, topic: str) -> dict[int, int]:
        """Partition -> committed offset, for the partitions of `topic` the group has committed."""
        try:
            found = self._admin.list_group_offsets({self.group: None}).get(self.group, {})
        except KafkaError as exc:
            raise InfrastructureError(f"reading offsets of group {self.group} failed: {exc}") from exc
        return {tp.partition: om.offset for tp, om in found.items() if tp.topic == topic and om.offset >= 0}

    def commit(self, topic: str, offsets: Mapping[int, int]) -> None:
        if not offsets:
            return
        wanted = {TopicPartition(topic, p): OffsetAndMetadata(o, "", -1) for p, o in offsets.items()}
        try:
            results = self._admin.alter_group_offsets(self.group, wanted)
        except KafkaError as exc:
            raise InfrastructureError(f"committing offsets of group {self.group} failed: {exc}") from exc
        failed = {tp.partition: err.__name__ for tp, err in results.items() if err is not NoError}
        if failed:
            raise InfrastructureError(f"committing offsets of group {self.group} failed: {failed}")

    def close(self) -> None:
        self._admin.close()


class LagProbe:
    """How far a consumer group is behind on a topic, read from outside the group.

    Lag per partition = the partition's high-water mark − the group's committed offset (the log
    start where the group committed nothing). The committed offsets come from the group
    coordinator (GroupOffsets); the high-water marks from a fetch response, as TopicReader reads
    them, because ListOffsets(LATEST) answers wrongly on some brokers (shared/notes/broker.md #2).
    Each probe fetches at most one small batch per partition and throws it away.
    """

    def __init__(self, kafka: KafkaSettings, group: str, topic: str) -> None:
        self.group = group
        self.topic = topic
        self._kafka = kafka
        self._offsets = GroupOffsets(kafka, group)
        try:
            self._consumer = _connect(
                kafka,
                KafkaConsumer,
                enable_auto_commit=False,
                fetch_max_wait_ms=kafka.fetch_max_wait_ms,
                max_partition_fetch_bytes=1024,
                max_poll_records=1,
            )
        except BaseException:
            self._offsets.close()
            raise

    def lag(self) -> dict[int, int]:
        """Partition -> messages the group has yet to commit past."""
        consumer = self._consumer
        try:
            committed = self._offsets.committed(self.topic)
            partitions = [
                TopicPartition(self.topic, p) for p in sorted(consumer.partitions_for_topic(self.topic) or ())
            ]
            if not partitions:
                return {}
            consumer.assign(partitions)
            starts: dict[TopicPartition, int] = {}
            for tp in partitions:
                if tp.partition in committed:
                    consumer.seek(tp, committed[tp.partition])
                    starts[tp] = committed[tp.partition]
                else:
                    consumer.seek_to_beginning(tp)
                    starts[tp] = consumer.position(tp, timeout_ms=self._kafka.request_timeout_ms)
            highs = self._high_water_marks(partitions)
        except KafkaError as exc:
            raise InfrastructureError(
                f"reading the lag of {self.group} on {self.topic} failed: {exc}"
            ) from exc
        return {tp.partition: max(0, highs[tp] - starts[tp]) for tp in partitions}

    def _high_water_marks(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        deadline = time.monotonic() + self._kafka.request_timeout_ms / 1000
        highs: dict[TopicPartition, int] = {}
        # Read after a fetch: a mark is at worst as old as the previous probe's last fetch.
        while len(highs) < len(partitions):
            self._consumer.poll(timeout_ms=200)
            for tp in partitions:
                high = self._consumer.highwater(tp)
                if high is not None and tp not in highs:
                    highs[tp] = high
            if len(highs) < len(partitions) and time.monotonic() > deadline:
                raise InfrastructureError(f"no fetch response for {self.topic} from {self._kafka.bootstrap}")
        return highs

    def close(self) -> None:
        try:
            self._consumer.close(autocommit=False)
        finally:
            self._offsets.close()


def _assignors() -> tuple[Any, ...]:
    # Cooperative-sticky keeps unaffected partitions flowing during a rebalance. kafka-python
    # cannot mix it with an eager assignor in one member, so no range fallback is listed.
    return (CooperativeStickyAssignor,)
