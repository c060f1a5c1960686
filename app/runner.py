"""Composition of the services: each alone (`ingest`, `transform`, `sink`) or all in one (`run`).

`run` with no Kafka configured is the embedded default: it starts the embedded broker, keeps all
state under the data folder, and before polling re-publishes what ingest's ledger says was
published but no store has dealt with (the embedded broker keeps topics in memory only): see
`CatchUp`.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from wiredesk.embedded import EmbeddedBroker, bundled_feeds_file, embedded_settings
from wiredesk.errors import ConfigurationError, InfrastructureError
from wiredesk.logs import configure_logging
from wiredesk.metrics import Metrics
from wiredesk.records import RawItem
from wiredesk.service import ServiceRunner, Stage
from wiredesk.settings import Settings

if TYPE_CHECKING:
    from ingest.service import IngestStage
    from sinks.service import SinkStage
    from transform.service import TransformStage

log = logging.getLogger(__name__)


def require_kafka(settings: Settings, command: str) -> None:
    if settings.embedded:
        raise ConfigurationError(
            f"`wiredesk {command}` runs one service against a Kafka cluster: set WIREDESK_KAFKA_BOOTSTRAP "
            "(or use `wiredesk run` for the embedded single-machine default)"
        )


LOCAL_FEEDS_FILE = "feeds.yaml"


@dataclass(frozen=True, slots=True)
class FeedsChoice:
    """Which feed registry a command reads, and what chose it (for messages)."""

    path: Path
    chosen_by: str  # "--feeds", "ingest.feeds_file", "./feeds.yaml" or "bundled samples"

    @property
    def is_sample(self) -> bool:
        return self.chosen_by == "bundled samples"

    def describe(self) -> str:
        if self.is_sample:
            return (
                f"the bundled sample feeds in {self.path} (no ingest.feeds_file, --feeds or "
                f"./{LOCAL_FEEDS_FILE}; set WIREDESK_INGEST_FEEDS_FILE to poll your own)"
            )
        return str(self.path)


def choose_feeds(settings: Settings, override: str | None, *, samples: bool = True) -> FeedsChoice:
    """The registry to read: --feeds, else ingest.feeds_file, else ./feeds.yaml, else (with
    `samples`, for `run` on the embedded default only) the bundled samples. A path someone
    configured is never silently replaced."""
    if override:
        return FeedsChoice(Path(override), "--feeds")
    if settings.ingest.feeds_file:
        return FeedsChoice(Path(settings.ingest.feeds_file), "ingest.feeds_file")
    local = Path(LOCAL_FEEDS_FILE)
    bundled = bundled_feeds_file()
    if samples and not local.is_file() and settings.embedded and bundled is not None:
        return FeedsChoice(bundled, "bundled samples")
    return FeedsChoice(local, "./feeds.yaml")


def feeds_to_poll(settings: Settings, override: str | None, *, samples: bool = True) -> FeedsChoice:
    """`choose_feeds`, and a ConfigurationError if that file does not exist."""
    choice = choose_feeds(settings, override, samples=samples)
    if choice.path.is_file():
        return choice
    if choice.chosen_by == "--feeds":
        raise ConfigurationError(f"--feeds {choice.path}: no such file")
    if choice.chosen_by == "ingest.feeds_file":
        raise ConfigurationError(
            f"ingest.feeds_file {choice.path}: no such file (WIREDESK_INGEST_FEEDS_FILE; it is "
            f"relative to the working directory {Path.cwd()})"
        )
    raise ConfigurationError(
        f"no feed registry: no ./{LOCAL_FEEDS_FILE} here; set ingest.feeds_file "
        "(WIREDESK_INGEST_FEEDS_FILE) or pass --feeds FILE"
    )


def effective_settings(settings: Settings, command: str, feeds_override: str | None = None) -> Settings:
    """What `command` runs with, every derived value filled in: also what `config --print` shows."""
    feeds = choose_feeds(settings, feeds_override, samples=command == "run")
    return settings.for_command(command).with_overrides({"ingest.feeds_file": str(feeds.path)})


def _runner(
    name: str, stages: list[Stage], settings: Settings, metrics: Metrics, *, once: bool = False
) -> ServiceRunner:
    return ServiceRunner(
        name,
        stages,
        metrics,
        metrics_host=settings.service.metrics_host,
        metrics_port=settings.service.metrics_port,
        drain_timeout_s=settings.service.drain_timeout_seconds,
        # A one-shot run gives up on an unreachable broker; a service retries until stopped.
        start_timeout_s=settings.kafka.connect_timeout_seconds if once else None,
    )


def _interactive_log_format(settings: Settings) -> str:
    """JSON for machines; readable lines for a person at a terminal who did not choose a format."""
    chosen = "log_format" in settings.service.model_fields_set
    return settings.service.log_format if chosen or not sys.stderr.isatty() else "text"


def run_ingest(settings: Settings, *, once: bool = False, feeds_file: str | None = None) -> int:
    require_kafka(settings, "ingest")
    from ingest.registry import load_registry
    from ingest.service import IngestStage

    feeds = feeds_to_poll(settings, feeds_file, samples=False)
    settings = settings.for_command("ingest")
    configure_logging("ingest", settings.service.log_level, settings.service.log_format)
    registry = load_registry(feeds.path)
    log.info("%d feeds from %s", len(registry.enabled), feeds.describe())
    metrics = Metrics()
    stage = IngestStage(settings, metrics, registry, once=once, registry_path=feeds.path)
    until = (lambda: stage.cycle_done) if once else None
    code = _runner("ingest", [stage], settings, metrics, once=once).run(until=until)
    if once:
        _require_a_poll(stage)
    return code


def _require_a_poll(ingest: IngestStage) -> None:
    """`--once`: a cycle in which no feed could be polled failed, however cleanly it stopped."""
    if ingest.polled and ingest.feed_errors >= ingest.polled:
        raise InfrastructureError(
            f"no feed could be polled: all {ingest.polled} failed (each is logged with its error; "
            "`wiredesk feeds` shows the last error of each)"
        )


def run_transform(settings: Settings) -> int:
    require_kafka(settings, "transform")
    from transform.service import TransformStage

    settings = settings.for_command("transform")
    configure_logging("transform", settings.service.log_level, settings.service.log_format)
    metrics = Metrics()
    return _runner("transform", [TransformStage(settings, metrics)], settings, metrics).run()


def run_sink(settings: Settings, *, only: str | None = None) -> int:
    require_kafka(settings, "sink")
    from sinks.service import SinkStage

    if only == "storage":
        settings = settings.with_overrides({"sink.search": "none"})
    elif only == "search":
        settings = settings.with_overrides({"sink.storage": "none"})
    settings = settings.for_command("sink")
    configure_logging("sink", settings.service.log_level, settings.service.log_format)
    metrics = Metrics()
    return _runner("sink", [SinkStage(settings, metrics)], settings, metrics).run()


@contextlib.contextmanager
def _broker_if_embedded(settings: Settings) -> Iterator[tuple[Settings, EmbeddedBroker | None]]:
    """(settings to run with, the embedded broker we started, if any)."""
    if not settings.embedded:
        yield settings, None
        return
    data = Path(settings.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    with EmbeddedBroker(log_file=data / "broker.log") as broker:
        yield embedded_settings(settings, broker.bootstrap), broker


def _broker_died(broker: EmbeddedBroker | None) -> Callable[[], str | None]:
    def check() -> str | None:
        if broker is None or broker.alive():
            return None
        return (
            "the embedded broker died; its topics were in memory. Run again: items published but "
            "not yet stored are published again at start"
        )

    return check


def run_all(
    settings: Settings, *, once: bool = False, feeds_file: str | None = None, quiet: bool = False
) -> int:
    """All three services in one process; the embedded default when no Kafka is configured."""
    from ingest.registry import load_registry
    from ingest.service import IngestStage
    from sinks.service import SinkStage
    from transform.service import TransformStage

    configure_logging("wiredesk", settings.service.log_level, _interactive_log_format(settings))
    feeds = feeds_to_poll(settings, feeds_file)
    settings = settings.for_command("run")
    registry = load_registry(feeds.path)
    out = sys.stderr
    with _broker_if_embedded(settings) as (effective, broker):
        embedded = broker is not None
        settings = effective
        metrics = Metrics()
        sink = SinkStage(settings, metrics, record_dead_letters=embedded)
        transform = TransformStage(settings, metrics)
        republish = CatchUp(settings, sink) if embedded else ()
        ingest = IngestStage(
            settings, metrics, registry, once=once, republish=republish, registry_path=feeds.path
        )
        if not quiet:
            mode = (
                "embedded broker " + settings.kafka.bootstrap
                if embedded
                else "Kafka " + settings.kafka.bootstrap
            )
            print(
                f"wiredesk: {len(registry.enabled)} feeds from {feeds.describe()}; {mode}; "
                f"data in {settings.data_dir}",
                file=out,
            )
        runner = _runner("wiredesk", [ingest, transform, sink], settings, metrics, once=once)
        until = _drained(ingest, transform, sink, settings) if once else None
        try:
            with _progress(ingest, metrics, out, enabled=not quiet):
                code = runner.run(until=until, fail_if=_broker_died(broker))
        finally:
            if not quiet:
                print(_summary(ingest, metrics), file=out)
        if once:
            _require_a_poll(ingest)
        return code


class CatchUp:
    """Chunks of items ingest published that no store has dealt with: to publish them again.

    The embedded broker keeps topics in memory only, so what was published before it stopped
    and never stored is gone from it. Dealt with means stored (or superseded by a newer
    derivation) or dead-lettered: the sink records dead letters too in embedded mode (see
    SinkStage). The ledger is read in chunks and the stores asked about each chunk with one
    query, so memory stays bounded however long the ledger; iterating again starts over.
    """

    CHUNK = 500

    def __init__(self, settings: Settings, sink: SinkStage) -> None:
        self._settings = settings
        self._sink = sink

    def __iter__(self) -> Iterator[list[RawItem]]:
        from ingest.stores import ledger_exists, open_ledger

        if not ledger_exists(self._settings):
            return
        state = open_ledger(self._settings)
        try:
            for chunk in state.published_chunks(self.CHUNK):
                done = self._sink.processed_among([(item.item_id, item.version) for item in chunk])
                todo = [item for item in chunk if (item.item_id, item.version) not in done]
                if todo:
                    yield todo
        finally:
            state.close()


def _drained(
    ingest: IngestStage, transform: TransformStage, sink: SinkStage, settings: Settings
) -> Callable[[], bool]:
    """`--once`: the poll cycle is done and everything it produced is committed downstream."""
    kafka = settings.kafka

    def caught_up(
        produced: dict[tuple[str, int], int], committed: dict[tuple[str, int], int], topic: str
    ) -> bool:
        return all(committed.get(key, 0) >= end for key, end in list(produced.items()) if key[0] == topic)

    def done() -> bool:
        return (
            ingest.cycle_done
            and caught_up(ingest.produced_positions, transform.committed_positions, kafka.raw_topic)
            and caught_up(transform.produced_positions, sink.committed_positions, kafka.articles_topic)
            and (
                kafka.dlq_topic not in sink.topics
                or (
                    caught_up(transform.produced_positions, sink.committed_positions, kafka.dlq_topic)
                    and caught_up(sink.produced_positions, sink.committed_positions, kafka.dlq_topic)
                )
            )
        )

    return done


def _sum(metrics: Metrics, name: str, **match: str) -> float:
    total = 0.0
    for family in metrics.registry.collect():
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in match.items()):
                total += sample.value
    return total


def _status_line(ingest: IngestStage, metrics: Metrics) -> str:
    polled = _sum(metrics, "wiredesk_ingest_polls_total")
    failed = _sum(metrics, "wiredesk_ingest_polls_total", outcome="error")
    published = ingest.published + ingest.republished
    articles = _sum(metrics, "wiredesk_transform_items_total", outcome="ok")
    dead = _sum(metrics, "wiredesk_dlq_messages_total")
    stored = _sum(metrics, "wiredesk_sink_writes_total", outcome="inserted") + _sum(
        metrics, "wiredesk_sink_writes_total", outcome="updated"
    )
    unchanged = _sum(metrics, "wiredesk_sink_writes_total", outcome="unchanged")
    return (
        f"polls {polled:.0f} ({failed:.0f} failed) | published {published} items | "
        f"transformed {articles:.0f} ({dead:.0f} dead-lettered) | stored {stored:.0f} new/updated, "
        f"{unchanged:.0f} unchanged"
    )


def _summary(ingest: IngestStage, metrics: Metrics) -> str:
    return "wiredesk: done: " + _status_line(ingest, metrics)


@contextlib.contextmanager
def _progress(ingest: IngestStage, metrics: Metrics, out: TextIO, *, enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    stop = threading.Event()

    def report() -> None:
        last = ""
        while not stop.wait(2.0):
            line = _status_line(ingest, metrics)
            if line != last:
                print(f"wiredesk: {time.strftime('%H:%M:%S')} {line}", file=out, flush=True)
                last = line

    thread = threading.Thread(target=report, name="progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(1)
