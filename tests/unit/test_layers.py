"""The house rules, checked on the source: the core imports no stage, stages never import each other.

Layers, bottom to top: `wiredesk` (shared core) < `ingest`, `transform`, `sinks` (stages) < `app`
(the composition root). Every import is read from the syntax tree, including imports inside
functions, so a lazy import cannot slip a layer past the rule.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORE = "wiredesk"
STAGES = ("ingest", "transform", "sinks")
ROOT = "app"
PACKAGES = (CORE, *STAGES, ROOT)


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & set(PACKAGES)


def _allowed(package: str) -> set[str]:
    if package == CORE:
        return {CORE}
    if package in STAGES:
        return {CORE, package}
    return set(PACKAGES)


def _violations(package: str) -> list[str]:
    problems = []
    for path in sorted((REPO / package).rglob("*.py")):
        for imported in sorted(_imported_packages(path) - _allowed(package)):
            problems.append(f"{path.relative_to(REPO)} imports {imported}")
    return problems


@pytest.mark.parametrize("package", PACKAGES)
def test_each_layer_imports_only_itself_and_the_layers_below(package: str) -> None:
    assert _violations(package) == []


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    # A rule test that could never fail would prove nothing: feed it a violation.
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from sinks.sqlite import SqliteSink\n    import ingest.state\n")
    assert _imported_packages(module) == {"sinks", "ingest"}
