"""The search syntax (sinks/search_query.py) rendered as a SQLite FTS5 MATCH expression.

FTS5 has its own query language (AND/OR/NOT, NEAR(), column filters "headline:", "^", "*",
parentheses, quoted strings); raw user input in MATCH raises syntax errors on a stray quote or
"AND(" and lets users reach features we do not mean to offer. So the input is parsed into the
shared tree first, and every word reaches FTS5 as a quoted string (which the tokenizer then
splits exactly as it split the documents), joined only by operators written here.
"""

from __future__ import annotations

import unicodedata

from sinks.search_query import MAX_TERMS, SearchQuery, Term, parse_query

__all__ = ["MAX_TERMS", "fts5_query", "render_term"]


def _quoted(text: str) -> str:
    # Inside an FTS5 string a double quote is written twice; the parser never yields one, but the
    # escaping is what makes this function safe on its own.
    return '"' + text.replace('"', '""') + '"'


def _is_wide(word: str) -> bool:
    return any(unicodedata.east_asian_width(ch) in ("W", "F") and ch.isalpha() for ch in word)


def render_term(term: Term) -> str:
    # Chinese and Japanese are written without spaces, so the tokenizer keeps a whole run as
    # one token; matching a word at the start of a run needs a prefix query.
    prefix = term.prefix or (len(term.words) == 1 and _is_wide(term.words[0]))
    return _quoted(" ".join(term.words)) + ("*" if prefix else "")


def fts5_query(query: str | SearchQuery) -> str | None:
    """The MATCH expression for a user query, or None when it can match nothing."""
    parsed = parse_query(query) if isinstance(query, str) else query
    if parsed.matches_nothing:
        return None
    groups = []
    for group in parsed.groups:
        alternatives = [render_term(term) for term in group]
        groups.append(alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")")
    expression = " AND ".join(groups)
    if parsed.excluded:
        # FTS5's NOT is binary (`a NOT b`): exclusions apply to the whole positive part.
        expression = f"({expression})" + "".join(f" NOT {render_term(term)}" for term in parsed.excluded)
    return expression
