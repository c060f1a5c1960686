"""The one header policy for dead-lettering and redriving, and the redrive's decision per letter."""

from __future__ import annotations

import pytest

from wiredesk import bus
from wiredesk.deadletters import dead_letter_headers, redrive_count, redrive_headers
from wiredesk.redrive import Action, Filters, decide

RAW = "wiredesk.items.raw"


def _message(**headers: bytes) -> bus.Message:
    return bus.Message(RAW, 2, 41, b"k", b"{", {bus.H_TRACE: b"t-1", bus.H_SCHEMA: b"s", **headers})


def _letter(error: BaseException | None = None, stage: str = "transform", **headers: bytes) -> bus.Message:
    dead = dead_letter_headers(_message(**headers), error or ValueError("bad"), stage, stage)
    return bus.Message("wiredesk.dlq", 0, 7, b"k", b"{", dict(dead))


@pytest.mark.parametrize(
    ("raw", "count"),
    [
        (None, 0),
        (b"3", 3),
        (b" 2 ", 2),
        (b"abc", 0),
        (b"-1", 0),
        (b"", 0),
        (b"\xff\xfe", 0),
        ("٣".encode(), 0),
    ],
)
def test_a_redrive_count_reads_defensively(raw: bytes | None, count: int) -> None:
    message = _message() if raw is None else _message(**{bus.H_REDRIVES: raw})
    assert redrive_count(message) == count


def test_a_huge_redrive_count_is_capped_not_an_error() -> None:
    assert redrive_count(_message(**{bus.H_REDRIVES: b"9" * 5000})) >= 1_000


def test_dead_letter_and_redrive_keep_the_records_own_headers_and_rewrite_the_rest() -> None:
    custom = {"x-origin": b"partner-feed"}
    letter = _letter(**custom, **{bus.H_REDRIVES: b"2", bus.H_PRODUCER: b"ingest"})
    assert letter.header(bus.H_ERROR_CLASS) == "ValueError"
    assert letter.header(bus.H_SOURCE_OFFSET) == "41"
    assert letter.header(bus.H_REDRIVES) == "2"
    assert letter.header(bus.H_PRODUCER) == "transform"
    assert letter.header("x-origin") == "partner-feed"

    back = dict(redrive_headers(letter))
    assert back == {
        bus.H_TRACE: b"t-1",
        bus.H_SCHEMA: b"s",
        "x-origin": b"partner-feed",
        bus.H_PRODUCER: b"dlq-redrive",
        bus.H_REDRIVES: b"3",
    }
    # Failing again after the redrive: the count carries over into the new letter.
    again = dead_letter_headers(bus.Message(RAW, 0, 99, b"k", b"{", back), ValueError("x"), "transform", "t")
    assert dict(again)[bus.H_REDRIVES] == b"3"
    assert [k for k, _ in again].count(bus.H_PRODUCER) == 1


def test_decide_sends_each_source_record_back_once_per_run() -> None:
    seen: set[tuple[str, str, str]] = set()
    assert decide(_letter(), Filters(), seen) is Action.REDRIVE
    assert decide(_letter(), Filters(), seen) is Action.DUPLICATE


def test_decide_keeps_what_the_filters_leave_out() -> None:
    seen: set[tuple[str, str, str]] = set()
    assert decide(_letter(KeyError("x")), Filters(error_class="ValueError"), seen) is Action.KEEP
    assert decide(_letter(stage="sink"), Filters(stage="transform"), seen) is Action.KEEP
    assert seen == set()
    assert (
        decide(_letter(stage="sink"), Filters(error_class="ValueError", stage="sink"), seen) is Action.REDRIVE
    )


def test_decide_parks_letters_at_the_redrive_limit_and_leaves_unroutable_ones() -> None:
    seen: set[tuple[str, str, str]] = set()
    tired = _letter(**{bus.H_REDRIVES: b"3"})
    assert decide(tired, Filters(max_redrives=3), seen) is Action.PARK
    assert decide(tired, Filters(max_redrives=4), seen) is Action.REDRIVE
    orphan = bus.Message("wiredesk.dlq", 0, 8, b"k", b"{", {bus.H_ERROR_CLASS: b"ValueError"})
    assert decide(orphan, Filters(), seen) is Action.UNROUTABLE
