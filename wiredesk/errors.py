"""One error tree: each class says whether a retry can help and which exit code it maps to.

Per-record failures are skipped, counted and dead-lettered; infrastructure failures are retried
with backoff or end the process with a code the orchestrator understands. Every wiredesk error
derives from `WiredeskError`; the command line (`app/cli.py`) is the one place that turns an
error into an exit code, and docs/operations.md lists every code. The codes follow sysexits(3).
"""

from __future__ import annotations

EX_DATAERR = 65
EX_UNAVAILABLE = 69
EX_SOFTWARE = 70
EX_IOERR = 74
EX_CONFIG = 78


class WiredeskError(Exception):
    """Root of the tree. A bare WiredeskError is a failure nobody classified: a bug (70)."""

    retriable = False
    exit_code = EX_SOFTWARE


class RecordFailure(WiredeskError):
    """One record (an item, an article, a feed document) cannot be processed; the rest go on."""

    exit_code = EX_DATAERR


class InfrastructureError(WiredeskError):
    """The broker, a database or the network failed; retrying later can succeed."""

    retriable = True
    exit_code = EX_UNAVAILABLE


class ConfigurationError(WiredeskError):
    """Settings, the feed registry or the environment make the command impossible; fix them."""

    exit_code = EX_CONFIG


def problem_list(headline: str, problems: list[str]) -> str:
    """One line for one problem; a headline and one line per problem for several."""
    if len(problems) == 1:
        return f"{headline}: {problems[0]}"
    return f"{headline}:\n" + "\n".join(f"  - {p}" for p in problems)
