"""Politeness per host: how many fetches at once, how soon after the last one, and Retry-After.

Many agency feeds share one host; polling them as independent feeds would hit that host with
bursts. The gate is asked before a feed is fetched (`try_start`), never waited on: a feed whose
host is busy stays due and is taken when the host is free, so one slow host never holds the
workers other hosts need. The dispatcher also passes `busy()` to its claim, so feeds of busy
hosts are not even claimed. A 429, or a 503 with Retry-After, holds the whole host, not only the
feed that got it. Limits are per replica (each replica keeps its own gate).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Host:
    in_flight: int = 0
    last_start: float = float("-inf")
    held_until: float = float("-inf")


class HostGate:
    """Thread-safe. Hosts are plain strings ("" = a local file: never limited)."""

    def __init__(
        self,
        per_host: int,
        min_delay_seconds: float,
        *,
        max_hold_seconds: float = 6 * 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_host = per_host
        self.min_delay = min_delay_seconds
        self.max_hold = max_hold_seconds
        self._clock = clock
        self._hosts: dict[str, _Host] = {}
        self._lock = threading.Lock()

    def try_start(self, host: str) -> bool:
        """Count a fetch to `host` as started if the host allows one now."""
        if not host:
            return True
        with self._lock:
            now = self._clock()
            entry = self._hosts.setdefault(host, _Host())
            if not self._free(entry, now):
                return False
            entry.in_flight += 1
            entry.last_start = now
            return True

    def done(self, host: str) -> None:
        if not host:
            return
        with self._lock:
            entry = self._hosts.get(host)
            if entry is not None:
                entry.in_flight = max(0, entry.in_flight - 1)
                self._forget_if_idle(host, entry, self._clock())

    def hold(self, host: str, seconds: float) -> float:
        """No fetch to `host` for `seconds` (its Retry-After), capped; returns the hold applied."""
        if not host or seconds <= 0:
            return 0.0
        seconds = min(seconds, self.max_hold)
        with self._lock:
            entry = self._hosts.setdefault(host, _Host())
            entry.held_until = max(entry.held_until, self._clock() + seconds)
        return seconds

    def busy(self) -> list[str]:
        """Hosts that cannot take a fetch now."""
        with self._lock:
            now = self._clock()
            busy = []
            for host, entry in list(self._hosts.items()):
                if self._free(entry, now):
                    self._forget_if_idle(host, entry, now)
                else:
                    busy.append(host)
            return busy

    def reason(self, host: str) -> str:
        """Why `host` is busy: "concurrency", "delay" or "retry_after" ("" when free)."""
        with self._lock:
            entry = self._hosts.get(host)
            now = self._clock()
            if entry is None or self._free(entry, now):
                return ""
            if entry.held_until > now:
                return "retry_after"
            return "concurrency" if entry.in_flight >= self.per_host else "delay"

    def _free(self, entry: _Host, now: float) -> bool:
        return (
            entry.in_flight < self.per_host
            and now >= entry.last_start + self.min_delay
            and now >= entry.held_until
        )

    def _forget_if_idle(self, host: str, entry: _Host, now: float) -> None:
        # Bounded memory: a host with nothing in flight and no delay or hold pending is forgotten.
        if entry.in_flight == 0 and now >= entry.last_start + self.min_delay and now >= entry.held_until:
            del self._hosts[host]


__all__ = ["HostGate"]
