"""The plain script wiredesk is compared with: what a developer writes in an afternoon.

feedparser with its defaults fetches and parses each feed; kafka-python with its defaults
produces every entry to a topic; a consumer in the same process reads them back and stores each
row with one PostgreSQL INSERT (autocommit). No cleaning, no enrichment, no batching. The only
departure from defaults is the consumer group's session timeout: on the embedded broker a join
waits half of it (shared/notes/broker.md), and 45 s of waiting would measure the broker, not the
script.

    python bench/plain_pipeline.py --bootstrap HOST:PORT --dsn DSN --expect N URL...

Prints one JSON line: {"stored": n, "first_fetch": t, "last_insert": t, "seconds": ...}.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import uuid

import feedparser
import orjson
import psycopg
from kafka import KafkaConsumer, KafkaProducer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--expect", type=int, required=True, help="rows to wait for")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("urls", nargs="+")
    args = parser.parse_args(argv)

    run = uuid.uuid4().hex[:8]
    topic = f"plain-{run}"
    table = f"plain_articles_{run}"
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        conn.execute(
            f"CREATE TABLE {table} (guid text PRIMARY KEY, link text, title text, "
            "published text, content text)"
        )
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=args.bootstrap,
        group_id=f"plain-{run}",
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )
    stored = 0
    last_insert = 0.0
    done = threading.Event()

    def consume() -> None:
        nonlocal stored, last_insert
        with psycopg.connect(args.dsn, autocommit=True) as db:
            while stored < args.expect and not done.is_set():
                for records in consumer.poll(timeout_ms=500).values():
                    for record in records:
                        entry = orjson.loads(record.value)
                        db.execute(
                            f"INSERT INTO {table} VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                            (
                                entry["guid"],
                                entry["link"],
                                entry["title"],
                                entry["published"],
                                entry["content"],
                            ),
                        )
                        stored += 1
                        last_insert = time.time()

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    producer = KafkaProducer(bootstrap_servers=args.bootstrap)
    first_fetch = time.time()
    for url in args.urls:
        feed = feedparser.parse(url)
        for entry in feed.entries:
            content = entry.get("content", [{}])[0].get("value", "") or entry.get("summary", "")
            value = {
                "guid": entry.get("id", entry.get("link", "")),
                "link": entry.get("link", ""),
                "title": entry.get("title", ""),
                "published": entry.get("published", ""),
                "content": content,
            }
            producer.send(topic, orjson.dumps(value))
    producer.flush()
    reader.join(args.timeout)
    done.set()
    producer.close()
    consumer.close()
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        conn.execute(f"DROP TABLE {table}")
    print(
        orjson.dumps(
            {
                "stored": stored,
                "first_fetch": first_fetch,
                "last_insert": last_insert,
                "seconds": last_insert - first_fetch if stored else None,
            }
        ).decode()
    )
    return 0 if stored >= args.expect else 1


if __name__ == "__main__":
    sys.exit(main())
