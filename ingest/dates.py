"""Feed dates: the shared parser's reading of the feed's string, else feedparser's own.

feedparser handles RFC 822, ISO 8601 and a dozen historical forms, but only with English month
and day names and a few zones. Real feeds localise them ("Seg, 24 Set 2018 19:42:40 -0300",
"Di, 3 Mär 2020") or use other zone abbreviations; `wiredesk.dates.parse_date` (the parser
transform uses too) reads those. It goes first because feedparser also reads some strings wrong
without saying so: a zone abbreviation it does not know counts as UTC ("10:50 SGT" is 10:50Z to
it), "02:02:33 PM" is 02:02, fractions of a second are dropped. On the feeds in ../shared the shared
parser reads every string feedparser reads, and agrees with it except in those cases; feedparser's
value is the fallback for historical forms only it knows. Returns None rather than inventing a date.
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


def entry_date(text: object, parsed: time.struct_time | None) -> datetime | None:
    """A feed entry's date from its string and feedparser's parse of it (see the module doc)."""
    if isinstance(text, str) and text.strip():
        when = parse_date(text)
        if when is not None:
            return when
    return from_struct(parsed)


__all__ = ["entry_date", "from_struct", "parse_date"]
