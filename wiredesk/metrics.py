"""Every Prometheus metric wiredesk exports, declared once.

Names follow `wiredesk_<stage>_<thing>_<unit>`; counters end in `_total`, histograms in
`_seconds`. Label values are bounded: outcomes, steps and signals are closed sets listed here;
`feed` is the registry's feed id (operators bound it by configuring feeds), never a URL or an
item id. The registry is injectable so tests and the embedded runner can hold several services.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

from wiredesk import __version__

INGEST_POLL_OUTCOMES = ("ok", "not_modified", "error")
INGEST_ITEM_OUTCOMES = ("new", "changed", "unchanged", "rejected", "duplicate", "republished")
TRANSFORM_OUTCOMES = ("ok", "skipped", "dead_lettered")
TRANSFORM_STEPS = ("decode", "fetch_page", "derive", "produce", "total")
# A page fetch for a teaser: used, failed (HTTP error, refused address, bad status), or not in by
# the batch's fetch deadline (or the request's own timeout): the article keeps its teaser.
PAGE_FETCH_OUTCOMES = ("ok", "failed", "timeout")
QUALITY_SIGNALS = ("empty_body", "missing_date", "future_date", "language_mismatch", "teaser_only")
SINK_OUTCOMES = ("inserted", "updated", "unchanged", "failed")
STAGES = ("ingest", "transform", "sink")
FEED_HEALTH_STATES = ("ok", "degraded", "failing")
# How an item reached ingest: a poll, or a WebSub hub's push.
INGEST_PATHS = ("poll", "push")
REGISTRY_RELOAD_OUTCOMES = ("ok", "error")
WEBSUB_EVENTS = (
    "subscribe_requested",
    "subscribe_failed",
    "unsubscribe_requested",
    "unsubscribe_failed",
    "subscribed",
    "unsubscribed",
    "denied",
    "verification_refused",
    "push_accepted",
    "push_bad_signature",
    "push_unknown",
    "push_dropped",
)
# Why a due feed waited for its host (ingest/politeness.py).
HOST_WAIT_REASONS = ("concurrency", "delay", "retry_after")

# Item published -> on the topic: seconds for pushed items, up to a day for slow feeds.
_FRESHNESS_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 43200, 86400)
_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """The metric families; one instance per registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        self.build_info = Info("wiredesk_build", "wiredesk version", registry=r)
        self.build_info.info({"version": __version__})
        self.service_ready = Gauge(
            "wiredesk_service_ready", "1 when the service passes its readiness check", ["service"], registry=r
        )

        # ingest
        self.ingest_polls = Counter(
            "wiredesk_ingest_polls_total", "Feed polls by outcome", ["feed", "outcome"], registry=r
        )
        self.ingest_items = Counter(
            "wiredesk_ingest_items_total", "Feed items seen, by outcome", ["feed", "outcome"], registry=r
        )
        self.ingest_poll_seconds = Histogram(
            "wiredesk_ingest_poll_seconds",
            "Fetch and parse time of one feed poll",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.ingest_last_success = Gauge(
            "wiredesk_ingest_feed_last_success_timestamp_seconds",
            "Unix time of the feed's last successful poll",
            ["feed"],
            registry=r,
        )
        self.ingest_consecutive_failures = Gauge(
            "wiredesk_ingest_feed_consecutive_failures", "Failed polls in a row", ["feed"], registry=r
        )
        self.ingest_feed_health = Gauge(
            "wiredesk_ingest_feed_health",
            "1 for the feed's health state (ok, degraded, failing), 0 for the others; read from the "
            "shared ledger, so every replica exports the same values",
            ["feed", "state"],
            registry=r,
        )
        self.ingest_feed_health_since = Gauge(
            "wiredesk_ingest_feed_health_since_timestamp_seconds",
            "Unix time the feed entered its current health state",
            ["feed"],
            registry=r,
        )
        self.ingest_feed_quiet = Gauge(
            "wiredesk_ingest_feed_quiet",
            "1 when a feed that usually publishes has gone quiet (nothing new for several usual gaps)",
            ["feed"],
            registry=r,
        )
        self.ingest_feed_last_new_item = Gauge(
            "wiredesk_ingest_feed_last_new_item_timestamp_seconds",
            "Unix time a poll or push of the feed last found an item never seen before",
            ["feed"],
            registry=r,
        )
        self.ingest_freshness = Histogram(
            "wiredesk_ingest_freshness_seconds",
            "Time from an item's publication (its feed date) to its acknowledgement on the raw topic, "
            "for items published since their feed was last read",
            ["path"],
            buckets=_FRESHNESS_BUCKETS,
            registry=r,
        )
        self.ingest_backpressure_lag = Gauge(
            "wiredesk_ingest_backpressure_lag_messages",
            "Transform's lag on the raw topic as ingest last read it (high-water marks - committed offsets)",
            registry=r,
        )
        self.ingest_backpressure_stretch = Gauge(
            "wiredesk_ingest_backpressure_stretch",
            "Factor ingest stretches polling intervals by because of transform's lag (1 = none)",
            registry=r,
        )
        self.ingest_registry_reloads = Counter(
            "wiredesk_ingest_registry_reloads_total",
            "Edits of the feed registry read by a running ingest (error: kept the last good registry)",
            ["outcome"],
            registry=r,
        )
        self.ingest_registry_feeds = Gauge(
            "wiredesk_ingest_registry_feeds", "Enabled feeds in the registry in use", registry=r
        )
        self.ingest_websub = Counter(
            "wiredesk_ingest_websub_events_total",
            "WebSub requests, verifications and pushes",
            ["event"],
            registry=r,
        )
        self.ingest_host_waits = Counter(
            "wiredesk_ingest_host_waits_total",
            "Due feeds that waited because their host was busy, by reason",
            ["reason"],
            registry=r,
        )
        self.ingest_leases_lost = Counter(
            "wiredesk_ingest_leases_lost_total",
            "Polls dropped because this replica's lease on the feed ended before they were saved",
            registry=r,
        )

        # transform
        self.transform_items = Counter(
            "wiredesk_transform_items_total", "Raw items handled, by outcome", ["outcome"], registry=r
        )
        self.transform_step_seconds = Histogram(
            "wiredesk_transform_step_seconds",
            "Time per transform step",
            ["step"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.transform_quality = Counter(
            "wiredesk_transform_quality_signals_total",
            "Articles raising a quality signal, per source feed",
            ["feed", "signal"],
            registry=r,
        )
        self.transform_page_fetches = Counter(
            "wiredesk_transform_page_fetches_total",
            "Article page fetches for teaser items, by outcome",
            ["outcome"],
            registry=r,
        )
        self.transform_articles = Counter(
            "wiredesk_transform_articles_total", "Articles produced, per source feed", ["feed"], registry=r
        )

        # sinks
        self.sink_writes = Counter(
            "wiredesk_sink_writes_total",
            "Articles written, by sink and outcome",
            ["sink", "outcome"],
            registry=r,
        )
        self.sink_batch_seconds = Histogram(
            "wiredesk_sink_batch_seconds",
            "Time to write and flush one batch",
            ["sink"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )

        # bus, shared by every stage
        self.messages_produced = Counter(
            "wiredesk_bus_produced_messages_total",
            "Messages acknowledged by the broker",
            ["topic"],
            registry=r,
        )
        self.messages_consumed = Counter(
            "wiredesk_bus_consumed_messages_total", "Messages consumed", ["topic"], registry=r
        )
        self.dead_letters = Counter(
            "wiredesk_dlq_messages_total",
            "Messages sent to the dead-letter topic",
            ["stage", "error"],
            registry=r,
        )
        self.decode_errors = Counter(
            "wiredesk_bus_decode_errors_total", "Messages that did not decode", ["topic"], registry=r
        )
        self.consumer_lag = Gauge(
            "wiredesk_bus_consumer_lag_messages",
            "Messages between the group's position and the partition high-water mark",
            ["group", "topic", "partition"],
            registry=r,
        )
        self.commits = Counter(
            "wiredesk_bus_commits_total", "Offset commits after durable output", ["group"], registry=r
        )
        self._preinitialise()

    def _preinitialise(self) -> None:
        # Bounded label sets are created up front so dashboards and rate() see zeros, not gaps.
        for outcome in TRANSFORM_OUTCOMES:
            self.transform_items.labels(outcome)
        for step in TRANSFORM_STEPS:
            self.transform_step_seconds.labels(step)
        for outcome in PAGE_FETCH_OUTCOMES:
            self.transform_page_fetches.labels(outcome)
        for stage in STAGES:
            self.service_ready.labels(stage)
        for path in INGEST_PATHS:
            self.ingest_freshness.labels(path)
        for outcome in REGISTRY_RELOAD_OUTCOMES:
            self.ingest_registry_reloads.labels(outcome)
        for event in WEBSUB_EVENTS:
            self.ingest_websub.labels(event)
        for reason in HOST_WAIT_REASONS:
            self.ingest_host_waits.labels(reason)
        self.ingest_backpressure_stretch.set(1)

    def init_feed(self, feed_id: str) -> None:
        for outcome in INGEST_POLL_OUTCOMES:
            self.ingest_polls.labels(feed_id, outcome)
        for outcome in INGEST_ITEM_OUTCOMES:
            self.ingest_items.labels(feed_id, outcome)

    def forget_feed(self, feed_id: str) -> None:
        """Drop a removed feed's series, so label values stay bounded by the registry."""
        for family, labels in (
            (self.ingest_polls, [(feed_id, o) for o in INGEST_POLL_OUTCOMES]),
            (self.ingest_items, [(feed_id, o) for o in INGEST_ITEM_OUTCOMES]),
            (self.ingest_feed_health, [(feed_id, s) for s in FEED_HEALTH_STATES]),
            (self.ingest_feed_health_since, [(feed_id,)]),
            (self.ingest_feed_quiet, [(feed_id,)]),
            (self.ingest_feed_last_new_item, [(feed_id,)]),
            (self.ingest_last_success, [(feed_id,)]),
            (self.ingest_consecutive_failures, [(feed_id,)]),
        ):
            for values in labels:
                try:
                    family.remove(*values)
                except KeyError:
                    pass

    def init_sink(self, sink: str) -> None:
        for outcome in SINK_OUTCOMES:
            self.sink_writes.labels(sink, outcome)
