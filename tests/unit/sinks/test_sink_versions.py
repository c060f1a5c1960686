"""Dotted transform versions order numerically, and the stored sort key agrees byte-wise."""

from __future__ import annotations

import random

import pytest

from sinks.versions import compare_transform_versions, derivation_key, transform_sort_key


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("2026.11.1", "2026.11.10"),
        ("2026.11.9", "2026.11.10"),
        ("2026.9.30", "2026.10.1"),
        ("1.2", "1.2.1"),
        ("1.9", "1.10"),
        ("0.9.99", "1.0"),
        ("1.0.dev", "1.0.0"),
        ("2025.12.31", "2026.1.0"),
        ("", "0"),
    ],
)
def test_older_sorts_before_newer(older: str, newer: str) -> None:
    assert compare_transform_versions(older, newer) == -1
    assert compare_transform_versions(newer, older) == 1
    assert transform_sort_key(older) < transform_sort_key(newer)


@pytest.mark.parametrize(("a", "b"), [("1.01", "1.1"), (" 2026.1.0 ", "2026.1.0"), ("1.0RC", "1.0rc")])
def test_equivalent_spellings_compare_equal(a: str, b: str) -> None:
    assert compare_transform_versions(a, b) == 0


def test_sort_key_matches_numeric_tuple_order() -> None:
    rng = random.Random(7)
    versions = [
        ".".join(str(rng.choice([0, 1, 2, 9, 10, 11, 99, 100, 2026])) for _ in range(rng.randint(1, 4)))
        for _ in range(400)
    ]
    by_key = sorted(versions, key=transform_sort_key)
    by_tuple = sorted(versions, key=lambda v: tuple(int(p) for p in v.split(".")))
    assert [tuple(int(p) for p in v.split(".")) for v in by_key] == [
        tuple(int(p) for p in v.split(".")) for v in by_tuple
    ]


def test_item_version_outranks_transform_version() -> None:
    assert derivation_key(2, "2026.1.0") > derivation_key(1, "2027.1.0")
    assert derivation_key(1, "2026.1.10") > derivation_key(1, "2026.1.9")


def test_sort_key_uses_only_printable_ascii() -> None:
    key = transform_sort_key("2026.11.1-β\x00 x")
    assert all(0x20 <= ord(ch) <= 0x7E for ch in key)
