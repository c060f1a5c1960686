"""JSON log lines: a fixed, documented set of context keys, and every key the code passes kept."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import orjson

from tests.conftest import REPO
from wiredesk import bus
from wiredesk.logs import CONTEXT_KEYS, JsonFormatter

PACKAGES = ("wiredesk", "ingest", "transform", "sinks", "app")


def _line(**extra: object) -> dict[str, object]:
    record = logging.LogRecord("t", logging.WARNING, __file__, 1, "feed %s failed", ("f1",), None)
    record.__dict__.update(extra)
    decoded: dict[str, object] = orjson.loads(JsonFormatter("ingest").format(record))
    return decoded


def test_the_error_passed_with_a_log_call_is_in_the_line() -> None:
    line = _line(error="HTTP 503", feed_id="f1")
    assert line["error"] == "HTTP 503"
    assert line["feed_id"] == "f1"
    assert line["msg"] == "feed f1 failed"


def test_keys_outside_the_set_stay_out() -> None:
    assert "password" not in _line(password="hunter2")


def _extra_keys_in_code() -> dict[str, set[str]]:
    """Every constant key of every `extra={...}` literal in the code, by file."""
    found: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                for keyword in node.keywords:
                    if keyword.arg == "extra" and isinstance(keyword.value, ast.Dict):
                        keys = {k.value for k in keyword.value.keys if isinstance(k, ast.Constant)}
                        found.setdefault(str(path.relative_to(REPO)), set()).update(map(str, keys))
    return found


def test_every_key_the_code_logs_with_is_one_the_formatter_keeps() -> None:
    found = _extra_keys_in_code()
    assert "error" in set().union(*found.values())  # the scan sees the code's log calls
    dropped = {path: keys - set(CONTEXT_KEYS) for path, keys in found.items() if keys - set(CONTEXT_KEYS)}
    assert dropped == {}


def test_the_consumed_message_context_uses_only_kept_keys() -> None:
    message = bus.Message("t", 0, 5, b"k", b"v", {bus.H_TRACE: b"abc"}, 0)
    assert set(bus.log_context(message)) <= set(CONTEXT_KEYS)


def test_every_context_key_is_documented() -> None:
    operations = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    section = operations.split("## Logs", 1)[1].split("\n## ", 1)[0]
    assert [key for key in CONTEXT_KEYS if f"`{key}`" not in section] == []


def test_the_code_scan_reads_extra_dicts(tmp_path: Path) -> None:
    # The scan above must be able to see a key, or its assertion would hold vacuously.
    tree = ast.parse('log.info("x", extra={"feed_id": 1, "novel": 2})')
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call))
    keyword = call.keywords[0]
    assert isinstance(keyword.value, ast.Dict)
    assert {k.value for k in keyword.value.keys if isinstance(k, ast.Constant)} == {"feed_id", "novel"}
