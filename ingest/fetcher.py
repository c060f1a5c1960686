"""Fetch a feed document: http(s) through the guarded HttpClient, file:// URLs from disk.

Both paths answer conditional requests the same way, so the poller need not care where a feed
lives: over HTTP the server decides (ETag / Last-Modified → 304); for files the modification
time stands in for Last-Modified, which makes an unchanged local feed as cheap as a 304.
Every failure becomes one `FetchError` carrying `retriable` and any `retry_after`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from wiredesk.errors import EX_UNAVAILABLE, WiredeskError
from wiredesk.http import HttpClient, HttpError, HttpStatusError
from wiredesk.settings import HttpSettings

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9,"
    " application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.1"
)


class FetchError(WiredeskError):
    """The document could not be fetched. `retriable`: might a later attempt succeed?"""

    exit_code = EX_UNAVAILABLE

    def __init__(
        self, message: str, *, retriable: bool, retry_after: float | None = None, status: int = 0
    ) -> None:
        super().__init__(message)
        self.retriable = retriable
        self.retry_after = retry_after
        self.status = status

    @property
    def throttled(self) -> bool:
        """The server asked us to slow down (429, or 503 with Retry-After): a matter of its host."""
        return self.status == 429 or (self.status == 503 and self.retry_after is not None)


@dataclass(frozen=True, slots=True)
class FetchResult:
    url: str
    body: bytes = b""
    not_modified: bool = False
    etag: str = ""
    last_modified: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    # Where permanent redirects (301/308) from the requested URL led: ask there next time.
    moved_to: str = ""


class Fetcher:
    """Thread-safe; one instance serves every feed."""

    def __init__(self, http: HttpClient | None = None, *, allow_files: bool = True) -> None:
        self.http = http or HttpClient(HttpSettings())
        self.allow_files = allow_files

    def fetch(
        self, url: str, *, etag: str = "", last_modified: str = "", deadline: float | None = None
    ) -> FetchResult:
        """Fetch url; `deadline` (a time.monotonic() value) ends an HTTP request, redirects included."""
        scheme = urlsplit(url).scheme.lower()
        if scheme == "file" or (not scheme and url):
            if not self.allow_files:
                raise FetchError("file feeds are disabled", retriable=False)
            return self._fetch_file(url, last_modified)
        try:
            response = self.http.get(
                url, etag=etag, last_modified=last_modified, accept=FEED_ACCEPT, deadline=deadline
            )
        except HttpStatusError as exc:
            raise FetchError(
                str(exc), retriable=exc.retriable, retry_after=exc.retry_after, status=exc.status
            ) from exc
        except HttpError as exc:
            raise FetchError(f"{type(exc).__name__}: {exc}", retriable=exc.retriable) from exc
        return FetchResult(
            url=response.url,
            body=response.body,
            not_modified=response.not_modified,
            # Keep the previous validators when a 304 omits them.
            etag=response.etag or etag,
            last_modified=response.last_modified or last_modified,
            headers=response.headers,
            moved_to=response.permanent_url,
        )

    def _fetch_file(self, url: str, last_modified: str) -> FetchResult:
        path = _file_path(url)
        try:
            stat = path.stat()
            mtime = formatdate(stat.st_mtime, usegmt=True)
            if last_modified and last_modified == mtime:
                return FetchResult(url=url, not_modified=True, last_modified=mtime)
            limit = self.http.settings.max_bytes
            if stat.st_size > limit:
                raise FetchError(f"{path}: {stat.st_size} bytes exceeds {limit}", retriable=False)
            body = path.read_bytes()
        except FileNotFoundError:
            # A file may appear later (a feed written by another job), but retrying quickly won't help.
            raise FetchError(f"{path}: no such file", retriable=False) from None
        except OSError as exc:
            raise FetchError(f"{path}: {exc.strerror or exc}", retriable=True) from None
        return FetchResult(url=url, body=body, last_modified=mtime)


def _file_path(url: str) -> Path:
    parts = urlsplit(url)
    if parts.scheme.lower() == "file":
        return Path(url2pathname(parts.path))
    return Path(os.path.expanduser(url))


__all__ = ["FEED_ACCEPT", "FetchError", "FetchResult", "Fetcher"]
