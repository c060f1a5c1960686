"""The Kafka adapter against a real Kafka-protocol broker (Tansu, started by the session fixture)."""

from __future__ import annotations

import logging
import time

import pytest

from tests.conftest import unique
from wiredesk import bus, deadletters
from wiredesk.metrics import Metrics
from wiredesk.settings import Settings

pytestmark = pytest.mark.integration


def _poll_until(sub: bus.Subscription, count: int, timeout_s: float = 30.0) -> list[bus.Message]:
    got: list[bus.Message] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < count and time.monotonic() < deadline:
        got.extend(sub.poll(timeout_ms=200))
    return got


def test_topics_are_created_with_configured_partitions(kafka_settings: Settings) -> None:
    bus.ensure_topics(kafka_settings.kafka)
    bus.ensure_topics(kafka_settings.kafka)  # idempotent
    topics = bus.list_topics(kafka_settings.kafka)
    assert topics[kafka_settings.kafka.raw_topic] == 3
    assert topics[kafka_settings.kafka.dlq_topic] == 1


def test_publish_waits_for_acks_and_keys_pick_stable_partitions(kafka_settings: Settings) -> None:
    k = kafka_settings.kafka
    bus.ensure_topics(k)
    publisher = bus.Publisher(k, "test", Metrics())
    headers = bus.record_headers("wiredesk.RawItem", 1, "test", "trace-1")
    first = publisher.publish(k.raw_topic, [(b"item-a", b"v1", headers), (b"item-b", b"v1", headers)])
    again = publisher.publish(k.raw_topic, [(b"item-a", b"v2", headers)])
    publisher.close()
    assert len(first) == 2
    assert again[0][0] == first[0][0]  # same key, same partition


def test_commit_only_what_is_durable_and_resume_there(kafka_settings: Settings) -> None:
    k = kafka_settings.kafka
    bus.ensure_topics(k)
    metrics = Metrics()
    publisher = bus.Publisher(k, "test", metrics)
    headers = bus.record_headers("s", 1, "test", "")
    publisher.publish(k.raw_topic, [(b"same-key", f"m{i}".encode(), headers) for i in range(6)])
    publisher.close()
    group = unique("g")

    sub = bus.Subscription(k, group, [k.raw_topic], metrics)
    messages = _poll_until(sub, 6)
    assert [m.value for m in messages] == [f"m{i}".encode() for i in range(6)]
    assert messages[0].header(bus.H_SCHEMA) == "s"
    sub.commit(messages[:4])  # only the first four were "written downstream"
    sub.close()

    sub = bus.Subscription(k, group, [k.raw_topic], metrics)
    rest = _poll_until(sub, 2)
    sub.close()
    assert [m.value for m in rest] == [b"m4", b"m5"]


def test_rewind_redelivers_an_uncommitted_batch(kafka_settings: Settings) -> None:
    k = kafka_settings.kafka
    bus.ensure_topics(k)
    metrics = Metrics()
    publisher = bus.Publisher(k, "test", metrics)
    publisher.publish(k.raw_topic, [(b"k", b"x", []), (b"k", b"y", [])])
    publisher.close()
    sub = bus.Subscription(k, unique("g"), [k.raw_topic], metrics)
    batch = _poll_until(sub, 2)
    sub.rewind(batch)
    again = _poll_until(sub, 2)
    sub.close()
    assert [m.offset for m in again] == [m.offset for m in batch]


def test_dead_letter_headers_say_what_failed_and_where() -> None:
    message = bus.Message("wiredesk.items.raw", 2, 41, b"k", b"{", {bus.H_TRACE: b"t-1", bus.H_SCHEMA: b"s"})
    headers = dict(deadletters.dead_letter_headers(message, ValueError("bad json"), "transform", "transform"))
    assert headers[bus.H_ERROR_CLASS] == b"ValueError"
    assert headers[bus.H_ERROR_MESSAGE] == b"bad json"
    assert headers[bus.H_SOURCE_TOPIC] == b"wiredesk.items.raw"
    assert headers[bus.H_SOURCE_PARTITION] == b"2"
    assert headers[bus.H_SOURCE_OFFSET] == b"41"
    assert headers[bus.H_TRACE] == b"t-1"


def _publish(
    kafka_settings: Settings, entries: list[tuple[bytes, bytes]], *, partition_key: bytes | None = None
) -> None:
    k = kafka_settings.kafka
    bus.ensure_topics(k)
    publisher = bus.Publisher(k, "test", Metrics())
    publisher.publish(k.raw_topic, [(partition_key or key, value, []) for key, value in entries])
    publisher.close()


def test_topic_reader_reads_every_partition_from_the_beginning(kafka_settings: Settings) -> None:
    _publish(kafka_settings, [(f"k{i}".encode(), f"v{i}".encode()) for i in range(30)])
    got = list(bus.read_topic(kafka_settings.kafka, kafka_settings.kafka.raw_topic))
    assert sorted(m.value or b"" for m in got) == sorted(f"v{i}".encode() for i in range(30))
    assert len({m.partition for m in got}) > 1
    for partition in {m.partition for m in got}:
        offsets = [m.offset for m in got if m.partition == partition]
        assert offsets == sorted(offsets)


def test_topic_reader_stops_at_the_end_it_saw_when_it_began(kafka_settings: Settings) -> None:
    # Whatever is appended while reading (a redrive's own output, a busy producer) is not read:
    # the read ends at the high-water marks of its first fetches.
    k = kafka_settings.kafka
    _publish(kafka_settings, [(b"same", f"v{i}".encode()) for i in range(10)])
    publisher = bus.Publisher(k, "test", Metrics())
    seen: list[bytes] = []
    with bus.TopicReader(k, k.raw_topic, batch_size=3) as reader:
        assert reader.total == 10
        for batch in reader.batches():
            publisher.publish(k.raw_topic, [(b"same", b"appended", [])])
            seen.extend(m.value or b"" for m in batch)
    publisher.close()
    assert seen == [f"v{i}".encode() for i in range(10)]
    assert len(list(bus.read_topic(k, k.raw_topic))) > 10


def test_topic_reader_starts_at_given_offsets(kafka_settings: Settings) -> None:
    k = kafka_settings.kafka
    _publish(kafka_settings, [(b"same", f"v{i}".encode()) for i in range(6)])
    partition = next(iter(bus.read_topic(k, k.raw_topic))).partition
    got = [m.value for m in bus.read_topic(k, k.raw_topic, offsets={partition: 4})]
    assert got == [b"v4", b"v5"]


def test_topic_reader_starts_at_the_first_record_at_or_after_a_time(kafka_settings: Settings) -> None:
    from datetime import UTC, datetime

    k = kafka_settings.kafka
    _publish(kafka_settings, [(b"same", b"old")])
    time.sleep(0.05)
    since = datetime.now(UTC)
    time.sleep(0.05)
    _publish(kafka_settings, [(b"same", b"new-1"), (b"other", b"new-2")])
    got = sorted(m.value or b"" for m in bus.read_topic(k, k.raw_topic, since=since))
    assert got == [b"new-1", b"new-2"]


def test_topic_reader_of_a_missing_topic_reads_nothing_and_creates_nothing(kafka_settings: Settings) -> None:
    k = kafka_settings.kafka
    name = unique("absent")
    assert list(bus.read_topic(k, name)) == []
    assert name not in bus.list_topics(k)


def test_group_offsets_are_read_and_written_without_joining(kafka_settings: Settings) -> None:
    k = kafka_settings.kafka
    bus.ensure_topics(k)
    offsets = bus.GroupOffsets(k, unique("g"))
    try:
        assert offsets.committed(k.raw_topic) == {}
        offsets.commit(k.raw_topic, {0: 5, 2: 1})
        assert offsets.committed(k.raw_topic) == {0: 5, 2: 1}
    finally:
        offsets.close()


def test_closing_clients_mid_fetch_logs_no_errors(
    kafka_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # kafka-python closed a client's sockets from the caller's thread while its IO thread was
    # still reading them: "Metadata refresh: failed Cancelled", "AttributeError ... recv" and
    # selector tracebacks at error level on an ordinary shutdown. Close readers mid-read, several
    # at once, while a producer keeps fetch responses coming.
    import threading

    k = kafka_settings.kafka
    _publish(kafka_settings, [(f"k{i}".encode(), b"x" * 200) for i in range(300)])
    stop = threading.Event()

    def produce() -> None:
        publisher = bus.Publisher(k, "test", Metrics())
        while not stop.is_set():
            publisher.publish(k.raw_topic, [(b"k%d" % n, b"y" * 200, []) for n in range(20)])
        publisher.close()

    def read_and_close(rounds: int) -> None:
        for _ in range(rounds):
            reader = bus.TopicReader(k, k.raw_topic, batch_size=5)
            next(iter(reader.batches()))
            reader.close()
            offsets = bus.GroupOffsets(k, unique("g"))
            offsets.committed(k.raw_topic)
            offsets.close()

    producer = threading.Thread(target=produce)
    readers = [threading.Thread(target=read_and_close, args=(12,)) for _ in range(4)]
    with caplog.at_level(logging.WARNING, logger="kafka"):
        producer.start()
        for thread in readers:
            thread.start()
        for thread in readers:
            thread.join(120)
        stop.set()
        producer.join(30)
    errors = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
