"""Story indexes shared between processes: SQLite file across worker processes, and real Redis."""

import json
import subprocess
import sys
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from transform.fingerprint import fingerprint
from transform.stories import RedisStoryIndex, SqliteStoryIndex, new_story_id

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SYNDICATION = REPO / "tests" / "fixtures" / "syndication" / "variants.jsonl"
T0 = datetime(2022, 2, 18, tzinfo=UTC)
TEXT = (
    "Russian Foreign Minister Sergey Lavrov has proposed dates for holding a meeting with US Secretary of "
    "State Antony Blinken, late next week, who accepted it if Russia does not invade Ukraine, local media "
    "reported. Taking to Twitter, State Department's Spokesperson Ned Price said that the Russians have "
    "responded with proposed dates for late next week."
)
OTHER = (
    "The central bank raised its benchmark interest rate by a quarter of a percentage point on Wednesday, "
    "citing persistent inflation in services and a labour market that remains tight. Markets had largely "
    "expected the move, and bond yields were little changed after the announcement."
)

# Each worker process assigns every variant, in its own order, into the shared SQLite file.
WORKER = """
import json, random, sys
from datetime import datetime
from transform.fingerprint import fingerprint
from transform.stories import SqliteStoryIndex
rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
random.Random(int(sys.argv[3])).shuffle(rows)
out = {}
with SqliteStoryIndex(sys.argv[2]) as index:
    for r in rows:
        out[r["id"]] = index.assign(r["id"], fingerprint(r["text"]), datetime.fromisoformat(r["published"]))
print(json.dumps(out))
"""


def test_sqlite_index_is_consistent_across_processes(tmp_path: Path) -> None:
    db = tmp_path / "stories.sqlite"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(SYNDICATION), str(db), str(seed)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        for seed in range(3)
    ]
    results = [json.loads(p.communicate(timeout=100)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    # Every process saw the same story id for every article, whoever inserted it first.
    assert results[0] == results[1] == results[2]
    rows = [json.loads(line) for line in SYNDICATION.read_text(encoding="utf-8").splitlines()]
    truth = {r["id"]: r["story"] for r in rows}
    ids_per_story: dict[str, set[str]] = defaultdict(set)
    for article, story in results[0].items():
        ids_per_story[truth[article]].add(story)
    # Quality (order-dependent at the margin, see bench/eval_stories.py): most stories in one
    # cluster, and no cluster spanning two stories.
    assert sum(len(ids) == 1 for ids in ids_per_story.values()) >= 0.9 * len(ids_per_story)
    all_ids = [story for ids in ids_per_story.values() for story in ids]
    assert len(all_ids) == len(set(all_ids))


@pytest.fixture
def redis_index():  # type: ignore[no-untyped-def]
    redis = pytest.importorskip("redis")
    client = redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"Redis is not running at 127.0.0.1:6379: {exc}")
    prefix = f"wiredesk-test:{uuid.uuid4().hex}:"
    yield RedisStoryIndex(client, prefix=prefix, window_days=7), client, prefix
    for key in client.scan_iter(prefix + "*"):
        client.delete(key)
    client.close()


def test_redis_assigns_like_the_other_indexes(redis_index, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    index, client, prefix = redis_index
    story = index.assign("a", fingerprint(TEXT), T0)
    assert story == new_story_id("a")
    assert index.assign("b", fingerprint("LONDON (Reuters) - " + TEXT), T0) == story
    assert index.assign("c", fingerprint(" ".join(TEXT.split()[:30])), T0) == story
    assert index.assign("d", fingerprint(OTHER), T0) == new_story_id("d")
    assert index.assign("a", fingerprint(OTHER), T0) == story  # an update keeps its story
    ttl = client.ttl(prefix + "e:a")
    assert 0 < ttl <= 7 * 86400
    # The Lua similarity must agree with the Python one: same answers as SQLite on the whole set.
    rows = [json.loads(line) for line in SYNDICATION.read_text(encoding="utf-8").splitlines()]
    with SqliteStoryIndex(tmp_path / "s.sqlite") as sqlite:
        for r in rows:
            fp, when = fingerprint(r["text"]), datetime.fromisoformat(r["published"])
            assert index.assign(r["id"], fp, when) == sqlite.assign(r["id"], fp, when)


def test_redis_window_is_respected(redis_index) -> None:  # type: ignore[no-untyped-def]
    index, _, _ = redis_index
    story = index.assign("a", fingerprint(TEXT), T0)
    assert index.assign("b", fingerprint(TEXT), datetime(2022, 6, 1, tzinfo=UTC)) != story
