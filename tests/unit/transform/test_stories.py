import json
import random
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path

import pytest

from transform.fingerprint import fingerprint
from transform.stories import MemoryStoryIndex, SqliteStoryIndex, StoryIndex, new_story_id

REPO = Path(__file__).resolve().parents[3]
SYNDICATION = REPO / "tests" / "fixtures" / "syndication" / "variants.jsonl"
T0 = datetime(2022, 2, 18, tzinfo=UTC)
LEAD = (
    "Russian Foreign Minister Sergey Lavrov has proposed dates for holding a meeting with US Secretary of "
    "State Antony Blinken, late next week, who accepted it if Russia does not invade Ukraine, local media "
    "reported. Taking to Twitter, State Department's Spokesperson Ned Price said that the Russians have "
    "responded with proposed dates for late next week, which we are accepting, provided there is no further "
    "Russian invasion of Ukraine."
)
OTHER = (
    "The central bank raised its benchmark interest rate by a quarter of a percentage point on Wednesday, "
    "citing persistent inflation in services and a labour market that remains tight. Markets had largely "
    "expected the move, and bond yields were little changed after the announcement."
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "sqlite"])
def make_index(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    def factory(clock: Clock | None = None) -> StoryIndex:
        clock = clock or Clock()
        if request.param == "memory":
            return MemoryStoryIndex(window_days=7, clock=clock)
        index = SqliteStoryIndex(tmp_path / "stories.sqlite", window_days=7, clock=clock)
        request.addfinalizer(index.close)
        return index

    return factory


def test_near_duplicates_share_the_first_story(make_index) -> None:  # type: ignore[no-untyped-def]
    index = make_index()
    first = index.assign("a", fingerprint(LEAD), T0)
    assert first == new_story_id("a")
    assert index.assign("b", fingerprint("LONDON (Reuters) - " + LEAD), T0 + timedelta(hours=1)) == first
    assert index.assign("c", fingerprint(" ".join(LEAD.split()[:30])), T0) == first
    assert index.assign("d", fingerprint(OTHER), T0) == new_story_id("d")


def test_same_uri_keeps_its_story(make_index) -> None:  # type: ignore[no-untyped-def]
    index = make_index()
    story = index.assign("a", fingerprint(LEAD), T0)
    # An update that rewrote the text entirely is still the same article, hence the same story.
    assert index.assign("a", fingerprint(OTHER), T0 + timedelta(hours=2)) == story


def test_candidates_outside_the_window_do_not_match(make_index) -> None:  # type: ignore[no-untyped-def]
    index = make_index()
    story = index.assign("a", fingerprint(LEAD), T0)
    assert index.assign("b", fingerprint(LEAD), T0 + timedelta(days=30)) != story


def test_entries_expire(make_index) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    index = make_index(clock)
    story = index.assign("a", fingerprint(LEAD), T0)
    clock.now += 8 * 86400
    assert index.assign("b", fingerprint(LEAD), T0) == new_story_id("b") != story


def test_sqlite_index_is_shared_between_connections(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with SqliteStoryIndex(path) as one, SqliteStoryIndex(path) as two:
        story = one.assign("a", fingerprint(LEAD), T0)
        assert two.assign("b", fingerprint(LEAD), T0) == story
        assert two.assign("a", fingerprint(OTHER), T0) == story


def pairwise(truth: dict[str, str], predicted: dict[str, str]) -> tuple[float, float]:
    tp = fp = fn = 0
    for a, b in combinations(sorted(truth), 2):
        same_true, same_pred = truth[a] == truth[b], predicted[a] == predicted[b]
        tp += same_true and same_pred
        fp += same_pred and not same_true
        fn += same_true and not same_pred
    return tp / max(1, tp + fp), tp / max(1, tp + fn)


def test_syndication_set_floor() -> None:
    """Guards the clustering quality measured by bench/eval_stories.py (1.00 / 1.00 at commit time)."""
    rows = [json.loads(line) for line in SYNDICATION.read_text(encoding="utf-8").splitlines()]
    random.Random(7).shuffle(rows)
    index = MemoryStoryIndex()
    predicted = {
        r["id"]: index.assign(r["id"], fingerprint(r["text"]), datetime.fromisoformat(r["published"]))
        for r in rows
    }
    precision, recall = pairwise({r["id"]: r["story"] for r in rows}, predicted)
    assert precision >= 0.98
    assert recall >= 0.95
