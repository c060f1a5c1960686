"""The one interface every destination implements, its result types, and its error tree.

A sink is a small port (DESIGN.md convention 6): `open / write_batch / flush / close`. The
batching consumer in `sinks/service.py` owns Kafka; a sink only knows records and its store.
Every sink is idempotent and version-guarded, which is what turns at-least-once delivery into
effectively-once storage: replays change nothing and an older derivation never overwrites a
newer one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from wiredesk.errors import ConfigurationError, InfrastructureError, RecordFailure, WiredeskError
from wiredesk.records import Article

# Both search backends mark matched terms in snippets the same way, so callers need not care
# which one answered. Guillemets rarely occur in news text, unlike brackets or asterisks.
HIGHLIGHT_START = "«"
HIGHLIGHT_END = "»"
SNIPPET_ELLIPSIS = "…"


# --- errors -------------------------------------------------------------------------------------


# The sink errors are a branch of wiredesk's one error tree (wiredesk/errors.py), so the service
# runner treats them like every other stage's: record failures dead-lettered, infrastructure
# failures retried or turned into an exit code.


class SinkError(WiredeskError):
    """Base of every sink failure. `retriable`: would the same call succeed later unchanged?"""

    retriable: bool = False
    exit_code: int = 70  # EX_SOFTWARE

    def __init__(self, message: str, *, sink: str = "") -> None:
        self.sink = sink
        super().__init__(f"{sink}: {message}" if sink else message)


class SinkConfigError(SinkError, ConfigurationError):
    """The configuration names a sink that cannot be used; restarting will not help."""

    exit_code = 78  # EX_CONFIG


class SinkUnavailable(SinkError, InfrastructureError):
    """The store cannot be reached or is busy (locked, disconnected, deadlock, disk full).

    Retry with backoff; after too many attempts exit and let the orchestrator restart us.
    """

    retriable = True
    exit_code = 69  # EX_UNAVAILABLE


class SinkRecordError(SinkError, RecordFailure):
    """One record cannot be stored however often it is retried: skip it and dead-letter it."""

    exit_code = 65  # EX_DATAERR

    def __init__(self, message: str, *, uri: str, sink: str = "") -> None:
        self.uri = uri
        super().__init__(f"{uri}: {message}", sink=sink)


class SinkClosedError(SinkError):
    """A call on a sink that is not open: a lifecycle bug in the caller."""


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What one `write_batch` did, per article.

    inserted: a new article. updated: a newer derivation (greater `wiredesk.derivation_key`)
    replaced the stored one. unchanged: the same derivation was already stored (a replay).
    stale_skipped: an older derivation arrived after a newer one and was ignored.
    """

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    stale_skipped: int = 0

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged + self.stale_skipped

    @property
    def written(self) -> int:
        return self.inserted + self.updated

    def __add__(self, other: WriteResult) -> WriteResult:
        return WriteResult(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.stale_skipped + other.stale_skipped,
        )


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One ranked search result; `score` is higher for better matches (backend-specific scale)."""

    uri: str
    headline: str
    snippet: str
    score: float
    versioncreated: datetime | None
    source_url: str


# --- ports --------------------------------------------------------------------------------------


@runtime_checkable
class Sink(Protocol):
    """A destination for articles.

    `write_batch` stores a batch atomically (all or nothing) and is safe to call again with the
    same batch. `flush` returns only when everything written so far is durable (committed), so
    the caller may then commit its input offsets. `close` is safe to call twice.
    """

    name: str

    def open(self) -> None: ...

    def write_batch(self, articles: Sequence[Article]) -> WriteResult: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class SearchIndex(Protocol):
    """Full-text search over stored articles. Any user input is a valid query (never raises)."""

    def search(self, query: str, limit: int = 10) -> list[SearchHit]: ...


@runtime_checkable
class ArticleStore(Protocol):
    """Read access used by the CLI and tests, and the processed-items ledger of the catch-up.

    The ledger answers "has this item version been dealt with?" for the embedded runner, whose
    broker forgets its topics: a version is dealt with once it was processed into an article
    (stored, or not stored because a newer derivation was already there) or was dead-lettered.
    """

    def count(self) -> int: ...

    def get(self, uri: str) -> Article | None: ...

    def processed_among(self, versions: Sequence[tuple[str, int]]) -> set[tuple[str, int]]:
        """Those of these (item_id, item_version) that were processed or dead-lettered.

        One query per call: callers pass the ledger in chunks, so memory stays bounded.
        """
        ...

    def record_dead_lettered(self, versions: Sequence[tuple[str, int]]) -> None:
        """Remember that these (item_id, item_version) went to the dead-letter topic (durably)."""
        ...
