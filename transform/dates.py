"""Dates to UTC, and the ninjs `firstcreated` / `versioncreated` rules.

Sources, most to least structured: the feed's own fields (already UTC datetimes in RawItem), page
metadata strings (ISO 8601 from `article:published_time` / JSON-LD, RFC 2822 from some CMSs) and
text such as "Updated: February 18, 2022 08:20 IST" in a byline. Every parser returns an aware UTC
datetime or None: a date we cannot place on the time line is worse than no date.

Rules (see `resolve_dates`):
- firstcreated   = the earliest credible "published" candidate;
- versioncreated = the latest credible "updated/modified" candidate, else firstcreated;
- a candidate later than now + skew is not credible: it is dropped and flagged (future_date);
- a page that only says "Updated: ..." gives that date to both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Literal

DateKind = Literal["published", "updated"]

# Time-zone abbreviations seen in news bylines, as UTC offsets in minutes.
# Ambiguous abbreviations are resolved for the news-wire reading, and documented here:
#   IST  India (+05:30), not Irish (+01:00) or Israel (+02:00): by far the most common in bylines.
#   BST  British Summer Time (+01:00), not Bangladesh (+06:00).
#   CST  US Central (-06:00), not China (+08:00): Chinese outlets write "Beijing time" or +0800.
#   AST  Atlantic (-04:00), not Arabia (+03:00).
#   EST/EDT, CST/CDT, MST/MDT, PST/PDT are the North American zones.
#   ET/PT/CT/MT (no S/D) are read as the standard offsets: the text does not say which half of
#   the year, and a date off by one hour is still credible for ordering.
_TZ_MINUTES: dict[str, int] = {
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "UT": 0,
    "WET": 0,
    "BST": 60,
    "IST": 330,
    "CET": 60,
    "CEST": 120,
    "MEZ": 60,
    "MESZ": 120,
    "WEST": 60,
    "EET": 120,
    "EEST": 180,
    "MSK": 180,
    "TRT": 180,
    "EAT": 180,
    "WAT": 60,
    "CAT": 120,
    "SAST": 120,
    "AST": -240,
    "ADT": -180,
    "EST": -300,
    "EDT": -240,
    "ET": -300,
    "CST": -360,
    "CDT": -300,
    "CT": -360,
    "MST": -420,
    "MDT": -360,
    "MT": -420,
    "PST": -480,
    "PDT": -420,
    "PT": -480,
    "AKST": -540,
    "AKDT": -480,
    "HST": -600,
    "NST": -210,
    "NDT": -150,
    "PKT": 300,
    "NPT": 345,
    "BDT": 360,
    "ICT": 420,
    "WIB": 420,
    "SGT": 480,
    "HKT": 480,
    "PHT": 480,
    "MYT": 480,
    "AWST": 480,
    "JST": 540,
    "KST": 540,
    "ACST": 570,
    "AEST": 600,
    "AEDT": 660,
    "NZST": 720,
    "NZDT": 780,
    "GST": 240,
    "IRST": 210,
    "AFT": 270,
    "UZT": 300,
}

_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        ("january", "jan", "januar", "janvier", "enero", "janeiro", "gennaio"),
        ("february", "feb", "februar", "février", "fevrier", "febrero", "fevereiro", "febbraio"),
        ("march", "mar", "märz", "maerz", "mars", "marzo", "março", "marco"),
        ("april", "apr", "avril", "abril", "aprile"),
        ("may", "mai", "mayo", "maio", "maggio"),
        ("june", "jun", "juni", "juin", "junio", "junho", "giugno"),
        ("july", "jul", "juli", "juillet", "julio", "julho", "luglio"),
        ("august", "aug", "août", "aout", "agosto"),
        ("september", "sep", "sept", "septembre", "septiembre", "setembro", "settembre"),
        ("october", "oct", "okt", "oktober", "octobre", "octubre", "outubro", "ottobre"),
        ("november", "nov", "novembre", "noviembre", "novembro"),
        ("december", "dec", "dez", "dezember", "décembre", "decembre", "diciembre", "dezembro", "dicembre"),
    ),
    start=1,
):
    for _name in _names:
        _MONTHS[_name] = _number

_MONTH_RE = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))
_TZ_RE = "|".join(sorted(_TZ_MINUTES, key=len, reverse=True))
_TIME = (
    r"(?P<hour>\d{1,2})[:.h](?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*(?P<ampm>[ap]\.?m\.?)?"
    r"(?:\s*(?:\(?(?P<tz>" + _TZ_RE + r")\)?\b|(?P<off>(?:UTC|GMT)?\s?[+-]\d{1,2}(?::?\d{2})?)))?"
)
# "February 18, 2022 08:20 IST", "Feb. 18, 2022, 8:20 a.m. EST", "Fri, Feb 18 2022 8:20 AM"
_MDY = re.compile(
    r"\b(?P<month>" + _MONTH_RE + r")\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})"
    r"(?:(?:,|\s+at|\s*[|-])?\s*" + _TIME + r")?",
    re.IGNORECASE,
)
# "18 February 2022 08:20 GMT", "18. Februar 2022, 08:20 Uhr"
_DMY = re.compile(
    r"\b(?P<day>\d{1,2})(?:st|nd|rd|th|\.)?\s+(?:de\s+)?(?P<month>" + _MONTH_RE + r")\.?,?\s+(?:de\s+)?"
    r"(?P<year>\d{4})(?:(?:,|\s+at|\s+um|\s+às|\s*[|-])?\s*" + _TIME + r")?",
    re.IGNORECASE,
)
# "2022-02-18 08:20 IST", "2022/02/18 08:20"
_YMD = re.compile(
    r"\b(?P<year>\d{4})[-/](?P<month>\d{1,2})[-/](?P<day>\d{1,2})(?:[ T]" + _TIME + r")?",
    re.IGNORECASE,
)
# The word in front of a date says what kind of date it is.
_LABEL = re.compile(
    r"(?P<label>updated|last\s+updated|modified|last\s+modified|aktualisiert|actualizado|atualizado"
    r"|mis\s+à\s+jour|published|first\s+published|posted|publicado|veröffentlicht|publié|created)"
    r"\s*(?:on|at|am|em|le|el)?\s*:?\s*$",
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


def _offset(tz: str | None, off: str | None) -> timezone:
    if tz:
        return timezone(timedelta(minutes=_TZ_MINUTES[tz.upper()]))
    if off:
        digits = off.upper().replace("UTC", "").replace("GMT", "").replace(":", "").strip()
        sign = -1 if digits.startswith("-") else 1
        digits = digits.lstrip("+-").strip()
        hours, minutes = (digits[:-2], digits[-2:]) if len(digits) > 2 else (digits, "0")
        return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
    # No zone in the text: UTC is the least-wrong guess for wire copy (documented assumption).
    return UTC


def _from_match(m: re.Match[str]) -> datetime | None:
    groups = m.groupdict()
    month_text = groups["month"]
    month = int(month_text) if month_text.isdigit() else _MONTHS.get(month_text.lower().rstrip("."), 0)
    try:
        year, day = int(groups["year"]), int(groups["day"])
        hour = int(groups["hour"] or 0)
        minute = int(groups["minute"] or 0)
        second = int(groups["second"] or 0)
        ampm = (groups["ampm"] or "").lower().replace(".", "")
        if ampm == "pm" and hour < 12:
            hour += 12
        elif ampm == "am" and hour == 12:
            hour = 0
        local = datetime(year, month, day, hour, minute, second, tzinfo=_offset(groups["tz"], groups["off"]))
    except (ValueError, TypeError, KeyError):
        return None
    if not 1900 <= year <= 2200:
        return None
    return local.astimezone(UTC)


def parse_date(value: str) -> datetime | None:
    """A metadata or text date string as an aware UTC datetime, or None if it cannot be placed.

    Accepts ISO 8601 (with or without zone; 'Z'), RFC 2822, and the human forms wire bylines use.
    A string without a zone is read as UTC.
    """
    text = value.strip()
    if not text:
        return None
    iso = _parse_iso(text)
    if iso is not None:
        return iso
    if re.match(r"^[A-Za-z]{3},?\s+\d", text) or re.search(r"\d{2}:\d{2}(:\d{2})?\s+[+-]\d{4}$", text):
        try:
            rfc = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            rfc = None
        if rfc is not None:
            return (rfc if rfc.tzinfo else rfc.replace(tzinfo=UTC)).astimezone(UTC)
    for pattern in (_MDY, _DMY, _YMD):
        m = pattern.search(text)
        if m:
            return _from_match(m)
    return None


def _parse_iso(text: str) -> datetime | None:
    if not re.match(r"^\d{4}-\d{2}-\d{2}", text):
        return None
    candidate = text.replace(" ", "T", 1) if re.match(r"^\d{4}-\d{2}-\d{2} \d", text) else text
    # Python 3.11 fromisoformat accepts 'Z' and most ISO forms; fractional seconds of odd length
    # and "+0530" offsets are normalised first.
    candidate = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", candidate)
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        m = _YMD.match(text)
        return _from_match(m) if m else None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def dates_in_text(text: str) -> list[DateCandidate]:
    """Dates written out in a byline or dateline, each labelled by the word before it.

    "By ANI | Updated: February 18, 2022 08:20 IST" gives one "updated" candidate; an unlabelled
    date counts as "published" (a byline date is the publication date unless it says otherwise).
    """
    found: list[DateCandidate] = []
    taken: list[tuple[int, int]] = []
    for pattern in (_MDY, _DMY, _YMD):
        for m in pattern.finditer(text):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            when = _from_match(m)
            if when is None:
                continue
            taken.append((m.start(), m.end()))
            before = text[max(0, m.start() - 40) : m.start()]
            label = _LABEL.search(before)
            kind: DateKind = "published"
            if label and any(w in label.group("label").lower() for w in _UPDATED_WORDS):
                kind = "updated"
            found.append(DateCandidate(when, kind, "text"))
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
