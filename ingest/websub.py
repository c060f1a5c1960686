"""WebSub (W3C Recommendation, 2018): hubs push a feed's new content to us; polling becomes the fallback.

The subscriber's side of the protocol, with its state in the ledger so that any replica can
answer a hub (behind a load balancer, the hub's requests reach any of them):
- A poll that finds a hub link (`<link rel="hub">`, JSON Feed `hubs`) subscribes the feed, if
  `ingest.websub_callback_url` is set: a POST to the hub with our callback
  (`<callback base>/<feed id>`), the topic (the feed's rel="self" URL, else its URL), a fresh
  random secret and the lease we ask for. The subscription is "subscribing" until the hub
  verifies our intent.
- Intent verification: the hub GETs the callback with hub.mode, hub.topic, hub.challenge and
  hub.lease_seconds. We echo the challenge only for a subscription we asked for, with the same
  topic (else 404); a subscribe verification makes it "active" until now + the lease granted.
  A hub's `hub.mode=denied` ends the request.
- Content distribution: the hub POSTs the feed document with `X-Hub-Signature: <method>=<hex
  HMAC of the body with our secret>`. Only a valid signature (sha256 preferred; sha1, sha384 and
  sha512 as the Recommendation allows) is accepted (202); a missing or wrong one is refused (403)
  and its content dropped. Accepted documents are queued for the ingest stage, which takes the
  feed's lease and runs the document through the same parse → classify → publish steps as a
  poll (ingest.poller.ingest_pushed).
- Renewal: an active subscription is renewed when less than a tenth of its lease is left (and
  a "subscribing" one asked again when no verification came within ten minutes).
- Removal: a feed removed from the registry (or disabled) is unsubscribed; the hub verifies
  that intent too, and the subscription is then forgotten.
While a feed is pushed, it is still polled, every `ingest.websub_fallback_interval_seconds`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from ingest.ledger import Ledger, Subscription
from ingest.registry import Feed
from wiredesk.http import HttpClient, HttpError
from wiredesk.metrics import Metrics
from wiredesk.service import listen
from wiredesk.settings import IngestSettings

log = logging.getLogger(__name__)

SIGNATURE_METHODS: dict[str, Callable[..., object]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}
_VERIFY_WAIT_SECONDS = 600.0
_FORGET_UNSUBSCRIBING_SECONDS = 3600.0
_RENEW_SHARE = 0.1
_QUEUE_SIZE = 1000


def sign(secret: str, body: bytes, method: str = "sha256") -> str:
    """The X-Hub-Signature value a hub sends for `body` (used by tests and by nobody else)."""
    digest = hmac.new(secret.encode(), body, SIGNATURE_METHODS[method]).hexdigest()  # type: ignore[arg-type]
    return f"{method}={digest}"


def signature_valid(secret: str, body: bytes, header: str) -> bool:
    """Does `header` (`method=hex`) sign `body` with `secret`? Unknown methods are invalid."""
    method, _, given = header.strip().partition("=")
    digest = SIGNATURE_METHODS.get(method.strip().lower())
    if digest is None or not given or not secret:
        return False
    expected = hmac.new(secret.encode(), body, digest).hexdigest()  # type: ignore[arg-type]
    return hmac.compare_digest(expected, given.strip().lower())


@dataclass(frozen=True, slots=True)
class Push:
    """A verified document a hub pushed for one feed."""

    feed_id: str
    body: bytes
    headers: Mapping[str, str]
    received: float


class WebSub:
    """The subscriber: subscription requests, the callback's answers, and the queue of pushes."""

    def __init__(self, ledger: Ledger, http: HttpClient, settings: IngestSettings, metrics: Metrics) -> None:
        self.ledger = ledger
        self.http = http
        self.settings = settings
        self.metrics = metrics
        self.pushes: queue.Queue[Push] = queue.Queue(maxsize=_QUEUE_SIZE)
        self.on_push: Callable[[], None] = lambda: None

    @property
    def enabled(self) -> bool:
        return bool(self.settings.websub_callback_url)

    def callback(self, feed_id: str) -> str:
        return f"{self.settings.websub_callback_url.rstrip('/')}/{feed_id}"

    # --- our requests to hubs -------------------------------------------------------------------

    def consider(self, feed: Feed, hubs: tuple[str, ...], topic: str, now: float) -> None:
        """After a poll: subscribe the feed to the hub it advertises, unless that is done already."""
        if not self.enabled or not hubs or not topic:
            return
        current = self.ledger.subscription(feed.id)
        if current is not None and current.hub in hubs and current.topic == topic:
            return
        if current is not None and current.state == "active":
            # The feed moved to another hub or topic: leave the old one before joining the new.
            self._request(current, "unsubscribe", now)
        self._request(
            Subscription(feed.id, hubs[0], topic, secrets.token_hex(32), "subscribing"), "subscribe", now
        )

    def maintain(self, feeds: Mapping[str, Feed], now: float) -> None:
        """Renew leases nearing their end, retry unverified requests, unsubscribe removed feeds."""
        if not self.enabled:
            return
        for sub in self.ledger.subscriptions():
            if sub.feed_id not in feeds:
                if sub.state != "unsubscribing":
                    self._request(sub, "unsubscribe", now)
                elif now - sub.requested_at > _FORGET_UNSUBSCRIBING_SECONDS:
                    self.ledger.delete_subscription(sub.feed_id)
                continue
            if sub.state == "active":
                left = sub.lease_until - now
                if left < _RENEW_SHARE * self.settings.websub_lease_seconds and now - sub.requested_at > 60:
                    self._request(sub, "subscribe", now)
            elif now - sub.requested_at > _VERIFY_WAIT_SECONDS:
                mode = "unsubscribe" if sub.state == "unsubscribing" else "subscribe"
                self._request(sub, mode, now)

    def active_feeds(self) -> set[str]:
        return {sub.feed_id for sub in self.ledger.subscriptions() if sub.state == "active"}

    def _request(self, sub: Subscription, mode: str, now: float) -> None:
        if mode == "unsubscribe":
            state = "unsubscribing"
        else:
            # A renewal keeps the subscription active: the hub goes on pushing meanwhile.
            state = "active" if sub.state == "active" else "subscribing"
        sub = replace(sub, state=state, requested_at=now)
        self.ledger.save_subscription(sub)
        fields = {
            "hub.mode": mode,
            "hub.topic": sub.topic,
            "hub.callback": self.callback(sub.feed_id),
        }
        if mode == "subscribe":
            fields["hub.secret"] = sub.secret
            fields["hub.lease_seconds"] = str(self.settings.websub_lease_seconds)
        try:
            self.http.post_form(sub.hub, fields)
        except HttpError as exc:
            self.metrics.ingest_websub.labels(f"{mode}_failed").inc()
            log.warning(
                "feed %s: %s request to hub %s failed: %s",
                sub.feed_id,
                mode,
                sub.hub,
                exc,
                extra={"feed_id": sub.feed_id, "error": str(exc)},
            )
            return
        self.metrics.ingest_websub.labels(f"{mode}_requested").inc()
        log.info("feed %s: asked hub %s to %s", sub.feed_id, sub.hub, mode, extra={"feed_id": sub.feed_id})

    # --- the hub's requests to us ---------------------------------------------------------------

    def verify_intent(self, feed_id: str, params: Mapping[str, str], now: float) -> tuple[int, bytes]:
        """Answer a hub's verification GET: (status, body)."""
        mode = params.get("hub.mode", "")
        topic = params.get("hub.topic", "")
        sub = self.ledger.subscription(feed_id)
        if mode == "denied":
            if sub is not None and sub.topic == topic:
                self.ledger.delete_subscription(feed_id)
                self.metrics.ingest_websub.labels("denied").inc()
                log.warning(
                    "feed %s: hub %s denied the subscription: %s",
                    feed_id,
                    sub.hub,
                    params.get("hub.reason", "no reason given"),
                    extra={"feed_id": feed_id},
                )
            return 200, b""
        challenge = params.get("hub.challenge", "")
        wanted = {"subscribe": ("subscribing", "active"), "unsubscribe": ("unsubscribing",)}.get(mode)
        if sub is None or wanted is None or sub.state not in wanted or sub.topic != topic or not challenge:
            self.metrics.ingest_websub.labels("verification_refused").inc()
            return 404, b""
        if mode == "subscribe":
            lease = _int(params.get("hub.lease_seconds"), self.settings.websub_lease_seconds)
            self.ledger.save_subscription(replace(sub, state="active", lease_until=now + lease))
            self.metrics.ingest_websub.labels("subscribed").inc()
            log.info("feed %s: hub %s pushes it for %ds", feed_id, sub.hub, lease, extra={"feed_id": feed_id})
        else:
            self.ledger.delete_subscription(feed_id)
            self.metrics.ingest_websub.labels("unsubscribed").inc()
            log.info("feed %s: unsubscribed from hub %s", feed_id, sub.hub, extra={"feed_id": feed_id})
        return 200, challenge.encode()

    def accept_push(self, feed_id: str, body: bytes, headers: Mapping[str, str], now: float) -> int:
        """Answer a hub's content POST: 202 queued, 403 bad signature, 404 unknown, 503 queue full."""
        sub = self.ledger.subscription(feed_id)
        if sub is None or sub.state == "unsubscribing":
            self.metrics.ingest_websub.labels("push_unknown").inc()
            return 404
        if not signature_valid(sub.secret, body, headers.get("x-hub-signature", "")):
            self.metrics.ingest_websub.labels("push_bad_signature").inc()
            log.warning(
                "feed %s: pushed content with a missing or wrong X-Hub-Signature dropped",
                feed_id,
                extra={"feed_id": feed_id, "error": "bad signature"},
            )
            return 403
        try:
            self.pushes.put_nowait(Push(feed_id, body, dict(headers), now))
        except queue.Full:
            self.metrics.ingest_websub.labels("push_dropped").inc()
            return 503
        self.metrics.ingest_websub.labels("push_accepted").inc()
        self.on_push()
        return 202


def _int(value: str | None, default: int) -> int:
    try:
        return max(1, int(value or ""))
    except ValueError:
        return default


class CallbackServer:
    """The HTTP server hubs call: GET for intent verification, POST for content. Own port, so the
    callback can be public while /metrics stays internal."""

    def __init__(self, websub: WebSub, host: str, port: int, max_bytes: int) -> None:
        self.websub = websub
        self.max_bytes = max_bytes
        self._server = _listen(host, port, self._handler())
        self.address = (str(self._server.server_address[0]), int(self._server.server_address[1]))
        self._thread = threading.Thread(target=self._server.serve_forever, name="websub-http", daemon=True)

    def start(self) -> None:
        self._thread.start()
        log.info("serving the WebSub callback on http://%s:%d", *self.address)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        websub = self.websub
        max_bytes = self.max_bytes

        class Handler(BaseHTTPRequestHandler):
            timeout = 30  # a hub that stalls mid-request does not hold a thread for ever

            def _feed_id(self) -> str:
                return unquote(urlsplit(self.path).path.rstrip("/").rsplit("/", 1)[-1])

            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
                params = {key: values[0] for key, values in query.items()}
                status, body = websub.verify_intent(self._feed_id(), params, time.time())
                self._reply(status, body)

            def do_POST(self) -> None:
                length = self.headers.get("Content-Length", "")
                if not length.isdigit():
                    self._reply(411, b"Content-Length required\n")
                    return
                if int(length) > max_bytes:
                    self._reply(413, b"too large\n")
                    return
                body = self.rfile.read(int(length))
                headers = {k.lower(): v for k, v in self.headers.items()}
                self._reply(websub.accept_push(self._feed_id(), body, headers, time.time()), b"")

            def _reply(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        return Handler


def _listen(host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    return listen(
        host, port, handler, serving="the WebSub callback", port_setting="WIREDESK_INGEST_WEBSUB_PORT"
    )


__all__ = ["CallbackServer", "Push", "WebSub", "sign", "signature_valid"]
