"""The one search syntax every backend follows, parsed once into a small tree.

    lavrov blinken          both words (AND is implied; writing AND changes nothing)
    "foreign minister"      these words, in this order
    blinken OR moscow       either; OR binds tighter than the implied AND:
                            `lavrov blinken OR moscow` is lavrov AND (blinken OR moscow)
    -blinken, NOT blinken   leave out articles with the word (or -"a phrase")
    harv*                   words that start with "harv"

Operators are recognised in capitals only (`or`, `not` are words). Anything else, punctuation,
parentheses, a field name, is not syntax: any input is a valid query and never an error. A query
of exclusions only matches nothing. Case and accents do not matter, and words are stemmed the
same way in the query as in the articles. This is the syntax of web search engines and of
PostgreSQL's websearch_to_tsquery, plus prefixes and NOT; each backend renders the parsed tree in
its own language (sinks/fts_query.py for SQLite FTS5, sinks/postgres.py for PostgreSQL tsquery),
so that both answer the same question.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Enough for any real query; bounds the work a pasted article could cause.
MAX_TERMS = 32

_WORD = re.compile(r"\w+")
# One token: an optional exclusion mark, then a "phrase" (an unclosed quote runs to the end),
# or a word possibly joined by inner hyphens, apostrophes or dots (Jean-Pierre, O'Brien, U.S.)
# and possibly followed by * (prefix). A '-' counts as exclusion only at the start of a token.
_TOKEN = re.compile(r"""(?:(?<!\S)(-))?(?:"([^"]*)"?|(\w+(?:['’.-]\w+)*)(\*)?)""")
_OPERATORS = frozenset({"AND", "OR", "NOT"})


@dataclass(frozen=True, slots=True)
class Term:
    """One word, or a phrase of several words in order; `prefix` for `word*`."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """Every group must match, a group when any of its terms does; no excluded term may."""

    groups: tuple[tuple[Term, ...], ...] = ()
    excluded: tuple[Term, ...] = ()

    @property
    def matches_nothing(self) -> bool:
        return not self.groups


def parse_query(text: str) -> SearchQuery:
    """Parse any user input; see the module docstring for the syntax."""
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    join_next = False  # the previous token was OR
    negate_next = False  # the previous token was NOT
    count = 0
    for match in _TOKEN.finditer(unicodedata.normalize("NFKC", text)):
        minus, phrase, word, star = match.groups()
        if word in _OPERATORS and not minus:
            join_next = word == "OR" and bool(groups)
            negate_next = word == "NOT"
            continue
        words = tuple(_WORD.findall(phrase if phrase is not None else word or ""))
        if not words:
            continue
        term = Term(words, prefix=bool(star) and len(words) == 1)
        if minus or negate_next:
            excluded.append(term)
        elif join_next:
            groups[-1].append(term)
        else:
            groups.append([term])
        join_next = negate_next = False
        count += 1
        if count >= MAX_TERMS:
            break
    return SearchQuery(tuple(tuple(group) for group in groups), tuple(excluded))
