"""Logging set-up, done only by the service runner: JSON lines with fixed context keys."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

# Context keys a log call may pass through `extra=`; anything else stays out of the JSON line so
# that log schemas stay stable for whoever ships them. docs/operations.md lists them, and a test
# checks that every `extra=` in the code uses only these.
CONTEXT_KEYS = (
    "service",
    "feed_id",
    "item_id",
    "trace_id",
    "topic",
    "partition",
    "offset",
    "sink",
    "group",
    "path",
    "error",
)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "service": self._service,
        }
        for key in CONTEXT_KEYS:
            value = record.__dict__.get(key)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(service: str, level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # kafka-python logs every reconnect at INFO/WARNING; keep its noise at WARNING and above.
    logging.getLogger("kafka").setLevel(max(logging.WARNING, logging.getLevelName(level)))
