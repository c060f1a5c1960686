"""A local news-feed server for the end-to-end benchmark: N realistic RSS feeds on 127.0.0.1.

Every feed has `items_per_feed` items whose content is 3-8 KB of HTML built from real newswire
sentences (the labelled entity texts and syndication originals under tests/fixtures), each item
its own mix, so distinct items are distinct stories to the near-duplicate index. A share of items
are teasers (a short summary and a link) whose article pages the server also serves, with page
chrome around the story. `near_duplicates=True` makes every item a light edit of one story, the
syndication load where one agency story is republished by many outlets.

Items can be published over time (`publish_rate` items/s from the moment the server starts):
a feed then lists only the items published so far, newest first, which is what the freshness
measure (published on the server -> searchable) needs. The server answers conditional GETs
(ETag) like a real CMS, and records when it first served anything.
"""

from __future__ import annotations

import hashlib
import html
import random
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
_SENTENCE = re.compile(r"(?<=[.!?”\"])\s+(?=[A-Z“\"])")
_FIRST = ["Maria", "Ahmed", "Li", "Olga", "Rahul", "Aiko", "Carlos", "Fatima", "Jonas", "Priya", "Tomasz"]
_LAST = ["Keller", "Okafor", "Wang", "Petrova", "Sharma", "Tanaka", "Mendes", "Haddad", "Berg", "Nowak"]
_CITIES = ["GENEVA", "NAIROBI", "LIMA", "OSLO", "HANOI", "QUITO", "ACCRA", "RIGA", "PERTH", "DOHA"]
_AGENCIES = ["Reuters", "AFP", "AP", "ANI", "PTI", "dpa"]


def sentence_bank() -> list[str]:
    """Real newswire sentences from the repository's fixtures (no network, no ../shared needed)."""
    texts: list[str] = [t["text"] for t in orjson.loads((FIXTURES / "entities" / "texts.json").read_bytes())]
    for line in (FIXTURES / "syndication" / "variants.jsonl").read_text(encoding="utf-8").splitlines():
        record = orjson.loads(line)
        if record.get("kind") == "original":
            texts.append(record["text"])
    sentences: list[str] = []
    for text in texts:
        for paragraph in text.split("\n"):
            sentences.extend(s.strip() for s in _SENTENCE.split(paragraph) if len(s.strip()) > 40)
    return sorted(set(sentences))


@dataclass(frozen=True, slots=True)
class Item:
    feed: int
    index: int
    guid: str
    title: str
    link: str
    paragraphs: tuple[str, ...]
    teaser: bool
    publish_offset: float  # seconds after the server starts (0 when everything is there at once)

    @property
    def content_html(self) -> str:
        return "".join(f"<p>{html.escape(p)}</p>" for p in self.paragraphs)

    @property
    def summary(self) -> str:
        return self.paragraphs[0][:200]


@dataclass
class Corpus:
    feeds: int
    items_per_feed: int
    items: list[list[Item]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.feeds * self.items_per_feed


def build_corpus(
    feeds: int,
    items_per_feed: int = 50,
    *,
    teaser_share: float = 0.1,
    near_duplicates: bool = False,
    publish_rate: float = 0.0,
    seed: int = 7,
    base_url: str = "",
) -> Corpus:
    rng = random.Random(seed)
    bank = sentence_bank()
    story = rng.sample(bank, 30)
    corpus = Corpus(feeds, items_per_feed)
    order = [(f, i) for i in range(items_per_feed) for f in range(feeds)]
    offsets = {key: (n / publish_rate if publish_rate > 0 else 0.0) for n, key in enumerate(order)}
    for f in range(feeds):
        items = []
        for i in range(items_per_feed):
            person = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
            city = rng.choice(_CITIES)
            agency = rng.choice(_AGENCIES)
            if near_duplicates:
                body = list(story)
                del body[rng.randrange(len(body))]
                title = f"{rng.choice(['Update:', 'Breaking:', 'Analysis:', 'Watch:'])} {story[0][:70]}"
            else:
                body = rng.sample(bank, rng.randint(22, 48))
                title = f"{person} says {body[0][:60].rstrip()}"
            dateline = f"{city}, {rng.randint(1, 28)} Nov ({agency}) - "
            body[0] = dateline + body[0]
            body.append(f"Reporting by {person}; editing by {rng.choice(_FIRST)} {rng.choice(_LAST)}")
            link = f"{base_url}/news/{f}/{i}.html"
            items.append(
                Item(
                    feed=f,
                    index=i,
                    guid=f"urn:bench:{seed}:{f}:{i}",
                    title=title,
                    link=link,
                    paragraphs=tuple(body),
                    teaser=rng.random() < teaser_share,
                    publish_offset=offsets[(f, i)],
                )
            )
        corpus.items.append(items)
    return corpus


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} | Bench Times</title>
<link rel="canonical" href="{link}"><meta property="article:published_time" content="{published}">
</head><body><header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a>
<a href="/epaper">Epaper</a></nav></header><main><article><h1>{title}</h1>
<div class="byline">By {agency} | Updated: {published}</div>{body}</article>
<aside><h2>Related Stories</h2><ul>{related}</ul></aside></main>
<footer><p>Copyright Bench Times. All rights reserved.</p><p>Follow us on social media.</p></footer>
</body></html>"""


class FeedServer:
    """Serves the corpus over HTTP on a loopback port; `start()`/`stop()` or use as a context."""

    def __init__(self, corpus: Corpus, host: str = "127.0.0.1") -> None:
        self.corpus = corpus
        self._server = ThreadingHTTPServer((host, 0), self._handler())
        self._server.daemon_threads = True
        self.host = host
        self.port = self._server.server_address[1]
        self.started_at = 0.0  # wall clock, seconds since the epoch
        self.first_request_at: float | None = None
        self.requests = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def feed_url(self, feed: int) -> str:
        return f"{self.base_url}/feeds/{feed}.xml"

    def published_at(self, item: Item) -> float:
        return self.started_at + item.publish_offset

    def start(self) -> FeedServer:
        self.started_at = time.time()
        self._thread = threading.Thread(target=self._server.serve_forever, name="feed-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _visible(self, feed: int, now: float) -> list[Item]:
        items = [it for it in self.corpus.items[feed] if self.started_at + it.publish_offset <= now]
        return sorted(items, key=lambda it: it.publish_offset, reverse=True)

    def render_feed(self, feed: int, now: float) -> bytes:
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>',
            f"<title>Bench feed {feed}</title><link>{self.base_url}/</link><language>en</language>",
        ]
        for it in self._visible(feed, now):
            when = format_datetime(datetime.fromtimestamp(self.published_at(it), UTC), usegmt=True)
            url = self.base_url + it.link
            parts.append(
                f"<item><title>{html.escape(it.title)}</title><link>{url}</link>"
                f'<guid isPermaLink="false">{it.guid}</guid><pubDate>{when}</pubDate>'
                f"<description>{html.escape(it.summary)}</description>"
            )
            if not it.teaser:
                parts.append(f"<content:encoded><![CDATA[{it.content_html}]]></content:encoded>")
            parts.append("<category>World</category></item>")
        parts.append("</channel></rss>")
        return "".join(parts).encode()

    def render_page(self, feed: int, index: int) -> bytes | None:
        try:
            it = self.corpus.items[feed][index]
        except IndexError:
            return None
        published = datetime.fromtimestamp(self.published_at(it), UTC).isoformat()
        related = "".join(f'<li><a href="/news/x/{n}.html">Another story {n}</a></li>' for n in range(5))
        return _PAGE.format(
            title=html.escape(it.title),
            link=self.base_url + it.link,
            published=published,
            agency="Bench Wire",
            body=it.content_html,
            related=related,
        ).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with server._lock:
                    server.requests += 1
                    if server.first_request_at is None:
                        server.first_request_at = time.time()
                path = self.path.split("?", 1)[0]
                body: bytes | None = None
                ctype = "text/html; charset=utf-8"
                feed_match = re.fullmatch(r"/feeds/(\d+)\.xml", path)
                page_match = re.fullmatch(r"/news/(\d+)/(\d+)\.html", path)
                if feed_match and int(feed_match.group(1)) < server.corpus.feeds:
                    body = server.render_feed(int(feed_match.group(1)), time.time())
                    ctype = "application/rss+xml; charset=utf-8"
                elif page_match:
                    body = server.render_page(int(page_match.group(1)), int(page_match.group(2)))
                if body is None:
                    self._send(404, b"not found\n", "text/plain")
                    return
                etag = '"' + hashlib.blake2b(body, digest_size=8).hexdigest() + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self._send(200, body, ctype, etag)

            def _send(self, status: int, body: bytes, ctype: str, etag: str = "") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                if etag:
                    self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        return Handler


def feeds_yaml(server: FeedServer, interval_seconds: float | None = None) -> str:
    lines = ["feeds:"]
    for f in range(server.corpus.feeds):
        lines.append(f"  - id: bench-{f}\n    url: {server.feed_url(f)}")
        if interval_seconds is not None:
            lines.append(f"    interval_seconds: {interval_seconds}")
    return "\n".join(lines) + "\n"
