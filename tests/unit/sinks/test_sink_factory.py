"""Settings choose the sinks; impossible choices fail at start with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from sinks.base import SinkUnavailable, WriteResult
from sinks.factory import build_sinks, open_sinks
from sinks.sqlite import SqliteSink
from wiredesk.settings import Settings


def _needs_psycopg() -> None:
    """Building a PostgreSQL sink imports psycopg, the optional 'postgres' extra."""
    pytest.importorskip("psycopg", reason="psycopg (the 'postgres' extra) is not installed")


def _settings(tmp_path: Path, **sink: str) -> Settings:
    return Settings(data_dir=str(tmp_path)).with_overrides({f"sink.{k}": v for k, v in sink.items()})


def test_default_is_one_sqlite_sink_with_search_in_the_data_dir(tmp_path: Path) -> None:
    (sink,) = build_sinks(_settings(tmp_path))
    assert isinstance(sink, SqliteSink)
    assert sink.fts
    assert sink.path == tmp_path / "wiredesk.sqlite"


def test_sqlite_path_setting_is_honoured(tmp_path: Path) -> None:
    (sink,) = build_sinks(_settings(tmp_path, sqlite_path=str(tmp_path / "elsewhere.db"), search="none"))
    assert isinstance(sink, SqliteSink)
    assert sink.path == tmp_path / "elsewhere.db"
    assert not sink.fts


def test_nothing_configured_means_no_sinks(tmp_path: Path) -> None:
    assert build_sinks(_settings(tmp_path, storage="none", search="none")) == []


def test_postgres_storage_and_search_are_separate_sinks(tmp_path: Path) -> None:
    _needs_psycopg()
    from sinks.postgres import PostgresSearchSink, PostgresStorageSink

    sinks = build_sinks(
        _settings(tmp_path, storage="postgres", search="postgres", postgres_dsn="host=db.invalid dbname=x")
    )
    assert [type(s) for s in sinks] == [PostgresStorageSink, PostgresSearchSink]
    assert len({s.name for s in sinks}) == 2


def test_mixed_backends(tmp_path: Path) -> None:
    _needs_psycopg()
    sinks = build_sinks(_settings(tmp_path, storage="postgres", search="sqlite", postgres_dsn="dbname=x"))
    assert sorted(type(s).__name__ for s in sinks) == ["PostgresStorageSink", "SqliteSink"]


def test_open_sinks_returns_open_sinks(tmp_path: Path) -> None:
    (sink,) = open_sinks(_settings(tmp_path))
    try:
        assert sink.write_batch([]) == WriteResult()
    finally:
        sink.close()


def test_open_sinks_closes_what_it_opened_when_one_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _needs_psycopg()
    closed: list[str] = []
    original_close = SqliteSink.close

    def recording_close(self: SqliteSink) -> None:
        closed.append(self.name)
        original_close(self)

    monkeypatch.setattr(SqliteSink, "close", recording_close)
    # An unreachable PostgreSQL fails after the SQLite sink was already opened.
    settings = _settings(
        tmp_path,
        storage="sqlite",
        search="postgres",
        postgres_dsn="host=127.0.0.1 port=1 dbname=x connect_timeout=1",
    )
    with pytest.raises(SinkUnavailable, match="cannot connect") as caught:
        open_sinks(settings)
    assert caught.value.retriable
    assert closed == ["sqlite"]
