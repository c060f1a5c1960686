"""The ninjs `firstcreated` / `versioncreated` rules over dates found for one article.

Sources, most to least structured: the feed's own fields (already UTC datetimes in RawItem), page
metadata strings (ISO 8601 from `article:published_time` / JSON-LD, RFC 2822 from some CMSs) and
text such as "Updated: February 18, 2022 08:20 IST" in a byline. Strings are read by the shared
parser (`wiredesk.dates`, re-exported here as `parse_date`), the same one ingest uses; what this
module adds is transform's: the label before a byline date, and the resolution rules.

Rules (see `resolve_dates`):
- firstcreated   = the earliest credible "published" candidate;
- versioncreated = the latest credible "updated/modified" candidate, else firstcreated;
- a candidate later than now + skew is not credible: it is dropped and flagged (future_date);
- a page that only says "Updated: ..." gives that date to both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from wiredesk.dates import find_dates, parse_date

DateKind = Literal["published", "updated"]

# The word in front of a date says what kind of date it is; a weekday may stand between them
# ("Updated: Friday, February 18", "Aktualisiert: Di, 3 Mär"), and is not part of the date found.
_LABEL = re.compile(
    r"(?P<label>updated|last\s+updated|modified|last\s+modified|aktualisiert|actualizado|atualizado"
    r"|mis\s+à\s+jour|published|first\s+published|posted|publicado|veröffentlicht|publié|created)"
    r"\s*(?:on|at|am|em|le|el)?\s*:?\s*(?:[^\W\d_]{2,10}\.?,?\s*)?$",
    re.IGNORECASE,
)
_UPDATED_WORDS = ("updat", "modif", "aktualis", "actualiz", "atualiz", "mis à jour")


@dataclass(frozen=True, slots=True)
class DateCandidate:
    """One date found somewhere, with what it claims to be and where it came from."""

    when: datetime
    kind: DateKind
    source: str  # "feed", "meta", "jsonld", "text": for debugging and tests


@dataclass(frozen=True, slots=True)
class ResolvedDates:
    firstcreated: datetime | None
    versioncreated: datetime | None
    future_date: bool  # some candidate lay beyond now + skew and was ignored
    missing_date: bool  # no credible date at all


def dates_in_text(text: str) -> list[DateCandidate]:
    """Dates written out in a byline or dateline, each labelled by the word before it.

    "By ANI | Updated: February 18, 2022 08:20 IST" gives one "updated" candidate; an unlabelled
    date counts as "published" (a byline date is the publication date unless it says otherwise).
    """
    found: list[DateCandidate] = []
    for date in find_dates(text):
        before = text[max(0, date.start - 40) : date.start]
        label = _LABEL.search(before)
        kind: DateKind = "published"
        if label and any(w in label.group("label").lower() for w in _UPDATED_WORDS):
            kind = "updated"
        found.append(DateCandidate(date.when, kind, "text"))
    return found


def resolve_dates(
    candidates: list[DateCandidate], *, now: datetime, future_skew_seconds: int = 900
) -> ResolvedDates:
    """Apply the firstcreated/versioncreated rules to every date found for one article."""
    limit = now.astimezone(UTC) + timedelta(seconds=future_skew_seconds)
    credible = [c for c in candidates if c.when <= limit]
    future = len(credible) < len(candidates)
    published = [c.when for c in credible if c.kind == "published"]
    updated = [c.when for c in credible if c.kind == "updated"]
    first = min(published) if published else (min(updated) if updated else None)
    version = max(updated) if updated else first
    if first is not None and version is not None and version < first:
        # An "updated" stamp before the publication date is a CMS artefact; the story cannot have
        # changed before it existed.
        version = first
    return ResolvedDates(first, version, future, first is None)


__all__ = ["DateCandidate", "DateKind", "ResolvedDates", "dates_in_text", "parse_date", "resolve_dates"]
