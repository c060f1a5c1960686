"""Shared fixtures: a real Kafka-protocol broker (Tansu), per-test topic names, paths to data."""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from wiredesk.embedded import EMBEDDED_HEARTBEAT_MS, EMBEDDED_SESSION_TIMEOUT_MS, EmbeddedBroker
from wiredesk.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
SEED = FIXTURES / "seed"
SHARED = REPO.parent / "shared"
# CI has ../shared: there a missing data set is a failure, not a quiet skip. Not a WIREDESK_* name
# (settings reject unknown ones).
REQUIRE_SHARED_ENV = "WD_TEST_REQUIRE_SHARED"
SHARED_ABSENT = "{path} is absent: the larger data sets live beside the repository at ../shared"


def shared_path(*parts: str) -> Path:
    """A path under ../shared; when absent, a skip with the reason (a failure if CI requires it)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        reason = SHARED_ABSENT.format(path=path)
        if os.environ.get(REQUIRE_SHARED_ENV) == "1":
            pytest.fail(f"{reason} ({REQUIRE_SHARED_ENV}=1: it must be there)")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """One Tansu broker for the session, on a free loopback port, memory storage."""
    log_file = tmp_path_factory.mktemp("broker") / "tansu.log"
    with EmbeddedBroker(log_file=log_file) as running:
        yield running


@pytest.fixture
def kafka_settings(broker: EmbeddedBroker, tmp_path: Path) -> Settings:
    """Settings on the session broker with topic names unique to this test and short group timings."""
    suffix = uuid.uuid4().hex[:10]
    env = {
        "WIREDESK_DATA_DIR": str(tmp_path / "data"),
        "WIREDESK_KAFKA_BOOTSTRAP": broker.bootstrap,
        "WIREDESK_KAFKA_RAW_TOPIC": f"t-{suffix}.items.raw",
        "WIREDESK_KAFKA_ARTICLES_TOPIC": f"t-{suffix}.articles",
        "WIREDESK_KAFKA_DLQ_TOPIC": f"t-{suffix}.dlq",
        "WIREDESK_KAFKA_GROUP_PREFIX": f"t-{suffix}",
        "WIREDESK_KAFKA_RAW_PARTITIONS": "3",
        "WIREDESK_KAFKA_ARTICLES_PARTITIONS": "3",
        "WIREDESK_KAFKA_SESSION_TIMEOUT_MS": str(EMBEDDED_SESSION_TIMEOUT_MS),
        "WIREDESK_KAFKA_HEARTBEAT_INTERVAL_MS": str(EMBEDDED_HEARTBEAT_MS),
        "WIREDESK_KAFKA_FETCH_MAX_WAIT_MS": "20",
        "WIREDESK_HTTP_ALLOW_PRIVATE_ADDRESSES": "true",
        "WIREDESK_TRANSFORM_STORY_INDEX": "memory",
        "WIREDESK_SERVICE_METRICS_PORT": "0",
        "WIREDESK_SERVICE_LOG_FORMAT": "text",
    }
    return load_settings(environ=env)


POSTGRES_DSN_ENV = "WD_TEST_POSTGRES_DSN"
_CANDIDATE_DSNS = [
    "host=127.0.0.1 port=5432 dbname=test user=postgres connect_timeout=3",
    "host=127.0.0.1 port=5432 dbname=test user=root connect_timeout=3",
]


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    """A PostgreSQL DSN that answers (WD_TEST_POSTGRES_DSN first); skips with the reason otherwise."""
    psycopg = pytest.importorskip("psycopg", reason="psycopg (the 'postgres' extra) is not installed")
    candidates = [os.environ[POSTGRES_DSN_ENV]] if POSTGRES_DSN_ENV in os.environ else []
    errors = []
    for candidate in candidates + _CANDIDATE_DSNS:
        try:
            with psycopg.connect(candidate) as conn:
                conn.execute("SELECT 1")
            return candidate
        except psycopg.Error as exc:
            errors.append(f"{candidate}: {exc}".strip())
    pytest.skip("PostgreSQL unreachable: " + " | ".join(errors))


@pytest.fixture
def postgres_schema(postgres_dsn: str) -> Iterator[str]:
    """A schema name of this test's own, dropped (with everything in it) afterwards."""
    import psycopg

    name = f"wd_test_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def service_env(settings: Settings, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a `wiredesk` subprocess on this test's broker, topics and data folder."""
    k = settings.kafka
    env = {key: value for key, value in os.environ.items() if not key.startswith("WIREDESK_")}
    env.update(
        {
            "WIREDESK_DATA_DIR": str(tmp_path / "data"),
            "WIREDESK_KAFKA_BOOTSTRAP": k.bootstrap,
            "WIREDESK_KAFKA_RAW_TOPIC": k.raw_topic,
            "WIREDESK_KAFKA_ARTICLES_TOPIC": k.articles_topic,
            "WIREDESK_KAFKA_DLQ_TOPIC": k.dlq_topic,
            "WIREDESK_KAFKA_GROUP_PREFIX": k.group_prefix,
            "WIREDESK_KAFKA_SESSION_TIMEOUT_MS": str(k.session_timeout_ms),
            "WIREDESK_KAFKA_HEARTBEAT_INTERVAL_MS": str(k.heartbeat_interval_ms),
            "WIREDESK_KAFKA_FETCH_MAX_WAIT_MS": str(k.fetch_max_wait_ms),
            "WIREDESK_SERVICE_METRICS_PORT": "0",
            **extra,
        }
    )
    return env


@contextlib.contextmanager
def serve_page(page: bytes) -> Iterator[str]:
    """An HTTP server on a free loopback port answering every GET with `page`; yields its base URL."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
