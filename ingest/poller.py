"""Poll feeds: fetch → parse → classify against the ledger → say what to publish and when next.

`poll_feed` never raises for a feed-level problem (HTTP error, timeout, not a feed, an entry
that breaks the parser): it reports it in `FeedPollResult` and schedules a retry with backoff, so
one bad feed never stops the others. Ledger errors do propagate: they are not about one feed,
and the service should retry or stop rather than poll blind; so does `LeaseLost` (another replica
holds the feed now: this poll counts for nothing).

`ingest_pushed` takes a document a WebSub hub pushed through the same parse → classify steps,
so pushed content flows exactly like polled content.

URLs: a feed is fetched at its registry URL, or where a permanent redirect (301/308) moved it
(kept in its state); when the registry's URL is edited, the moved URL and the validators of the
old one are forgotten.

The caller (ingest/service.py) publishes `items_to_publish`, waits for the broker's acks, then
calls `state.mark_published(...)`. Items left pending by a crash or a failed publish are handed
out again on the feed's next poll, even when that poll is a 304.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from ingest import health
from ingest.fetcher import Fetcher, FetchError, FetchResult
from ingest.ledger import Change, FeedState, PollLedger
from ingest.parser import ParsedFeed, ParseError, parse_feed
from ingest.registry import Feed, Registry
from ingest.repeats import distinct_items
from ingest.scheduler import Hints, backoff_delay, max_age, next_interval, start_interval
from ingest.state import IngestState
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
    # Dates of new items published since the feed's previous document was read: their time to
    # the topic is the freshness ingest measures.
    fresh: list[datetime] = field(default_factory=list)
    # WebSub hubs the document advertised, and its self URL (the topic).
    hubs: tuple[str, ...] = ()
    topic: str = ""
    # The server of the feed asked us (429/503 with Retry-After) to stay away this long.
    throttle_seconds: float | None = None
    state: FeedState | None = None

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
    state: PollLedger,
    now: datetime,
    *,
    settings: IngestSettings | None = None,
    rng: random.Random | None = None,
    deadline: float | None = None,
    pushed: bool = False,
) -> FeedPollResult:
    """Poll one feed once. See the module docstring for the contract.

    `deadline` (time.monotonic()) ends the fetch; `pushed`: a hub pushes this feed, so polling
    is only the slow fallback (`websub_fallback_interval_seconds`).
    """
    poll = _Poll(feed, state, now, settings or IngestSettings(), rng, pushed=pushed)
    try:
        fetched = fetcher.fetch(
            poll.url, etag=poll.previous.etag, last_modified=poll.previous.last_modified, deadline=deadline
        )
    except FetchError as exc:
        throttle = exc.retry_after if exc.throttled else None
        return poll.failure(str(exc), retriable=exc.retriable, retry_after=exc.retry_after, throttle=throttle)
    if fetched.moved_to and fetched.moved_to != poll.url:
        log.info(
            "feed %s moved permanently from %s to %s: polling the new URL from now on",
            feed.id,
            poll.url,
            fetched.moved_to,
            extra={"feed_id": feed.id},
        )
        poll.url = fetched.moved_to
    hints = Hints(
        max_age_seconds=max_age(fetched.headers),
        retry_after_seconds=parse_retry_after(fetched.headers.get("retry-after", ""), now),
    )
    if fetched.not_modified:
        pending = state.pending_items(feed.id)
        return poll.success(fetched, hints, "not_modified", pending, redelivered=len(pending))
    return poll.read(fetched.body, fetched.url, fetched.headers, fetched=fetched, hints=hints)


def ingest_pushed(
    feed: Feed,
    body: bytes,
    headers: Mapping[str, str],
    state: PollLedger,
    now: datetime,
    *,
    settings: IngestSettings | None = None,
) -> FeedPollResult:
    """A document a WebSub hub pushed for `feed`, through the same steps as a polled one.

    The feed's validators and schedule are kept (the push says nothing about the feed's URL);
    its items, health and freshness are updated like a poll's.
    """
    poll = _Poll(feed, state, now, settings or IngestSettings(), None, pushed=True)
    return poll.read(body, poll.url, headers, fetched=None, hints=Hints())


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
        state: PollLedger,
        now: datetime,
        settings: IngestSettings,
        rng: random.Random | None,
        *,
        pushed: bool = False,
    ) -> None:
        self.feed = feed
        self.state = state
        self.now = now
        self.settings = settings
        self.rng = rng
        self.pushed = pushed
        self.started = time.monotonic()
        previous = state.feed_state(feed.id)
        if previous.registry_url != feed.url:
            # A new feed, or the registry's URL was edited: what was known of the old URL (where
            # it moved, its validators) does not apply to the new one.
            previous = dataclasses.replace(previous, registry_url=feed.url, url="", etag="", last_modified="")
        self.previous = previous
        self.url = previous.fetch_url(feed)
        self.interval = self.previous.interval_seconds or start_interval(feed.interval_seconds, settings)

    def read(
        self,
        body: bytes,
        url: str,
        headers: Mapping[str, str],
        *,
        fetched: FetchResult | None,
        hints: Hints,
    ) -> FeedPollResult:
        """Parse a document and classify its items (a polled or a pushed one)."""
        feed = self.feed
        try:
            parsed = parse_feed(
                body,
                feed_id=feed.id,
                fetched_at=self.now,
                base_url=url,
                headers=headers,
                fetch_full_text=feed.full_text,
                max_items=self.settings.max_items_per_feed,
            )
        except ParseError as exc:
            return self.failure(f"ParseError: {exc}", retriable=False)
        except Exception as exc:  # noqa: BLE001 - a parser bug must cost one feed, not the poll loop
            return self.failure(f"{type(exc).__name__}: {exc}", retriable=False, bug=exc)
        hints = dataclasses.replace(hints, ttl_seconds=parsed.ttl_seconds)
        if parsed.unread:
            log.warning(
                "feed %s lists %d entries: the first %d were read, the other %d left unread "
                "(ingest.max_items_per_feed)",
                feed.id,
                len(parsed.items) + len(parsed.rejected) + parsed.unread,
                self.settings.max_items_per_feed,
                parsed.unread,
                extra={"feed_id": feed.id},
            )
        distinct = distinct_items(_with_hints(parsed, feed))
        if distinct.repeats:
            log.info(
                "feed lists %d items again: dropped as repeats (%d of them with other content)",
                distinct.repeats,
                distinct.repeats_with_other_content,
                extra={"feed_id": feed.id},
            )
        if parsed.rejected:
            log.info(
                "feed %s: %d items rejected, e.g. %s",
                feed.id,
                len(parsed.rejected),
                parsed.rejected[0][1],
                extra={"feed_id": feed.id},
            )
        counts = {"new": 0, "changed": 0, "unchanged": 0, "duplicate": distinct.repeats}
        publish: list[RawItem] = []
        fresh: list[datetime] = []
        classified: list[tuple[Change, RawItem]] = self.state.classify_all(distinct.items)
        since = self.previous.last_document
        for change, item in classified:
            counts[change] += 1
            if change != "unchanged":
                publish.append(item)
            when = item.published or item.updated
            if change == "new" and when is not None and since > 0 and since < when.timestamp():
                fresh.append(when)
        # Pending versions of items no longer in the feed (or a publish that failed last time).
        in_batch = {item.item_id for item in publish}
        leftovers = [p for p in self.state.pending_items(feed.id) if p.item_id not in in_batch]
        learnt = health.usual_gap(
            (item.published or item.updated for item in distinct.items), self.now.timestamp()
        )
        return self.success(
            fetched,
            hints,
            "ok",
            publish + leftovers,
            redelivered=len(leftovers),
            rejected=list(parsed.rejected),
            counts=counts,
            fresh=fresh,
            parsed=parsed,
            usual_gap=learnt,
        )

    def success(
        self,
        fetched: FetchResult | None,
        hints: Hints,
        status: PollStatus,
        items: list[RawItem],
        *,
        redelivered: int = 0,
        rejected: list[tuple[str, str]] | None = None,
        counts: dict[str, int] | None = None,
        fresh: list[datetime] | None = None,
        parsed: ParsedFeed | None = None,
        usual_gap: float = 0.0,
    ) -> FeedPollResult:
        counts = counts or {}
        changed = counts.get("new", 0) + counts.get("changed", 0)
        now = self.now.timestamp()
        previous = self.previous
        if fetched is None:
            # A push: the schedule, validators and status stay the poll's.
            interval, next_due = previous.interval_seconds or self.interval, previous.next_due
            etag, last_modified, status_text = previous.etag, previous.last_modified, previous.last_status
        else:
            interval = next_interval(
                self.interval,
                changed=changed,
                configured=self.feed.interval_seconds,
                hints=hints,
                settings=self.settings,
            )
            if self.pushed:
                interval = max(interval, self.settings.websub_fallback_interval_seconds)
            next_due = now + interval
            etag, last_modified, status_text = fetched.etag, fetched.last_modified, status
        saved = dataclasses.replace(
            previous,
            etag=etag,
            last_modified=last_modified,
            next_due=next_due,
            failures=0,
            interval_seconds=interval,
            last_polled=now if fetched is not None else previous.last_polled,
            last_status=status_text,
            last_error="",
            url=self.url if self.url != self.feed.url else "",
            last_success=now,
            last_new_item=now if counts.get("new", 0) else previous.last_new_item,
            usual_gap_seconds=usual_gap or previous.usual_gap_seconds,
            last_document=now if parsed is not None else previous.last_document,
        )
        listed = sum(counts.get(k, 0) for k in ("new", "changed", "unchanged"))
        saved = health.after_success(
            saved, now, rejected=len(rejected or []), listed=listed, quiet_factor=self.settings.quiet_factor
        )
        self.state.save_feed_state(saved)
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
            fresh=fresh or [],
            hubs=parsed.hubs if parsed is not None else (),
            topic=(parsed.self_url or self.url) if parsed is not None else "",
            state=saved,
        )

    def failure(
        self,
        error: str,
        *,
        retriable: bool,
        retry_after: float | None = None,
        bug: BaseException | None = None,
        throttle: float | None = None,
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
        saved = dataclasses.replace(
            self.previous,
            next_due=next_due,
            failures=failures,
            interval_seconds=self.interval,
            last_polled=self.now.timestamp(),
            last_status="error",
            last_error=error[:500],
        )
        saved = health.after_failure(saved, self.now.timestamp(), failing_after=self.settings.failing_after)
        self.state.save_feed_state(saved)
        return FeedPollResult(
            feed_id=self.feed.id,
            status="error",
            next_due=datetime.fromtimestamp(next_due, UTC),
            error=error,
            retriable=retriable,
            consecutive_failures=failures,
            interval_seconds=self.interval,
            elapsed_seconds=time.monotonic() - self.started,
            throttle_seconds=throttle,
            state=saved,
        )


__all__ = ["FeedPollResult", "PollStatus", "due_feeds", "ingest_pushed", "poll_all_once", "poll_feed"]
