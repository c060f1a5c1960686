"""The test suite without the optional extras: modules that need one skip with a reason, never error.

psycopg (extra `postgres`) and redis (extra `redis`) are hidden from a child interpreter (a `None`
entry in `sys.modules` makes their import fail as if they were not installed), which then collects
the whole suite and runs the modules that use PostgreSQL.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXTRAS = ("psycopg", "redis")
USES_POSTGRES = ("tests/integration/test_sink_postgres.py", "tests/unit/sinks/test_sink_factory.py")

_RUN_WITHOUT_EXTRAS = (
    "import sys\n"
    "for name in sys.argv[1].split(','):\n"
    "    sys.modules[name] = None\n"
    "import pytest\n"
    "sys.exit(pytest.main(sys.argv[2:]))\n"
)


def _pytest_without_extras(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _RUN_WITHOUT_EXTRAS, ",".join(EXTRAS), "-p", "no:cacheprovider", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )


def test_the_whole_suite_collects_without_the_extras() -> None:
    result = _pytest_without_extras("--collect-only", "-q", "tests")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_postgres_modules_skip_with_the_reason_without_psycopg() -> None:
    result = _pytest_without_extras("-q", "-rs", *USES_POSTGRES)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "psycopg (the 'postgres' extra) is not installed" in output
    assert " error" not in output and "failed" not in output, output[-3000:]
