"""The ingest service on a real broker: bad feeds and bad items are counted, the rest published."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ingest.registry import load_registry
from ingest.service import IngestStage
from tests.conftest import SEED
from wiredesk import bus, records
from wiredesk.embedded import free_port
from wiredesk.metrics import Metrics
from wiredesk.records import RawItem
from wiredesk.service import ServiceRunner
from wiredesk.settings import Settings

pytestmark = pytest.mark.integration

NO_LINK_NO_TITLE = """<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><description></description></item>
<item><title>Kept item</title><link>https://example.org/kept</link><description>Body.</description></item>
</channel></rss>"""


def test_bad_feeds_and_items_never_stop_the_others(kafka_settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "not-xml.xml").write_text("<html><body>This is a web page, not a feed</body></html>")
    (tmp_path / "partial.xml").write_text(NO_LINK_NO_TITLE)
    registry_file = tmp_path / "feeds.yaml"
    registry_file.write_text(
        "feeds:\n"
        f"  - id: seed\n    url: {SEED / 'agency-feed.rss.xml'}\n"
        "  - id: not-xml\n    url: not-xml.xml\n"
        f"  - id: silent\n    url: http://127.0.0.1:{free_port()}/feed.xml\n"
        "  - id: partial\n    url: partial.xml\n"
    )
    metrics = Metrics()
    stage = IngestStage(kafka_settings, metrics, load_registry(registry_file), once=True)
    deadline = time.monotonic() + 60
    runner = ServiceRunner("ingest", [stage], metrics, metrics_port=None)
    assert runner.run(until=lambda: stage.cycle_done or time.monotonic() > deadline) == 0

    def sample(name: str, **labels: str) -> float:
        return metrics.registry.get_sample_value(name, labels) or 0.0

    assert sample("wiredesk_ingest_polls_total", feed="seed", outcome="ok") == 1
    assert sample("wiredesk_ingest_polls_total", feed="not-xml", outcome="error") == 1
    assert sample("wiredesk_ingest_polls_total", feed="silent", outcome="error") == 1
    assert sample("wiredesk_ingest_polls_total", feed="partial", outcome="ok") == 1
    assert sample("wiredesk_ingest_items_total", feed="partial", outcome="rejected") == 1
    published = [
        records.loads(RawItem, m.value or b"")
        for m in bus.read_topic(kafka_settings.kafka, kafka_settings.kafka.raw_topic)
    ]
    assert sorted(item.feed_id for item in published) == ["partial", "seed"]
    assert all(item.trace_id for item in published)
