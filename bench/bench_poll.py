"""Polling throughput: N feeds on a local server, 95% of which answer 304, one or two ingest replicas.

A feed server (its own process, asyncio, loopback only) serves N feeds spread over 50 loopback
addresses (127.0.1.1-50: 50 hosts to the politeness rules). Feeds whose number is a multiple of
20 change at every request (200 with a new item); the others answer 304 to a conditional GET.
A first `wiredesk ingest --once` stores every feed's validators. Then every feed is made due
and R replicas run as real `wiredesk ingest` processes until the server has answered N
requests: polls/s is N over the time from the first to the N-th request, as the server saw it.
Peak memory is each replica's VmHWM. CPU: each process's user+system time over the window.

    .venv/bin/python bench/bench_poll.py [--feeds 10000] [--replicas 1 2] [--concurrency 16]

SQLite for one replica; PostgreSQL (127.0.0.1:5432, db test; a throwaway schema) for two.
Never run as a test.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wiredesk.embedded import EmbeddedBroker, free_port

REPO = Path(__file__).resolve().parents[1]
HOSTS = [f"127.0.1.{n}" for n in range(1, 51)]
DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"


def _feed(n: int, version: int) -> bytes:
    items = "".join(
        f"<item><guid>f{n}-{v}</guid><title>Feed {n} story {v}</title>"
        f"<link>https://news.example.org/{n}/{v}</link></item>"
        for v in range(max(0, version - 2), version + 1)
    )
    channel = f"<channel><title>f{n}</title>{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


@dataclass
class Tally:
    """Shared with the server process: requests answered, the first and last answer's time."""

    counter: Any
    first: Any
    last: Any
    target: int
    reached: Any


def serve(port: int, tally: Tally) -> None:
    counter, first, last, target, reached = (
        tally.counter,
        tally.first,
        tally.last,
        tally.target,
        tally.reached,
    )
    versions: dict[int, int] = {}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        path = lines[0].split(" ")[1]
        n = int(path.strip("/f").removesuffix(".xml") or 0)
        etag = next(
            (ln.split(":", 1)[1].strip() for ln in lines if ln.lower().startswith("if-none-match:")), ""
        )
        if n % 20 == 0:
            versions[n] = versions.get(n, 0) + 1
        version = versions.get(n, 0)
        tag = f'"v{version}"'
        if etag == tag:
            response = f"HTTP/1.1 304 Not Modified\r\nETag: {tag}\r\nConnection: close\r\n\r\n".encode()
        else:
            body = _feed(n, version)
            response = (
                f"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nETag: {tag}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            ).encode() + body
        writer.write(response)
        try:
            await writer.drain()
        except ConnectionError:
            pass
        writer.close()
        now = time.monotonic()
        with counter.get_lock():
            counter.value += 1
            if counter.value == 1:
                first.value = now
            last.value = now
            if counter.value == target:
                reached.set()

    async def main() -> None:
        server = await asyncio.start_server(handle, HOSTS, port, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(feeds: int, replicas: int, concurrency: int, broker: EmbeddedBroker) -> None:
    port = free_port()
    counter, first, last = (
        multiprocessing.Value("q", 0),
        multiprocessing.Value("d", 0.0),
        multiprocessing.Value("d", 0.0),
    )
    reached = multiprocessing.Event()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        registry = work / "feeds.yaml"
        entries = [
            f"  - id: f{n}\n    url: http://{HOSTS[n % len(HOSTS)]}:{port}/f{n}.xml\n"
            "    interval_seconds: 3600\n"
            for n in range(feeds)
        ]
        registry.write_text("feeds:\n" + "".join(entries))
        schema = f"wd_bench_{uuid.uuid4().hex[:8]}"
        suffix = uuid.uuid4().hex[:8]
        env = {k: v for k, v in os.environ.items() if not k.startswith("WIREDESK_")}
        env.update({
            "WIREDESK_DATA_DIR": str(work / "data"),
            "WIREDESK_KAFKA_BOOTSTRAP": broker.bootstrap,
            "WIREDESK_KAFKA_RAW_TOPIC": f"bench-{suffix}.raw",
            "WIREDESK_KAFKA_ARTICLES_TOPIC": f"bench-{suffix}.articles",
            "WIREDESK_KAFKA_DLQ_TOPIC": f"bench-{suffix}.dlq",
            "WIREDESK_HTTP_ALLOW_PRIVATE_ADDRESSES": "true",
            "WIREDESK_INGEST_CONCURRENCY": str(concurrency),
            "WIREDESK_INGEST_PER_HOST_CONCURRENCY": "4",
            "WIREDESK_INGEST_PER_HOST_DELAY_SECONDS": "0",
            "WIREDESK_INGEST_BACKPRESSURE_MAX_LAG": "0",
            "WIREDESK_INGEST_REGISTRY_RELOAD_SECONDS": "0",
            "WIREDESK_SERVICE_METRICS_PORT": "0",
            "WIREDESK_SERVICE_LOG_LEVEL": "WARNING",
        })  # fmt: skip
        if replicas > 1:
            env.update({"WIREDESK_INGEST_STATE_STORE": "postgres", "WIREDESK_INGEST_POSTGRES_DSN": DSN,
                        "WIREDESK_INGEST_POSTGRES_SCHEMA": schema})  # fmt: skip
        server = multiprocessing.Process(
            target=serve, args=(port, Tally(counter, first, last, feeds, reached)), daemon=True
        )
        server.start()
        time.sleep(1.0)
        command = [sys.executable, "-m", "app.cli", "ingest", "--feeds", str(registry)]
        warm = subprocess.run(
            [*command, "--once"], env=env, cwd=REPO, capture_output=True, text=True, check=False
        )
        if warm.returncode != 0:
            raise SystemExit(f"warm-up failed: {warm.stderr[-2000:]}")
        _make_all_due(env, [f"f{n}" for n in range(feeds)])
        with counter.get_lock():
            counter.value = 0
        reached.clear()
        server_cpu0 = _cpu_seconds(server.pid or 0)
        procs = [
            subprocess.Popen(command, env=env, cwd=REPO, stderr=subprocess.DEVNULL) for _ in range(replicas)
        ]
        cpu0 = [0.0] * replicas
        reached.wait(timeout=600)
        elapsed = last.value - first.value
        cpu = [_cpu_seconds(p.pid) - c for p, c in zip(procs, cpu0, strict=True)]
        peaks = [_peak_mib(p.pid) for p in procs]
        server_cpu = _cpu_seconds(server.pid or 0) - server_cpu0
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=60)
        server.terminate()
        if replicas > 1:
            import psycopg

            with psycopg.connect(DSN, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    print(
        f"replicas={replicas} concurrency={concurrency} ledger={'postgres' if replicas > 1 else 'sqlite'}: "
        f"{feeds} polls in {elapsed:.1f}s = {feeds / elapsed:,.0f} polls/s; peak RSS per replica "
        f"{', '.join(f'{p:.0f}' for p in peaks)} MiB; CPU s per replica (incl. start-up) "
        f"{', '.join(f'{c:.1f}' for c in cpu)}; server CPU {server_cpu:.1f}s"
    )


def _make_all_due(env: dict[str, str], ids: list[str]) -> None:
    from ingest.stores import open_ledger
    from wiredesk.settings import load_settings

    ledger = open_ledger(load_settings(environ=env))
    try:
        ledger.poll_soon(ids)
    finally:
        ledger.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, EmbeddedBroker(log_file=Path(tmp) / "broker.log") as broker:
        for replicas in args.replicas:
            for concurrency in args.concurrency:
                run(args.feeds, replicas, concurrency, broker)


if __name__ == "__main__":
    main()
