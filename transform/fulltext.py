"""Article pages for the teaser items of one consumed batch: fetched together, under one deadline.

Why a deadline per batch: the transform worker must poll the broker again within
`kafka.max_poll_interval_ms`, or it is put out of its group, its commit fails and the whole batch
is done again (and again). Fetching a batch's pages one by one, each allowed its full HTTP
timeouts, can take longer than that. So the pages are fetched concurrently by at most
`transform.fetch_concurrency` threads, and whatever is not in by `transform.fetch_deadline_seconds`
after the batch's fetching began is given up: that item keeps its teaser (flagged `teaser_only`),
which is a usable article, and the batch goes on.

Why giving up on a thread is safe: each fetch is handed the same deadline, and the guarded HTTP
client cuts every socket wait (connect, request, response headers, body) to the time left, so a
fetch still running at the deadline ends there by itself, closing its own connection; nothing
waits for it, and its result is dropped. The one step no socket timeout reaches is resolving a
host name; a thread stuck there holds only itself, never the batch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait

from wiredesk.encoding import decode_html
from wiredesk.http import HttpClient, HttpError, HttpTimeout
from wiredesk.metrics import Metrics
from wiredesk.records import RawItem
from wiredesk.settings import TransformSettings

log = logging.getLogger(__name__)

PAGE_ACCEPT = "text/html,application/xhtml+xml"

Fetched = tuple[str, str | None]  # (outcome, page text or None)


class PageFetcher:
    """Fetches the pages of many items at once; one `fetch` call per batch."""

    def __init__(self, http: HttpClient, metrics: Metrics, *, workers: int, deadline_seconds: float) -> None:
        self._http = http
        self._metrics = metrics
        self.workers = workers
        self.deadline_seconds = deadline_seconds

    @classmethod
    def from_settings(cls, http: HttpClient, metrics: Metrics, settings: TransformSettings) -> PageFetcher:
        return cls(
            http,
            metrics,
            workers=settings.fetch_concurrency,
            deadline_seconds=settings.fetch_deadline_seconds,
        )

    def fetch(self, items: Iterable[RawItem]) -> dict[RawItem, str | None]:
        """Each item (with a link) -> its page as text, or None (keep the teaser).

        Returns by the deadline whatever the servers do. Items sharing a link share one fetch.
        """
        by_link: dict[str, list[RawItem]] = {}
        for item in items:
            if item.link:
                by_link.setdefault(item.link, []).append(item)
        if not by_link:
            return {}
        deadline = time.monotonic() + self.deadline_seconds
        pool = ThreadPoolExecutor(
            max_workers=min(self.workers, len(by_link)), thread_name_prefix="page-fetch"
        )
        try:
            futures = {
                link: pool.submit(self._fetch_one, same[0], deadline) for link, same in by_link.items()
            }
            wait(futures.values(), timeout=max(0.0, deadline - time.monotonic()))
        finally:
            # Not started: dropped. Still running: ends at the deadline by itself (see above).
            pool.shutdown(wait=False, cancel_futures=True)
        pages: dict[RawItem, str | None] = {}
        for link, future in futures.items():
            outcome, page = self._result(future, by_link[link][0])
            self._metrics.transform_page_fetches.labels(outcome).inc()
            pages.update(dict.fromkeys(by_link[link], page))
        return pages

    def _result(self, future: Future[Fetched], item: RawItem) -> Fetched:
        if future.done() and not future.cancelled():
            return future.result()
        log.warning(
            "page not in within the batch's fetch deadline of %gs, keeping the teaser",
            self.deadline_seconds,
            extra=_context(item),
        )
        return "timeout", None

    def _fetch_one(self, item: RawItem, deadline: float) -> Fetched:
        started = time.perf_counter()
        try:
            response = self._http.get(item.link, accept=PAGE_ACCEPT, deadline=deadline)
            return "ok", decode_html(response.body, response.content_type)
        except HttpTimeout as exc:
            log.warning("page fetch timed out, keeping the teaser: %s", exc, extra=_context(item))
            return "timeout", None
        except HttpError as exc:
            # The teaser is still a usable article (flagged teaser_only); a page that cannot be
            # had must not turn a good item into a dead letter.
            log.warning("page fetch failed, keeping the teaser: %s", exc, extra=_context(item))
            return "failed", None
        except Exception as exc:  # noqa: BLE001 - a page that breaks the fetch must not break the batch
            log.warning(
                "page fetch failed, keeping the teaser: %s: %s", type(exc).__name__, exc, extra=_context(item)
            )
            return "failed", None
        finally:
            self._metrics.transform_step_seconds.labels("fetch_page").observe(time.perf_counter() - started)


def _context(item: RawItem) -> dict[str, str]:
    return {"feed_id": item.feed_id, "item_id": item.item_id, "trace_id": item.trace_id}


__all__ = ["PAGE_ACCEPT", "PageFetcher"]
