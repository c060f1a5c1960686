"""Turning arbitrary user input into safe SQLite FTS5 MATCH expressions.

FTS5 has its own query language (AND/OR/NOT, NEAR(), column filters "headline:", "^", "*",
parentheses, quoted strings); raw user input in MATCH raises syntax errors on a stray quote or
"AND(" and lets users reach features we do not mean to offer. So the input is reduced to words,
each word is emitted as a quoted FTS5 string (which the tokenizer then splits exactly as it split
the documents), and only three features are rebuilt on top: "quoted phrases", a trailing `*`
for prefix search, and implicit AND with an OR fallback.
"""

from __future__ import annotations

import re
import unicodedata

# Word characters as Python sees them, after NFKC (so decomposed accents join their letter).
_WORD = re.compile(r"\w+", re.UNICODE)
# A "quoted phrase", or a single word possibly followed by * (prefix search).
_PIECE = re.compile(r'"([^"]*)"|(\w+)(\*)?', re.UNICODE)
# Enough for any real query; bounds the work a pasted article could cause.
MAX_TERMS = 32


def _quoted(text: str) -> str:
    # Inside an FTS5 string a double quote is written twice; _WORD never yields one, but the
    # escaping is what makes this function safe on its own.
    return '"' + text.replace('"', '""') + '"'


def _is_wide(word: str) -> bool:
    return any(unicodedata.east_asian_width(ch) in ("W", "F") and ch.isalpha() for ch in word)


def query_terms(query: str) -> list[str]:
    """The FTS5 terms of a user query: quoted words, quoted phrases and prefix terms."""
    text = unicodedata.normalize("NFKC", query)
    terms: list[str] = []
    for match in _PIECE.finditer(text):
        phrase, word, star = match.groups()
        if phrase is not None:
            words = _WORD.findall(phrase)
            if words:
                terms.append(_quoted(" ".join(words)))
        elif word:
            # Chinese and Japanese are written without spaces, so the tokenizer keeps a whole
            # run as one token; matching a word at the start of a run needs a prefix query.
            prefix = bool(star) or _is_wide(word)
            terms.append(_quoted(word) + ("*" if prefix else ""))
        if len(terms) >= MAX_TERMS:
            break
    return terms


def fts5_queries(query: str) -> list[str]:
    """MATCH expressions to try in order: every term (AND), then any term (OR); [] if no words."""
    terms = query_terms(query)
    if not terms:
        return []
    if len(terms) == 1:
        return terms
    return [" ".join(terms), " OR ".join(terms)]
