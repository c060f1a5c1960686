"""One error tree under one root, and every exit code it (or the CLI) can produce documented."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

from app import cli
from ingest.fetcher import FetchError
from ingest.parser import ParseError
from ingest.registry import RegistryError
from sinks.base import SinkError
from transform.pipeline import SkipItem
from wiredesk.errors import ConfigurationError, InfrastructureError, RecordFailure, WiredeskError
from wiredesk.http import HttpError
from wiredesk.records import RecordError
from wiredesk.settings import SettingsError

REPO = Path(__file__).resolve().parents[3]
OPERATIONS = REPO / "docs" / "operations.md"


def _all_error_classes() -> set[type[WiredeskError]]:
    for package in ("wiredesk", "ingest", "transform", "sinks", "app"):
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}."):
            if not info.name.endswith(".__main__"):  # importing it would run the CLI
                importlib.import_module(info.name)
    found: set[type[WiredeskError]] = set()
    pending: list[type[WiredeskError]] = [WiredeskError]
    while pending:
        cls = pending.pop()
        if cls not in found:
            found.add(cls)
            pending.extend(cls.__subclasses__())
    return found


def _documented_exit_codes() -> set[int]:
    text = OPERATIONS.read_text(encoding="utf-8")
    section = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    return {int(code) for code in re.findall(r"^\|\s*(\d+)\s*\|", section, re.MULTILINE)}


@pytest.mark.parametrize(
    ("error", "branch"),
    [
        (SettingsError, ConfigurationError),
        (RegistryError, ConfigurationError),
        (FetchError, WiredeskError),
        (HttpError, WiredeskError),
        (ParseError, RecordFailure),
        (RecordError, RecordFailure),
        (SkipItem, RecordFailure),
        (SinkError, WiredeskError),
    ],
)
def test_every_error_class_hangs_under_the_one_root(error: type[Exception], branch: type[Exception]) -> None:
    assert issubclass(error, branch)


def test_every_exit_code_of_the_tree_and_the_cli_is_documented() -> None:
    codes = {cls.exit_code for cls in _all_error_classes()}
    codes |= set(cli.EXIT_CODES.values())
    assert InfrastructureError.exit_code in codes
    assert codes - _documented_exit_codes() == set()


def test_the_documentation_check_reads_the_table() -> None:
    # A check that finds no codes at all would pass vacuously.
    assert {0, 69, 78, 130} <= _documented_exit_codes()
