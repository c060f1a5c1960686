"""Which sinks the settings ask for: built here, apart from the port they implement.

The port (`sinks/base.py`) knows no backend; each backend imports the port; only this module
knows every backend. PostgreSQL is imported only when configured, because psycopg is an
optional extra.
"""

from __future__ import annotations

from typing import Protocol

from sinks.base import SearchIndex, Sink
from sinks.sqlite import SqliteSink
from wiredesk.settings import Settings


def build_sinks(settings: Settings) -> list[Sink]:
    """The sinks the settings ask for, not yet opened.

    The settings object has already refused impossible choices (PostgreSQL without a DSN, a
    backend this version does not have), so `wiredesk config --check` sees them too.

    SQLite storage and SQLite search share one database file and one transaction (the FTS rows
    stay in step with the stored rows), so they are one sink. PostgreSQL storage and PostgreSQL
    search are separate sinks with separate tables: full-text indexing costs about seven times
    what storage does, so the search index can run as its own consumer group.
    """
    sink_settings = settings.sink
    uses_postgres = "postgres" in (sink_settings.storage, sink_settings.search)
    dsn = sink_settings.postgres_dsn.get_secret_value()
    sinks: list[Sink] = []
    sqlite_storage = sink_settings.storage == "sqlite"
    sqlite_search = sink_settings.search == "sqlite"
    if sqlite_storage or sqlite_search:
        path = settings.data_path(sink_settings.sqlite_path, "wiredesk.sqlite")
        sinks.append(SqliteSink(path, fts=sqlite_search))
    if uses_postgres:
        from sinks.postgres import PostgresSearchSink, PostgresStorageSink  # noqa: PLC0415 - optional extra

        if sink_settings.storage == "postgres":
            sinks.append(PostgresStorageSink(dsn))
        if sink_settings.search == "postgres":
            sinks.append(PostgresSearchSink(dsn))
    return sinks


class SearchSink(Sink, SearchIndex, Protocol):
    """A sink that answers searches: opened and closed like any sink."""


def build_search_index(settings: Settings) -> SearchSink | None:
    """The search index `sink.search` names, not yet opened; None for 'none'.

    Whatever the storage is: with storage on SQLite and search on PostgreSQL, searching must ask
    PostgreSQL (the SQLite file then holds no search index).
    """
    sink_settings = settings.sink
    if sink_settings.search == "sqlite":
        return SqliteSink(settings.data_path(sink_settings.sqlite_path, "wiredesk.sqlite"), fts=True)
    if sink_settings.search == "postgres":
        from sinks.postgres import PostgresSearchSink  # noqa: PLC0415 - optional extra

        return PostgresSearchSink(sink_settings.postgres_dsn.get_secret_value())
    return None


def open_sinks(settings: Settings) -> list[Sink]:
    """`build_sinks` and open each; if one fails to open, the ones already open are closed."""
    sinks = build_sinks(settings)
    opened: list[Sink] = []
    try:
        for sink in sinks:
            sink.open()
            opened.append(sink)
    except BaseException:
        for sink in reversed(opened):
            sink.close()
        raise
    return sinks
