"""When to poll each feed next: adaptive intervals, publisher hints and failure backoff.

Pure functions over numbers (seconds), so the policy is testable without clocks or networks.

- Success with new or changed items → the interval shrinks (x0.5); success with nothing new or a
  304 → it grows (x1.5). Always within `[min_interval_seconds, max_interval_seconds]`.
- A feed with `interval_seconds` in the registry keeps that interval: the operator chose it.
- Publisher hints are lower bounds: RSS `<ttl>`, `<sy:updatePeriod>`, `Cache-Control: max-age`
  and `Retry-After`. They cannot push past `max_interval_seconds` (a feed claiming a week-long ttl
  still gets looked at), except Retry-After, which is the server asking us to stay away.
- Failures → exponential backoff from the current interval, doubling per consecutive failure,
  with ±20 % jitter so feeds that failed together do not retry in lockstep, capped at
  `max_backoff_seconds`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from wiredesk.settings import IngestSettings

_MAX_AGE = re.compile(r"(?:^|[,\s])(?:s-)?max-age\s*=\s*\"?(\d+)", re.I)
_SHRINK = 0.5
_GROW = 1.5
_JITTER = 0.2


@dataclass(frozen=True, slots=True)
class Hints:
    """Lower bounds on the next interval that the publisher or server gave, in seconds."""

    ttl_seconds: float | None = None
    max_age_seconds: float | None = None
    retry_after_seconds: float | None = None


def max_age(headers: Mapping[str, str]) -> float | None:
    """Cache-Control max-age in seconds; None when absent or when caching is forbidden."""
    value = headers.get("cache-control", "")
    if not value or "no-store" in value.lower():
        return None
    match = _MAX_AGE.search(value)
    return float(match.group(1)) if match else None


def start_interval(configured: float | None, settings: IngestSettings) -> float:
    """The interval a feed starts with (and keeps, when the registry sets one)."""
    if configured:
        return configured
    return _clamp(settings.default_interval_seconds, settings)


def next_interval(
    current: float,
    *,
    changed: int,
    configured: float | None,
    hints: Hints,
    settings: IngestSettings,
) -> float:
    """Interval after a successful poll that found `changed` new or changed items."""
    if configured:
        interval = configured
    else:
        base = current if current > 0 else start_interval(None, settings)
        interval = _clamp(base * (_SHRINK if changed > 0 else _GROW), settings)
    hint = max((h for h in (hints.ttl_seconds, hints.max_age_seconds) if h), default=0.0)
    interval = max(interval, min(hint, settings.max_interval_seconds))
    if hints.retry_after_seconds:
        interval = max(interval, hints.retry_after_seconds)
    return interval


def backoff_delay(
    failures: int,
    interval: float,
    *,
    retry_after: float | None,
    settings: IngestSettings,
    rng: random.Random | None = None,
) -> float:
    """Delay before retrying a feed that has now failed `failures` times in a row (≥ 1)."""
    base = max(interval, settings.min_interval_seconds)
    exponent = min(max(failures - 1, 0), 30)  # 2**30 x any interval is past every cap anyway
    delay = min(base * (2.0**exponent), settings.max_backoff_seconds)
    jitter = (rng or random).uniform(1 - _JITTER, 1 + _JITTER)
    delay = min(delay * jitter, settings.max_backoff_seconds)
    if retry_after:
        delay = max(delay, retry_after)
    return delay


def stretch_for(lag: int, max_lag: int, max_stretch: float) -> float:
    """How much to stretch polling intervals when transform is `lag` messages behind.

    1 (no stretch) up to `max_lag`; past it, 1 + lag / max_lag (at least 2: crossing the bound
    halves the polling rate at once), capped at `max_stretch`. `max_lag` 0 turns it off.
    """
    if max_lag <= 0 or lag <= max_lag:
        return 1.0
    return min(max_stretch, 1.0 + lag / max_lag)


def due(next_due: Mapping[str, float], now: float, feed_ids: Iterable[str]) -> list[str]:
    """Feed ids whose next due time has come, most overdue first (never polled = due)."""
    ready = [(next_due.get(fid, 0.0), fid) for fid in feed_ids if next_due.get(fid, 0.0) <= now]
    return [fid for _, fid in sorted(ready)]


def _clamp(value: float, settings: IngestSettings) -> float:
    return min(max(value, settings.min_interval_seconds), settings.max_interval_seconds)


__all__ = ["Hints", "backoff_delay", "due", "max_age", "next_interval", "start_interval", "stretch_for"]
