"""`wiredesk feeds check URL-or-FILE`: a feed's items as JSON lines, or one line saying why not.

Run as a user runs it (a separate process, no Kafka configured) against files and a real HTTP
server on 127.0.0.1.
"""

from __future__ import annotations

import gzip
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest

from tests.conftest import SEED
from tests.unit.core.test_cli_errors import one_error_line, wiredesk

EX_DATAERR = 65
EX_UNAVAILABLE = 69
EX_IOERR = 74
FEED = (SEED / "agency-feed.rss.xml").read_bytes()
PAGE = b"<!doctype html><html><head><title>News</title></head><body><p>Hi</p></body></html>"
NO_ITEMS = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    b"<link>https://news.example.org/</link></channel></rss>"
)
PAGES = {
    "/feed.xml": (200, "application/rss+xml", FEED),
    "/page": (200, "text/html", PAGE),
    "/empty": (200, "application/rss+xml", b""),
    "/garbage": (200, "application/octet-stream", bytes(range(1, 200)) * 10),
    "/no-items": (200, "application/rss+xml", NO_ITEMS),
    "/missing": (404, "text/plain", b"gone"),
}  # fmt: skip


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, kind, body = PAGES.get(self.path, (404, "text/plain", b""))
            if self.path == "/feed.gz.xml":
                status, kind, body = 200, "application/rss+xml", gzip.compress(FEED)
            self.send_response(status)
            self.send_header("Content-Type", kind)
            if self.path == "/feed.gz.xml":
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _check(tmp_path: Path, target: str) -> subprocess.CompletedProcess[str]:
    return wiredesk(tmp_path, "feeds", "check", target, env={"WIREDESK_HTTP_ALLOW_PRIVATE_ADDRESSES": "true"})


@pytest.mark.parametrize("path", ["/feed.xml", "/feed.gz.xml"])
def test_a_feed_prints_one_normalised_item_per_line(tmp_path: Path, base: str, path: str) -> None:
    result = _check(tmp_path, base + path)
    assert result.returncode == 0, result.stderr
    items = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert len(items) == 1
    assert items[0]["title"].startswith("Blinken")
    assert items[0]["feed_id"] == "check"
    assert "1 items; format rss20" in result.stderr


def test_a_file_works_like_a_url(tmp_path: Path) -> None:
    result = _check(tmp_path, str(SEED / "agency-feed.rss.xml"))
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1


@pytest.mark.parametrize(
    ("path", "code", "says"),
    [
        ("/page", EX_DATAERR, "not an RSS, Atom or JSON feed"),
        ("/empty", EX_DATAERR, "the document is empty"),
        ("/garbage", EX_DATAERR, "not an RSS, Atom or JSON feed"),
        ("/no-items", EX_DATAERR, "document with no items"),
        ("/missing", EX_UNAVAILABLE, "HTTP 404"),
    ],
)
def test_an_unusable_feed_is_one_clear_line_and_a_documented_code(
    tmp_path: Path, base: str, path: str, code: int, says: str
) -> None:
    result = _check(tmp_path, base + path)
    assert result.returncode == code
    assert says in one_error_line(result)
    assert result.stdout == ""


def test_a_missing_file(tmp_path: Path) -> None:
    result = _check(tmp_path, str(tmp_path / "nope.xml"))
    assert result.returncode == EX_IOERR
    assert "No such file" in one_error_line(result)


def test_loopback_is_refused_unless_allowed(tmp_path: Path, base: str) -> None:
    # The same SSRF guard as ingest: a check is no way round it.
    result = wiredesk(tmp_path, "feeds", "check", base + "/feed.xml")
    assert result.returncode == EX_UNAVAILABLE
    assert "non-public address" in one_error_line(result)
