"""The one guarded HTTP client: what ingest polls feeds with and transform fetches pages with.

Library choice: the standard library's `http.client`, driven directly. The guard needs three
things the higher-level clients make awkward: (1) connect to the *address we checked*, not to a
second DNS answer (DNS rebinding: resolve, check, then pin the socket to that address while the
Host header and TLS SNI keep the name), (2) follow redirects ourselves so every hop is re-checked,
(3) stream the body and abort past the byte limit, counting *decoded* bytes so a gzip bomb is
caught too (gzip, deflate and brotli: brotli 1.2 is the first release whose decoder takes an
output limit, which is what keeps a brotli bomb bounded). urllib3 and httpx can do (2) and (3)
but (1) needs private-API hooks in both; urllib adds an opener stack we would have to disable
piece by piece. Per request the cost is the same order (one socket, one parse); for feed polling
the network dominates, so no dependency is added.

Semantics worth knowing:
- `connect_timeout_seconds` bounds DNS-free socket connection; `read_timeout_seconds` bounds each
  wait for bytes (idle timeout) and, times four, the whole request: every redirect hop, the
  headers and the body (a server that drips its headers or body cannot hold a worker forever).
  A caller may pass an earlier `deadline` (a `time.monotonic()` value) for the whole request; each
  socket wait is cut to the time left, so the request ends at the deadline, not after it.
  Resolving the host name is the one step no timeout here reaches (the system resolver has its own).
- Redirects are followed for GET; `permanent_url` says where a chain of 301/308 answers from
  the requested URL ended, so a poller can update its stored URL. POST (`post_form`, for WebSub
  hubs) follows none.
- Environment proxies are ignored: a proxy would defeat the address guard.
- Names under .example, .invalid and .test (RFC 2606/6761) are refused without a lookup.
- Only http and https; every resolved address of a host must be public unless
  `allow_private_addresses` (one private answer is enough to refuse: round-robin rebinding).
- Errors form one small tree under `HttpError`; each says whether retrying later can help.
"""

from __future__ import annotations

import functools
import http.client
import io
import ipaddress
import socket
import ssl
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import brotli

from wiredesk.errors import EX_UNAVAILABLE, WiredeskError
from wiredesk.settings import HttpSettings

_CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Moved for good (RFC 9110 15.4.2, 15.4.9): a client may update its stored link.
_PERMANENT_REDIRECTS = frozenset({301, 308})
ACCEPT_ENCODING = "gzip, deflate, br"
# 408 Request Timeout and 429 Too Many Requests are the two 4xx a later retry can fix.
_RETRIABLE_4XX = frozenset({408, 429})
DEFAULT_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.8, */*;q=0.5"
)

Resolver = Callable[[str, int], list[str]]
# Top-level names reserved for documentation and testing (RFC 2606, RFC 6761): no real host has
# one, so a lookup could only leak a query to the network. Refused before any resolver is asked.
RESERVED_TLDS = frozenset({"example", "invalid", "test"})


class HttpError(WiredeskError):
    """Any failure to get a usable response. `retriable`: would the same request later succeed?"""

    retriable = False
    exit_code = EX_UNAVAILABLE

    def __init__(self, message: str, *, url: str = "") -> None:
        super().__init__(message)
        self.url = url


class InvalidUrl(HttpError):
    """Not an absolute http(s) URL."""


class BlockedAddress(HttpError):
    """The host resolves to a private, loopback, link-local, multicast or reserved address."""


class TooManyRedirects(HttpError):
    """More redirect hops than `max_redirects`, or a redirect without a usable Location."""


class BodyTooLarge(HttpError):
    """The (decoded) body exceeded `max_bytes`; reading stopped there."""


class DecodingError(HttpError):
    """The Content-Encoding was declared but the bytes do not decode."""


class TransportError(HttpError):
    """DNS failure, refused or reset connection, TLS failure, truncated response."""

    retriable = True


class HttpTimeout(TransportError):
    """Connecting or waiting for bytes took longer than allowed."""


class HttpStatusError(HttpError):
    """A final non-2xx, non-304 status. 5xx, 408 and 429 are retriable; other 4xx are not."""

    def __init__(self, status: int, *, url: str = "", retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status}", url=url)
        self.status = status
        self.retry_after = retry_after
        self.retriable = status >= 500 or status in _RETRIABLE_4XX


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    etag: str = ""
    last_modified: str = ""
    not_modified: bool = False
    # Where a chain of permanent redirects (301, 308) from the requested URL ended: the URL to
    # ask next time. Empty when the first answer was not a permanent redirect.
    permanent_url: str = ""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address; IPv4-mapped IPv6 is judged as its IPv4."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host, in its order, without duplicates."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[str, None] = {}
    for *_, sockaddr in infos:
        seen.setdefault(str(sockaddr[0]), None)
    return list(seen)


def parse_retry_after(value: str, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if unusable."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


class _Deadline:
    """The time left for one request: every socket wait is the idle timeout or less."""

    def __init__(self, at: float, idle_timeout: float) -> None:
        self.at = at
        self.idle_timeout = idle_timeout

    def wait(self, limit: float) -> float:
        """Seconds the next socket operation may wait; TimeoutError once the deadline has passed."""
        left = self.at - time.monotonic()
        if left <= 0:
            raise TimeoutError("request deadline passed")
        return min(limit, left)


class _DeadlineReader(io.RawIOBase):
    """The response's socket reader, with every read's timeout cut to the time the request has left.

    http.client reads the status line and headers through the same file as the body, so this is
    what lets one deadline cover the headers too; a per-read timeout alone lets a server that
    sends one header line at a time hold the request for as long as it likes.
    """

    def __init__(self, raw: io.RawIOBase, sock: socket.socket, deadline: _Deadline) -> None:
        super().__init__()
        self._raw = raw
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        self._sock.settimeout(self._deadline.wait(self._deadline.idle_timeout))
        return self._raw.readinto(buffer)

    def close(self) -> None:
        self._raw.close()
        super().close()


class _DeadlineResponse(http.client.HTTPResponse):
    def __init__(self, sock: socket.socket, *args: Any, deadline: _Deadline, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        # Nothing has been read yet: take the socket reader out of its buffer (detach neither
        # reads nor closes) and read it through the deadline instead.
        raw = self.fp.detach()
        self.fp = io.BufferedReader(_DeadlineReader(raw, sock, deadline))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to a pre-checked address; Host header stays the name from the URL."""

    def __init__(self, host: str, port: int, *, address: str, connect_timeout: float, deadline: _Deadline):
        super().__init__(host, port, timeout=connect_timeout)
        self._address = address
        self._deadline = deadline
        self.response_class = functools.partial(_DeadlineResponse, deadline=deadline)  # type: ignore[assignment]

    def connect(self) -> None:
        timeout = self._deadline.wait(self.timeout or self._deadline.idle_timeout)
        self.sock = socket.create_connection((self._address, self.port), timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # Sending the request and the TLS handshake wait at most this long; reads set their own.
        self.sock.settimeout(self._deadline.wait(self._deadline.idle_timeout))


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = 443

    def __init__(
        self,
        host: str,
        port: int,
        *,
        address: str,
        connect_timeout: float,
        deadline: _Deadline,
        context: ssl.SSLContext,
    ):
        super().__init__(host, port, address=address, connect_timeout=connect_timeout, deadline=deadline)
        self._context = context

    def connect(self) -> None:
        super().connect()
        # SNI and certificate checks use the URL's host name, not the pinned address.
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host)


class _Decoder:
    """Content-Encoding decoding that counts output bytes against the limit as it goes.

    Every decoder is asked for at most `room` bytes per input chunk, so a bomb (a few KiB that
    expand to gigabytes) is stopped at the limit instead of being expanded in memory first.
    """

    def __init__(self, encoding: str) -> None:
        encoding = encoding.strip().lower()
        self._kind = encoding
        self._obj: zlib._Decompress | None = None
        self._brotli: Any = None
        if encoding in ("gzip", "x-gzip"):
            self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._obj = zlib.decompressobj(zlib.MAX_WBITS)
        elif encoding == "br":
            self._brotli = brotli.Decompressor()
        elif encoding not in ("", "identity"):
            raise DecodingError(f"unsupported Content-Encoding {encoding!r}")
        self._first = True

    def feed(self, data: bytes, room: int) -> bytes:
        if self._brotli is not None:
            return self._feed_brotli(data, room)
        if self._obj is None:
            return data
        try:
            return self._obj.decompress(data, room)
        except zlib.error:
            # Some servers send raw deflate (no zlib header) under "deflate": retry once as raw.
            if self._kind == "deflate" and self._first:
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
                self._first = False
                return self.feed(data, room)
            raise DecodingError(f"body does not decode as {self._kind}") from None
        finally:
            self._first = False

    def _feed_brotli(self, data: bytes, room: int) -> bytes:
        decoder = self._brotli
        try:
            out = decoder.process(data, output_buffer_limit=room)
            # Output held back by the limit must be drained (with empty input) before more input.
            while len(out) < room and not decoder.can_accept_more_data():
                more = decoder.process(b"", output_buffer_limit=room - len(out))
                if not more:
                    break
                out += more
        except brotli.error:
            raise DecodingError("body does not decode as br") from None
        return bytes(out)

    def flush(self) -> bytes:
        if self._brotli is not None:
            if not self._brotli.is_finished():
                raise DecodingError("body ends inside its br stream")
            return b""
        return self._obj.flush() if self._obj is not None else b""


class HttpClient:
    """GET with limits. Thread-safe: holds no per-request state (one connection per request)."""

    def __init__(
        self,
        settings: HttpSettings | None = None,
        *,
        resolver: Resolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings or HttpSettings()
        self._resolve = resolver or system_resolver
        self._ssl = ssl_context or ssl.create_default_context()

    def get(
        self,
        url: str,
        *,
        etag: str = "",
        last_modified: str = "",
        accept: str = DEFAULT_ACCEPT,
        deadline: float | None = None,
    ) -> HttpResponse:
        """Fetch url. 304 answers come back as `not_modified=True` with an empty body.

        The whole request, redirects included, ends by `4 x read_timeout_seconds` from now, or by
        `deadline` (a `time.monotonic()` value) if that is earlier: HttpTimeout then.
        """
        s = self.settings
        ends = time.monotonic() + 4 * s.read_timeout_seconds
        budget = _Deadline(ends if deadline is None else min(ends, deadline), s.read_timeout_seconds)
        headers = {
            "User-Agent": self.settings.user_agent,
            "Accept": accept,
            "Accept-Encoding": ACCEPT_ENCODING,
            "Connection": "close",
        }
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        permanent_url = ""
        moved_for_good = True
        for _hop in range(self.settings.max_redirects + 1):
            status, resp_headers, body = self._one("GET", current, headers, budget)
            if status in _REDIRECTS:
                location = resp_headers.get("location", "").strip()
                if not location:
                    raise TooManyRedirects(f"HTTP {status} without Location", url=current)
                current = urljoin(current, location)
                moved_for_good = moved_for_good and status in _PERMANENT_REDIRECTS
                if moved_for_good:
                    permanent_url = current
                continue
            if status == 304:
                return HttpResponse(
                    status=304,
                    url=current,
                    headers=resp_headers,
                    etag=resp_headers.get("etag", etag),
                    last_modified=resp_headers.get("last-modified", last_modified),
                    not_modified=True,
                    permanent_url=permanent_url,
                )
            if not 200 <= status < 300:
                retry_after = parse_retry_after(resp_headers.get("retry-after", ""))
                raise HttpStatusError(status, url=current, retry_after=retry_after)
            return HttpResponse(
                status=status,
                url=current,
                headers=resp_headers,
                body=body,
                etag=resp_headers.get("etag", ""),
                last_modified=resp_headers.get("last-modified", ""),
                permanent_url=permanent_url,
            )
        raise TooManyRedirects(f"more than {self.settings.max_redirects} redirects", url=url)

    def post_form(
        self, url: str, fields: Mapping[str, str], *, deadline: float | None = None
    ) -> HttpResponse:
        """POST url-encoded `fields` (a WebSub hub request) under the same guard; no redirects.

        A non-2xx answer raises HttpStatusError; the body of a 2xx answer is returned.
        """
        s = self.settings
        ends = time.monotonic() + 4 * s.read_timeout_seconds
        budget = _Deadline(ends if deadline is None else min(ends, deadline), s.read_timeout_seconds)
        body = urlencode(fields).encode("ascii")
        headers = {
            "User-Agent": s.user_agent,
            "Content-Type": "application/x-www-form-urlencoded",
            "Content-Length": str(len(body)),
            "Accept-Encoding": ACCEPT_ENCODING,
            "Connection": "close",
        }
        status, resp_headers, data = self._one("POST", url, headers, budget, body)
        if not 200 <= status < 300:
            retry_after = parse_retry_after(resp_headers.get("retry-after", ""))
            raise HttpStatusError(status, url=url, retry_after=retry_after)
        return HttpResponse(status=status, url=url, headers=resp_headers, body=data)

    def _target(self, url: str) -> tuple[str, str, int, str]:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise InvalidUrl(f"bad URL: {exc}", url=url) from None
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise InvalidUrl(f"scheme {scheme or '(none)'!r} is not http or https", url=url)
        host = parts.hostname
        if not host:
            raise InvalidUrl("URL has no host", url=url)
        if parts.username or parts.password:
            raise InvalidUrl("credentials in URLs are not sent", url=url)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        return scheme, host, port or (443 if scheme == "https" else 80), path

    def _address(self, url: str, host: str, port: int) -> str:
        if host.rstrip(".").rsplit(".", 1)[-1].lower() in RESERVED_TLDS:
            raise InvalidUrl(f"{host} is a name reserved for documentation and tests", url=url)
        try:
            addresses = self._resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise TransportError(f"cannot resolve {host}: {exc}", url=url) from None
        if not addresses:
            raise TransportError(f"{host} has no address", url=url)
        if not self.settings.allow_private_addresses:
            blocked = [a for a in addresses if not is_public_address(a)]
            if blocked:
                raise BlockedAddress(f"{host} resolves to non-public address {blocked[0]}", url=url)
        return addresses[0]

    def _one(
        self, method: str, url: str, headers: Mapping[str, str], deadline: _Deadline, body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        scheme, host, port, path = self._target(url)
        address = self._address(url, host, port)
        s = self.settings
        conn: _PinnedHTTPConnection
        if scheme == "https":
            conn = _PinnedHTTPSConnection(
                host,
                port,
                address=address,
                connect_timeout=s.connect_timeout_seconds,
                deadline=deadline,
                context=self._ssl,
            )
        else:
            conn = _PinnedHTTPConnection(
                host, port, address=address, connect_timeout=s.connect_timeout_seconds, deadline=deadline
            )
        resp: http.client.HTTPResponse | None = None
        try:
            conn.request(method, path, body=body or None, headers=dict(headers))
            resp = conn.getresponse()
            resp_headers: dict[str, str] = {}
            for name, value in resp.getheaders():
                key = name.lower()
                resp_headers[key] = f"{resp_headers[key]}, {value}" if key in resp_headers else value
            if resp.status in _REDIRECTS or resp.status == 304 or not 200 <= resp.status < 300:
                # Error and redirect bodies are not needed; don't spend the byte budget on them.
                return resp.status, resp_headers, b""
            body = self._read_body(url, resp, resp_headers.get("content-encoding", ""))
            return resp.status, resp_headers, body
        except TimeoutError:
            raise HttpTimeout(f"timed out talking to {host}", url=url) from None
        except ssl.SSLError as exc:
            raise TransportError(f"TLS error with {host}: {exc}", url=url) from None
        except (OSError, http.client.HTTPException) as exc:
            raise TransportError(f"{type(exc).__name__} talking to {host}: {exc}", url=url) from None
        finally:
            # The response owns the socket once the server said "close": close both.
            if resp is not None:
                resp.close()
            conn.close()

    def _read_body(self, url: str, resp: http.client.HTTPResponse, encoding: str) -> bytes:
        limit = self.settings.max_bytes
        declared = resp.getheader("content-length")
        if declared and declared.isdigit() and not encoding and int(declared) > limit:
            raise BodyTooLarge(f"Content-Length {declared} exceeds {limit} bytes", url=url)
        decoder = _Decoder(encoding)
        out = bytearray()
        raw_total = 0
        while True:
            # read1: whatever has arrived (one socket read, each under the request's deadline);
            # read(n) would wait for n bytes, and hold a decoded-size check back until then.
            chunk = resp.read1(_CHUNK)
            if not chunk:
                break
            raw_total += len(chunk)
            # +1 so "exactly at the limit" and "past it" can be told apart.
            out += decoder.feed(chunk, limit - len(out) + 1)
            if len(out) > limit or raw_total > limit:
                raise BodyTooLarge(f"body exceeds {limit} bytes", url=url)
        out += decoder.flush()
        if len(out) > limit:
            raise BodyTooLarge(f"body exceeds {limit} bytes", url=url)
        return bytes(out)


__all__ = [
    "ACCEPT_ENCODING",
    "DEFAULT_ACCEPT",
    "BlockedAddress",
    "BodyTooLarge",
    "DecodingError",
    "HttpClient",
    "HttpError",
    "HttpResponse",
    "HttpStatusError",
    "HttpTimeout",
    "InvalidUrl",
    "TooManyRedirects",
    "TransportError",
    "is_public_address",
    "parse_retry_after",
    "system_resolver",
]
