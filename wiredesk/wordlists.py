"""Word lists and small tables kept as data files beside the code that uses them.

The format, for every such file: one entry per line, tab-separated columns for a table; blank lines
and lines starting with `#` (comments) are skipped; surrounding spaces are not part of an entry.
Rules stay in code; the words they are built from live in these files.
"""

from __future__ import annotations

from pathlib import Path


def read_list(path: Path) -> tuple[str, ...]:
    """The entries of a word list, in file order."""
    return tuple(row[0] for row in read_table(path))


def read_table(path: Path) -> tuple[tuple[str, ...], ...]:
    """The rows of a tab-separated table, each a tuple of its non-empty columns, in file order."""
    rows: list[tuple[str, ...]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        rows.append(tuple(column.strip() for column in stripped.split("\t") if column.strip()))
    return tuple(rows)
