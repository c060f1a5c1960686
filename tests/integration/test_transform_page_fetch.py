"""Page fetches of a whole batch on a real broker against a real, partly slow, local web server.

The regression: a batch of teasers whose pages were fetched one by one outlived the consumer's
max poll interval, the worker lost its group, the commit failed and the batch was done again,
for ever, with duplicate articles each round. Now the batch fetches its pages concurrently under
one deadline well inside the poll interval: fast pages are used, slow ones keep the teaser, and
the batch is committed once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import SEED
from tests.integration.test_workers import publish, read_all, run_until
from transform.service import TransformStage
from wiredesk import ids, records
from wiredesk.metrics import Metrics
from wiredesk.records import Article, RawItem
from wiredesk.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

PAGE = (SEED / "agency-article-page.html").read_bytes()
FAST, SLOW = 3, 6
# A slow page drips its response headers (each line well inside the idle read timeout) for this
# long before sending the page: longer than the batch's fetch deadline, so only a deadline that
# covers the headers too can cut it short. Before the fix, six of these fetched one after another
# kept the worker away from the broker longer than its max poll interval.
SLOW_HOLD_S = 4.0
HEADER_DRIP_S = 0.2


class _Pages(BaseHTTPRequestHandler):
    release: threading.Event

    def do_GET(self) -> None:
        if self.path.startswith("/slow/"):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            waited = 0.0
            while waited < SLOW_HOLD_S and not self.release.wait(HEADER_DRIP_S):
                self.send_header("X-Still-Thinking", "yes")
                self.flush_headers()
                waited += HEADER_DRIP_S
        else:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def page_server() -> Iterator[str]:
    release = threading.Event()
    handler = type("Pages", (_Pages,), {"release": release})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _teaser(n: int, url: str) -> RawItem:
    return RawItem(
        feed_id="wire",
        item_id=ids.item_id("wire", guid=f"teaser-{n}"),
        version=1,
        fetched_at=datetime.now(UTC),
        content_hash=ids.content_hash(url),
        guid=f"teaser-{n}",
        link=url,
        title=f"Blinken accepts invitation to meet Lavrov, part {n}",
        summary="Russian Foreign Minister Sergey Lavrov has proposed dates for holding a meeting...",
        fetch_full_text=True,
    )


def test_a_batch_of_slow_teaser_pages_completes_once_within_the_poll_interval(
    kafka_settings: Settings, page_server: str
) -> None:
    settings = kafka_settings.with_overrides(
        {
            "kafka.raw_partitions": 1,
            # Short enough that fetching the slow pages one by one (6 x 4 s) outlives it.
            "kafka.max_poll_interval_ms": 8_000,
            "http.read_timeout_seconds": 1.0,
            "transform.fetch_deadline_seconds": 1.5,
        }
    )
    fast = [_teaser(n, f"{page_server}/fast/{n}") for n in range(FAST)]
    slow = [_teaser(FAST + n, f"{page_server}/slow/{n}") for n in range(SLOW)]
    # Interleaved, so a one-by-one fetcher meets slow pages all through the batch.
    items = [slow[0], fast[0], slow[1], fast[1], slow[2], fast[2], *slow[3:]]
    k = settings.kafka
    publish(settings, k.raw_topic, [(records.record_key(i), records.dumps(i)) for i in items])

    metrics = Metrics()
    stage = TransformStage(settings, metrics)
    run_until(stage, lambda: sum(stage.committed_positions.values()) >= len(items), timeout_s=90)

    articles = [records.loads(Article, m.value or b"") for m in read_all(settings, k.articles_topic)]
    by_item = {a.wiredesk.item_id: a for a in articles}
    assert len(articles) == len(items) == len(by_item), "an article was published twice"
    for item in fast:
        assert not by_item[item.item_id].wiredesk.quality.teaser_only
        assert len(by_item[item.item_id].paragraphs) == 8
    for item in slow:
        assert by_item[item.item_id].wiredesk.quality.teaser_only
    assert read_all(settings, k.dlq_topic) == []
    fetches = {
        outcome: metrics.registry.get_sample_value(
            "wiredesk_transform_page_fetches_total", {"outcome": outcome}
        )
        for outcome in ("ok", "timeout", "failed")
    }
    assert fetches == {"ok": FAST, "timeout": SLOW, "failed": 0}
