"""Publisher tags: split the run-together or delimited strings sites emit, keep what the story supports.

Agency pages often print their tag list with the separators lost ("DonetskAntony blinkenState
Department...") and pad it with SEO junk ("Twitter seva", "Sergey lavrova"). A tag is kept only
when the story itself backs it: the tag, as a phrase, occurs in the body text (case-insensitively),
or it is one of the entity names found in the body. Kept tags take the casing the story uses, so
"Antony blinken" comes out as "Antony Blinken". The same tags arriving as separate RSS <category>
values give the same result.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# A lowercase letter (or a period closing an abbreviation like "inc.") glued to a capital starts a
# new tag: "blinkenState", "inc.Twitter". Separators sites use between tags.
_GLUED_RE = re.compile(r"(?<=[a-z.])(?=[A-Z])")
_SEPARATORS_RE = re.compile(r"\s*[,;|\n\t]\s*")


def split_tags(raw: str, body_text: str = "") -> list[str]:
    """The tags in one raw string: delimited, or glued at lowercase-to-capital boundaries.

    A glued boundary is not split when the unsplit word is itself in the body ("WeWork",
    "YouTube"), so camel-cased names survive.
    """
    out: list[str] = []
    body_lower = body_text.lower()
    for raw_part in _SEPARATORS_RE.split(raw):
        part = " ".join(raw_part.split()).lstrip("#")
        if not part:
            continue
        pieces = _GLUED_RE.split(part)
        merged: list[str] = [pieces[0]]
        for piece in pieces[1:]:
            # keep "WeWork" whole if the story writes it that way
            last_word = merged[-1].rsplit(" ", 1)[-1]
            first_word = piece.split(" ", 1)[0]
            joined = (last_word + first_word).lower()
            if joined in body_lower and _has_phrase(body_lower, joined):
                merged[-1] += piece
            else:
                merged.append(piece)
        out.extend(p.strip() for p in merged if p.strip())
    return out


def _phrase_re(tag: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in tag.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


def _has_phrase(text: str, phrase: str) -> bool:
    return bool(phrase.strip()) and _phrase_re(phrase).search(text) is not None


def clean_tags(
    raw_tags: Iterable[str], body_text: str, entity_names: Iterable[str] = ()
) -> tuple[list[str], list[str]]:
    """(kept, rejected): tags the story supports, in the story's casing, first occurrence order.

    Case-insensitive repeats are dropped silently; unsupported tags go to `rejected` once each.
    """
    names = {" ".join(n.split()).lower(): " ".join(n.split()) for n in entity_names}
    kept: list[str] = []
    rejected: list[str] = []
    seen: set[str] = set()
    # collapse whitespace once so a plain substring test can rule most tags out before a regex
    flat_lower = " ".join(body_text.split()).lower()
    for raw in raw_tags:
        for tag in split_tags(raw, body_text):
            key = tag.lower()
            if key in seen:
                continue
            seen.add(key)
            match = _phrase_re(tag).search(body_text) if key in flat_lower else None
            if match is not None:
                kept.append(" ".join(match.group().split()))
            elif key in names:
                kept.append(names[key])
            else:
                rejected.append(tag)
    return kept, rejected
