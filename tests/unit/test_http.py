"""The guarded HTTP client against a real http.server on 127.0.0.1 (no mocked HTTP)."""

from __future__ import annotations

import functools
import gzip
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import brotli
import pytest

from wiredesk.http import (
    ACCEPT_ENCODING,
    BlockedAddress,
    BodyTooLarge,
    HttpClient,
    HttpStatusError,
    HttpTimeout,
    InvalidUrl,
    TooManyRedirects,
    TransportError,
    is_public_address,
    parse_retry_after,
)
from wiredesk.settings import HttpSettings

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
Route = Callable[[BaseHTTPRequestHandler], None]


def _send(h: BaseHTTPRequestHandler, status: int, body: bytes = b"", **headers: str) -> None:
    h.send_response(status)
    for name, value in headers.items():
        h.send_header(name.replace("_", "-"), value)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def _feed(h: BaseHTTPRequestHandler) -> None:
    if h.headers.get("If-None-Match") == '"v1"':
        _send(h, 304, ETag='"v1"')
        return
    _send(h, 200, FEED, ETag='"v1"', Last_Modified="Tue, 05 Mar 2024 10:00:00 GMT", Content_Type="text/xml")


def _last_modified(h: BaseHTTPRequestHandler) -> None:
    if h.headers.get("If-Modified-Since") == "Tue, 05 Mar 2024 10:00:00 GMT":
        _send(h, 304)
        return
    _send(h, 200, FEED, Last_Modified="Tue, 05 Mar 2024 10:00:00 GMT")


def _redirect_chain(h: BaseHTTPRequestHandler) -> None:
    hops = int(h.path.rsplit("/", 1)[1])
    _send(h, 302, Location="/feed" if hops == 0 else f"/hop/{hops - 1}")


def _slow(h: BaseHTTPRequestHandler) -> None:
    time.sleep(1.0)
    _send(h, 200, FEED)


def _drip(h: BaseHTTPRequestHandler) -> None:
    # Each byte arrives inside the idle timeout, the whole body never inside the total deadline.
    h.send_response(200)
    h.send_header("Content-Length", "100")
    h.end_headers()
    for _ in range(100):
        h.wfile.write(b"x")
        h.wfile.flush()
        time.sleep(0.1)


def _drip_headers(h: BaseHTTPRequestHandler) -> None:
    # Each header line arrives inside the idle timeout; the headers never end inside the deadline.
    h.send_response(200)
    for _ in range(50):  # http.client accepts at most 100 header lines
        h.send_header("X-Wait", "x")
        h.flush_headers()
        time.sleep(0.2)
    h.send_header("Content-Length", "0")
    h.end_headers()


def _chunked_big(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    for _ in range(8):
        chunk = b"a" * 1000
        h.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
    h.wfile.write(b"0\r\n\r\n")


def _raw_deflate(data: bytes) -> bytes:
    # Some servers send raw deflate (no zlib header) under "Content-Encoding: deflate".
    packer = zlib.compressobj(wbits=-15)
    return packer.compress(data) + packer.flush()


@functools.cache
def _brotli_bomb() -> bytes:
    # 256 MiB of zeros in a few hundred bytes.
    return bytes(brotli.compress(b"\0" * (256 << 20), quality=5))


ROUTES: dict[str, Route] = {
    "/feed": _feed,
    "/lm": _last_modified,
    "/loop": lambda h: _send(h, 301, Location="/loop"),
    "/no-location": lambda h: _send(h, 302),
    "/to-file": lambda h: _send(h, 302, Location="file:///etc/passwd"),
    "/slow": _slow,
    "/drip": _drip,
    "/drip-headers": _drip_headers,
    "/big": lambda h: _send(h, 200, b"a" * 5000),
    "/big-chunked": _chunked_big,
    "/gzip": lambda h: _send(h, 200, gzip.compress(FEED), Content_Encoding="gzip"),
    "/gzip-bomb": lambda h: _send(h, 200, gzip.compress(b"\0" * 1_000_000), Content_Encoding="gzip"),
    "/deflate": lambda h: _send(h, 200, zlib.compress(FEED), Content_Encoding="deflate"),
    "/raw-deflate": lambda h: _send(h, 200, _raw_deflate(FEED), Content_Encoding="deflate"),
    "/br": lambda h: _send(h, 200, brotli.compress(FEED), Content_Encoding="br"),
    "/br-bomb": lambda h: _send(h, 200, _brotli_bomb(), Content_Encoding="br"),
    "/br-truncated": lambda h: _send(h, 200, brotli.compress(FEED * 50)[:-8], Content_Encoding="br"),
    "/moved": lambda h: _send(h, 301, Location="/moved-again"),
    "/moved-again": lambda h: _send(h, 308, Location="/feed"),
    "/moved-then-temp": lambda h: _send(h, 301, Location="/temp"),
    "/temp": lambda h: _send(h, 302, Location="/feed"),
    "/bad-gzip": lambda h: _send(h, 200, b"not gzip at all", Content_Encoding="gzip"),
    "/500": lambda h: _send(h, 500, b"oops"),
    "/429": lambda h: _send(h, 429, Retry_After="7"),
    "/404": lambda h: _send(h, 404, b"nope"),
    "/accept-encoding": lambda h: _send(h, 200, (h.headers.get("Accept-Encoding") or "").encode()),
    "/ua": lambda h: _send(h, 200, (h.headers.get("User-Agent") or "").encode()),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        route = ROUTES.get(self.path) or (_redirect_chain if self.path.startswith("/hop/") else None)
        if route is None:
            _send(self, 404)
            return
        try:
            route(self)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up on purpose (timeouts, size limits)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _client(**overrides: object) -> HttpClient:
    values: dict[str, object] = {"allow_private_addresses": True, "read_timeout_seconds": 5.0}
    values.update(overrides)
    return HttpClient(HttpSettings.model_validate(values))


def test_get_returns_body_and_validators(base: str) -> None:
    response = _client().get(base + "/feed")
    assert response.status == 200
    assert response.body == FEED
    assert response.etag == '"v1"'
    assert response.last_modified == "Tue, 05 Mar 2024 10:00:00 GMT"
    assert response.content_type == "text/xml"
    assert not response.not_modified


def test_conditional_get_with_etag_gives_304(base: str) -> None:
    response = _client().get(base + "/feed", etag='"v1"')
    assert response.status == 304
    assert response.not_modified
    assert response.body == b""
    assert response.etag == '"v1"'


def test_conditional_get_with_last_modified_keeps_validator(base: str) -> None:
    response = _client().get(base + "/lm", last_modified="Tue, 05 Mar 2024 10:00:00 GMT")
    assert response.not_modified
    # The 304 carried no Last-Modified: the one sent is kept for the next request.
    assert response.last_modified == "Tue, 05 Mar 2024 10:00:00 GMT"


def test_user_agent_is_sent(base: str) -> None:
    assert _client(user_agent="wiredesk-test/9").get(base + "/ua").body == b"wiredesk-test/9"


def test_redirects_are_followed_up_to_the_limit(base: str) -> None:
    response = _client(max_redirects=3).get(base + "/hop/2")
    assert response.body == FEED
    assert response.url == base + "/feed"
    with pytest.raises(TooManyRedirects):
        _client(max_redirects=3).get(base + "/hop/5")


def test_redirect_loop_and_missing_location_stop(base: str) -> None:
    with pytest.raises(TooManyRedirects):
        _client().get(base + "/loop")
    with pytest.raises(TooManyRedirects):
        _client().get(base + "/no-location")


def test_every_redirect_hop_is_checked(base: str) -> None:
    with pytest.raises(InvalidUrl) as caught:
        _client().get(base + "/to-file")
    assert not caught.value.retriable
    port = int(base.rsplit(":", 1)[1])
    seen: list[str] = []

    def resolver(host: str, _port: int) -> list[str]:
        seen.append(host)
        return ["127.0.0.1"]

    client = HttpClient(HttpSettings(allow_private_addresses=True), resolver=resolver)
    # The server's relative Location keeps the host; each hop goes through the resolver again.
    client.get(f"http://feeds.localtest:{port}/hop/2")
    assert seen == ["feeds.localtest"] * 4


def test_read_timeout_is_retriable(base: str) -> None:
    with pytest.raises(HttpTimeout) as caught:
        _client(read_timeout_seconds=0.2).get(base + "/slow")
    assert caught.value.retriable


def test_slow_drip_hits_total_deadline(base: str) -> None:
    started = time.monotonic()
    with pytest.raises(HttpTimeout):
        _client(read_timeout_seconds=0.5).get(base + "/drip")
    assert time.monotonic() - started < 5


def test_slow_headers_hit_the_total_deadline(base: str) -> None:
    # The server would finish its headers after ~10 s; the whole request may take 4 x 0.5 s.
    with pytest.raises(HttpTimeout):
        _client(read_timeout_seconds=0.5).get(base + "/drip-headers")


def test_a_callers_deadline_cuts_a_request_short(base: str) -> None:
    # /slow answers after 1 s, well inside the 5 s read timeout, but after the caller's deadline.
    with pytest.raises(HttpTimeout) as caught:
        _client().get(base + "/slow", deadline=time.monotonic() + 0.2)
    assert caught.value.retriable


def test_a_deadline_already_past_sends_nothing(base: str) -> None:
    with pytest.raises(HttpTimeout):
        _client().get(base + "/feed", deadline=time.monotonic() - 1)


def test_a_deadline_later_than_the_response_changes_nothing(base: str) -> None:
    assert _client().get(base + "/feed", deadline=time.monotonic() + 30).body == FEED


@pytest.mark.parametrize("path", ["/big", "/big-chunked", "/gzip-bomb", "/br-bomb"])
def test_body_over_max_bytes_is_refused(base: str, path: str) -> None:
    with pytest.raises(BodyTooLarge) as caught:
        _client(max_bytes=4096).get(base + path)
    assert not caught.value.retriable


@pytest.mark.parametrize("path", ["/gzip", "/deflate", "/raw-deflate", "/br"])
def test_compressed_bodies_are_decoded(base: str, path: str) -> None:
    assert _client().get(base + path).body == FEED


def test_brotli_is_offered(base: str) -> None:
    offered = _client().get(base + "/accept-encoding").body.decode()
    assert offered == ACCEPT_ENCODING
    assert "br" in [part.strip() for part in offered.split(",")]


def test_a_brotli_bomb_is_stopped_without_expanding_it_in_memory(base: str) -> None:
    _brotli_bomb()  # compressed before measuring
    tracemalloc.start()
    try:
        with pytest.raises(BodyTooLarge):
            _client(max_bytes=1 << 20).get(base + "/br-bomb")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # 256 MiB decoded; the client never holds more than about its limit.
    assert peak < 16 << 20


def test_truncated_brotli_is_an_error(base: str) -> None:
    with pytest.raises(Exception, match="br stream"):
        _client().get(base + "/br-truncated")


def test_permanent_redirects_say_where_the_feed_moved(base: str) -> None:
    moved = _client().get(base + "/moved")
    assert (moved.body, moved.url, moved.permanent_url) == (FEED, base + "/feed", base + "/feed")
    # A temporary hop ends what may be remembered: the next request still starts before it.
    partly = _client().get(base + "/moved-then-temp")
    assert (partly.url, partly.permanent_url) == (base + "/feed", base + "/temp")
    assert _client().get(base + "/temp").permanent_url == ""
    assert _client().get(base + "/feed").permanent_url == ""


def test_undecodable_gzip_is_an_error(base: str) -> None:
    with pytest.raises(Exception, match="does not decode"):
        _client().get(base + "/bad-gzip")


def test_status_errors_say_whether_to_retry(base: str) -> None:
    with pytest.raises(HttpStatusError) as server_error:
        _client().get(base + "/500")
    assert server_error.value.status == 500
    assert server_error.value.retriable
    with pytest.raises(HttpStatusError) as throttled:
        _client().get(base + "/429")
    assert throttled.value.retriable
    assert throttled.value.retry_after == 7.0
    with pytest.raises(HttpStatusError) as missing:
        _client().get(base + "/404")
    assert not missing.value.retriable


def test_loopback_refused_unless_allowed(base: str) -> None:
    client = HttpClient(HttpSettings(allow_private_addresses=False))
    with pytest.raises(BlockedAddress) as caught:
        client.get(base + "/feed")
    assert not caught.value.retriable


@pytest.mark.parametrize(
    "addresses",
    [["10.0.0.5"], ["93.184.216.34", "192.168.1.1"], ["169.254.169.254"], ["::1"], ["::ffff:127.0.0.1"]],
)
def test_names_resolving_to_private_addresses_are_refused(addresses: list[str]) -> None:
    client = HttpClient(HttpSettings(), resolver=lambda _host, _port: addresses)
    with pytest.raises(BlockedAddress):
        client.get("http://feeds.internal/feed")


def test_connection_refused_is_retriable() -> None:
    # Bind then close a port: nothing listens there now.
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    port = server.server_address[1]
    server.server_close()
    with pytest.raises(TransportError) as caught:
        _client().get(f"http://127.0.0.1:{port}/feed")
    assert caught.value.retriable


@pytest.mark.parametrize("url", ["ftp://example.org/x", "file:///etc/passwd", "http:///nohost", "nonsense"])
def test_only_http_urls(url: str) -> None:
    with pytest.raises(InvalidUrl):
        _client().get(url)


def test_address_classification() -> None:
    assert is_public_address("93.184.216.34")
    assert is_public_address("2606:4700:4700::1111")
    for private in ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.0.1", "169.254.1.1", "224.0.0.1",
                    "0.0.0.0", "100.64.0.1", "fe80::1", "fc00::1", "::ffff:10.0.0.1"]:  # fmt: skip
        assert not is_public_address(private), private


def test_retry_after_forms() -> None:
    from datetime import UTC, datetime

    now = datetime(2024, 3, 5, 10, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Tue, 05 Mar 2024 10:01:00 GMT", now) == 60.0
    assert parse_retry_after("Tue, 05 Mar 2024 09:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("") is None


@pytest.mark.parametrize(
    "url",
    [
        "https://harbour-post.example/world/story",
        "http://www.example-times.test/feed.xml",
        "http://nothing.invalid/",
        "http://NOTHING.INVALID./trailing-dot",
    ],
)
def test_names_reserved_for_documentation_and_tests_are_never_resolved(url: str) -> None:
    # RFC 2606 / RFC 6761: .example, .invalid and .test can never be real hosts, so asking a
    # resolver about them only leaks a query to the network (the bundled sample feeds link to
    # such hosts and must run offline).
    asked: list[str] = []

    def resolver(host: str, _port: int) -> list[str]:
        asked.append(host)
        return ["93.184.216.34"]

    with pytest.raises(InvalidUrl) as caught:
        HttpClient(HttpSettings(), resolver=resolver).get(url)
    assert not caught.value.retriable
    assert asked == []
