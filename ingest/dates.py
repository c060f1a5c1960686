"""Fallback parsing of feed dates that feedparser could not read.

feedparser handles RFC 822, ISO 8601 and a dozen historical forms, but only with English month
and day names. Real feeds localise them ("Seg, 24 Set 2018 19:42:40 -0300", "Di, 3 Mär 2020"),
and some drop the zone. This module reads what it can: month names in the major European
languages, numeric dates, a time, a numeric offset or a common zone abbreviation.

A date without any zone is taken as UTC: the feed gives no better evidence, and guessing the
publisher's zone from its language would be wrong as often as right. Returns None rather than
inventing a date.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

# Month names and abbreviations (lowercase, accents kept and stripped) in en, de, fr, es, pt, it,
# nl, plus the 3-letter stems most feeds use. A later language never overrides an earlier
# meaning; none of these collide across languages.
_MONTHS: dict[str, int] = {}
_MONTH_NAMES = [
    ("january jan januar janv janvier enero ene janeiro gennaio gen januari jän jänner", 1),
    ("february feb februar févr fevr février fevrier febrero fevereiro fev febbraio februari", 2),
    ("march mar mär märz maerz marz mrz mars marzo março marco maart mrt", 3),
    ("april apr avr avril abril abr aprile", 4),
    ("may mai mayo maio maggio mag mei", 5),
    ("june jun juni juin junio junho giugno giu", 6),
    ("july jul juli juil juillet julio julho luglio lug", 7),
    ("august aug août aout agosto ago augustus", 8),
    ("september sep sept septembre septiembre setiembre setembro settembre set", 9),
    ("october oct oktober okt octobre octubre outubro out ottobre ott", 10),
    ("november nov novembre noviembre novembro", 11),
    ("december dec dezember dez déc decembre décembre diciembre dic dezembro dicembre", 12),
]
for _names, _number in _MONTH_NAMES:
    for _name in _names.split():
        _MONTHS.setdefault(_name, _number)

# Zone abbreviations that are unambiguous enough to trust; anything else is ignored (→ UTC).
_ZONES: dict[str, int] = {
    "z": 0, "ut": 0, "utc": 0, "gmt": 0, "wet": 0,
    "bst": 60, "cet": 60, "mez": 60, "west": 60,
    "cest": 120, "mesz": 120, "eet": 120, "eest": 180, "msk": 180,
    "ist": 330,
    "edt": -240, "est": -300, "cdt": -300, "cst": -360, "mdt": -360, "mst": -420,
    "pdt": -420, "pst": -480, "akst": -540, "akdt": -480, "hst": -600,
    "aest": 600, "aedt": 660, "jst": 540, "kst": 540, "brt": -180,
}  # fmt: skip

_TIME = re.compile(r"(?<!\d)(\d{1,2}):(\d{2})(?::(\d{2}))?(?:[.,]\d+)?(?:\s*([ap])\.?m\.?)?", re.I)
_OFFSET = re.compile(r"(?:^|[\s\d])([+-])(\d{2}):?(\d{2})(?!\d)")
_YMD = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_DMY = re.compile(r"(?<!\d)(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?!\d)")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_NUMBER = re.compile(r"(?<![\d:+-])(\d{1,4})(?![\d:])")


def from_struct(value: time.struct_time | None) -> datetime | None:
    """feedparser's *_parsed values are UTC struct_time; out-of-range ones become None."""
    if value is None:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def parse_date(raw: str) -> datetime | None:
    """Best-effort UTC datetime from a feed date string feedparser could not read."""
    text = " ".join(raw.split())
    if not text or len(text) > 100:
        return None
    iso = _iso(text)
    if iso is not None:
        return iso
    lowered = text.lower()
    hour = minute = second = 0
    time_match = _TIME.search(lowered)
    rest = lowered
    if time_match:
        hour, minute = int(time_match.group(1)), int(time_match.group(2))
        second = int(time_match.group(3) or 0)
        meridiem = time_match.group(4)
        if meridiem == "p" and hour < 12:
            hour += 12
        elif meridiem == "a" and hour == 12:
            hour = 0
        rest = lowered[: time_match.start()] + " " + lowered[time_match.end() :]
    offset_minutes = 0
    offset_match = _OFFSET.search(rest)
    if offset_match:
        sign = -1 if offset_match.group(1) == "-" else 1
        offset_minutes = sign * (int(offset_match.group(2)) * 60 + int(offset_match.group(3)))
        rest = rest[: offset_match.start(1)] + " " + rest[offset_match.end() :]
    ymd = _date_parts(rest)
    if ymd is None:
        return None
    if not offset_match:
        for word in _WORD.findall(rest):
            if word in _ZONES:
                offset_minutes = _ZONES[word]
                break
    year, month, day = ymd
    try:
        local = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None
    return local - timedelta(minutes=offset_minutes)


def _iso(text: str) -> datetime | None:
    if not text[:4].isdigit():
        return None
    try:
        parsed = datetime.fromisoformat(text.replace(" UTC", "Z"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _date_parts(text: str) -> tuple[int, int, int] | None:
    match = _YMD.search(text)
    if match:
        return int(match.group(1)), int(match.group(2)), int(match.group(3))
    match = _DMY.search(text)
    if match:
        first, second, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
        # Day first unless that is impossible: most of the world writes D/M/Y; US M/D/Y shows
        # itself only when the day is above 12. Ambiguous dates are read day first.
        if first <= 12 < second:
            return year, first, second
        return year, second, first
    # Month by name: the last name that is a month wins, because weekday names come first and
    # some weekday abbreviations spell months in another language ("mar" = Tuesday in French).
    month = None
    for word in _WORD.findall(text):
        key = word.rstrip(".")
        number = _MONTHS.get(key)
        if number is None and len(key) > 3:
            number = _MONTHS.get(key[:3]) if key[:3] in _MONTHS else None
        if number is not None:
            month = number
    if month is None:
        return None
    numbers = [int(n) for n in _NUMBER.findall(text)]
    years = [n for n in numbers if n >= 1000]
    days = [n for n in numbers if 1 <= n <= 31]
    if not years:
        # Two-digit years (RFC 822 allows them): the last small number after the day.
        if len(days) >= 2:
            year = days[-1] + (2000 if days[-1] < 70 else 1900)
            days = days[:-1]
        else:
            return None
    else:
        year = years[0]
    if not days:
        return None
    return year, month, days[0]


__all__ = ["from_struct", "parse_date"]
