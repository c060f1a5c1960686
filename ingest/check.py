"""`wiredesk feeds check`: fetch and parse one feed as ingest would, without Kafka or a ledger.

For debugging a feed before it goes into the registry: the same fetcher (conditional requests
off, every HTTP guard on) and the same parser. A feed that cannot be used raises one error that
says why in one line: not found, not a feed (an HTML page, garbage), nothing in it.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from ingest.fetcher import Fetcher
from ingest.parser import ParsedFeed, ParseError, parse_feed
from ingest.repeats import distinct_items
from wiredesk.errors import RecordFailure

CHECK_FEED_ID = "check"


class UnusableFeed(RecordFailure):
    """The document was fetched but is not a feed ingest can use."""


@dataclass(frozen=True, slots=True)
class Checked:
    url: str
    parsed: ParsedFeed
    repeats: int


def check_feed(target: str, fetcher: Fetcher, now: datetime) -> Checked:
    """Fetch `target` (an http(s) URL, a file:// URL or a path) and parse it; UnusableFeed if unusable."""
    scheme = urlsplit(target).scheme.lower()
    if scheme not in ("http", "https", "file"):
        path = Path(target).expanduser()
        if not path.is_file():
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), target)
        target = path.resolve().as_uri()
    fetched = fetcher.fetch(target)
    if not fetched.body.strip():
        raise UnusableFeed(f"{target}: the document is empty")
    try:
        parsed = parse_feed(fetched.body, feed_id=CHECK_FEED_ID, fetched_at=now, base_url=fetched.url,
                            headers=fetched.headers)  # fmt: skip
    except ParseError as exc:
        raise UnusableFeed(f"{target}: {exc}") from None
    if not parsed.items:
        rejected = (
            f" ({len(parsed.rejected)} entries rejected: {parsed.rejected[0][1]})" if parsed.rejected else ""
        )
        raise UnusableFeed(f"{target}: a {parsed.format or 'feed'} document with no items{rejected}")
    distinct = distinct_items(parsed.items)
    return Checked(url=fetched.url, parsed=ParsedFeed(
        meta=parsed.meta, items=distinct.items, rejected=parsed.rejected, format=parsed.format,
        ttl_seconds=parsed.ttl_seconds, bozo=parsed.bozo, hubs=parsed.hubs, self_url=parsed.self_url,
    ), repeats=distinct.repeats)  # fmt: skip


__all__ = ["CHECK_FEED_ID", "Checked", "UnusableFeed", "check_feed"]
