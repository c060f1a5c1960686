"""The service runner: ordered shutdown, health endpoints, retry of retriable start failures."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import urllib.error
import urllib.request

import pytest

from wiredesk.errors import ConfigurationError, InfrastructureError
from wiredesk.metrics import Metrics
from wiredesk.service import EXIT_OK, ServiceRunner


class RecordingStage:
    """A stage that records its lifecycle calls; the runner is what is under test."""

    name = "recording"

    def __init__(self, *, start_failures: int = 0, fail_with: Exception | None = None) -> None:
        self.calls: list[str] = []
        self.steps = 0
        self._start_failures = start_failures
        self._fail_with = fail_with

    def start(self) -> None:
        self.calls.append("start")
        if self._start_failures:
            self._start_failures -= 1
            raise InfrastructureError("broker not up yet")

    def step(self, stop: threading.Event) -> bool:
        self.steps += 1
        if self._fail_with is not None:
            raise self._fail_with
        stop.wait(0.01)
        return True

    def ready(self) -> bool:
        return True

    def drain(self) -> None:
        self.calls.append("drain")

    def close(self) -> None:
        self.calls.append("close")


def test_until_stops_and_drains_before_close() -> None:
    stage = RecordingStage()
    runner = ServiceRunner("t", [stage], Metrics(), metrics_port=None)
    assert runner.run(until=lambda: stage.steps >= 3) == EXIT_OK
    assert stage.calls == ["start", "drain", "close"]


def test_retriable_start_failure_is_retried() -> None:
    stage = RecordingStage(start_failures=1)
    runner = ServiceRunner("t", [stage], Metrics(), metrics_port=None)
    assert runner.run(until=lambda: stage.steps >= 1) == EXIT_OK
    assert stage.calls[:2] == ["start", "start"]


def test_fatal_error_stops_the_stages_and_is_raised_for_the_cli_to_map() -> None:
    stage = RecordingStage(fail_with=ConfigurationError("bad"))
    runner = ServiceRunner("t", [stage], Metrics(), metrics_port=None)
    with pytest.raises(ConfigurationError, match="bad"):
        runner.run()
    assert stage.calls[-2:] == ["drain", "close"]


def test_sigterm_drains_and_exits_cleanly() -> None:
    stage = RecordingStage()
    runner = ServiceRunner("t", [stage], Metrics(), metrics_port=None)
    threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGTERM)).start()
    assert runner.run() == EXIT_OK
    assert stage.calls == ["start", "drain", "close"]


def test_health_ready_and_metrics_endpoints() -> None:
    stage = RecordingStage()
    runner = ServiceRunner("t", [stage], Metrics(), metrics_host="127.0.0.1", metrics_port=0)
    seen: dict[str, tuple[int, bytes]] = {}

    def probe() -> bool:
        if runner.metrics_address is None or stage.steps < 2:
            return False
        host, port = runner.metrics_address
        for path in ("/healthz", "/readyz", "/metrics", "/nope"):
            try:
                with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=5) as resp:
                    seen[path] = (resp.status, resp.read())
            except urllib.error.HTTPError as exc:
                seen[path] = (exc.code, b"")
        return True

    deadline = time.monotonic() + 10
    assert runner.run(until=lambda: probe() or time.monotonic() > deadline) == EXIT_OK
    assert seen["/healthz"][0] == 200
    assert seen["/readyz"][0] == 200
    assert seen["/metrics"][0] == 200 and b"wiredesk_build_info" in seen["/metrics"][1]
    assert seen["/nope"][0] == 404


def test_a_start_timeout_gives_up_with_the_start_error_and_no_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stage = RecordingStage(start_failures=1_000)
    runner = ServiceRunner("t", [stage], Metrics(), metrics_port=None, start_timeout_s=0.2)
    with caplog.at_level(logging.WARNING), pytest.raises(InfrastructureError, match="broker not up yet"):
        runner.run()
    assert stage.steps == 0
    failure = caplog.records[-1]
    assert failure.levelno == logging.ERROR
    assert "broker not up yet" in failure.getMessage()
    assert failure.exc_info is None


class StuckStage(RecordingStage):
    def drain(self) -> None:
        time.sleep(1.0)


def test_stages_stuck_behind_a_dead_dependency_report_the_dependency() -> None:
    # A producer waiting for acks from a broker that died cannot drain in time: the error
    # names the dead broker, not the stuck stage.
    stage = StuckStage()
    dead = threading.Event()
    runner = ServiceRunner("t", [stage], Metrics(), metrics_port=None, drain_timeout_s=0.1)
    threading.Timer(0.2, dead.set).start()
    with pytest.raises(InfrastructureError, match="the broker died"):
        runner.run(fail_if=lambda: "the broker died" if dead.is_set() else None)
