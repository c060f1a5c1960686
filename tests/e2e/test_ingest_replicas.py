"""Three ingest replicas on one PostgreSQL ledger and a real broker: no double polls, takeover.

A local feed server records which replica (named in its User-Agent) fetched which feed, and
when each request started and ended on the server. Each answer takes a while, so two replicas
polling one feed at once would overlap there. One replica is SIGKILLed mid-run: every feed it
was polling must be polled by another replica within a minute.
"""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import REPO, service_env
from wiredesk import bus
from wiredesk.settings import Settings

pytestmark = pytest.mark.e2e

FEEDS = 24
REPLICAS = 3
ANSWER_SECONDS = 0.3
TAKEOVER_SECONDS = 60.0


@dataclass(frozen=True)
class Fetch:
    feed: str
    replica: str
    start: float
    end: float


class _Server:
    def __init__(self) -> None:
        self.fetches: list[Fetch] = []
        self.lock = threading.Lock()


def _rss(feed: str) -> bytes:
    items = "".join(
        f"<item><guid>{feed}-{n}</guid><title>{feed} story {n}</title>"
        f"<link>https://news.example.org/{feed}/{n}</link><description>Text {n}.</description></item>"
        for n in range(3)
    )
    channel = f"<channel><title>{feed}</title>{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


@pytest.fixture
def feed_server() -> Iterator[tuple[str, _Server]]:
    state = _Server()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            start = time.monotonic()
            feed = self.path.strip("/").removesuffix(".xml")
            replica = (self.headers.get("User-Agent") or "").rsplit(" ", 1)[-1]
            time.sleep(ANSWER_SECONDS)
            body = _rss(feed)
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # a killed replica's connection
            with state.lock:
                state.fetches.append(Fetch(feed, replica, start, time.monotonic()))

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()


def _wait(condition: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {timeout_s:.0f}s")


def test_replicas_split_feeds_never_poll_one_twice_and_take_over_a_dead_one(
    kafka_settings: Settings,
    tmp_path: Path,
    postgres_dsn: str,
    postgres_schema: str,
    feed_server: tuple[str, _Server],
) -> None:
    base, server = feed_server
    registry = tmp_path / "feeds.yaml"
    registry.write_text(
        "feeds:\n"
        + "".join(
            f"  - id: feed-{n:02d}\n    url: {base}/feed-{n:02d}.xml\n    interval_seconds: 1\n"
            for n in range(FEEDS)
        )
    )
    common = {
        "WIREDESK_INGEST_STATE_STORE": "postgres",
        "WIREDESK_INGEST_POSTGRES_DSN": postgres_dsn,
        "WIREDESK_INGEST_POSTGRES_SCHEMA": postgres_schema,
        "WIREDESK_INGEST_LEASE_SECONDS": "5",
        "WIREDESK_INGEST_CONCURRENCY": "4",
        # Every feed is on one host here: politeness would serialise them.
        "WIREDESK_INGEST_PER_HOST_CONCURRENCY": "16",
        "WIREDESK_INGEST_PER_HOST_DELAY_SECONDS": "0",
        "WIREDESK_INGEST_MIN_INTERVAL_SECONDS": "1",
        "WIREDESK_INGEST_BACKPRESSURE_MAX_LAG": "0",
        "WIREDESK_HTTP_ALLOW_PRIVATE_ADDRESSES": "true",
        "WIREDESK_SERVICE_LOG_FORMAT": "text",
    }
    replicas: dict[str, subprocess.Popen[bytes]] = {}
    logs = []
    try:
        for n in range(REPLICAS):
            name = f"replica-{n}"
            env = service_env(
                kafka_settings, tmp_path / name, WIREDESK_HTTP_USER_AGENT=f"wiredesk-test {name}", **common
            )
            log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed in finally
            logs.append(log)
            replicas[name] = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "ingest", "--feeds", str(registry)],
                env=env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

        def polled_by() -> set[str]:
            with server.lock:
                return {f.replica for f in server.fetches}

        _wait(lambda: polled_by() == set(replicas), 60, "every replica polling")
        time.sleep(2)  # let them share the work for a while
        victim = "replica-0"
        replicas[victim].send_signal(signal.SIGKILL)
        replicas[victim].wait(timeout=10)
        killed_at = time.monotonic()
        with server.lock:
            victims_feeds = {f.feed for f in server.fetches if f.replica == victim}
        assert victims_feeds

        def taken_over() -> bool:
            with server.lock:
                after = {f.feed for f in server.fetches if f.start > killed_at and f.replica != victim}
            return victims_feeds <= after

        _wait(taken_over, TAKEOVER_SECONDS, f"takeover of {sorted(victims_feeds)}")
        for name, process in replicas.items():
            if name != victim:
                process.send_signal(signal.SIGTERM)
        for name, process in replicas.items():
            if name != victim:
                assert process.wait(timeout=60) == 0, (tmp_path / f"{name}.log").read_text()
    finally:
        for process in replicas.values():
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        for log in logs:
            log.close()

    with server.lock:
        fetches = list(server.fetches)
    # No feed was ever fetched by two replicas at once (nor twice at once by one).
    by_feed: dict[str, list[Fetch]] = {}
    for fetch in fetches:
        by_feed.setdefault(fetch.feed, []).append(fetch)
    overlaps = []
    for feed, runs in by_feed.items():
        runs.sort(key=lambda f: f.start)
        overlaps += [(feed, a, b) for a, b in itertools.pairwise(runs) if b.start < a.end]
    assert overlaps == []
    assert len(by_feed) == FEEDS
    # Every feed's items reached the topic (once per version: replicas share one ledger).
    published = list(bus.read_topic(kafka_settings.kafka, kafka_settings.kafka.raw_topic))
    keys = [m.key for m in published]
    assert len(set(keys)) == FEEDS * 3
