"""Feed health: ok, degraded or failing, with the reason and since when; and "gone quiet".

Pure functions over a feed's state and a poll's outcome (seconds, Unix time), so the rules are
testable without clocks:
- failing: `failing_after` failed polls in a row (the error says why);
- degraded: fewer failures than that, or a successful poll that rejected items, or a feed that
  usually publishes and has gone quiet;
- ok: the rest.
A feed is quiet when nothing new came for `quiet_factor` times its usual gap between items, and
for at least two of its polling intervals (sooner could not have been noticed). The usual gap is
learnt from the feed's own item dates (the median gap between its newest dated items), so an
hourly wire and a weekly column each get their own measure, from the first poll.
"""

from __future__ import annotations

import dataclasses
import itertools
import statistics
from collections.abc import Iterable
from datetime import datetime

from ingest.ledger import FeedState

HEALTH_STATES = ("ok", "degraded", "failing")
_GAP_SAMPLE = 20
_MIN_DATED_ITEMS = 5


def usual_gap(dates: Iterable[datetime | None], now: float) -> float:
    """Median gap in seconds between the newest dated items (not in the future); 0 = unknown."""
    stamps = sorted({d.timestamp() for d in dates if d is not None and d.timestamp() <= now}, reverse=True)
    stamps = stamps[:_GAP_SAMPLE]
    if len(stamps) < _MIN_DATED_ITEMS:
        return 0.0
    return float(statistics.median(a - b for a, b in itertools.pairwise(stamps)))


def quiet(state: FeedState, now: float, quiet_factor: float) -> tuple[str, float]:
    """Why the feed counts as gone quiet and since when, or ("", 0) when it does not."""
    if state.usual_gap_seconds <= 0 or state.last_new_item <= 0:
        return "", 0.0
    became_quiet = state.last_new_item + max(
        quiet_factor * state.usual_gap_seconds, 2 * state.interval_seconds
    )
    if now <= became_quiet:
        return "", 0.0
    reason = (
        f"quiet: nothing new for {_duration(now - state.last_new_item)}; it usually publishes every "
        f"{_duration(state.usual_gap_seconds)}"
    )
    return reason, became_quiet


def after_success(
    state: FeedState, now: float, *, rejected: int, listed: int, quiet_factor: float
) -> FeedState:
    """The state of a successful poll (already filled in) with its health decided."""
    if rejected:
        reason = f"{rejected} of {rejected + listed} items rejected (see the log)"
        return _with_health(state, "degraded", reason, now)
    reason, since = quiet(state, now, quiet_factor)
    if reason:
        return _with_health(state, "degraded", reason, since)
    return _with_health(state, "ok", "", now)


def after_failure(state: FeedState, now: float, *, failing_after: int) -> FeedState:
    """The state of a failed poll (failures and last_error filled in) with its health decided."""
    health = "failing" if state.failures >= failing_after else "degraded"
    reason = f"{state.failures} failed poll{'s' if state.failures > 1 else ''} in a row: {state.last_error}"
    return _with_health(state, health, reason, now)


def current(state: FeedState, now: float, quiet_factor: float) -> tuple[str, str, float]:
    """(health, reason, since) as of `now`: a feed that was ok may have gone quiet since its poll."""
    if state.health == "ok":
        reason, since = quiet(state, now, quiet_factor)
        if reason:
            return "degraded", reason, since
    return state.health, state.health_reason, state.health_since


def _with_health(state: FeedState, health: str, reason: str, now: float) -> FeedState:
    since = state.health_since if state.health == health and state.health_since else now
    return dataclasses.replace(state, health=health, health_reason=reason[:500], health_since=since)


def _duration(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.1f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.1f} hours"
    if seconds >= 120:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds:.0f} seconds"


__all__ = ["HEALTH_STATES", "after_failure", "after_success", "current", "quiet", "usual_gap"]
