"""Dead letters: the one header policy for dead-lettering and redriving, and the one way to dead-letter.

A record's own headers (schema, schema version, trace id, anything its producer added) travel
with it into the DLQ and back out on a redrive, untouched. The bookkeeping headers belong to
wiredesk and are rewritten at each step: the error headers (class, message, stage, source
topic/partition/offset, failed-at) exist only on a dead letter; `wd-producer` names whoever
wrote this copy; `wd-redrive-count` says how often the record has been sent back, so a redrive
can leave alone letters that keep failing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from wiredesk import bus
from wiredesk.metrics import Metrics
from wiredesk.records import RecordError

log = logging.getLogger(__name__)

REDRIVE_PRODUCER = "dlq-redrive"
ERROR_HEADERS = (
    bus.H_ERROR_CLASS,
    bus.H_ERROR_MESSAGE,
    bus.H_ERROR_STAGE,
    bus.H_SOURCE_TOPIC,
    bus.H_SOURCE_PARTITION,
    bus.H_SOURCE_OFFSET,
    bus.H_FAILED_AT,
)
BOOKKEEPING_HEADERS = frozenset((*ERROR_HEADERS, bus.H_PRODUCER, bus.H_REDRIVES))
_MAX_ERROR_HEADER = 2_000
# A count this high is garbage rather than history; it only has to compare above any limit.
_MAX_REDRIVE_COUNT = 1_000_000

Entry = tuple[bytes, bytes, list[tuple[str, bytes]]]


@dataclass(frozen=True, slots=True)
class Rejected:
    """A consumed record a stage could not process, and why."""

    message: bus.Message
    error: BaseException


def own_headers(message: bus.Message) -> list[tuple[str, bytes]]:
    """The record's own headers: everything but wiredesk's dead-letter bookkeeping."""
    return [(k, v) for k, v in message.headers.items() if k not in BOOKKEEPING_HEADERS]


def redrive_count(message: bus.Message) -> int:
    """How often the record was redriven; a missing or unreadable header counts as never.

    The header comes from outside (any producer can set it), so a bad value must not stop a
    worker or a redrive: it reads as 0.
    """
    text = message.header(bus.H_REDRIVES).strip()
    if not text.isascii() or not text.isdigit():
        return 0
    if len(text) > len(str(_MAX_REDRIVE_COUNT)):  # int() refuses very long digit strings
        return _MAX_REDRIVE_COUNT
    return min(int(text), _MAX_REDRIVE_COUNT)


def dead_letter_headers(
    message: bus.Message, error: BaseException, stage: str, producer: str
) -> list[tuple[str, bytes]]:
    """The record's own headers, then what failed, where and when, and its redrive count."""
    text = f"{error}"[:_MAX_ERROR_HEADER]
    return [
        *own_headers(message),
        (bus.H_PRODUCER, producer.encode()),
        (bus.H_ERROR_CLASS, type(error).__name__.encode()),
        (bus.H_ERROR_MESSAGE, text.encode("utf-8", "replace")),
        (bus.H_ERROR_STAGE, stage.encode()),
        (bus.H_SOURCE_TOPIC, message.topic.encode()),
        (bus.H_SOURCE_PARTITION, str(message.partition).encode()),
        (bus.H_SOURCE_OFFSET, str(message.offset).encode()),
        (bus.H_FAILED_AT, datetime.now(UTC).isoformat().encode()),
        (bus.H_REDRIVES, str(redrive_count(message)).encode()),
    ]


def redrive_headers(letter: bus.Message) -> list[tuple[str, bytes]]:
    """Headers of a dead letter sent back to its source topic: its own, one more redrive."""
    return [
        *own_headers(letter),
        (bus.H_PRODUCER, REDRIVE_PRODUCER.encode()),
        (bus.H_REDRIVES, str(redrive_count(letter) + 1).encode()),
    ]


def dead_letter_entries(rejected: Sequence[Rejected], *, stage: str, metrics: Metrics) -> list[Entry]:
    """DLQ entries for rejected records, each logged and counted; every stage dead-letters here."""
    entries: list[Entry] = []
    for item in rejected:
        message, error = item.message, item.error
        metrics.dead_letters.labels(stage, type(error).__name__).inc()
        if isinstance(error, RecordError):
            metrics.decode_errors.labels(message.topic).inc()
        log.warning(
            "dead-lettering %s[%d]@%d: %s: %s",
            message.topic,
            message.partition,
            message.offset,
            type(error).__name__,
            error,
            extra=bus.log_context(message),
        )
        entries.append(
            (message.key or b"", message.value or b"", dead_letter_headers(message, error, stage, stage))
        )
    return entries
