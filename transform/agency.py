"""Which news agency a story came from, who the byline names, and where it was datelined.

Evidence is taken only from places where a publisher *credits* a source: credit lines ("( With
inputs from ANI )"), the agency in a dateline's parentheses ("LONDON, Feb 18 (Reuters) -"), the
byline ("By ANI | Updated: ..."), feed/page authors, and a short closing credit paragraph ("-- AFP").
Body text is never searched: a story *about* Reuters, or a quote mentioning AFP, is not a credit.
The agencies and their spellings are the core's one list (wiredesk/agencies.tsv); short acronyms
(AP, PA, CP, UNI) are matched case-sensitively as whole tokens, so "Apple", "UNICEF", "PAkistan"
or "cp" never count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from wiredesk import agencies

# Token boundaries exclude letters, digits and hyphens so that "AP" inside "AP-NORC" or "APPLE"
# never counts; the spellings and how each is matched come from the one agency list.
_ANY_AGENCY = re.compile(r"(?<![\w-])(?:" + agencies.PATTERN + r")(?![\w-])")

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_DASH = r"(?:-{1,2}|—|–|:)"
# "NEW DELHI, Feb 18 (Reuters) -", "Moscow [Russia], February 18 (ANI):", "WASHINGTON (AP) —",
# "NAIROBI, Kenya (AP) —", "PARIS, 18 February (AFP) -", "NEW DELHI: ...". The place is what stands
# before the first comma, bracket or parenthesis; a state or country after a comma (AP style) is
# part of the dateline but not of `located`.
_DATELINE = re.compile(
    r"^\s*(?P<place>[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3})"
    r"(?:\s*\[[^\]]{2,40}\])?"
    r"(?:,\s*(?!" + _MONTH + r"\s+\d)[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,2}(?=\s*[(,]))?"
    r"(?P<date>,\s*(?:" + _MONTH + r"\s+\d{1,2}|\d{1,2}\s+" + _MONTH + r")(?:,?\s+\d{4})?)?"
    # PTI and IANS put no dash after the credit: "NEW DELHI, Feb 18 (PTI) The government ..."
    r"\s*(?:\((?P<agency>[^()]{2,40})\)\s*(?:" + _DASH + r"\s|(?P<nodash>(?=[A-Z\"“‘'])))|" + _DASH + r"\s)"
)
_CREDIT_HINT = re.compile(
    r"(?i)\b(?:with\s+inputs?\s+from|inputs?\s+from|source|sources|via|courtesy|copyright|©"
    r"|reporting\s+by|written\s+by|compiled\s+by|by)\b"
)
_BYLINE_CUT = re.compile(
    r"(?i)\s*(?:\||•|·|\bupdated\b|\bpublished\b|\bposted\b|\blast\s+updated\b|\bfirst\s+published\b"
    r"|\bon\s+(?:mon|tue|wed|thu|fri|sat|sun)|\b"
    + _MONTH
    + r"\s+\d{1,2}\b|\b\d{1,2}\s+"
    + _MONTH
    + r"|\d{4}-\d{2}-\d{2})"
)


@dataclass(frozen=True, slots=True)
class Attribution:
    agency: str = ""
    byline: str = ""
    located: str = ""


def agencies_in(text: str) -> list[str]:
    """Canonical agency names credited in a short credit-like string, in order of appearance."""
    names: list[str] = []
    for m in _ANY_AGENCY.finditer(text):
        name = agencies.canonical_agency(m.group())
        if name is not None and name not in names:
            names.append(name)
    return names


def parse_dateline(text: str) -> tuple[str, str]:
    """(place, agency) from a dateline at the start of `text`; empty strings when there is none.

    Without an agency in parentheses, only an all-caps place counts ("NEW DELHI: ..."), because a
    mixed-case word before a colon is far more often an ordinary sentence ("Tensions: ...").
    """
    m = _DATELINE.match(text[:200])
    if not m:
        return "", ""
    place = m.group("place").strip(" ,")
    agency_text = m.group("agency")
    has_date = m.group("date") is not None
    if agency_text is not None:
        agencies = agencies_in(agency_text)
        if m.group("nodash") is not None and not agencies:
            return "", ""  # without a dash only a known agency makes "Place (X) Text" a dateline
        # "WASHINGTON (CNN) —" is still a dateline; "Apple (AAPL) -" or "Obama (pictured) -" is not.
        if not agencies and not (place.isupper() or has_date):
            return "", ""
        return _place_case(place), agencies[0] if agencies else ""
    if (place.isupper() and len(place) >= 3) or has_date:
        return _place_case(place), ""
    return "", ""


def _place_case(place: str) -> str:
    # Datelines shout ("NEW DELHI"); ninjs `located` is a name, so all-caps is title-cased.
    return place.title() if place.isupper() else place


def parse_byline(byline_text: str) -> str:
    """The names a byline credits: "By ANI | Updated: February 18, 2022 08:20 IST" -> "ANI"."""
    text = byline_text.strip()
    cut = _BYLINE_CUT.search(text)
    if cut and cut.start() > 0:
        text = text[: cut.start()]
    elif cut:
        text = ""
    text = re.sub(r"(?i)^\s*(?:by|von|por|par|di|door)\s+", "", text)
    return text.strip(" ,;:-—–|")


def _is_credit_paragraph(paragraph: str) -> bool:
    """A closing paragraph that only credits a source: "(With inputs from PTI)", "-- AFP", "IANS"."""
    stripped = paragraph.strip(" ()[]-—–.")
    if not stripped or len(paragraph) > 120:
        return False
    if _ANY_AGENCY.fullmatch(stripped):
        return True
    return bool(_CREDIT_HINT.search(paragraph)) and bool(_ANY_AGENCY.search(paragraph))


def attribute(
    *,
    byline_text: str = "",
    credit_lines: Sequence[str] = (),
    dateline_text: str = "",
    authors: Iterable[str] = (),
    paragraphs: Sequence[str] = (),
) -> Attribution:
    """Agency, byline and dateline place for one article, preferring explicit credits.

    Precedence for the agency: credit lines, the dateline's parentheses, the byline, authors, a
    closing credit paragraph. The first agency found in the strongest source wins.
    """
    place, dateline_agency = parse_dateline(dateline_text) if dateline_text else ("", "")
    if not place and paragraphs:
        place, lead_agency = parse_dateline(paragraphs[0])
        dateline_agency = dateline_agency or lead_agency
    byline = parse_byline(byline_text) if byline_text else ""
    author_list = [a.strip() for a in authors if a and a.strip()]
    if not byline and author_list:
        byline = ", ".join(dict.fromkeys(parse_byline(a) or a for a in author_list))

    sources: list[list[str]] = [
        [n for line in credit_lines for n in agencies_in(line)],
        [dateline_agency] if dateline_agency else [],
        agencies_in(byline) if byline else [],
        [n for a in author_list for n in agencies_in(a)],
        [n for p in paragraphs[-2:] if _is_credit_paragraph(p) for n in agencies_in(p)],
    ]
    agency = next((names[0] for names in sources if names), "")
    return Attribution(agency=agency, byline=byline, located=place)
