"""The one lifecycle every wiredesk service runs under.

A service is one or more `Stage`s. The runner configures nothing about them but time: it starts
each stage in its own thread, runs its `step()` until asked to stop, then `drain()`s it (flush
sinks, flush producers, commit) and `close()`s it, in that order. It serves `/metrics`,
`/healthz` and `/readyz`, and turns signals into that ordered shutdown: the first SIGTERM or
SIGINT drains, a second one exits at once.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Protocol

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from wiredesk.errors import ConfigurationError, InfrastructureError, WiredeskError
from wiredesk.metrics import Metrics

log = logging.getLogger(__name__)

EXIT_OK = 0
# The one exit code decided here rather than by the CLI: a second signal must end the process at
# once, from inside the signal handler, whatever the stage threads are doing.
EXIT_INTERRUPTED = 130
_MAX_RETRY_SLEEP_S = 30.0


class Stage(Protocol):
    name: str

    def start(self) -> None:
        """Connect and prepare; may raise InfrastructureError (retried) or fail for good."""

    def step(self, stop: threading.Event) -> bool:
        """Do one bounded unit of work; True if anything was done. Must return promptly on stop."""

    def ready(self) -> bool:
        """Connected and able to make progress."""

    def drain(self) -> None:
        """Finish in-flight work: flush outputs, then commit inputs."""

    def close(self) -> None:
        """Release connections; called once, after drain."""


class _StageThread(threading.Thread):
    def __init__(
        self,
        stage: Stage,
        stop: threading.Event,
        failed: threading.Event,
        start_timeout_s: float | None = None,
    ) -> None:
        super().__init__(name=f"stage-{stage.name}", daemon=True)
        self.stage = stage
        self._stop_event = stop
        self._failed = failed
        self._start_timeout_s = start_timeout_s
        self.started_ok = False
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._start_with_retry()
            if self.started_ok:
                self._loop()
        except WiredeskError as exc:
            # An error of the tree explains itself: one line, no traceback.
            self.error = exc
            self._failed.set()
            log.error("stage %s failed: %s", self.stage.name, exc, extra={"error": str(exc)})
        except BaseException as exc:
            self.error = exc
            self._failed.set()
            log.exception("stage %s failed", self.stage.name, extra={"error": repr(exc)})
        finally:
            self._shutdown()

    def _start_with_retry(self) -> None:
        delay = 0.5
        give_up_at = None if self._start_timeout_s is None else time.monotonic() + self._start_timeout_s
        while not self._stop_event.is_set():
            try:
                self.stage.start()
                self.started_ok = True
                return
            except WiredeskError as exc:
                if not exc.retriable or (give_up_at is not None and time.monotonic() + delay > give_up_at):
                    raise
                log.warning("stage %s cannot start yet (%s); retrying in %.1fs", self.stage.name, exc, delay)
                self._stop_event.wait(delay)
                delay = min(delay * 2, _MAX_RETRY_SLEEP_S)

    def _loop(self) -> None:
        delay = 0.5
        while not self._stop_event.is_set():
            try:
                self.stage.step(self._stop_event)
                delay = 0.5
            except WiredeskError as exc:
                if not exc.retriable:
                    raise
                log.warning("stage %s: %s; retrying in %.1fs", self.stage.name, exc, delay)
                self._stop_event.wait(delay)
                delay = min(delay * 2, _MAX_RETRY_SLEEP_S)

    def _shutdown(self) -> None:
        if self.started_ok:
            try:
                self.stage.drain()
            except BaseException as exc:
                self.error = self.error or exc
                self._failed.set()
                log.exception("stage %s failed to drain", self.stage.name)
        try:
            self.stage.close()
        except Exception:
            log.exception("stage %s failed to close", self.stage.name)


class ServiceRunner:
    """Runs stages until stopped by a signal, a failure, or `until()` becoming true."""

    def __init__(
        self,
        name: str,
        stages: Sequence[Stage],
        metrics: Metrics,
        *,
        metrics_host: str = "127.0.0.1",
        metrics_port: int | None = 0,
        drain_timeout_s: float = 30.0,
        start_timeout_s: float | None = None,
    ) -> None:
        self.name = name
        self.stages = list(stages)
        self.metrics = metrics
        self.stop_event = threading.Event()
        self.failed = threading.Event()
        self._drain_timeout_s = drain_timeout_s
        # None: a stage that cannot start retries until stopped (a service under an
        # orchestrator); a number: give up after that long (a one-shot run).
        self._start_timeout_s = start_timeout_s
        self._threads: list[_StageThread] = []
        self._signals = 0
        self._http: ThreadingHTTPServer | None = None
        self._metrics_host = metrics_host
        self._metrics_port = metrics_port
        self.metrics_address: tuple[str, int] | None = None

    # -- health ---------------------------------------------------------------------------
    def healthy(self) -> bool:
        return not self.failed.is_set() and all(t.is_alive() or not t.started_ok for t in self._threads)

    def ready(self) -> bool:
        ok = True
        for thread in self._threads:
            stage_ready = thread.started_ok and thread.is_alive() and _safe_ready(thread.stage)
            self.metrics.service_ready.labels(thread.stage.name).set(1 if stage_ready else 0)
            ok = ok and stage_ready
        return ok and not self.stop_event.is_set()

    # -- lifecycle ------------------------------------------------------------------------
    def request_stop(self) -> None:
        self.stop_event.set()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._signals += 1
        if self._signals == 1:
            log.info("received %s: draining (send again to exit at once)", signal.Signals(signum).name)
            self.stop_event.set()
        else:
            log.warning("second signal: exiting without draining")
            os._exit(EXIT_INTERRUPTED)

    def run(
        self,
        until: Callable[[], bool] | None = None,
        poll_s: float = 0.2,
        fail_if: Callable[[], str | None] | None = None,
    ) -> int:
        """Block until done; returns EXIT_OK after a clean stop, else raises what went wrong.

        `until` ends the run cleanly when true; `fail_if` returns a reason when something the
        stages depend on has died (the embedded broker), which stops them with an
        InfrastructureError. A stage's own failure is raised as it is: the CLI alone turns
        errors into exit codes.
        """
        unavailable = ""
        stuck: list[str] = []
        handlers = self._install_signal_handlers()
        try:
            self._start_http()
            self._threads = [
                _StageThread(s, self.stop_event, self.failed, self._start_timeout_s) for s in self.stages
            ]
            for thread in self._threads:
                thread.start()
            while not self.stop_event.is_set():
                reason = fail_if() if fail_if is not None else None
                if reason:
                    log.error("stopping: %s", reason)
                    unavailable = reason
                    self.stop_event.set()
                    break
                if self.failed.is_set():
                    self.stop_event.set()
                    break
                if until is not None and all(t.started_ok for t in self._threads) and until():
                    self.stop_event.set()
                    break
                self.stop_event.wait(poll_s)
                self.ready()
            deadline = time.monotonic() + self._drain_timeout_s
            for thread in self._threads:
                thread.join(max(0.0, deadline - time.monotonic()))
            stuck = [t.stage.name for t in self._threads if t.is_alive()]
        finally:
            self._stop_http()
            self._restore_signal_handlers(handlers)
        # A stage failing (or stuck, waiting on acks that will never come) because what it
        # depends on died reports that cause, not its symptom.
        failed_or_stuck = self.failed.is_set() or bool(stuck)
        reason = unavailable or (fail_if() if failed_or_stuck and fail_if is not None else None)
        if reason:
            raise InfrastructureError(reason)
        if stuck:
            raise InfrastructureError(
                f"stages did not drain within {self._drain_timeout_s:.0f}s: {', '.join(stuck)} "
                "(what they had not committed is delivered again after a restart)"
            )
        errors = [t.error for t in self._threads if t.error is not None]
        if errors:
            raise errors[0]
        # A signal answered by a complete drain is a clean stop, not a failure.
        return EXIT_OK

    def _install_signal_handlers(self) -> dict[int, object]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous: dict[int, object] = {}
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.getsignal(sig)
            signal.signal(sig, self._on_signal)
        return previous

    @staticmethod
    def _restore_signal_handlers(previous: dict[int, object]) -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]

    # -- /metrics /healthz /readyz ---------------------------------------------------------
    def _start_http(self) -> None:
        if self._metrics_port is None:
            return
        runner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    body = generate_latest(runner.metrics.registry)
                    self._reply(200, body, CONTENT_TYPE_LATEST)
                elif path == "/healthz":
                    ok = runner.healthy()
                    self._reply(200 if ok else 503, b"ok\n" if ok else b"failed\n")
                elif path == "/readyz":
                    ok = runner.ready()
                    self._reply(200 if ok else 503, b"ready\n" if ok else b"not ready\n")
                else:
                    self._reply(404, b"not found\n")

            def _reply(self, status: int, body: bytes, ctype: str = "text/plain; charset=utf-8") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._http = listen(self._metrics_host, self._metrics_port, Handler)
        bound_host, bound_port = self._http.server_address[:2]
        self.metrics_address = (str(bound_host), int(bound_port))
        threading.Thread(target=self._http.serve_forever, name="metrics-http", daemon=True).start()
        log.info("serving /metrics /healthz /readyz on http://%s:%d", *self.metrics_address)

    def _stop_http(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None


class _MetricsServer(ThreadingHTTPServer):
    daemon_threads = True


class _MetricsServer6(_MetricsServer):
    address_family = socket.AF_INET6


_LISTEN_HINTS = {
    errno.EADDRINUSE: "another process listens there: stop it, or choose another {port_setting} "
    "(0 picks a free one)",
    errno.EADDRNOTAVAIL: "not an address of this machine: set {host_setting} to one of its addresses, "
    "or 0.0.0.0 for every interface",
    errno.EACCES: "ports below 1024 need privileges: choose another {port_setting}",
}


def listen(
    host: str,
    port: int,
    handler: type[BaseHTTPRequestHandler],
    *,
    serving: str = "/metrics",
    port_setting: str = "WIREDESK_SERVICE_METRICS_PORT",
    host_setting: str = "WIREDESK_SERVICE_METRICS_HOST",
) -> ThreadingHTTPServer:
    """An HTTP server bound to (host, port); a bind that fails is a configuration error."""
    server_class = _MetricsServer6 if ":" in host else _MetricsServer
    try:
        return server_class((host, port), handler)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        hint = _LISTEN_HINTS.get(exc.errno or 0, "check {host_setting} and {port_setting}").format(
            port_setting=port_setting, host_setting=host_setting
        )
        raise ConfigurationError(f"cannot serve {serving} on {host}:{port}: {reason} ({hint})") from None


def check_listen_address(host: str) -> None:
    """Raise ConfigurationError unless this machine can listen on `host` (any free port)."""
    listen(host, 0, BaseHTTPRequestHandler).server_close()


def _safe_ready(stage: Stage) -> bool:
    try:
        return stage.ready()
    except Exception:  # noqa: BLE001 - a failing readiness probe means not ready
        return False
