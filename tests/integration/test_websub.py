"""WebSub against a local hub written here (loopback only): subscribe, verify, push, renew, leave.

The hub is a real HTTP server: it answers subscription requests with 202, then verifies our
intent with a GET to the callback carrying a challenge, and pushes signed documents to it, as
the W3C Recommendation describes. The subscriber side runs in the real ingest stage (on the real
broker) or as the WebSub object with its real callback server and a real SQLite ledger.
"""

from __future__ import annotations

import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ingest.registry import Feed, load_registry
from ingest.service import IngestStage
from ingest.state import IngestState
from ingest.websub import CallbackServer, WebSub, sign
from wiredesk import bus
from wiredesk.embedded import free_port
from wiredesk.http import HttpClient
from wiredesk.metrics import Metrics
from wiredesk.records import RawItem, loads
from wiredesk.service import ServiceRunner
from wiredesk.settings import HttpSettings, IngestSettings, Settings

pytestmark = pytest.mark.integration


@dataclass
class Hub:
    """A WebSub hub on 127.0.0.1: records requests and the outcome of each intent verification."""

    url: str = ""
    grant_lease: int = 100
    requests: list[dict[str, str]] = field(default_factory=list)
    verified: list[tuple[str, bool]] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)  # callback -> secret
    lock: threading.Lock = field(default_factory=threading.Lock)

    def verify(self, form: dict[str, str]) -> None:
        challenge = secrets.token_urlsafe(16)
        query = {"hub.mode": form["hub.mode"], "hub.topic": form["hub.topic"], "hub.challenge": challenge}
        if form["hub.mode"] == "subscribe":
            query["hub.lease_seconds"] = str(self.grant_lease)
        try:
            with urllib.request.urlopen(
                f"{form['hub.callback']}?{urllib.parse.urlencode(query)}", timeout=10
            ) as r:
                ok = r.status == 200 and r.read().decode() == challenge
        except urllib.error.HTTPError:
            ok = False
        with self.lock:
            self.verified.append((form["hub.mode"], ok))
            if ok and form["hub.mode"] == "subscribe":
                self.secrets[form["hub.callback"]] = form["hub.secret"]

    def push(self, callback: str, body: bytes, *, signature: str | None = None) -> int:
        """Distribute `body` to `callback`, signed with the subscriber's secret unless told otherwise."""
        if signature is None:
            with self.lock:
                signature = sign(self.secrets[callback], body)
        header = signature
        headers = {"Content-Type": "application/atom+xml"}
        if header:
            headers["X-Hub-Signature"] = header
        request = urllib.request.Request(callback, data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    def modes(self) -> list[str]:
        with self.lock:
            return [form["hub.mode"] for form in self.requests]


@pytest.fixture
def hub() -> Iterator[Hub]:
    state = Hub()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in urllib.parse.parse_qs(self.rfile.read(length).decode()).items()}
            with state.lock:
                state.requests.append(form)
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()
            # Verification comes after the 202, as a hub does it (asynchronously).
            threading.Thread(target=state.verify, args=(form,), daemon=True).start()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hub"
    yield state
    server.shutdown()
    server.server_close()


def atom(hub: str, topic: str, *entries: int) -> bytes:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    items = "".join(
        f'<entry><id>urn:story:{n}</id><title>Story {n}</title><link href="https://news.example.org/{n}"/>'
        f"<updated>{now}</updated><content>Text {n}.</content></entry>"
        for n in entries
    )
    return (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Wire</title>'
        f'<link rel="hub" href="{hub}"/><link rel="self" href="{topic}"/>{items}</feed>'
    ).encode()


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout_s:.0f}s")


@pytest.fixture
def feed_server() -> Iterator[tuple[str, dict[str, bytes]]]:
    documents: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = documents.get(self.path, b"")
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/atom+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", documents
    server.shutdown()
    server.server_close()


def test_a_feed_with_a_hub_is_subscribed_and_pushed_content_flows_like_polled(
    kafka_settings: Settings, tmp_path: Path, hub: Hub, feed_server: tuple[str, dict[str, bytes]]
) -> None:
    base, documents = feed_server
    topic = f"{base}/wire.atom"
    documents["/wire.atom"] = atom(hub.url, topic, 1, 2)
    registry = tmp_path / "feeds.yaml"
    registry.write_text(f"feeds:\n  - id: wire\n    url: {topic}\n")
    port = free_port()
    settings = kafka_settings.with_overrides(
        {
            "ingest.websub_callback_url": f"http://127.0.0.1:{port}/websub",
            "ingest.websub_port": port,
            "ingest.websub_host": "127.0.0.1",
            "ingest.backpressure_max_lag": 0,
        }
    )
    metrics = Metrics()
    stage = IngestStage(settings, metrics, load_registry(registry), registry_path=registry)
    runner = ServiceRunner("ingest", [stage], metrics, metrics_port=None)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    callback = f"http://127.0.0.1:{port}/websub/wire"
    try:
        wait_for(lambda: ("subscribe", True) in hub.verified, 60, "a verified subscription")
        assert hub.requests[0]["hub.topic"] == topic
        assert hub.requests[0]["hub.callback"] == callback
        assert len(hub.requests[0]["hub.secret"]) >= 32
        # A signed push with a new story: published like a polled one. (Dates are to the second:
        # the story must be dated after the poll that read the feed.)
        time.sleep(1.1)
        assert hub.push(callback, atom(hub.url, topic, 1, 2, 3)) == 202
        # A push signed with another secret, and one not signed at all: refused, dropped.
        assert hub.push(callback, atom(hub.url, topic, 4), signature=sign("not-the-secret", b"x")) == 403
        assert hub.push(callback, atom(hub.url, topic, 5), signature="") == 403

        def titles() -> set[str]:
            return {
                loads(RawItem, m.value or b"").title
                for m in bus.read_topic(settings.kafka, settings.kafka.raw_topic)
            }

        wait_for(lambda: "Story 3" in titles(), 60, "the pushed story on the raw topic")
        assert titles() == {"Story 1", "Story 2", "Story 3"}
        value = metrics.registry.get_sample_value
        assert value("wiredesk_ingest_websub_events_total", {"event": "push_accepted"}) == 1
        assert value("wiredesk_ingest_websub_events_total", {"event": "push_bad_signature"}) == 2
        assert value("wiredesk_ingest_freshness_seconds_count", {"path": "push"}) == 1
        assert value("wiredesk_ingest_items_total", {"feed": "wire", "outcome": "new"}) == 3
    finally:
        runner.request_stop()
        thread.join(timeout=60)


@pytest.fixture
def subscriber(tmp_path: Path) -> Iterator[tuple[WebSub, IngestState, str]]:
    port = free_port()
    settings = IngestSettings(websub_callback_url=f"http://127.0.0.1:{port}/cb", websub_lease_seconds=100)
    ledger = IngestState(tmp_path / "ingest.sqlite")
    websub = WebSub(ledger, HttpClient(HttpSettings(allow_private_addresses=True)), settings, Metrics())
    server = CallbackServer(websub, "127.0.0.1", port, 1 << 20)
    server.start()
    yield websub, ledger, f"http://127.0.0.1:{port}/cb"
    server.close()
    ledger.close()


def test_leases_are_renewed_and_a_removed_feed_is_unsubscribed(
    subscriber: tuple[WebSub, IngestState, str], hub: Hub
) -> None:
    websub, ledger, _ = subscriber
    wire = Feed(id="wire", url="https://news.example.org/wire.atom")
    websub.consider(wire, (hub.url,), wire.url, time.time())
    wait_for(lambda: len(hub.verified) == 1, 30, "verification")
    first = ledger.subscription("wire")
    assert first is not None
    assert first.state == "active"
    # Considering the same hub again changes nothing; near the lease's end it is renewed.
    websub.consider(wire, (hub.url,), wire.url, time.time())
    websub.maintain({"wire": wire}, first.lease_until - 50)
    assert hub.modes() == ["subscribe"]
    websub.maintain({"wire": wire}, first.lease_until - 5)
    wait_for(lambda: len(hub.verified) == 2, 30, "the renewal's verification")
    assert hub.modes() == ["subscribe", "subscribe"]
    renewed = ledger.subscription("wire")
    assert renewed is not None
    assert renewed.secret == first.secret
    # Asked at the (simulated) time the lease was running out, granted anew from the verification.
    assert renewed.requested_at == first.lease_until - 5
    assert renewed.lease_until >= first.lease_until
    # The feed leaves the registry: unsubscribed, and forgotten once the hub verified that.
    websub.maintain({}, time.time())
    wait_for(lambda: len(hub.verified) == 3, 30, "the unsubscription's verification")
    assert hub.modes()[-1] == "unsubscribe"
    assert hub.verified[-1] == ("unsubscribe", True)
    assert ledger.subscription("wire") is None


def test_the_callback_answers_only_what_was_asked(
    subscriber: tuple[WebSub, IngestState, str], hub: Hub
) -> None:
    websub, ledger, base = subscriber
    wire = Feed(id="wire", url="https://news.example.org/wire.atom")

    def get(feed_id: str, **query: str) -> int:
        url = f"{base}/{feed_id}?{urllib.parse.urlencode({'hub.' + k: v for k, v in query.items()})}"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    # Nobody asked: a verification for an unknown feed, or of another topic, is refused.
    assert get("wire", mode="subscribe", topic=wire.url, challenge="c") == 404
    websub.consider(wire, (hub.url,), wire.url, time.time())
    wait_for(lambda: len(hub.verified) == 1, 30, "verification")
    assert get("wire", mode="subscribe", topic="https://evil.example.org/", challenge="c") == 404
    assert get("wire", mode="unsubscribe", topic=wire.url, challenge="c") == 404
    body = atom(hub.url, wire.url, 1)
    callback = f"{base}/wire"
    secret = ledger.subscription("wire").secret  # type: ignore[union-attr]
    assert hub.push(callback, body) == 202  # sha256
    assert hub.push(callback, body, signature=sign(secret, body, "sha1")) == 202
    assert hub.push(callback, body, signature=sign(secret, body, "sha512")) == 202
    assert hub.push(callback, body, signature="md5=" + "0" * 32) == 403
    assert hub.push(callback, body + b" ", signature=sign(secret, body)) == 403
    assert hub.push(f"{base}/unknown", body, signature=sign(secret, body)) == 404
    assert websub.pushes.qsize() == 3
