"""A running ingest stage on the real broker: registry edits, polite hosts, back-pressure.

Feeds are served by real HTTP servers on loopback addresses (127.0.0.1 and 127.0.0.2 are two
hosts to the politeness rules); the stage runs under the service runner in a thread.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ingest.registry import load_registry
from ingest.service import IngestStage
from wiredesk import bus
from wiredesk.metrics import Metrics
from wiredesk.records import RawItem, loads
from wiredesk.service import ServiceRunner
from wiredesk.settings import Settings

pytestmark = pytest.mark.integration


def rss(name: str, count: int = 2) -> bytes:
    items = "".join(
        f"<item><guid>{name}-{n}</guid><title>{name} {n}</title><link>https://news.example.org/{name}/{n}</link>"
        "</item>"
        for n in range(count)
    )
    channel = f"<channel><title>{name}</title>{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


@dataclass
class Hits:
    """Requests a server answered: (path, start, end) on the monotonic clock."""

    log: list[tuple[str, float, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def paths(self, since: float = 0.0) -> list[str]:
        with self.lock:
            return [path for path, start, _ in self.log if start >= since]


Route = Callable[[], tuple[int, dict[str, str], bytes, float]]


@pytest.fixture
def serve() -> Iterator[Callable[[str, dict[str, Route]], tuple[str, Hits]]]:
    servers: list[ThreadingHTTPServer] = []

    def start(address: str, routes: dict[str, Route]) -> tuple[str, Hits]:
        hits = Hits()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                begun = time.monotonic()
                route = routes.get(self.path)
                status, headers, body, delay = route() if route else (404, {}, b"", 0.0)
                time.sleep(delay)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                with hits.lock:
                    hits.log.append((self.path, begun, time.monotonic()))

            def log_message(self, format: str, *args: object) -> None:
                return

        server = ThreadingHTTPServer((address, 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://{address}:{server.server_address[1]}", hits

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def feed(name: str, delay: float = 0.0) -> Route:
    return lambda: (200, {"Content-Type": "application/rss+xml"}, rss(name), delay)


def run_stage(settings: Settings, registry_file: Path) -> tuple[IngestStage, ServiceRunner, threading.Thread]:
    metrics = Metrics()
    stage = IngestStage(settings, metrics, load_registry(registry_file), registry_path=registry_file)
    runner = ServiceRunner("ingest", [stage], metrics, metrics_port=None)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    return stage, runner, thread


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout_s:.0f}s")


def sample(stage: IngestStage, name: str, **labels: str) -> float:
    return stage.metrics.registry.get_sample_value(name, labels) or 0.0


def registry_text(base: str, *names: str, path_of: Callable[[str], str] = lambda n: f"/{n}.xml") -> str:
    return "feeds:\n" + "".join(
        f"  - id: {name}\n    url: {base}{path_of(name)}\n    interval_seconds: 1\n" for name in names
    )


@pytest.fixture
def settings(kafka_settings: Settings) -> Settings:
    return kafka_settings.with_overrides(
        {
            "ingest.registry_reload_seconds": 0.2,
            "ingest.min_interval_seconds": 1,
            "ingest.per_host_delay_seconds": 0,
            "ingest.per_host_concurrency": 8,
            "ingest.backpressure_max_lag": 0,
        }
    )


def test_registry_edits_take_effect_and_a_broken_edit_keeps_the_last_good(
    settings: Settings, tmp_path: Path, serve: Callable[[str, dict[str, Route]], tuple[str, Hits]]
) -> None:
    base, hits = serve("127.0.0.1", {f"/{n}.xml": feed(n) for n in ("a", "b", "c", "a2")})
    registry = tmp_path / "feeds.yaml"
    registry.write_text(registry_text(base, "a", "b"))
    stage, runner, thread = run_stage(settings, registry)
    try:
        wait_for(lambda: {"/a.xml", "/b.xml"} <= set(hits.paths()), 30, "polls of a and b")
        # Feed a moves to a new URL, b goes, c comes.
        registry.write_text(
            "feeds:\n"
            f"  - id: a\n    url: {base}/a2.xml\n    interval_seconds: 1\n"
            f"  - id: c\n    url: {base}/c.xml\n    interval_seconds: 1\n"
        )
        wait_for(
            lambda: sample(stage, "wiredesk_ingest_registry_reloads_total", outcome="ok") == 1, 30, "reload"
        )
        edited = time.monotonic()
        wait_for(lambda: {"/a2.xml", "/c.xml"} <= set(hits.paths(edited)), 30, "polls of the new a and c")
        time.sleep(1.5)
        assert "/b.xml" not in hits.paths(edited + 0.5)
        assert "/a.xml" not in hits.paths(edited + 0.5)
        # A broken edit: reported, and the last good registry stays in use.
        registry.write_text("feeds:\n  - id: a\n    url: gopher://nope\n")
        wait_for(
            lambda: sample(stage, "wiredesk_ingest_registry_reloads_total", outcome="error") == 1, 30, "error"
        )
        broken = time.monotonic()
        wait_for(lambda: {"/a2.xml", "/c.xml"} <= set(hits.paths(broken)), 30, "polls after the broken edit")
        assert sample(stage, "wiredesk_ingest_registry_feeds") == 2
    finally:
        runner.request_stop()
        thread.join(timeout=60)
    published = {
        loads(RawItem, m.value or b"").feed_id
        for m in bus.read_topic(settings.kafka, settings.kafka.raw_topic)
    }
    assert published == {"a", "b", "c"}


def test_hosts_are_polled_politely_and_a_retry_after_holds_the_whole_host(
    settings: Settings, tmp_path: Path, serve: Callable[[str, dict[str, Route]], tuple[str, Hits]]
) -> None:
    # Host 1: three slow feeds, one fetch at a time. Host 2: one feed answers 429, its neighbour
    # on the same host must then wait; host 1 goes on.
    base1, hits1 = serve("127.0.0.1", {f"/s{n}.xml": feed(f"s{n}", delay=0.2) for n in range(3)})
    throttled = lambda: (429, {"Retry-After": "3600"}, b"", 0.0)  # noqa: E731
    base2, hits2 = serve("127.0.0.2", {"/a-busy.xml": throttled, "/b-other.xml": feed("b-other")})
    registry = tmp_path / "feeds.yaml"
    registry.write_text(
        registry_text(base1, "s0", "s1", "s2")
        + registry_text(base2, "a-busy", "b-other").removeprefix("feeds:\n")
    )
    polite = settings.with_overrides({"ingest.per_host_concurrency": 1, "ingest.per_host_delay_seconds": 0.5})
    _, runner, thread = run_stage(polite, registry)
    try:
        wait_for(lambda: len(hits1.paths()) >= 9, 60, "nine fetches from host 1")
    finally:
        runner.request_stop()
        thread.join(timeout=60)
    with hits1.lock:
        runs = sorted(hits1.log, key=lambda hit: hit[1])
    assert all(b[1] >= a[2] for a, b in itertools.pairwise(runs)), "two fetches to one host at once"
    assert hits2.paths() == ["/a-busy.xml"]


def test_back_pressure_stretches_polling_while_transform_lags(
    settings: Settings, tmp_path: Path, serve: Callable[[str, dict[str, Route]], tuple[str, Hits]]
) -> None:
    base, hits = serve("127.0.0.1", {"/a.xml": feed("a")})
    registry = tmp_path / "feeds.yaml"
    registry.write_text(registry_text(base, "a"))
    kafka = settings.kafka
    bus.ensure_topics(kafka)
    publisher = bus.Publisher(kafka, "test", Metrics())
    try:
        publisher.publish(kafka.raw_topic, [(f"k{n}".encode(), b"{}", []) for n in range(60)])
    finally:
        publisher.close()
    lagging = settings.with_overrides(
        {
            "ingest.backpressure_max_lag": 20,
            "ingest.backpressure_check_seconds": 0.2,
            "ingest.backpressure_max_stretch": 8,
        }
    )
    stage, runner, thread = run_stage(lagging, registry)
    try:
        # 60 unconsumed messages plus a's two items, over a bound of 20: stretched x(1 + 62/20).
        wait_for(lambda: stage.stretch > 1, 30, "back-pressure")
        assert sample(stage, "wiredesk_ingest_backpressure_lag_messages") >= 60
        assert sample(stage, "wiredesk_ingest_backpressure_stretch") == pytest.approx(stage.stretch)
        stretched_at = time.monotonic()
        time.sleep(3)
        # Every second unstretched; about every four under this stretch.
        assert len(hits.paths(stretched_at)) <= 1
        # Transform catches up (its group commits the ends): polling as scheduled again.
        with bus.TopicReader(kafka, kafka.raw_topic) as reader:
            ends = dict(reader.ends)
        offsets = bus.GroupOffsets(kafka, kafka.group("transform"))
        try:
            offsets.commit(kafka.raw_topic, ends)
        finally:
            offsets.close()
        wait_for(lambda: stage.stretch == 1, 30, "the end of back-pressure")
        relieved = time.monotonic()
        wait_for(lambda: len(hits.paths(relieved)) >= 2, 30, "polls as scheduled")
    finally:
        runner.request_stop()
        thread.join(timeout=60)
