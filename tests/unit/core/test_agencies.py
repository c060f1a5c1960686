"""The one agency list: its file, the canonical spelling, and how a spelling is matched in copy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wiredesk.agencies import AGENCIES, ALIASES, PATTERN, alias_pattern, canonical_agency, load_agencies


def test_every_spelling_names_its_agency_in_any_case() -> None:
    assert len(AGENCIES) >= 40
    for agency in AGENCIES:
        assert agency.aliases[0] == agency.name
        for alias in agency.aliases:
            assert canonical_agency(alias) == agency.name
            assert canonical_agency(alias.lower()) == agency.name
            assert canonical_agency(f"  {alias.upper()} ") == agency.name


def test_spaces_and_hyphens_are_interchangeable() -> None:
    assert canonical_agency("Agence France Presse") == "AFP"
    assert canonical_agency("indo asian   news-service") == "IANS"


def test_unknown_names_are_none() -> None:
    assert canonical_agency("Example Wire Service") is None
    assert canonical_agency("") is None


def test_longest_spellings_come_first() -> None:
    lengths = [len(alias) for alias, _ in ALIASES]
    assert lengths == sorted(lengths, reverse=True)
    found = re.search(rf"(?<![\w-])(?:{PATTERN})(?![\w-])", "With inputs from Associated Press of Pakistan")
    assert found is not None and canonical_agency(found.group()) == "APP"


@pytest.mark.parametrize(
    ("alias", "matches", "misses"),
    [
        ("AP", ["AP"], ["ap", "Ap"]),
        ("dpa", ["dpa"], ["Dpa"]),
        ("CP", ["CP"], ["cp"]),
        ("Reuters", ["Reuters", "REUTERS", "reuters"], []),
        ("Agence France-Presse", ["agence france-presse", "Agence France\nPresse"], ["Agence-France"]),
    ],
)
def test_short_and_capital_spellings_match_case_sensitively(
    alias: str, matches: list[str], misses: list[str]
) -> None:
    pattern = re.compile(alias_pattern(alias))
    for text in matches:
        assert pattern.fullmatch(text), text
    for text in misses:
        assert not pattern.fullmatch(text), text


def test_a_spelling_of_two_agencies_is_refused(tmp_path: Path) -> None:
    table = tmp_path / "agencies.tsv"
    table.write_text("# comment\nAP\tAssociated Press\n\nAPP\tassociated-press\n", encoding="utf-8")
    with pytest.raises(ValueError, match="'associated-press' of APP is already a spelling of AP"):
        load_agencies(table)


def test_case_variants_of_one_agency_are_allowed(tmp_path: Path) -> None:
    table = tmp_path / "agencies.tsv"
    table.write_text("DPA\tdpa\tDeutsche Presse-Agentur\n", encoding="utf-8")
    (dpa,) = load_agencies(table)
    assert dpa.aliases == ("DPA", "dpa", "Deutsche Presse-Agentur")
