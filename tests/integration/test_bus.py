"""The Kafka adapter against a real Kafka-protocol broker (Tansu, started by the session fixture)."""

from __future__ import annotations

import time

import pytest

from tests.conftest import unique
from wiredesk import bus
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
    headers = dict(bus.dead_letter_headers(message, ValueError("bad json"), "transform", "transform"))
    assert headers[bus.H_ERROR_CLASS] == b"ValueError"
    assert headers[bus.H_ERROR_MESSAGE] == b"bad json"
    assert headers[bus.H_SOURCE_TOPIC] == b"wiredesk.items.raw"
    assert headers[bus.H_SOURCE_PARTITION] == b"2"
    assert headers[bus.H_SOURCE_OFFSET] == b"41"
    assert headers[bus.H_TRACE] == b"t-1"
