"""Operating the CLI as an ops team does: where the services listen, how `run` ends and cleans up."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import SEED, service_env
from wiredesk.settings import Settings

pytestmark = pytest.mark.e2e


def _wait_for(
    pattern: str, log: Path, process: subprocess.Popen[bytes], timeout_s: float = 60
) -> re.Match[str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = re.search(pattern, log.read_text(errors="replace"))
        if found:
            return found
        assert process.poll() is None, log.read_text()[-3000:]
        time.sleep(0.1)
    raise AssertionError(f"{pattern!r} not seen in time:\n{log.read_text()[-3000:]}")


def test_a_service_serves_its_probes_on_every_interface(kafka_settings: Settings, tmp_path: Path) -> None:
    # Container probes and Prometheus come from outside the pod: loopback would hide the service.
    log = tmp_path / "transform.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "transform"],
            env=service_env(
                kafka_settings,
                tmp_path,
                WIREDESK_TRANSFORM_STORY_INDEX="memory",
                WIREDESK_SERVICE_LOG_FORMAT="json",
            ),
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            found = _wait_for(r"serving /metrics /healthz /readyz on http://([0-9.:]+):(\d+)", log, process)
            host, port = found.group(1), int(found.group(2))
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                assert response.status == 200
            process.send_signal(signal.SIGTERM)
            assert process.wait(60) == 0, log.read_text()[-3000:]
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert host == "0.0.0.0"


def _run_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREDESK_")}
    env.update(
        {
            "WIREDESK_DATA_DIR": str(tmp_path / "data"),
            "WIREDESK_SERVICE_METRICS_PORT": "0",
            "WIREDESK_SERVICE_LOG_FORMAT": "json",
            **extra,
        }
    )
    return env


def _run_once(tmp_path: Path, feeds: str) -> subprocess.CompletedProcess[str]:
    registry = tmp_path / "feeds.yaml"
    registry.write_text(feeds)
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "run", "--once", "--feeds", str(registry)],
        env=_run_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _json_lines(stderr: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def test_run_once_fails_when_no_feed_could_be_polled(tmp_path: Path) -> None:
    (tmp_path / "page.xml").write_text("<html><body>a web page, not a feed</body></html>")
    result = _run_once(
        tmp_path, "feeds:\n  - id: gone\n    url: absent.xml\n  - id: page\n    url: page.xml\n"
    )
    assert result.returncode == 69, result.stderr[-3000:]
    # The CLI's own output (log lines are JSON, checked elsewhere) holds no traceback.
    assert "Traceback" not in "\n".join(
        line for line in result.stderr.splitlines() if not line.startswith("{")
    )
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("wiredesk: no feed could be polled: all 2 failed")


def test_a_failed_poll_is_logged_once_with_its_error(tmp_path: Path) -> None:
    result = _run_once(
        tmp_path,
        f"feeds:\n  - id: seed\n    url: {SEED / 'agency-feed.rss.xml'}\n  - id: gone\n    url: absent.xml\n",
    )
    # One feed failing is not the whole cycle failing.
    assert result.returncode == 0, result.stderr[-3000:]
    about_gone = [line for line in _json_lines(result.stderr) if line.get("feed_id") == "gone"]
    assert len(about_gone) == 1, about_gone
    assert about_gone[0]["level"] == "warning"
    assert "no such file" in str(about_gone[0]["error"])


def _children(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may hold spaces, so split after its closing paren.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry.name))
    return children


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")  # a zombie no longer runs: it only waits to be reaped


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")
def test_the_embedded_broker_dies_with_a_killed_run(tmp_path: Path) -> None:
    registry = tmp_path / "feeds.yaml"
    registry.write_text(f"feeds:\n  - id: seed\n    url: {SEED / 'agency-feed.rss.xml'}\n")
    log = tmp_path / "run.log"
    broker_pids: list[int] = []
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "run", "--feeds", str(registry)],
            env=_run_env(tmp_path),
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            port = _wait_for(r"embedded broker 127\.0\.0\.1:(\d+)", log, process).group(1)
            broker_pids = [
                pid
                for pid in _children(process.pid)
                if f"tcp://127.0.0.1:{port}" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
            ]
            assert len(broker_pids) == 1, broker_pids
            process.kill()
            process.wait(30)
            deadline = time.monotonic() + 10
            while not _gone(broker_pids[0]) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert _gone(broker_pids[0]), "the embedded broker outlived the run that started it"
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            for pid in broker_pids:  # only if the assertion failed: leave no broker behind
                if not _gone(pid):
                    os.kill(pid, signal.SIGKILL)
