"""Redriving dead letters: send them back to their source topic, once each, and finish.

How progress is kept: the `<kafka.group_prefix>-dlq-redrive` group's committed offset on the DLQ means
"everything before this was dealt with". A run reads the DLQ from there up to the end each
partition had when the run began, so letters that fail again while it runs (they land after
that end) wait for the next run instead of cycling. Each letter read is one of:

- redriven: published to its source topic with its own headers and one more
  `wd-redrive-count` (the one header policy in wiredesk.deadletters);
- kept: it does not match the run's filters, so it is appended to the DLQ again (same key,
  value and headers) before the group commits past it. It stays listed and redrivable, and a
  later run with other filters finds it. (The alternative, a record of which letters were
  redriven, needs a store beside the broker; a broker such as Tansu also drops commit
  metadata, so the offsets cannot carry it.)
- parked: it was redriven `max_redrives` times already; it stays where it is, for
  `dlq list --all`, and is not sent again;
- unroutable: it has no source-topic header; left in place;
- duplicate: a second letter for a source record already redriven in this run.

Each batch is published and acknowledged before the group commits past it, so a crash redrives
some letters twice at worst, which the idempotent sinks absorb. Run one redrive at a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from wiredesk import bus
from wiredesk.deadletters import REDRIVE_PRODUCER, Entry, redrive_count, redrive_headers
from wiredesk.metrics import Metrics
from wiredesk.settings import KafkaSettings

REDRIVE_ROLE = "dlq-redrive"


class Action(Enum):
    REDRIVE = "redriven"
    KEEP = "kept"
    PARK = "parked"
    UNROUTABLE = "unroutable"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class Filters:
    """Which letters a run sends back; None means any."""

    error_class: str | None = None
    stage: str | None = None
    max_redrives: int | None = None


@dataclass
class Tally:
    """What a run did (or, dry, would do), for progress lines and the summary."""

    total: int = 0
    read: int = 0
    counts: dict[Action, int] = field(default_factory=lambda: dict.fromkeys(Action, 0))
    by_topic: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, action: Action) -> int:
        return self.counts[action]


def decide(letter: bus.Message, filters: Filters, seen: set[tuple[str, str, str]]) -> Action:
    """What a run does with one letter; `seen` holds the source records redriven so far."""
    source = letter.header(bus.H_SOURCE_TOPIC)
    if not source:
        return Action.UNROUTABLE
    if (filters.error_class is not None and letter.header(bus.H_ERROR_CLASS) != filters.error_class) or (
        filters.stage is not None and letter.header(bus.H_ERROR_STAGE) != filters.stage
    ):
        return Action.KEEP
    if filters.max_redrives is not None and redrive_count(letter) >= filters.max_redrives:
        return Action.PARK
    origin = (source, letter.header(bus.H_SOURCE_PARTITION), letter.header(bus.H_SOURCE_OFFSET))
    if origin in seen:
        return Action.DUPLICATE
    seen.add(origin)
    return Action.REDRIVE


def redrive(
    kafka: KafkaSettings,
    filters: Filters,
    *,
    dry_run: bool = False,
    group: str | None = None,
    progress: Callable[[Tally], None] | None = None,
    progress_every_s: float = 2.0,
) -> Tally:
    """Redrive the DLQ from the group's committed offsets to the end seen at the start."""
    tally = Tally()
    seen: set[tuple[str, str, str]] = set()
    offsets = bus.GroupOffsets(kafka, group or kafka.group(REDRIVE_ROLE))
    publisher: bus.Publisher | None = None
    try:
        with bus.TopicReader(kafka, kafka.dlq_topic, offsets=offsets.committed(kafka.dlq_topic)) as reader:
            tally.total = reader.total
            if not dry_run:
                publisher = bus.Publisher(kafka, REDRIVE_PRODUCER, Metrics())
            reported = time.monotonic()
            for batch in reader.batches():
                outgoing: dict[str, list[Entry]] = {}
                kept: list[Entry] = []
                for letter in batch:
                    action = decide(letter, filters, seen)
                    tally.counts[action] += 1
                    if action is Action.REDRIVE:
                        source = letter.header(bus.H_SOURCE_TOPIC)
                        tally.by_topic[source] = tally.by_topic.get(source, 0) + 1
                        outgoing.setdefault(source, []).append(
                            (letter.key or b"", letter.value or b"", redrive_headers(letter))
                        )
                    elif action is Action.KEEP:
                        kept.append((letter.key or b"", letter.value or b"", list(letter.headers.items())))
                tally.read += len(batch)
                if publisher is not None:
                    for topic, entries in outgoing.items():
                        publisher.publish(topic, entries)
                    publisher.publish(kafka.dlq_topic, kept)
                    offsets.commit(kafka.dlq_topic, _past(batch))
                if progress is not None and time.monotonic() - reported >= progress_every_s:
                    progress(tally)
                    reported = time.monotonic()
    finally:
        if publisher is not None:
            publisher.close()
        offsets.close()
    return tally


def _past(batch: list[bus.Message]) -> dict[int, int]:
    """Per partition, the offset after the last letter of `batch`."""
    upto: dict[int, int] = {}
    for m in batch:
        upto[m.partition] = max(upto.get(m.partition, 0), m.offset + 1)
    return upto
