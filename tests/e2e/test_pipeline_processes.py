"""The seed feed through ingest, transform and sink as three separate processes on a real broker."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import orjson
import pytest

from tests.conftest import REPO, SEED, service_env
from wiredesk import bus
from wiredesk.settings import Settings

pytestmark = pytest.mark.e2e

EXPECTED = json.loads((SEED / "expected.json").read_text())


def _wiredesk(*args: str) -> list[str]:
    return [sys.executable, "-m", "app.cli", *args]


def _wait_for_article(db: Path, timeout_s: float = 90.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if db.exists():
            try:
                with sqlite3.connect(db) as conn:
                    rows = conn.execute("SELECT doc FROM articles").fetchall()
            except sqlite3.OperationalError:
                rows = []
            for (document,) in rows:
                data = orjson.loads(document)
                if "Lavrov" in data["headline"]:
                    return data  # type: ignore[no-any-return]
        time.sleep(0.5)
    raise AssertionError(f"no Lavrov article in {db} after {timeout_s:.0f}s")


def _messages(settings: Settings, topic: str) -> list[bus.Message]:
    return list(bus.read_topic(settings.kafka, topic))


def test_seed_feed_flows_through_three_processes(kafka_settings: Settings, tmp_path: Path) -> None:
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(f"feeds:\n  - id: seed-wire\n    url: {SEED / 'agency-feed.rss.xml'}\n")
    env = service_env(kafka_settings, tmp_path, WIREDESK_TRANSFORM_STORY_INDEX="sqlite")
    logs = {name: open(tmp_path / f"{name}.log", "wb") for name in ("transform", "sink", "ingest")}  # noqa: SIM115
    services = {
        name: subprocess.Popen(
            _wiredesk(name), env=env, cwd=REPO, stdout=logs[name], stderr=subprocess.STDOUT
        )
        for name in ("transform", "sink")
    }
    try:
        ingest = subprocess.run(
            _wiredesk("ingest", "--once", "--feeds", str(feeds)),
            env=env,
            cwd=REPO,
            stdout=logs["ingest"],
            stderr=subprocess.STDOUT,
            timeout=120,
            check=False,
        )
        assert ingest.returncode == 0, (tmp_path / "ingest.log").read_text()
        article = _wait_for_article(tmp_path / "data" / "wiredesk.sqlite")
    finally:
        for process in services.values():
            process.send_signal(signal.SIGTERM)
        codes = {}
        for name, process in services.items():
            try:
                codes[name] = process.wait(60)
            except subprocess.TimeoutExpired:
                # Never leave a service behind: it would stay in the session broker's groups.
                process.kill()
                codes[name] = process.wait()
        for f in logs.values():
            f.close()
    assert codes == {"transform": 0, "sink": 0}, {
        n: (tmp_path / f"{n}.log").read_text()[-2000:] for n in codes
    }

    assert article["body_text"] == "\n\n".join(EXPECTED["body_paragraphs"])
    assert article["wiredesk"]["agency"] == EXPECTED["agency"]  # type: ignore[index]
    assert article["versioncreated"] == EXPECTED["versioncreated"]

    search = subprocess.run(
        _wiredesk("search", "Lavrov", "--json"),
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert search.returncode == 0, search.stderr
    hits = [json.loads(line) for line in search.stdout.splitlines()]
    assert hits and hits[0]["uri"] == article["uri"]

    # The messages on the topics honour the published contract.
    schemas = {p.name: json.loads(p.read_text()) for p in (REPO / "schemas").glob("*.schema.json")}
    raw = _messages(kafka_settings, kafka_settings.kafka.raw_topic)
    articles = _messages(kafka_settings, kafka_settings.kafka.articles_topic)
    assert raw and articles
    for message in raw:
        jsonschema.validate(orjson.loads(message.value or b""), schemas["raw-item.schema.json"])
        assert message.headers[bus.H_SCHEMA] == b"wiredesk.RawItem"
        assert message.headers[bus.H_PRODUCER] == b"ingest"
    for message in articles:
        jsonschema.validate(orjson.loads(message.value or b""), schemas["article.schema.json"])
        assert message.headers[bus.H_SCHEMA] == b"wiredesk.Article"
        assert message.key == orjson.loads(message.value or b"")["uri"].encode()

    # One trace id follows the item from ingest's record and header to the article.
    raw_traces = {m.headers[bus.H_TRACE] for m in raw}
    assert orjson.loads(raw[0].value or b"")["trace_id"].encode() in raw_traces
    for message in articles:
        trace = message.headers[bus.H_TRACE]
        assert trace in raw_traces
        assert orjson.loads(message.value or b"")["wiredesk"]["trace_id"].encode() == trace
