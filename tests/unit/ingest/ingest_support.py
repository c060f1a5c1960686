"""Helpers for ingest tests: fixture paths, the shared corpora, a real local feed server."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.conftest import shared_path

REPO = Path(__file__).resolve().parents[3]
FEEDS = REPO / "tests" / "fixtures" / "feeds"


def shared_feeds(*parts: str) -> Path:
    return shared_path("data", "feeds", *parts)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    # Seconds between two bytes of the body: a server that trickles.
    drip: float = 0.0


@dataclass
class FeedServer:
    """Serves `routes[path]`: a Reply or a callable(request headers) -> Reply. Records requests."""

    base: str
    routes: dict[str, Reply | Callable[[dict[str, str]], Reply]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path


def handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            server.requests.append((self.path, headers))
            route = server.routes.get(self.path)
            reply = Reply(404) if route is None else route if isinstance(route, Reply) else route(headers)
            if reply.delay:
                threading.Event().wait(reply.delay)
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if reply.drip:
                    for byte in reply.body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        threading.Event().wait(reply.drip)
                else:
                    self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler
