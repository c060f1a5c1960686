"""Poll feeds: fetch → parse → classify against the ledger → say what to publish and when next.

`poll_feed` never raises for a feed-level problem (HTTP error, timeout, not a feed, an entry
that breaks the parser): it reports it in `FeedPollResult` and schedules a retry with backoff, so
one bad feed never stops the others. Ledger (SQLite) errors do propagate: they are not about one
feed, and the service should stop and be restarted rather than poll blind.

The caller (ingest/service.py) publishes `items_to_publish`, waits for the broker's acks, then
calls `state.mark_published(...)`. Items left pending by a crash or a failed publish are handed
out again on the feed's next poll, even when that poll is a 304.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from ingest.fetcher import Fetcher, FetchError, FetchResult
from ingest.parser import ParsedFeed, ParseError, parse_feed
from ingest.registry import Feed, Registry
from ingest.repeats import distinct_items
from ingest.scheduler import Hints, backoff_delay, max_age, next_interval, start_interval
from ingest.state import FeedState, IngestState
from wiredesk.http import parse_retry_after
from wiredesk.records import RawItem
from wiredesk.settings import IngestSettings

log = logging.getLogger(__name__)

PollStatus = Literal["ok", "not_modified", "error"]


@dataclass(frozen=True, slots=True)
class FeedPollResult:
    feed_id: str
    status: PollStatus
    next_due: datetime
    items_to_publish: list[RawItem] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None
    retriable: bool = False
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    # Pending versions from an earlier poll whose publish was never acked, handed out again.
    redelivered: int = 0
    # Listings dropped as repeats of another item of the same document (ingest/repeats.py).
    duplicate: int = 0
    consecutive_failures: int = 0
    interval_seconds: float = 0.0
    elapsed_seconds: float = 0.0

    @property
    def counts(self) -> dict[str, int]:
        """Items by outcome, keyed like the `wiredesk_ingest_items_total` outcome label."""
        return {
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "rejected": len(self.rejected),
            "duplicate": self.duplicate,
        }


def poll_feed(
    feed: Feed,
    fetcher: Fetcher,
    state: IngestState,
    now: datetime,
    *,
    settings: IngestSettings | None = None,
    rng: random.Random | None = None,
) -> FeedPollResult:
    """Poll one feed once. See the module docstring for the contract."""
    poll = _Poll(feed, state, now, settings or IngestSettings(), rng)
    try:
        fetched = fetcher.fetch(feed.url, etag=poll.previous.etag, last_modified=poll.previous.last_modified)
    except FetchError as exc:
        return poll.failure(str(exc), retriable=exc.retriable, retry_after=exc.retry_after)
    hints = Hints(
        max_age_seconds=max_age(fetched.headers),
        retry_after_seconds=parse_retry_after(fetched.headers.get("retry-after", ""), now),
    )
    if fetched.not_modified:
        pending = state.pending_items(feed.id)
        return poll.success(fetched, hints, "not_modified", pending, redelivered=len(pending))
    try:
        parsed = parse_feed(
            fetched.body,
            feed_id=feed.id,
            fetched_at=now,
            base_url=fetched.url,
            headers=fetched.headers,
            fetch_full_text=feed.full_text,
        )
    except ParseError as exc:
        return poll.failure(f"ParseError: {exc}", retriable=False)
    except Exception as exc:  # noqa: BLE001 - a parser bug must cost one feed, not the poll loop
        return poll.failure(f"{type(exc).__name__}: {exc}", retriable=False, bug=exc)
    hints = dataclasses.replace(hints, ttl_seconds=parsed.ttl_seconds)
    distinct = distinct_items(_with_hints(parsed, feed))
    if distinct.repeats:
        log.info(
            "feed lists %d items again: dropped as repeats (%d of them with other content)",
            distinct.repeats,
            distinct.repeats_with_other_content,
            extra={"feed_id": feed.id},
        )
    counts = {"new": 0, "changed": 0, "unchanged": 0, "duplicate": distinct.repeats}
    publish: list[RawItem] = []
    for change, item in state.classify_all(distinct.items):
        counts[change] += 1
        if change != "unchanged":
            publish.append(item)
    # Pending versions of items no longer in the feed (or a publish that failed last time).
    in_batch = {item.item_id for item in publish}
    leftovers = [p for p in state.pending_items(feed.id) if p.item_id not in in_batch]
    return poll.success(
        fetched,
        hints,
        "ok",
        publish + leftovers,
        redelivered=len(leftovers),
        rejected=list(parsed.rejected),
        counts=counts,
    )


def due_feeds(registry: Registry | Iterable[Feed], state: IngestState, now: datetime) -> list[Feed]:
    """Enabled feeds whose next poll time has come, most overdue first."""
    return state.due_feeds(registry.enabled if isinstance(registry, Registry) else registry, now)


def poll_all_once(
    feeds: Registry | Iterable[Feed],
    fetcher: Fetcher,
    state: IngestState,
    now: datetime,
    max_workers: int = 8,
    *,
    settings: IngestSettings | None = None,
) -> Iterator[FeedPollResult]:
    """Poll feeds concurrently; yield results as they complete.

    Given a Registry, polls its enabled feeds that are due; given feeds, polls exactly those
    (the caller already chose them, e.g. `--once` polls everything).
    """
    selected = due_feeds(feeds, state, now) if isinstance(feeds, Registry) else list(feeds)
    if not selected:
        return
    workers = max(1, min(max_workers, len(selected)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingest-poll") as pool:
        futures = [pool.submit(poll_feed, feed, fetcher, state, now, settings=settings) for feed in selected]
        for future in as_completed(futures):
            yield future.result()


def _with_hints(parsed: ParsedFeed, feed: Feed) -> list[RawItem]:
    """Apply the registry's hints: its language where the feed declares none, and its agency."""
    items = parsed.items
    if feed.language and not parsed.meta.language:
        meta = dataclasses.replace(parsed.meta, language=feed.language)
        items = [dataclasses.replace(item, feed=meta) for item in items]
    if feed.agency:
        items = [dataclasses.replace(item, agency_hint=feed.agency) for item in items]
    return items


class _Poll:
    """One poll of one feed in progress: what it started from, and how it records its end."""

    def __init__(
        self,
        feed: Feed,
        state: IngestState,
        now: datetime,
        settings: IngestSettings,
        rng: random.Random | None,
    ) -> None:
        self.feed = feed
        self.state = state
        self.now = now
        self.settings = settings
        self.rng = rng
        self.started = time.monotonic()
        self.previous = state.feed_state(feed.id)
        self.interval = self.previous.interval_seconds or start_interval(feed.interval_seconds, settings)

    def success(
        self,
        fetched: FetchResult,
        hints: Hints,
        status: PollStatus,
        items: list[RawItem],
        *,
        redelivered: int = 0,
        rejected: list[tuple[str, str]] | None = None,
        counts: dict[str, int] | None = None,
    ) -> FeedPollResult:
        counts = counts or {}
        changed = counts.get("new", 0) + counts.get("changed", 0)
        interval = next_interval(
            self.interval,
            changed=changed,
            configured=self.feed.interval_seconds,
            hints=hints,
            settings=self.settings,
        )
        next_due = self.now.timestamp() + interval
        self.state.save_feed_state(
            FeedState(
                feed_id=self.feed.id,
                etag=fetched.etag,
                last_modified=fetched.last_modified,
                next_due=next_due,
                failures=0,
                interval_seconds=interval,
                last_polled=self.now.timestamp(),
                last_status=status,
                last_error="",
            )
        )
        return FeedPollResult(
            feed_id=self.feed.id,
            status=status,
            next_due=datetime.fromtimestamp(next_due, UTC),
            items_to_publish=items,
            rejected=rejected or [],
            new=counts.get("new", 0),
            changed=counts.get("changed", 0),
            unchanged=counts.get("unchanged", 0),
            redelivered=redelivered,
            duplicate=counts.get("duplicate", 0),
            interval_seconds=interval,
            elapsed_seconds=time.monotonic() - self.started,
        )

    def failure(
        self,
        error: str,
        *,
        retriable: bool,
        retry_after: float | None = None,
        bug: BaseException | None = None,
    ) -> FeedPollResult:
        failures = self.previous.failures + 1
        delay = backoff_delay(
            failures, self.interval, retry_after=retry_after, settings=self.settings, rng=self.rng
        )
        next_due = self.now.timestamp() + delay
        # The one log line of a failed poll (the service only counts it); a bug brings its traceback.
        log.warning(
            "feed %s failed (%d in a row; next poll in %.0fs): %s",
            self.feed.id,
            failures,
            delay,
            error,
            exc_info=bug,
            extra={"feed_id": self.feed.id, "error": error},
        )
        # Validators are kept: a failed poll says nothing about whether our last copy is current.
        self.state.save_feed_state(
            dataclasses.replace(
                self.previous,
                next_due=next_due,
                failures=failures,
                interval_seconds=self.interval,
                last_polled=self.now.timestamp(),
                last_status="error",
                last_error=error[:500],
            )
        )
        return FeedPollResult(
            feed_id=self.feed.id,
            status="error",
            next_due=datetime.fromtimestamp(next_due, UTC),
            error=error,
            retriable=retriable,
            consecutive_failures=failures,
            interval_seconds=self.interval,
            elapsed_seconds=time.monotonic() - self.started,
        )


__all__ = ["FeedPollResult", "PollStatus", "due_feeds", "poll_all_once", "poll_feed"]
