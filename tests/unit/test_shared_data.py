"""The larger data sets at ../shared: one helper finds them, with one skip reason when they are
absent, and WD_TEST_REQUIRE_SHARED=1 (set by CI, which has them) turns that skip into a failure."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import conftest
from tests.conftest import REQUIRE_SHARED_ENV, SHARED_ABSENT, shared_path

TESTS = Path(__file__).resolve().parents[1]


def test_present_data_is_returned() -> None:
    assert shared_path() == conftest.SHARED


def test_absent_data_skips_with_the_shared_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "SHARED", tmp_path / "absent")
    monkeypatch.delenv(REQUIRE_SHARED_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        shared_path("data", "feeds")
    assert str(skipped.value) == SHARED_ABSENT.format(path=tmp_path / "absent" / "data" / "feeds")


def test_absent_data_fails_when_required(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "SHARED", tmp_path / "absent")
    monkeypatch.setenv(REQUIRE_SHARED_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=REQUIRE_SHARED_ENV):
        shared_path("tools", "score_extraction.py")


def test_every_test_finds_shared_data_through_the_helper() -> None:
    # A test building its own path to ../shared would skip (or not) with a wording of its own.
    own_paths = re.compile(r"""["']shared["']\s*\)?\s*(?:/|\.joinpath)|/\s*["']shared["']""")
    offenders = [
        str(path.relative_to(TESTS))
        for path in sorted(TESTS.rglob("*.py"))
        if path != Path(conftest.__file__).resolve() and own_paths.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
