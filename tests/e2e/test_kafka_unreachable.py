"""Kafka unreachable: every command says so in one line and exits 69, and signals are honoured.

Each test points wiredesk at a loopback port where nothing listens.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import SEED
from wiredesk.embedded import free_port

pytestmark = pytest.mark.e2e

EX_UNAVAILABLE = 69


def _env(tmp_path: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREDESK_")}
    env.update(
        {
            "WIREDESK_DATA_DIR": str(tmp_path / "data"),
            "WIREDESK_KAFKA_BOOTSTRAP": f"127.0.0.1:{port}",
            "WIREDESK_SERVICE_METRICS_PORT": "0",
        }
    )
    return env


def _feeds(tmp_path: Path) -> Path:
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(f"feeds:\n  - id: seed\n    url: {SEED / 'agency-feed.rss.xml'}\n")
    return feeds


@pytest.mark.parametrize(
    "args",
    [
        ["topics"],
        ["dlq", "list"],
        ["dlq", "redrive"],
        ["dlq", "redrive", "--dry-run"],
        ["replay", "--stage", "transform", "--from", "2026-01-01T00:00:00Z"],
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_commands_say_kafka_is_unreachable_in_one_line(tmp_path: Path, args: list[str]) -> None:
    port = free_port()
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=_env(tmp_path, port),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == EX_UNAVAILABLE, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        next(line for line in done.stderr.splitlines() if line.startswith("wiredesk: "))
    ]
    assert f"wiredesk: cannot reach Kafka at 127.0.0.1:{port}" in done.stderr


def test_ingest_once_gives_up_with_one_clear_error(tmp_path: Path) -> None:
    port = free_port()
    env = {**_env(tmp_path, port), "WIREDESK_KAFKA_CONNECT_TIMEOUT_SECONDS": "3"}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "ingest", "--once", "--feeds", str(_feeds(tmp_path))],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == EX_UNAVAILABLE, done.stderr
    assert "Traceback" not in done.stderr
    assert f"cannot reach Kafka at 127.0.0.1:{port}" in done.stderr.strip().splitlines()[-1]


def test_sigterm_while_connecting_stops_the_service_promptly(tmp_path: Path) -> None:
    # kafka-python blocks up to its bootstrap timeout (30 s by default) inside a client's
    # constructor; a stop request must not wait for that.
    port = free_port()
    log = tmp_path / "ingest.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "ingest", "--feeds", str(_feeds(tmp_path))],
            env=_env(tmp_path, port),
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while "cannot start yet" not in log.read_text() and time.monotonic() < deadline:
                assert process.poll() is None, log.read_text()
                time.sleep(0.1)
            assert "cannot start yet" in log.read_text()
            time.sleep(1.5)  # let it get back into a connection attempt
            process.send_signal(signal.SIGTERM)
            # Well under the old ~23 s, with room to spare on a loaded machine.
            code = process.wait(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert code == 0, log.read_text()
    assert "Traceback" not in log.read_text()
