"""Every error an operator can meet ends as one clear line on stderr and a documented exit code.

The commands run as a user runs them, as a separate `python -m app.cli` process: what is checked
is the exit code and that stderr holds the message and no traceback.
"""

from __future__ import annotations

import errno
import io
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from app import cli
from wiredesk.errors import ConfigurationError

EX_CONFIG = 78


def wiredesk(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("WIREDESK_")}
    clean_env.update({"WIREDESK_DATA_DIR": str(tmp_path / "data"), **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=clean_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a failed command (no traceback, no second line)."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("wiredesk: "), result.stderr
    return lines[0]


# --- the feed registry -----------------------------------------------------------------------


def test_a_missing_registry_is_one_line_and_exit_78(tmp_path: Path) -> None:
    result = wiredesk(tmp_path, "feeds", "--feeds", str(tmp_path / "absent.yaml"))
    assert result.returncode == EX_CONFIG
    line = one_error_line(result)
    assert "absent.yaml" in line
    assert "no such file" in line.lower()


def test_a_registry_that_is_not_yaml_is_one_line_and_exit_78(tmp_path: Path) -> None:
    bad = tmp_path / "feeds.yaml"
    bad.write_text("feeds: [\n  - id: x\n")
    result = wiredesk(tmp_path, "feeds", "--feeds", str(bad))
    assert result.returncode == EX_CONFIG
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"wiredesk: invalid feed registry {bad}: not valid YAML")


# --- settings files --------------------------------------------------------------------------


def test_a_config_file_that_is_not_utf8_is_one_line_and_exit_78(tmp_path: Path) -> None:
    config = tmp_path / "wiredesk.yaml"
    config.write_bytes(b"data_dir: caf\xe9\n")
    result = wiredesk(tmp_path, "--config", str(config), "config", "--check")
    assert result.returncode == EX_CONFIG
    line = one_error_line(result)
    assert str(config) in line
    assert "not UTF-8" in line


def test_a_secret_file_that_is_not_utf8_is_one_line_and_exit_78(tmp_path: Path) -> None:
    secret = tmp_path / "dsn"
    secret.write_bytes(b"\xff\xfe\x00")
    result = wiredesk(tmp_path, "config", "--check", env={"WIREDESK_SINK_POSTGRES_DSN_FILE": str(secret)})
    assert result.returncode == EX_CONFIG
    assert "WIREDESK_SINK_POSTGRES_DSN_FILE" in one_error_line(result)


# --- the mapping itself ----------------------------------------------------------------------


def test_an_unexpected_exception_is_one_line_with_a_hint_and_exit_70(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # No real command is known to fail this way (that would be a bug to fix): inject one.
    def broken(*_args: object) -> int:
        raise RuntimeError("something nobody expected")

    monkeypatch.setattr(cli, "_dispatch", broken)
    monkeypatch.delenv("WIREDESK_SERVICE_LOG_LEVEL", raising=False)
    assert cli.main(["config", "--check"]) == 70
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "RuntimeError: something nobody expected" in err
    assert "WIREDESK_SERVICE_LOG_LEVEL=DEBUG" in err
    assert "Traceback" not in err

    monkeypatch.setenv("WIREDESK_SERVICE_LOG_LEVEL", "DEBUG")
    assert cli.main(["config", "--check"]) == 70
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("error", "code", "said"),
    [
        (ConfigurationError("no feeds"), 78, "wiredesk: no feeds"),
        (PermissionError(errno.EACCES, "Permission denied", "/data/x.sqlite"), 74, "/data/x.sqlite"),
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), 69, "Connection refused"),
        (KeyboardInterrupt(), 130, ""),
    ],
)
def test_each_kind_of_error_has_its_code(error: BaseException, code: int, said: str) -> None:
    err = io.StringIO()
    assert cli.report(error, err=err) == code
    assert said in err.getvalue()
    assert err.getvalue().count("\n") == (1 if said else 0)


# --- output closed early -----------------------------------------------------------------------


def test_output_closed_by_its_reader_ends_quietly(tmp_path: Path) -> None:
    # `wiredesk clean feed.xml | head -1`: more output than a pipe buffer holds, then the reader
    # goes away after the first line.
    items = "".join(
        f"<item><title>Story {n}</title><link>https://example.org/{n}</link>"
        f"<description>{'Ministers met in the capital on Monday to agree a plan. ' * 20}</description></item>"
        for n in range(300)
    )
    feed = tmp_path / "big.rss"
    feed.write_text(f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>')
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREDESK_")}
    with subprocess.Popen(
        [sys.executable, "-m", "app.cli", "clean", "--as", "feed", str(feed)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        process.stdout.close()
        err = process.stderr.read().decode()
        code = process.wait(60)
    assert first.startswith(b'{"uri"')
    assert err == ""
    assert code == 141


# --- settings that would fail at start fail `config --check` -----------------------------------


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"WIREDESK_SINK_STORAGE": "postgres"}, "WIREDESK_SINK_POSTGRES_DSN"),
        ({"WIREDESK_SINK_SEARCH": "opensearch"}, "opensearch is not available"),
        (
            {"WIREDESK_INGEST_MIN_INTERVAL_SECONDS": "7200", "WIREDESK_INGEST_MAX_INTERVAL_SECONDS": "600"},
            "ingest.min_interval_seconds (7200) is above ingest.max_interval_seconds (600)",
        ),
        ({"WIREDESK_KAFKA_HEARTBEAT_INTERVAL_MS": "20000"}, "kafka.heartbeat_interval_ms"),
        # A name is never looked up (no DNS at start); .invalid cannot resolve anywhere anyway.
        ({"WIREDESK_SERVICE_METRICS_HOST": "no-such-host.invalid"}, "WIREDESK_SERVICE_METRICS_HOST"),
        # TEST-NET-1 is never an address of this machine: binding it fails locally, sends nothing.
        ({"WIREDESK_SERVICE_METRICS_HOST": "192.0.2.1"}, "not an address of this machine"),
    ],
)
def test_config_check_refuses_what_would_fail_at_start(
    tmp_path: Path, env: dict[str, str], said: str
) -> None:
    result = wiredesk(tmp_path, "config", "--check", env=env)
    assert result.returncode == EX_CONFIG, result.stdout
    assert said in one_error_line(result)


def test_metrics_port_in_use_is_one_line_and_exit_78(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # The metrics server starts before any stage connects: the closed Kafka port is never tried.
        result = wiredesk(
            tmp_path,
            "transform",
            env={
                "WIREDESK_KAFKA_BOOTSTRAP": "127.0.0.1:9",
                "WIREDESK_SERVICE_METRICS_HOST": "127.0.0.1",
                "WIREDESK_SERVICE_METRICS_PORT": str(port),
                "WIREDESK_SERVICE_LOG_LEVEL": "ERROR",
            },
        )
    assert result.returncode == EX_CONFIG
    line = one_error_line(result)
    assert f"127.0.0.1:{port}" in line
    assert "WIREDESK_SERVICE_METRICS_PORT" in line


# --- the feed registry a command polls ----------------------------------------------------------


def test_a_configured_feeds_file_that_does_not_exist_is_an_error_not_the_samples(tmp_path: Path) -> None:
    result = wiredesk(
        tmp_path,
        "run",
        "--once",
        env={
            "WIREDESK_INGEST_FEEDS_FILE": str(tmp_path / "my-feeds.yaml"),
            "WIREDESK_SERVICE_METRICS_PORT": "0",
        },
        timeout=120,
    )
    assert result.returncode == EX_CONFIG, result.stderr[-2000:]
    line = one_error_line(result)
    assert "my-feeds.yaml" in line
    assert "WIREDESK_INGEST_FEEDS_FILE" in line
    assert not (tmp_path / "data" / "wiredesk.sqlite").exists()


def test_config_check_reads_the_feed_registry(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text("feeds:\n  - id: Not A Slug\n    url: https://example.org/x.rss\n")
    result = wiredesk(tmp_path, "config", "--check")
    assert result.returncode == EX_CONFIG
    assert "must be a slug" in one_error_line(result)


# --- search ------------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["0", "-3", "ten"])
def test_search_limit_must_be_a_positive_number(tmp_path: Path, limit: str) -> None:
    result = wiredesk(tmp_path, "search", "--limit", limit, "lavrov")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "argument --limit" in result.stderr.splitlines()[-1]
