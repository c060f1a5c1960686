"""The ingest service: claim due feeds, poll them, publish new or changed items, record them as published.

The ledger is updated only after the broker acknowledged the items, so a crash between the two
re-publishes (at-least-once) rather than loses; downstream ids and version guards absorb repeats.

One stage thread dispatches; a pool of `ingest.concurrency` threads fetches and parses. Each
step of the stage thread:
- collects finished polls: publishes their items, waits for the acks, marks them published,
  releases the feeds' claims, and updates metrics;
- claims due feeds for the free threads (ingest/ledger.py: in PostgreSQL a claim is a row lease,
  so replicas split the feeds), skipping hosts that are busy (ingest/politeness.py), and takes
  WebSub pushes (ingest/websub.py) the same way, so pushed content goes the polled path;
- every so often: re-reads an edited registry, reads transform's lag and stretches polling
  intervals when it is too far behind (back-pressure), renews the leases of polls in flight,
  refreshes the feed health metrics from the ledger, maintains WebSub subscriptions and forgets
  items long gone from their feeds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from ingest import health
from ingest.fetcher import Fetcher
from ingest.ledger import Claim, FeedState, LeaseLost, Ledger, host_of
from ingest.politeness import HostGate
from ingest.poller import FeedPollResult, ingest_pushed, poll_feed
from ingest.registry import Feed, Registry, RegistryError, RegistryWatcher
from ingest.scheduler import stretch_for
from ingest.stores import open_ledger
from ingest.websub import CallbackServer, Push, WebSub
from wiredesk import bus, records
from wiredesk.errors import InfrastructureError, WiredeskError
from wiredesk.http import HttpClient
from wiredesk.metrics import FEED_HEALTH_STATES, Metrics
from wiredesk.records import RawItem
from wiredesk.settings import Settings

log = logging.getLogger(__name__)

SERVICE = "ingest"
_IDLE_WAIT_S = 1.0
_STEP_WAIT_S = 0.25
_HEALTH_EVERY_S = 15.0
_WEBSUB_EVERY_S = 60.0
_PRUNE_EVERY_S = 3600.0
_PUSH_PATIENCE_S = 300.0


@dataclass(slots=True)
class _Job:
    claim: Claim
    future: Future[FeedPollResult]
    host: str
    path: str  # "poll" or "push"


class _Every:
    """A periodic chore: due at once, then every `seconds` (monotonic clock)."""

    def __init__(self, seconds: float, first: float = 0.0) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + first

    def due(self) -> bool:
        now = time.monotonic()
        if self.seconds <= 0 or now < self.at:
            return False
        self.at = now + self.seconds
        return True

    def soon(self) -> None:
        self.at = 0.0


class IngestStage:
    name = SERVICE

    def __init__(
        self,
        settings: Settings,
        metrics: Metrics,
        registry: Registry,
        *,
        once: bool = False,
        republish: Iterable[Sequence[RawItem]] = (),
        registry_path: Path | None = None,
    ) -> None:
        """`republish`: chunks of items to publish again at start, before polling (the embedded
        catch-up); iterated afresh if a start has to be retried, and consumed lazily so that
        memory stays bounded. `registry_path`: the file `registry` came from, re-read when edited."""
        self.settings = settings
        self.metrics = metrics
        self.once = once
        self.registry = registry
        self._republish = republish
        self._registry_path = registry_path
        self._ledger: Ledger | None = None
        self._fetcher: Fetcher | None = None
        self._publisher: bus.Publisher | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._websub: WebSub | None = None
        self._callback: CallbackServer | None = None
        self._lag: bus.LagProbe | None = None
        self._watcher: RegistryWatcher | None = None
        s = settings.ingest
        self._gate = HostGate(
            s.per_host_concurrency, s.per_host_delay_seconds, max_hold_seconds=s.max_backoff_seconds
        )
        self._jobs: dict[str, _Job] = {}
        self._pushes: list[Push] = []
        self._pushed_feeds: set[str] = set()
        self._polled_once: set[str] = set()
        self._wake = threading.Event()
        self._claim_after = 0.0
        self.stretch = 1.0
        self._reload = _Every(s.registry_reload_seconds)
        self._backpressure = _Every(s.backpressure_check_seconds if s.backpressure_max_lag else 0)
        self._renew = _Every(s.lease_seconds / 3, first=s.lease_seconds / 3)
        self._health = _Every(_HEALTH_EVERY_S)
        self._maintain = _Every(_WEBSUB_EVERY_S)
        self._prune = _Every(_PRUNE_EVERY_S, first=60.0)
        self.cycles = 0
        self.published = 0
        self.republished = 0
        self.polled = 0
        self.feed_errors = 0
        self.produced_positions: dict[tuple[str, int], int] = {}

    @property
    def cycle_done(self) -> bool:
        return self.cycles > 0

    @property
    def registry(self) -> Registry:
        return self._registry

    @registry.setter
    def registry(self, registry: Registry) -> None:
        # Built once per registry version: the dispatcher looks at every feed on every claim.
        self._registry = registry
        self._enabled = registry.enabled
        self._enabled_ids = frozenset(feed.id for feed in self._enabled)
        self._by_id = {feed.id: feed for feed in self._enabled}

    @property
    def callback_address(self) -> tuple[str, int] | None:
        return self._callback.address if self._callback is not None else None

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        bus.ensure_topics(self.settings.kafka)
        s = self.settings.ingest
        if self._ledger is None:
            self._ledger = open_ledger(self.settings)
            http = HttpClient(self.settings.http)
            self._fetcher = Fetcher(http)
            self._pool = ThreadPoolExecutor(max_workers=s.concurrency, thread_name_prefix="ingest-poll")
            if s.websub_callback_url:
                self._websub = WebSub(self._ledger, http, s, self.metrics)
                self._websub.on_push = self._wake.set
                host = s.websub_host or self.settings.service.metrics_host or "127.0.0.1"
                self._callback = CallbackServer(
                    self._websub, host, s.websub_port, self.settings.http.max_bytes
                )
                self._callback.start()
            if self._registry_path is not None and s.registry_reload_seconds > 0:
                self._watcher = RegistryWatcher(self._registry_path, self.registry)
        self._ledger.sync_feeds(self.registry.enabled)
        self._publisher = bus.Publisher(self.settings.kafka, SERVICE, self.metrics)
        for feed in self.registry.enabled:
            self.metrics.init_feed(feed.id)
        self.metrics.ingest_registry_feeds.set(len(self.registry.enabled))
        republished = 0
        for chunk in self._republish:
            self._publish(chunk)
            republished += len(chunk)
            self.republished += len(chunk)
            for item in chunk:
                self.metrics.ingest_items.labels(item.feed_id, "republished").inc()
        self._republish = ()
        if republished:
            log.info("re-published %d items the sinks had not stored", republished)

    def ready(self) -> bool:
        return self._publisher is not None

    def step(self, stop: threading.Event) -> bool:
        assert self._ledger is not None
        if self.once and self.cycle_done:
            stop.wait(_IDLE_WAIT_S)
            return False
        self._chores()
        did = self._collect()
        did = self._dispatch() or did
        if self.once and not self._jobs and self._polled_once >= self._enabled_ids:
            self.cycles += 1
            return True
        if not did:
            self._wake.wait(_STEP_WAIT_S)
            self._wake.clear()
        return did

    def drain(self) -> None:
        """Finish the polls in flight (each ends by its fetch deadline) and publish what they found."""
        deadline = time.monotonic() + self.settings.service.drain_timeout_seconds / 2
        while self._jobs and time.monotonic() < deadline:
            if not self._collect():
                self._wake.wait(0.1)
                self._wake.clear()
        if self._jobs and self._ledger is not None:
            log.warning(
                "%d polls still in flight at shutdown: their feeds are polled again later", len(self._jobs)
            )
            self._ledger.release([job.claim for job in self._jobs.values()])
            self._jobs.clear()

    def close(self) -> None:
        if self._callback is not None:
            self._callback.close()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        if self._lag is not None:
            self._lag.close()
        if self._publisher is not None:
            self._publisher.close()
        if self._ledger is not None:
            self._ledger.close()

    # --- polls and pushes -----------------------------------------------------------------------

    def _dispatch(self) -> bool:
        assert self._ledger is not None and self._pool is not None
        started = self._dispatch_pushes()
        concurrency = self.settings.ingest.concurrency
        free = concurrency - len(self._jobs)
        # Claims are made for a few free threads at a time: one query per poll would cost more
        # than the poll (a claim reads the due index; in PostgreSQL it is a round trip).
        batch = max(1, concurrency // 4)
        if free <= 0 or time.monotonic() < self._claim_after or (self._jobs and free < batch):
            return started
        feeds: Sequence[Feed] = self._enabled
        if self.once:
            feeds = [f for f in feeds if f.id not in self._polled_once]
        if not feeds:
            return started
        now = time.time()
        claims = self._ledger.claim(
            feeds,
            now,
            limit=free,
            busy_hosts=self._gate.busy(),
            in_flight=self._jobs.keys(),
            stretch=self.stretch,
            force=self.once,
        )
        waiting: list[Claim] = []
        for claim in claims:
            host = host_of(claim.state.fetch_url(claim.feed))
            if not self._gate.try_start(host):
                self.metrics.ingest_host_waits.labels(self._gate.reason(host) or "delay").inc()
                waiting.append(claim)
                continue
            future = self._pool.submit(self._poll, claim)
            future.add_done_callback(lambda _: self._wake.set())
            self._jobs[claim.feed_id] = _Job(claim, future, host, "poll")
            started = True
        self._ledger.release(waiting)
        if not claims:
            # Nothing due: look again when the next feed is (or at once when a poll frees a thread).
            until_due = self._ledger.seconds_until_due(feeds, now, self.stretch)
            self._claim_after = time.monotonic() + min(_IDLE_WAIT_S, until_due)
        return started

    def _poll(self, claim: Claim) -> FeedPollResult:
        assert self._ledger is not None and self._fetcher is not None
        return poll_feed(
            claim.feed,
            self._fetcher,
            self._ledger.leased(claim),
            datetime.now(UTC),
            settings=self.settings.ingest,
            deadline=claim.fetch_deadline,
            pushed=claim.feed_id in self._pushed_feeds,
        )

    def _dispatch_pushes(self) -> bool:
        if self._websub is None:
            return False
        assert self._ledger is not None and self._pool is not None
        while True:
            try:
                self._pushes.append(self._websub.pushes.get_nowait())
            except Exception:  # noqa: BLE001 - queue.Empty: nothing more was pushed
                break
        started = False
        keep: list[Push] = []
        for push in self._pushes:
            feed = self._by_id.get(push.feed_id)
            if feed is None:
                continue
            if push.feed_id in self._jobs or len(self._jobs) >= self.settings.ingest.concurrency:
                keep.append(push)
                continue
            claims = self._ledger.claim([feed], time.time(), limit=1, in_flight=self._jobs.keys(), force=True)
            if not claims:
                if time.time() - push.received < _PUSH_PATIENCE_S:
                    keep.append(push)  # another replica polls the feed right now
                else:
                    log.warning(
                        "feed %s: pushed content dropped after %.0fs waiting for the feed's lease "
                        "(its next poll fetches it)",
                        feed.id,
                        _PUSH_PATIENCE_S,
                        extra={"feed_id": feed.id},
                    )
                continue
            claim = claims[0]
            future = self._pool.submit(self._ingest_push, claim, push)
            future.add_done_callback(lambda _: self._wake.set())
            self._jobs[feed.id] = _Job(claim, future, "", "push")
            started = True
        self._pushes = keep
        return started

    def _ingest_push(self, claim: Claim, push: Push) -> FeedPollResult:
        assert self._ledger is not None
        return ingest_pushed(
            claim.feed,
            push.body,
            push.headers,
            self._ledger.leased(claim),
            datetime.now(UTC),
            settings=self.settings.ingest,
        )

    def _collect(self) -> bool:
        """Handle every finished poll; an infrastructure failure is raised once all are released."""
        assert self._ledger is not None
        finished = [job for job in self._jobs.values() if job.future.done()]
        if not finished:
            return False
        failure: WiredeskError | None = None
        release: list[Claim] = []
        for job in finished:
            del self._jobs[job.claim.feed_id]
            self._gate.done(job.host)
            self._claim_after = 0.0
            try:
                result = job.future.result()
            except LeaseLost as exc:
                self.metrics.ingest_leases_lost.inc()
                log.warning("%s", exc, extra={"feed_id": job.claim.feed_id, "error": str(exc)})
                continue
            except WiredeskError as exc:
                release.append(job.claim)
                failure = failure or exc
                continue
            except Exception:
                release.append(job.claim)
                log.exception(
                    "polling feed %s failed", job.claim.feed_id, extra={"feed_id": job.claim.feed_id}
                )
                continue
            release.append(job.claim)
            if self.once and job.path == "poll":
                self._polled_once.add(job.claim.feed_id)
            try:
                self._handle(result, job)
            except WiredeskError as exc:
                failure = failure or exc
        self._ledger.release(release)
        if failure is not None:
            raise failure
        return True

    def _handle(self, result: FeedPollResult, job: _Job) -> None:
        feed = result.feed_id
        if job.path == "poll":
            self.polled += 1
            self.metrics.ingest_polls.labels(feed, result.status).inc()
            self.metrics.ingest_poll_seconds.observe(result.elapsed_seconds)
        if result.state is not None:
            self._export_health(feed, result.state)
        if result.status == "error":
            self.feed_errors += 1
            self.metrics.ingest_consecutive_failures.labels(feed).set(result.consecutive_failures)
            if result.throttle_seconds:
                held = self._gate.hold(job.host, result.throttle_seconds)
                log.warning(
                    "host %s asked us to wait: no fetch from it for %.0fs",
                    job.host,
                    held,
                    extra={"feed_id": feed},
                )
            return
        self.metrics.ingest_consecutive_failures.labels(feed).set(0)
        self.metrics.ingest_last_success.labels(feed).set(time.time())
        for outcome, count in result.counts.items():
            self.metrics.ingest_items.labels(feed, outcome).inc(count)
        if result.items_to_publish:
            self._publish(result.items_to_publish)
            self.published += len(result.items_to_publish)
            acked = datetime.now(UTC)
            for when in result.fresh:
                self.metrics.ingest_freshness.labels(job.path).observe(
                    max(0.0, (acked - when).total_seconds())
                )
            log.info(
                "feed %s: published %d items%s",
                feed,
                len(result.items_to_publish),
                " (pushed)" if job.path == "push" else "",
                extra={"feed_id": feed},
            )
        if self._websub is not None and result.hubs and self._pool is not None:
            websub, claim = self._websub, job.claim
            self._pool.submit(_logged(websub.consider, claim.feed, result.hubs, result.topic, time.time()))

    def _publish(self, items: Sequence[RawItem]) -> None:
        assert self._publisher is not None and self._ledger is not None
        # Each published version gets its own trace id, carried in the record and its header, so
        # the item's log lines in every service can be found together.
        items = [item if item.trace_id else replace(item, trace_id=bus.new_trace_id()) for item in items]
        entries = [
            (
                records.record_key(item),
                records.dumps(item),
                bus.record_headers(RawItem.SCHEMA, RawItem.SCHEMA_VERSION, SERVICE, item.trace_id),
            )
            for item in items
        ]
        topic = self.settings.kafka.raw_topic
        for partition, offset in self._publisher.publish(topic, entries):
            key = (topic, partition)
            self.produced_positions[key] = max(self.produced_positions.get(key, 0), offset + 1)
        # Only now, with every item acknowledged, does the ledger call them published.
        self._ledger.mark_published(items)

    # --- chores ---------------------------------------------------------------------------------

    def _chores(self) -> None:
        if self._reload.due():
            self._reload_registry()
        if self._backpressure.due():
            self._read_lag()
        if self._renew.due():
            self._renew_leases()
        if self._health.due():
            self._refresh_health()
        if self._maintain.due():
            self._maintain_websub()
        if self._prune.due():
            self._forget_old_items()

    def _reload_registry(self) -> None:
        if self._watcher is None or self._ledger is None:
            return
        change = self._watcher.check()
        if change is None:
            return
        if isinstance(change, RegistryError):
            self.metrics.ingest_registry_reloads.labels("error").inc()
            log.error(
                "the edited feed registry is not used, the last good one stays: %s",
                change,
                extra={"path": str(self._registry_path), "error": str(change)},
            )
            return
        self.metrics.ingest_registry_reloads.labels("ok").inc()
        self.registry = change.registry
        self._ledger.sync_feeds(self.registry.enabled)
        if change.moved:
            self._ledger.poll_soon(change.moved)
        for feed_id in change.added:
            self.metrics.init_feed(feed_id)
        for feed_id in change.removed:
            self.metrics.forget_feed(feed_id)
        self.metrics.ingest_registry_feeds.set(len(self.registry.enabled))
        self._claim_after = 0.0
        self._maintain.soon()
        log.info(
            "feed registry reloaded: %d feeds (%s)",
            len(self.registry.enabled),
            change.summary,
            extra={"path": str(self._registry_path)},
        )

    def _read_lag(self) -> None:
        s = self.settings.ingest
        kafka = self.settings.kafka
        try:
            if self._lag is None:
                self._lag = bus.LagProbe(kafka, kafka.group("transform"), kafka.raw_topic)
            lag = sum(self._lag.lag().values())
        except InfrastructureError as exc:
            log.warning(
                "cannot read transform's lag (polling goes on unstretched): %s",
                exc,
                extra={"error": str(exc)},
            )
            return
        stretch = stretch_for(lag, s.backpressure_max_lag, s.backpressure_max_stretch)
        self.metrics.ingest_backpressure_lag.set(lag)
        self.metrics.ingest_backpressure_stretch.set(stretch)
        if stretch > 1 and self.stretch == 1:
            log.warning(
                "back-pressure: transform is %d messages behind on %s (bound %d): polling intervals "
                "stretched x%.1f",
                lag,
                kafka.raw_topic,
                s.backpressure_max_lag,
                stretch,
            )
        elif stretch == 1 and self.stretch > 1:
            log.info("back-pressure over: transform is %d messages behind; polling as scheduled", lag)
        self.stretch = stretch

    def _renew_leases(self) -> None:
        if not self._jobs or self._ledger is None:
            return
        claims = [job.claim for job in self._jobs.values()]
        held = self._ledger.renew(claims)
        for claim in claims:
            if claim.feed_id not in held:
                log.warning(
                    "lost the lease on feed %s while polling it: its result will be dropped",
                    claim.feed_id,
                    extra={"feed_id": claim.feed_id},
                )

    def _refresh_health(self) -> None:
        """Health gauges from the ledger, for every feed: every replica exports the same values."""
        if self._ledger is None:
            return
        for feed_id, state in self._ledger.feed_states(f.id for f in self.registry.enabled).items():
            self._export_health(feed_id, state)
        if self._websub is not None:
            # Which feeds a hub pushes (polled only as the slow fallback); any replica may have
            # received the hub's verification, so the ledger says.
            self._pushed_feeds = self._websub.active_feeds()

    def _export_health(self, feed_id: str, state: FeedState) -> None:
        if not state.health:
            return
        now = time.time()
        current, _, since = health.current(state, now, self.settings.ingest.quiet_factor)
        for name in FEED_HEALTH_STATES:
            self.metrics.ingest_feed_health.labels(feed_id, name).set(1 if name == current else 0)
        self.metrics.ingest_feed_health_since.labels(feed_id).set(since)
        quiet, _ = health.quiet(state, now, self.settings.ingest.quiet_factor)
        self.metrics.ingest_feed_quiet.labels(feed_id).set(1 if quiet else 0)
        if state.last_new_item:
            self.metrics.ingest_feed_last_new_item.labels(feed_id).set(state.last_new_item)

    def _maintain_websub(self) -> None:
        if self._websub is None or self._pool is None:
            return
        self._pushed_feeds = self._websub.active_feeds()
        feeds = dict(self._by_id)
        self._pool.submit(_logged(self._websub.maintain, feeds, time.time()))

    def _forget_old_items(self) -> None:
        if self._ledger is None:
            return
        days = self.settings.ingest.item_retention_days
        forgotten = self._ledger.prune(time.time(), days * 86400)
        if forgotten:
            log.info("forgot %d items absent from their feeds for over %g days", forgotten, days)


def _logged(function: Callable[..., object], *args: object) -> Callable[[], None]:
    """A chore for the pool whose failure is logged, not lost in an unread future."""

    def run() -> None:
        try:
            function(*args)
        except Exception as exc:
            log.exception("%s failed: %s", getattr(function, "__name__", "a chore"), exc)

    return run


__all__ = ["SERVICE", "IngestStage"]
