"""`wiredesk run` on the embedded default, as a user runs it, including recovery after a broker loss."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SEED, serve_page

pytestmark = pytest.mark.e2e


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREDESK_")}
    env.update({"WIREDESK_DATA_DIR": str(tmp_path / "data"), "WIREDESK_SERVICE_METRICS_PORT": "0", **extra})
    return env


def _wiredesk(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=_env(tmp_path, **extra),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_run_once_on_bundled_feeds_then_search(tmp_path: Path) -> None:
    # No feeds file in the working directory and no Kafka configured: the embedded default.
    run = _wiredesk(tmp_path, "run", "--once")
    assert run.returncode == 0, run.stderr[-3000:]
    assert "embedded broker" in run.stderr
    assert "wiredesk: done:" in run.stderr
    # A clean stop logs no errors (kafka-python client threads once raced the clients' close).
    assert '"level":"error"' not in run.stderr, run.stderr[-3000:]
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    search = _wiredesk(tmp_path, "search", "Lavrov", "--json")
    assert search.returncode == 0, search.stderr
    headlines = [json.loads(line)["headline"] for line in search.stdout.splitlines()]
    assert any("Blinken accepts invitation to meet Lavrov" in h for h in headlines)

    again = _wiredesk(tmp_path, "run", "--once")
    assert again.returncode == 0, again.stderr[-3000:]
    assert '"level":"error"' not in again.stderr and "Traceback" not in again.stderr, again.stderr[-3000:]
    assert "published 0 items" in again.stderr  # a restart re-publishes nothing already stored


def test_items_published_but_never_stored_are_published_again(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(f"feeds:\n  - id: seed\n    url: {SEED / 'agency-feed.rss.xml'}\n")
    # First run: the broker takes the item but nothing stores it (as if `run` died before the
    # sink wrote); the embedded broker's topics die with the process.
    lost = _wiredesk(
        tmp_path,
        "run",
        "--once",
        "--feeds",
        str(feeds),
        WIREDESK_SINK_STORAGE="none",
        WIREDESK_SINK_SEARCH="none",
    )
    assert lost.returncode == 0, lost.stderr[-3000:]
    assert "published 1 items" in lost.stderr

    recovered = _wiredesk(tmp_path, "run", "--once", "--feeds", str(feeds))
    assert recovered.returncode == 0, recovered.stderr[-3000:]
    assert "re-published 1 items" in recovered.stderr
    search = _wiredesk(tmp_path, "search", "Blinken", "--json")
    assert search.returncode == 0, search.stderr
    assert len(search.stdout.splitlines()) == 1


def test_run_stops_with_unavailable_when_the_embedded_broker_dies(tmp_path: Path) -> None:
    import re
    import signal
    import time

    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(f"feeds:\n  - id: seed\n    url: {SEED / 'agency-feed.rss.xml'}\n")
    env = _env(tmp_path, WIREDESK_SERVICE_DRAIN_TIMEOUT_SECONDS="20")
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "run", "--feeds", str(feeds)],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            port = None
            while port is None and time.monotonic() < deadline:
                found = re.search(r"embedded broker 127\.0\.0\.1:(\d+)", log.read_text())
                port = found.group(1) if found else None
                time.sleep(0.2)
            assert port, log.read_text()
            subprocess.run(["pkill", "-KILL", "-f", f"tcp://127.0.0.1:{port}"], check=False)
            code = process.wait(90)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
    assert code == 69, log.read_text()[-3000:]
    assert "the embedded broker died" in log.read_text()


def test_a_dead_lettered_item_is_not_published_again_at_the_next_start(tmp_path: Path) -> None:
    # The embedded broker forgets its topics, so each start re-publishes what ingest published
    # but the sinks never stored. Dead letters were never stored either, and were re-published
    # (and dead-lettered again) on every start. Poison here: a teaser whose article page has a
    # rel=canonical URL transform cannot parse (any page transform cannot derive would do).
    page = (
        b'<html><head><link rel="canonical" href="http://[unclosed/story"></head><body>'
        b"<h1>Harbour closed</h1><p>The harbour was closed on Monday after the storm.</p></body></html>"
    )
    with serve_page(page) as base:
        poison_feed = tmp_path / "poison.rss.xml"
        poison_feed.write_text(
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Poison</title>'
            "<link>http://127.0.0.1/</link><item><title>Harbour closed</title>"
            f"<link>{base}/story</link><guid>poison-1</guid>"
            "<description>The harbour...</description></item></channel></rss>"
        )
        feeds = tmp_path / "feeds.yaml"
        feeds.write_text(
            "feeds:\n"
            f"  - id: seed\n    url: {SEED / 'agency-feed.rss.xml'}\n"
            f"  - id: poison\n    url: {poison_feed}\n    full_text: true\n"
        )
        extra = {"WIREDESK_HTTP_ALLOW_PRIVATE_ADDRESSES": "true"}
        first = _wiredesk(tmp_path, "run", "--once", "--feeds", str(feeds), **extra)
        assert first.returncode == 0, first.stderr[-3000:]
        assert "published 2 items" in first.stderr
        assert "(1 dead-lettered)" in first.stderr, first.stderr[-3000:]

        second = _wiredesk(tmp_path, "run", "--once", "--feeds", str(feeds), **extra)
        assert second.returncode == 0, second.stderr[-3000:]
        assert "re-published" not in second.stderr, second.stderr[-3000:]
        assert "wiredesk: done: polls 2 (0 failed) | published 0 items" in second.stderr, second.stderr[
            -3000:
        ]
        assert "(0 dead-lettered)" in second.stderr
