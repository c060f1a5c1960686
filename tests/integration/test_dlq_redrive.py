"""`wiredesk dlq redrive` and `dlq list` on a real broker, with transform running beside them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import orjson
import pytest

from app import commands
from transform.service import TransformStage
from wiredesk import bus, deadletters
from wiredesk.metrics import Metrics
from wiredesk.service import ServiceRunner
from wiredesk.settings import Settings

pytestmark = pytest.mark.integration


class ErrA(Exception):
    pass


class ErrB(Exception):
    pass


def _letters(settings: Settings, specs: list[tuple[bytes, BaseException, dict[str, bytes]]]) -> None:
    """Put dead letters on the DLQ as a stage would: each came from the raw topic."""
    k = settings.kafka
    bus.ensure_topics(k)
    publisher = bus.Publisher(k, "test", Metrics())
    entries = []
    for n, (value, error, extra) in enumerate(specs):
        source = bus.Message(k.raw_topic, 0, n, b"key-%d" % n, value, {bus.H_TRACE: b"trace-%d" % n})
        headers = deadletters.dead_letter_headers(source, error, "transform", "transform")
        headers = [(name, v) for name, v in headers if name not in extra] + list(extra.items())
        entries.append((source.key or b"", value, headers))
    publisher.publish(k.dlq_topic, entries)
    publisher.close()


def _read(settings: Settings, topic: str) -> list[bus.Message]:
    return list(bus.read_topic(settings.kafka, topic))


def _wait_for(condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.2)


@pytest.fixture
def transform_running(kafka_settings: Settings) -> Iterator[TransformStage]:
    stage = TransformStage(kafka_settings, Metrics())
    runner = ServiceRunner("transform", [stage], Metrics(), metrics_port=None)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    _wait_for(stage.ready)
    yield stage
    runner.request_stop()
    thread.join(30)


def test_redrive_with_transform_running_ends_and_sends_each_letter_once(
    kafka_settings: Settings,
    transform_running: TransformStage,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Two poison items: every redriven copy fails again and lands in the DLQ while the redrive
    # runs. It must stop at the end it saw at its start, not chase its own output.
    k = kafka_settings.kafka
    publisher = bus.Publisher(k, "test", Metrics())
    publisher.publish(k.raw_topic, [(b"p1", b"[]", []), (b"p2", b"{", [])])
    publisher.close()
    _wait_for(lambda: len(_read(kafka_settings, k.dlq_topic)) == 2)

    assert commands.dlq_redrive(kafka_settings, error_class=None, stage=None, dry_run=False) == 0
    assert "redrove 2 dead letters" in capsys.readouterr().err
    _wait_for(lambda: len(_read(kafka_settings, k.dlq_topic)) == 4)
    letters = _read(kafka_settings, k.dlq_topic)
    assert [deadletters.redrive_count(m) for m in letters] == [0, 0, 1, 1]

    # The next run takes only the letters that came back, and counts them once more.
    assert commands.dlq_redrive(kafka_settings, error_class=None, stage=None, dry_run=False) == 0
    assert "redrove 2 dead letters" in capsys.readouterr().err
    _wait_for(lambda: len(_read(kafka_settings, k.dlq_topic)) == 6)
    assert [deadletters.redrive_count(m) for m in _read(kafka_settings, k.dlq_topic)][4:] == [2, 2]

    # --max-redrives stops the cycle: letters sent back twice already are left where they are.
    assert (
        commands.dlq_redrive(kafka_settings, error_class=None, stage=None, dry_run=False, max_redrives=2) == 0
    )
    err = capsys.readouterr().err
    assert "redrove 0 dead letters" in err
    assert "2 reached --max-redrives 2" in err
    time.sleep(1)  # transform would have failed anything redriven by now
    assert len(_read(kafka_settings, k.dlq_topic)) == 6
    raw = _read(kafka_settings, k.raw_topic)
    assert len(raw) == 6  # two originals, two redrives per run for two runs
    producers = sorted(m.header(bus.H_PRODUCER) for m in raw)
    assert producers == ["", "", *["dlq-redrive"] * 4]  # the test published the originals bare


def test_a_filtered_redrive_leaves_what_it_skipped_redrivable(
    kafka_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    k = kafka_settings.kafka
    _letters(
        kafka_settings,
        [(b"a1", ErrA("x"), {}), (b"b1", ErrB("y"), {}), (b"a2", ErrA("z"), {}), (b"b2", ErrB("w"), {})],
    )

    assert commands.dlq_redrive(kafka_settings, error_class="ErrA", stage=None, dry_run=False) == 0
    assert "redrove 2 dead letters" in capsys.readouterr().err
    assert sorted(m.value or b"" for m in _read(kafka_settings, k.raw_topic)) == [b"a1", b"a2"]

    # The skipped letters are still listed (once) and still redrivable by a later filter.
    assert commands.dlq_list(kafka_settings, limit=50) == 0
    listed = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(entry["key"] for entry in listed) == ["key-1", "key-3"]
    assert {entry["error_class"] for entry in listed} == {"ErrB"}

    assert commands.dlq_redrive(kafka_settings, error_class="ErrB", stage=None, dry_run=False) == 0
    assert "redrove 2 dead letters" in capsys.readouterr().err
    raw = _read(kafka_settings, k.raw_topic)
    assert sorted(m.value or b"" for m in raw) == [b"a1", b"a2", b"b1", b"b2"]
    assert all(m.header(bus.H_TRACE).startswith("trace-") for m in raw)  # the record's own headers

    assert commands.dlq_redrive(kafka_settings, error_class=None, stage=None, dry_run=False) == 0
    assert "redrove 0 dead letters" in capsys.readouterr().err
    assert commands.dlq_list(kafka_settings, limit=50) == 0
    assert capsys.readouterr().out == ""
    assert commands.dlq_list(kafka_settings, limit=50, everything=True) == 0
    assert len(capsys.readouterr().out.splitlines()) == 6  # four letters and two kept copies


def test_dry_run_counts_every_batch_and_changes_nothing(
    kafka_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = kafka_settings.with_overrides({"kafka.max_poll_records": 10})
    k = settings.kafka
    _letters(settings, [(b"v%d" % n, ErrA("x") if n % 3 else ErrB("y"), {}) for n in range(45)])

    assert commands.dlq_redrive(settings, error_class="ErrA", stage=None, dry_run=True) == 0
    err = capsys.readouterr().err
    assert "would redrive 30 dead letters" in err
    assert "15 did not match the filters" in err
    assert _read(settings, k.raw_topic) == []
    assert len(_read(settings, k.dlq_topic)) == 45

    assert commands.dlq_redrive(settings, error_class=None, stage=None, dry_run=False) == 0
    err = capsys.readouterr().err
    assert "redrove 45 dead letters" in err
    assert "read 45 of 45" in err  # progress is reported
    assert len(_read(settings, k.raw_topic)) == 45


def test_a_bad_redrive_count_header_breaks_nothing(
    kafka_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    # Anyone can set headers: a count that is not a number reads as "never redriven".
    k = kafka_settings.kafka
    publisher = bus.Publisher(k, "test", Metrics())
    publisher.publish(k.raw_topic, [(b"p", b"[]", [(bus.H_REDRIVES, b"abc")])])
    publisher.close()
    stage = TransformStage(kafka_settings, Metrics())
    deadline = time.monotonic() + 60
    runner = ServiceRunner("t", [stage], Metrics(), metrics_port=None)
    code = runner.run(
        until=lambda: sum(stage.committed_positions.values()) >= 1 or time.monotonic() > deadline
    )
    assert code == 0
    (letter,) = _read(kafka_settings, k.dlq_topic)
    assert letter.header(bus.H_REDRIVES) == "0"

    _letters(kafka_settings, [(b"q", ErrA("x"), {bus.H_REDRIVES: b"\xff\xfe"})])
    assert commands.dlq_list(kafka_settings, limit=50) == 0
    assert [orjson.loads(line)["redrives"] for line in capsys.readouterr().out.splitlines()] == [0, 0]
    assert (
        commands.dlq_redrive(kafka_settings, error_class=None, stage=None, dry_run=False, max_redrives=1) == 0
    )
    assert "redrove 2 dead letters" in capsys.readouterr().err
    redriven = [m for m in _read(kafka_settings, k.raw_topic) if m.header(bus.H_PRODUCER) == "dlq-redrive"]
    assert [m.header(bus.H_REDRIVES) for m in redriven] == ["1", "1"]


def test_redrive_and_list_of_a_missing_dlq_create_nothing(
    kafka_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    # Reading must not auto-create the topic (a broker would give it its default partition count).
    k = kafka_settings.kafka
    assert commands.dlq_list(kafka_settings, limit=5) == 0
    assert commands.dlq_redrive(kafka_settings, error_class=None, stage=None, dry_run=False) == 0
    assert "redrove 0 dead letters" in capsys.readouterr().err
    assert k.dlq_topic not in bus.list_topics(k)
