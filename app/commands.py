"""The inspection and operations commands: search, feeds, topics, dead letters, replay."""

from __future__ import annotations

import itertools
import logging
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime

import orjson

from wiredesk import bus
from wiredesk.deadletters import redrive_count
from wiredesk.errors import ConfigurationError
from wiredesk.metrics import Metrics
from wiredesk.redrive import REDRIVE_ROLE, Action, Filters, Tally, redrive
from wiredesk.settings import Settings

log = logging.getLogger(__name__)


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


def search(settings: Settings, query: str, *, limit: int, as_json: bool) -> int:
    """Ask the configured search backend (sink.search), whatever the storage is."""
    from sinks.factory import build_search_index

    index = build_search_index(settings)
    if index is None:
        raise ConfigurationError(f"no search index is configured (sink.search={settings.sink.search})")
    sqlite_path = settings.data_path(settings.sink.sqlite_path, "wiredesk.sqlite")
    if settings.sink.search == "sqlite" and not sqlite_path.exists():
        print(
            f"wiredesk: nothing stored yet at {sqlite_path}: run `wiredesk run --once` first", file=sys.stderr
        )
        return 1
    index.open()
    try:
        hits = index.search(query, limit=limit)
    finally:
        index.close()
    if as_json:
        for hit in hits:
            _out(orjson.dumps(hit, option=orjson.OPT_UTC_Z).decode())
        return 0 if hits else 1
    if not hits:
        print(f"no articles match {query!r}", file=sys.stderr)
        return 1
    for n, hit in enumerate(hits, 1):
        when = hit.versioncreated.strftime("%Y-%m-%d %H:%M UTC") if hit.versioncreated else "undated"
        _out(f"{n}. {hit.headline}\n   {when}  {hit.source_url or hit.uri}\n   {hit.snippet}")
    return 0


def list_feeds(settings: Settings, *, feeds_file: str | None, as_json: bool) -> int:
    from app.runner import feeds_to_poll
    from ingest import health
    from ingest.registry import load_registry
    from ingest.stores import ledger_exists, open_ledger

    feeds = feeds_to_poll(settings, feeds_file)
    registry = load_registry(feeds.path)
    states = {}
    if ledger_exists(settings):
        ledger = open_ledger(settings, connections=1)
        try:
            states = ledger.feed_states(feed.id for feed in registry)
        finally:
            ledger.close()
    now = time.time()
    rows = []
    for feed in registry:
        fs = states.get(feed.id)
        state, reason, since = health.current(fs, now, settings.ingest.quiet_factor) if fs else ("", "", 0.0)
        rows.append(
            {
                "id": feed.id,
                "url": feed.url,
                "fetched_from": fs.fetch_url(feed) if fs else feed.url,
                "enabled": feed.enabled,
                "full_text": feed.full_text,
                "health": state,
                "health_reason": reason,
                "health_since": _when(since),
                "last_status": fs.last_status if fs else "",
                "last_polled": _when(fs.last_polled) if fs else "",
                "last_new_item": _when(fs.last_new_item) if fs else "",
                "next_due": _when(fs.next_due) if fs else "",
                "failures": fs.failures if fs else 0,
                "last_error": fs.last_error if fs else "",
            }
        )
    if as_json:
        for row in rows:
            _out(orjson.dumps(row).decode())
        return 0
    _out(f"{len(rows)} feeds in {feeds.describe()}")
    for row in rows:
        flag = "" if row["enabled"] else " (disabled)"
        moved = f" (moved to {row['fetched_from']})" if row["fetched_from"] != row["url"] else ""
        condition = f"{row['health']} since {row['health_since']}" if row["health"] else "never polled"
        why = f": {row['health_reason']}" if row["health_reason"] else ""
        _out(
            f"  {row['id']}{flag}: {row['url']}{moved}\n    {condition}{why}\n"
            f"    last poll {row['last_polled'] or '-'} ({row['last_status'] or '-'}); last new item "
            f"{row['last_new_item'] or '-'}; next {row['next_due'] or 'now'}"
        )
    return 0


def check_feed(settings: Settings, target: str) -> int:
    """`wiredesk feeds check`: one feed's items as JSON lines on stdout, a summary on stderr."""
    from ingest.check import check_feed as check
    from ingest.fetcher import Fetcher
    from wiredesk.http import HttpClient
    from wiredesk.records import dumps

    checked = check(target, Fetcher(HttpClient(settings.http)), datetime.now(UTC))
    parsed = checked.parsed
    for item in parsed.items:
        _out(dumps(item).decode())
    notes = [f"{len(parsed.items)} items", f"format {parsed.format or 'unknown'}"]
    if parsed.rejected:
        notes.append(f"{len(parsed.rejected)} entries rejected (first: {parsed.rejected[0][1]})")
    if checked.repeats:
        notes.append(f"{checked.repeats} repeated listings dropped")
    if parsed.bozo:
        notes.append(f"ill-formed, recovered: {parsed.bozo}")
    if parsed.hubs:
        notes.append(f"WebSub hub {parsed.hubs[0]}")
    print(f"wiredesk: {checked.url}: " + "; ".join(notes), file=sys.stderr)
    return 0


def _when(unix: float) -> str:
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if unix else ""


def _require_kafka(settings: Settings, command: str) -> None:
    if settings.embedded:
        raise ConfigurationError(
            f"`wiredesk {command}` talks to a running Kafka cluster: set WIREDESK_KAFKA_BOOTSTRAP "
            "(the embedded broker lives only while `wiredesk run` runs)"
        )


def topics(settings: Settings) -> int:
    _require_kafka(settings, "topics")
    for name, partitions in bus.list_topics(settings.kafka).items():
        _out(f"{name}\t{partitions} partitions")
    return 0


def dlq_list(settings: Settings, *, limit: int, everything: bool = False) -> int:
    """Dead letters not yet dealt with by a redrive (all that are retained with `everything`)."""
    _require_kafka(settings, "dlq list")
    kafka = settings.kafka
    start: dict[int, int] = {}
    if not everything:
        offsets = bus.GroupOffsets(kafka, kafka.group(REDRIVE_ROLE))
        try:
            start = offsets.committed(kafka.dlq_topic)
        finally:
            offsets.close()
    with bus.TopicReader(kafka, kafka.dlq_topic, offsets=start) as reader:
        _print_letters(reader, limit)
    return 0


def _print_letters(letters: Iterable[bus.Message], limit: int) -> None:
    for message in itertools.islice(letters, max(0, limit)):
        _out(
            orjson.dumps(
                {
                    "partition": message.partition,
                    "offset": message.offset,
                    "key": (message.key or b"").decode("utf-8", "replace"),
                    "error_class": message.header(bus.H_ERROR_CLASS),
                    "error": message.header(bus.H_ERROR_MESSAGE),
                    "stage": message.header(bus.H_ERROR_STAGE),
                    "source_topic": message.header(bus.H_SOURCE_TOPIC),
                    "source_partition": message.header(bus.H_SOURCE_PARTITION),
                    "source_offset": message.header(bus.H_SOURCE_OFFSET),
                    "failed_at": message.header(bus.H_FAILED_AT),
                    "redrives": redrive_count(message),
                }
            ).decode()
        )


def dlq_redrive(
    settings: Settings,
    *,
    error_class: str | None,
    stage: str | None,
    dry_run: bool,
    max_redrives: int | None = None,
) -> int:
    """Send dead letters back to their source topics (the rules: wiredesk/redrive.py)."""
    _require_kafka(settings, "dlq redrive")
    if max_redrives is not None and max_redrives < 1:
        raise ConfigurationError(f"--max-redrives must be at least 1, not {max_redrives}")
    filters = Filters(error_class=error_class, stage=stage, max_redrives=max_redrives)
    verb = "would redrive" if dry_run else "redrove"

    def progress(tally: Tally) -> None:
        print(
            f"wiredesk: redrive: read {tally.read} of {tally.total} dead letters; {verb} "
            f"{tally[Action.REDRIVE]}, {tally[Action.KEEP]} did not match the filters",
            file=sys.stderr,
            flush=True,
        )

    tally = redrive(settings.kafka, filters, dry_run=dry_run, progress=progress)
    topics = ", ".join(f"{n} to {topic}" for topic, n in sorted(tally.by_topic.items()))
    parts = [
        f"{verb} {tally[Action.REDRIVE]} dead letters" + (f" ({topics})" if topics else ""),
        f"{tally[Action.KEEP]} did not match the filters" + ("" if dry_run else " and stay in the DLQ"),
    ]
    if tally[Action.PARK]:
        parts.append(f"{tally[Action.PARK]} reached --max-redrives {max_redrives} and were left in place")
    if tally[Action.UNROUTABLE]:
        parts.append(f"{tally[Action.UNROUTABLE]} name no source topic and were left in place")
    if tally[Action.DUPLICATE]:
        parts.append(f"{tally[Action.DUPLICATE]} repeated a letter already redriven")
    parts.append(f"read {tally.read} of {tally.total} letters up to the end seen at the start")
    print("wiredesk: " + "; ".join(parts), file=sys.stderr)
    return 0


def replay_transform(settings: Settings, *, since: str) -> int:
    """Re-derive articles from raw items retained since `since` and publish them."""
    _require_kafka(settings, "replay")
    try:
        start = datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigurationError(f"--from {since!r} is not an ISO 8601 time") from None
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    from transform.service import TransformStage

    metrics = Metrics()
    stage = TransformStage(settings, metrics)
    stage.start_without_group()
    replayed = 0
    try:
        with bus.TopicReader(settings.kafka, settings.kafka.raw_topic, since=start) as reader:
            for batch in reader.batches():
                stage.process(batch)
                replayed += len(batch)
    finally:
        stage.close()
    ok = metrics.registry.get_sample_value("wiredesk_transform_items_total", {"outcome": "ok"}) or 0
    print(
        f"wiredesk: replayed {replayed} raw items since {start.isoformat()}: {ok:.0f} articles re-derived",
        file=sys.stderr,
    )
    return 0
