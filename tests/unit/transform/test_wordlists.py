"""The word lists transform's rules are built from (transform/words/): well-formed and all in use."""

from __future__ import annotations

from pathlib import Path

import pytest

from transform.wordlists import WORDS, read_words
from wiredesk.wordlists import read_list, read_table

REPO = Path(__file__).resolve().parents[3]
LISTS = sorted(path.relative_to(WORDS).as_posix() for path in WORDS.rglob("*.txt"))


def test_there_are_lists() -> None:
    assert {"entities/person_titles.txt", "boilerplate/date_words.txt"} <= set(LISTS)


@pytest.mark.parametrize("name", LISTS)
def test_each_list_says_what_it_is_and_holds_each_entry_once(name: str) -> None:
    text = (WORDS / name).read_text(encoding="utf-8")
    assert text.startswith("# "), "a list opens with a comment saying what its words do"
    entries = read_words(name)
    assert entries
    assert len(set(entries)) == len(entries), sorted({e for e in entries if entries.count(e) > 1})


@pytest.mark.parametrize("name", LISTS)
def test_each_list_is_read_by_the_code(name: str) -> None:
    sources = "".join(p.read_text(encoding="utf-8") for p in (REPO / "transform").rglob("*.py"))
    assert f'"{name}"' in sources


def test_the_file_format(tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    lines = ["# what these are", "", "alpha", "  beta  ", "  # an indented comment", "gamma\tdelta"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert read_list(path) == ("alpha", "beta", "gamma")
    assert read_table(path) == (("alpha",), ("beta",), ("gamma", "delta"))
