"""The ingest ledger's port: what polling needs from state, whichever store holds it.

Two stores implement it:
- `ingest.state.IngestState`, SQLite, the embedded default: one process owns the file, so
  "claiming" a feed is choosing a due one that is not already being polled in this process.
- `ingest.state_postgres.PostgresLedger`, shared by every replica: a claim is a row lease taken
  with `FOR UPDATE SKIP LOCKED`, given a fencing token, and expiring on the database's clock
  (see that module for why this guarantees that no feed is polled by two replicas at once).

The poller writes through a `PollLedger`: the SQLite ledger itself, or a PostgreSQL view bound to
one claim whose every write first checks that the claim still holds (`LeaseLost` otherwise).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol
from urllib.parse import urlsplit

from ingest.registry import Feed
from wiredesk import records
from wiredesk.errors import WiredeskError
from wiredesk.records import RawItem

Change = Literal["new", "changed", "unchanged"]
# What classifying an item does to its row: insert it, only note it was seen, or store a version.
Action = Literal["insert", "touch", "update"]


class LeaseLost(WiredeskError):
    """This replica's claim on a feed ended (expired and taken by another) before its poll was saved.

    The poll's results are dropped; the replica that holds the feed now polls it again.
    """

    retriable = True


@dataclass(frozen=True, slots=True)
class FeedState:
    """What ingest remembers about one feed between polls; times are Unix seconds."""

    feed_id: str
    etag: str = ""
    last_modified: str = ""
    next_due: float = 0.0
    failures: int = 0
    interval_seconds: float = 0.0
    last_polled: float = 0.0
    last_status: str = ""
    last_error: str = ""
    # The registry URL this state was built for, and where a permanent redirect moved that URL
    # ("" = not moved). An edited registry URL makes both, and the validators, start over.
    registry_url: str = ""
    url: str = ""
    # ok / degraded / failing ("" = never polled), why, and since when (ingest/health.py).
    health: str = ""
    health_reason: str = ""
    health_since: float = 0.0
    last_success: float = 0.0
    # When a poll last found an item never seen before, the usual gap between the feed's items
    # (seconds, learnt from its own dates), and the last time a whole document was read.
    last_new_item: float = 0.0
    usual_gap_seconds: float = 0.0
    last_document: float = 0.0

    def fetch_url(self, feed: Feed) -> str:
        """The URL to fetch: where the registry's URL moved for good, else the registry's URL."""
        return self.url if self.url and self.registry_url == feed.url else feed.url


def host_of(url: str) -> str:
    """The host politeness limits are counted by ("" for files and unparseable URLs)."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


@dataclass(frozen=True, slots=True)
class Claim:
    """One feed this replica may poll now, and until when (monotonic clock) its fetch may run."""

    feed: Feed
    state: FeedState
    token: int = 0
    fetch_deadline: float | None = None

    @property
    def feed_id(self) -> str:
        return self.feed.id


@dataclass(frozen=True, slots=True)
class Subscription:
    """A WebSub subscription of one feed (ingest/websub.py). Times are Unix seconds."""

    feed_id: str
    hub: str
    topic: str
    secret: str
    # "subscribing" (asked, waiting for the hub's verification), "active", or "unsubscribing".
    state: str
    lease_until: float = 0.0
    requested_at: float = 0.0


class PollLedger(Protocol):
    """What one poll of one feed reads and writes."""

    def feed_state(self, feed_id: str) -> FeedState: ...

    def save_feed_state(self, state: FeedState) -> None: ...

    def classify_all(self, items: Iterable[RawItem]) -> list[tuple[Change, RawItem]]: ...

    def pending_items(self, feed_id: str | None = None) -> list[RawItem]: ...


class Ledger(PollLedger, Protocol):
    """The whole ledger: polling state, item versions, claims, subscriptions."""

    def mark_published(self, items: Iterable[RawItem]) -> int: ...

    def published_chunks(self, size: int = 500, feed_id: str | None = None) -> Iterator[list[RawItem]]: ...

    def sync_feeds(self, feeds: Sequence[Feed]) -> None: ...

    def poll_soon(self, feed_ids: Collection[str]) -> None: ...

    def claim(
        self,
        feeds: Sequence[Feed],
        now: float,
        *,
        limit: int,
        busy_hosts: Collection[str] = (),
        in_flight: Collection[str] = (),
        stretch: float = 1.0,
        force: bool = False,
    ) -> list[Claim]: ...

    def renew(self, claims: Sequence[Claim]) -> set[str]: ...

    def release(self, claims: Sequence[Claim]) -> None: ...

    def leased(self, claim: Claim) -> PollLedger: ...

    def feed_states(self, feed_ids: Iterable[str]) -> dict[str, FeedState]: ...

    def seconds_until_due(self, feeds: Sequence[Feed], now: float, stretch: float = 1.0) -> float: ...

    def subscriptions(self) -> list[Subscription]: ...

    def subscription(self, feed_id: str) -> Subscription | None: ...

    def save_subscription(self, subscription: Subscription) -> None: ...

    def delete_subscription(self, feed_id: str) -> None: ...

    def prune(self, now: float, retention_seconds: float) -> int: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """An item's row in the ledger: its latest version, whether the broker acked it, the record."""

    version: int
    content_hash: str
    published: bool
    record: bytes


def classify_item(item: RawItem, stored: StoredVersion | None) -> tuple[Change, RawItem, Action]:
    """The delivery contract of every ledger (ingest/state.py's docstring), for one item.

    Returns what the item is, the version to publish (or the acked one, when unchanged), and
    what to write.
    """
    if stored is None:
        return "new", dataclasses.replace(item, version=1), "insert"
    if stored.content_hash == item.content_hash:
        if stored.published:
            return "unchanged", dataclasses.replace(item, version=stored.version), "touch"
        # Seen but never acked: hand out the pending version again, exactly as recorded.
        pending = records.loads(RawItem, stored.record)
        return ("new" if stored.version == 1 else "changed"), pending, "touch"
    # New content always gets a new number, even over a version never acked: that version may
    # still have reached the topic (the ack was lost, not the send), and the sinks' ledgers
    # identify what they processed by (item id, version).
    updated = dataclasses.replace(item, version=stored.version + 1)
    return "changed", updated, "update"


def due_time(state: FeedState, stretch: float) -> float:
    """When a feed is due, its interval stretched by `stretch` (back-pressure; 1 = as scheduled)."""
    return state.next_due + max(0.0, stretch - 1.0) * state.interval_seconds


__all__ = [
    "Action",
    "Change",
    "Claim",
    "FeedState",
    "LeaseLost",
    "Ledger",
    "PollLedger",
    "StoredVersion",
    "Subscription",
    "classify_item",
    "due_time",
    "host_of",
]
