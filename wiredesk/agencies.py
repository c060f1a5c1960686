"""News agencies: the one list (agencies.tsv) every stage names, finds and checks agencies by.

ingest applies the canonical spelling to a feed's `agency` hint; transform's attribution and its
boilerplate rules (credit lines, datelines, closing credits) build their patterns from `PATTERN`.
A spelling of capitals (or "dpa"), or of three letters or fewer, matches case-sensitively in copy,
so "Apple", "UNICEF" or "cp" never count as AP, UNI or CP; longer spellings match ignoring case;
spaces and hyphens are interchangeable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from wiredesk.wordlists import read_table

AGENCIES_FILE = Path(__file__).resolve().parent / "agencies.tsv"


@dataclass(frozen=True, slots=True)
class Agency:
    name: str  # canonical, as Article.wiredesk.agency carries it
    aliases: tuple[str, ...]  # every spelling copy credits it by, the name first


def _key(text: str) -> str:
    return " ".join(re.split(r"[\s-]+", text.strip())).casefold()


def alias_pattern(alias: str) -> str:
    """The regular expression (no groups, no boundaries) that finds `alias` in copy."""
    escaped = re.escape(alias).replace(r"\ ", r"\s+").replace(r"\-", r"(?:-|\s+)")
    case_sensitive = alias.isupper() or alias == "dpa" or len(alias) <= 3
    return escaped if case_sensitive else f"(?i:{escaped})"


def load_agencies(path: Path = AGENCIES_FILE) -> tuple[Agency, ...]:
    """The agencies of a table file; a spelling of two agencies (up to case, spaces, hyphens) is an error.

    One agency may list case variants ("DPA" and "dpa": short spellings match case-sensitively).
    """
    agencies = tuple(Agency(name=row[0], aliases=row) for row in read_table(path))
    owner: dict[str, str] = {}
    for agency in agencies:
        for alias in agency.aliases:
            other = owner.setdefault(_key(alias), agency.name)
            if other != agency.name:
                raise ValueError(f"{path}: {alias!r} of {agency.name} is already a spelling of {other}")
    return agencies


AGENCIES = load_agencies()
_NAME_BY_KEY = {_key(alias): agency.name for agency in AGENCIES for alias in agency.aliases}
# (alias, canonical name), longest first: "Associated Press of Pakistan" is APP, not AP.
ALIASES = tuple(
    sorted(((a, agency.name) for agency in AGENCIES for a in agency.aliases), key=lambda p: -len(p[0]))
)
# One alternation of every alias, longest first, for rules to embed between their own boundaries.
PATTERN = "|".join(alias_pattern(alias) for alias, _ in ALIASES)


def canonical_agency(text: str) -> str | None:
    """The canonical name when `text` is one of the spellings (any case), else None."""
    return _NAME_BY_KEY.get(_key(text))
