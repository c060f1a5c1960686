"""Which ledger the settings ask for: SQLite for one process, PostgreSQL for replicas."""

from __future__ import annotations

from pathlib import Path

from ingest.ledger import Ledger
from ingest.state import IngestState
from wiredesk.settings import Settings


def ledger_path(settings: Settings) -> Path:
    return settings.data_path(settings.ingest.state_path, "ingest.sqlite")


def open_ledger(settings: Settings, *, connections: int | None = None) -> Ledger:
    """The configured ledger, open. PostgreSQL is imported only when configured (optional extra)."""
    ingest = settings.ingest
    if ingest.state_store == "postgres":
        from ingest.state_postgres import PostgresLedger  # noqa: PLC0415 - optional extra

        return PostgresLedger(
            ingest.postgres_dsn.get_secret_value(),
            schema=ingest.postgres_schema,
            lease_seconds=ingest.lease_seconds,
            connections=connections or ingest.concurrency + 2,
        )
    return IngestState(ledger_path(settings))


def ledger_exists(settings: Settings) -> bool:
    """Is there a ledger to read (a command that only inspects must not create one)?"""
    return settings.ingest.state_store == "postgres" or ledger_path(settings).exists()


__all__ = ["ledger_exists", "ledger_path", "open_ledger"]
