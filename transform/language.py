"""The language of a story, from its text: ISO 639-1, with the declared language as a fallback.

pycld2 (Compact Language Detector 2) is used: ~6,900 docs/s per core on full texts
(shared/notes/libraries.md), reliable on a few sentences, and offline. Feeds and pages declare a
language too, but often wrongly (a site-wide "en-US" on every section), so the declaration is
trusted only when the text is too short or too mixed for a reliable guess. A confident guess that
disagrees with the declaration is flagged: it usually means a mis-configured feed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pycld2

# Below this many letters cld2 guesses, rather than detects; use the declaration instead.
MIN_LETTERS = 60
# cld2's percentage of text in the top language below which the guess is not used.
MIN_PERCENT = 60
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
# cld2 names a few languages with codes that are not ISO 639-1.
_CLD2_TO_ISO = {"iw": "he", "jw": "jv", "in": "id", "zh-hant": "zh", "zh": "zh", "un": ""}


@dataclass(frozen=True, slots=True)
class LanguageResult:
    language: str  # ISO 639-1, "" when neither the text nor the declaration says
    detected: str  # what the text says ("" when too short/unreliable)
    declared: str  # the declaration, normalised ("en-in" -> "en")
    mismatch: bool  # reliable detection disagrees with a declaration


def normalise_code(code: str) -> str:
    """'en-IN', 'en_US', 'EN' -> 'en'; anything that is not a language code -> ''."""
    primary = re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]
    primary = _CLD2_TO_ISO.get(primary, primary)
    return primary if re.fullmatch(r"[a-z]{2}", primary) else ""


def detect(text: str) -> str:
    """ISO 639-1 code of `text` when cld2 is confident, else ''."""
    if len(_LETTERS.findall(text[:2000])) < MIN_LETTERS:
        return ""
    # cld2 needs valid UTF-8; lone surrogates from broken feeds would make it raise.
    data = text.encode("utf-8", "ignore")
    try:
        reliable, _, details = pycld2.detect(data)
    except pycld2.error:
        return ""
    if not reliable or not details:
        return ""
    _, code, percent, _ = details[0]
    if percent < MIN_PERCENT:
        return ""
    return normalise_code(_CLD2_TO_ISO.get(code.lower(), code))


def identify(text: str, *declared: str) -> LanguageResult:
    """The article's language: detected from text, else the first non-empty declaration."""
    declaration = next((c for c in (normalise_code(d) for d in declared) if c), "")
    found = detect(text)
    mismatch = bool(found and declaration and found != declaration)
    return LanguageResult(found or declaration, found, declaration, mismatch)
