"""The word lists transform's rules are built from: data files under transform/words/.

Each file is one entry per line with `#` comment lines (the format of wiredesk.wordlists); the
rules that use the words stay in code. Loaded once, at import of the module that needs them.
"""

from __future__ import annotations

from pathlib import Path

from wiredesk.wordlists import read_list

WORDS = Path(__file__).resolve().parent / "words"


def read_words(name: str) -> tuple[str, ...]:
    """The entries of transform/words/`name` ("entities/person_titles.txt"), in file order."""
    return read_list(WORDS / name)
