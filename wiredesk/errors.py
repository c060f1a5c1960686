"""One error tree: each class says whether a retry can help and which exit code it maps to.

Per-record failures are skipped, counted and dead-lettered; infrastructure failures are retried
with backoff or end the process with a code the orchestrator understands.
"""

from __future__ import annotations


class WiredeskError(Exception):
    retriable = False
    exit_code = 1


class RecordFailure(WiredeskError):
    """One record cannot be processed; the batch goes on without it."""


class InfrastructureError(WiredeskError):
    """The broker, a database or the network failed; retrying later can succeed."""

    retriable = True
    exit_code = 69  # EX_UNAVAILABLE


class ConfigurationError(WiredeskError):
    exit_code = 78  # EX_CONFIG
