"""The batch page fetcher against a real web server on 127.0.0.1, without Kafka."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from transform.fulltext import PageFetcher
from wiredesk import ids
from wiredesk.http import HttpClient
from wiredesk.metrics import Metrics
from wiredesk.records import RawItem
from wiredesk.settings import HttpSettings

pytestmark = pytest.mark.timeout(60)

HOLD_LIMIT_S = 30.0
CP1252_TEXT = "“Prices rose by €5 – or 4 % — this year,” he said… ‘Café’ and Brand™ stay."


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.release = threading.Event()  # held pages answer only once this is set
        self.held_answered = threading.Event()
        self.pair = threading.Barrier(2, timeout=10)
        self.lock = threading.Lock()
        self.requests: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        s = self.server
        with s.lock:
            s.requests.append(self.path)
            s.in_flight += 1
            s.most_in_flight = max(s.most_in_flight, s.in_flight)
        try:
            self._route(s)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the fetcher gave up on this one at its deadline
        finally:
            with s.lock:
                s.in_flight -= 1

    def _route(self, s: _Server) -> None:
        if self.path.startswith("/held/"):
            s.release.wait(HOLD_LIMIT_S)
            self._page(f"held {self.path}")
            s.held_answered.set()
        elif self.path.startswith("/drip-headers/"):
            self.send_response(200)
            for _ in range(50):
                if s.release.wait(0.2):
                    break
                self.send_header("X-Wait", "x")
                self.flush_headers()
            self._page("dripped", status=None)
        elif self.path.startswith("/pair/"):
            # Answers only when a second request is in flight at the same time.
            try:
                s.pair.wait()
            except threading.BrokenBarrierError:
                self._page("alone", status=500)
                return
            self._page(f"together {self.path}")
        elif self.path == "/cp1252":
            # A very common server set-up: windows-1252 bytes labelled ISO-8859-1.
            body = f"<html><body><article><p>{CP1252_TEXT}</p></article></body></html>".encode("cp1252")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=ISO-8859-1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/missing":
            self._page("gone", status=404)
        else:
            self._page(f"page {self.path}")

    def _page(self, text: str, *, status: int | None = 200) -> None:
        body = f"<html><body><article><p>{text}</p></article></body></html>".encode()
        if status is not None:
            self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.release.set()
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=10)


def _base(server: _Server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def _item(link: str, guid: str = "") -> RawItem:
    guid = guid or link
    return RawItem(
        feed_id="wire",
        item_id=ids.item_id("wire", guid=guid),
        version=1,
        fetched_at=datetime.now(UTC),
        content_hash=ids.content_hash(guid),
        guid=guid,
        link=link,
        title="a teaser",
        summary="A teaser...",
    )


def _fetcher(metrics: Metrics, *, workers: int = 4, deadline_seconds: float = 1.0) -> PageFetcher:
    # The read timeout is far longer than the deadline: only the batch deadline can end a held page.
    http = HttpClient(HttpSettings(allow_private_addresses=True, read_timeout_seconds=HOLD_LIMIT_S))
    return PageFetcher(http, metrics, workers=workers, deadline_seconds=deadline_seconds)


def _count(metrics: Metrics, outcome: str) -> float | None:
    return metrics.registry.get_sample_value("wiredesk_transform_page_fetches_total", {"outcome": outcome})


def test_pages_in_by_the_deadline_are_used_and_the_rest_keep_the_teaser(server: _Server) -> None:
    base = _base(server)
    fast, held, dripping, missing = (
        _item(f"{base}/page/1"),
        _item(f"{base}/held/1"),
        _item(f"{base}/drip-headers/1"),
        _item(f"{base}/missing"),
    )
    metrics = Metrics()
    pages = _fetcher(metrics).fetch([fast, held, dripping, missing])
    # The fetcher answered while the held page was still being held back by the server.
    assert not server.held_answered.is_set()
    page = pages[fast]
    assert page is not None
    assert "page /page/1" in page
    assert pages[held] is None
    assert pages[dripping] is None
    assert pages[missing] is None
    assert (_count(metrics, "ok"), _count(metrics, "timeout"), _count(metrics, "failed")) == (1, 2, 1)


def test_pages_are_fetched_concurrently_by_at_most_the_configured_workers(server: _Server) -> None:
    base = _base(server)
    items = [_item(f"{base}/pair/{n}") for n in range(6)]
    metrics = Metrics()
    pages = _fetcher(metrics, workers=2, deadline_seconds=20).fetch(items)
    # Each /pair/ page answers only while another request is in flight: all six came back.
    assert all(page is not None and "together" in page for page in pages.values()), pages
    assert server.most_in_flight == 2
    assert _count(metrics, "ok") == 6


def test_items_sharing_a_link_share_one_fetch(server: _Server) -> None:
    link = f"{_base(server)}/page/shared"
    first, second = _item(link, guid="a"), _item(link, guid="b")
    pages = _fetcher(Metrics()).fetch([first, second, _item("", guid="no-link")])
    assert set(pages) == {first, second}
    assert pages[first] == pages[second] is not None
    assert server.requests == ["/page/shared"]


def test_nothing_to_fetch_starts_nothing(server: _Server) -> None:
    assert _fetcher(Metrics()).fetch([]) == {}
    assert server.requests == []


def test_the_deadline_also_ends_requests_it_gave_up_on(server: _Server) -> None:
    # Abandoned fetch threads do not live on: their sockets wait no longer than the deadline.
    baseline = {t.ident for t in threading.enumerate()}
    _fetcher(Metrics(), deadline_seconds=0.5).fetch([_item(f"{_base(server)}/held/{n}") for n in range(3)])
    end = time.monotonic() + 10
    while time.monotonic() < end and _fetch_threads(baseline):
        time.sleep(0.05)
    assert _fetch_threads(baseline) == []
    assert not server.held_answered.is_set()


def _fetch_threads(baseline: set[int | None]) -> list[str]:
    fresh = [t for t in threading.enumerate() if t.ident not in baseline]
    return [t.name for t in fresh if t.name.startswith("page-fetch")]


def test_a_cp1252_page_served_as_iso_8859_1_comes_out_without_control_characters(server: _Server) -> None:
    item = _item(f"{_base(server)}/cp1252")
    page = _fetcher(Metrics()).fetch([item])[item]
    assert page is not None
    assert CP1252_TEXT in page
    assert not re.search("[\u0080-\u009f]", page)
