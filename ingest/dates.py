"""Feed dates: feedparser's own reading first, then the shared parser on the string it could not read.

feedparser handles RFC 822, ISO 8601 and a dozen historical forms, but only with English month
and day names and a few zones. Real feeds localise them ("Seg, 24 Set 2018 19:42:40 -0300",
"Di, 3 Mär 2020") or use other zone abbreviations; `wiredesk.dates.parse_date` (the parser
transform uses too) reads those. Returns None rather than inventing a date.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from wiredesk.dates import parse_date


def from_struct(value: time.struct_time | None) -> datetime | None:
    """feedparser's *_parsed values are UTC struct_time; out-of-range ones become None."""
    if value is None:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


__all__ = ["from_struct", "parse_date"]
