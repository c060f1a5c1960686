"""Story clusters: one `story_id` shared by near-duplicate articles, consistent across workers.

The port is `StoryIndex.assign(article_uri, fingerprint, published) -> story_id`. Rules, identical
in every implementation:
- an article already in the index (same uri: an update, or a replay) keeps its story_id;
- otherwise candidates are the entries sharing at least one LSH band key with it, published within
  the window of it; each is confirmed with the full `similarity` >= threshold;
- among confirmed candidates the story first seen wins (lowest insertion sequence), so the answer
  does not depend on which worker asks first about later articles;
- no confirmed candidate: a new story, whose id derives from this article's uri (stable, not random);
- entries expire `window` after they were last assigned (wall clock), so the index stays bounded.

Implementations: MemoryStoryIndex (one process), SqliteStoryIndex (one file shared by the workers
of one machine; lookup and insert in one IMMEDIATE transaction), RedisStoryIndex (many machines;
lookup, confirm and insert in one Lua script, which Redis runs atomically).
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from transform.fingerprint import MIN_LEAD_SHINGLES, NUM_PERM, Fingerprint, band_keys, similarity
from wiredesk.settings import Settings

DEFAULT_THRESHOLD = 0.5
Clock = Callable[[], float]


class StoryIndex(Protocol):
    def assign(self, article_uri: str, fingerprint: Fingerprint, published: datetime) -> str: ...


def new_story_id(article_uri: str) -> str:
    """A story's id: from the uri of its first article, so any worker derives the same one."""
    return (
        "urn:wiredesk:story:"
        + hashlib.blake2b(article_uri.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    )


@dataclass(slots=True)
class _Entry:
    uri: str
    story_id: str
    fingerprint: Fingerprint
    published: float
    touched: float
    seq: int


def _pick(
    candidates: list[_Entry], fingerprint: Fingerprint, published: float, window: float, threshold: float
) -> str | None:
    best: _Entry | None = None
    for entry in candidates:
        if abs(entry.published - published) > window:
            continue
        if best is not None and entry.seq >= best.seq:
            continue
        if similarity(fingerprint, entry.fingerprint) >= threshold:
            best = entry
    return best.story_id if best else None


class MemoryStoryIndex:
    """In-process index: tests, `wiredesk clean`, and single-worker runs."""

    def __init__(
        self, *, window_days: float = 7, threshold: float = DEFAULT_THRESHOLD, clock: Clock = time.time
    ) -> None:
        self._window = window_days * 86400.0
        self._threshold = threshold
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._bands: dict[str, set[str]] = {}
        self._order: deque[tuple[float, str]] = deque()
        self._seq = 0

    def __len__(self) -> int:
        return len(self._entries)

    def assign(self, article_uri: str, fingerprint: Fingerprint, published: datetime) -> str:
        now = self._clock()
        self._expire(now)
        known = self._entries.get(article_uri)
        if known is not None:
            known.touched = now
            self._order.append((now, article_uri))
            return known.story_id
        keys = band_keys(fingerprint)
        seen: set[str] = set()
        candidates = []
        for key in keys:
            for uri in self._bands.get(key, ()):
                if uri not in seen:
                    seen.add(uri)
                    candidates.append(self._entries[uri])
        ts = published.timestamp()
        story = _pick(candidates, fingerprint, ts, self._window, self._threshold) or new_story_id(article_uri)
        self._seq += 1
        self._entries[article_uri] = _Entry(article_uri, story, fingerprint, ts, now, self._seq)
        for key in keys:
            self._bands.setdefault(key, set()).add(article_uri)
        self._order.append((now, article_uri))
        return story

    def _expire(self, now: float) -> None:
        cutoff = now - self._window
        while self._order and self._order[0][0] < cutoff:
            _, uri = self._order.popleft()
            entry = self._entries.get(uri)
            if entry is None or entry.touched >= cutoff:
                continue  # touched again since: a later queue item stands for it
            del self._entries[uri]
            for key in band_keys(entry.fingerprint):
                members = self._bands.get(key)
                if members is not None:
                    members.discard(uri)
                    if not members:
                        del self._bands[key]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS story_entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    uri TEXT NOT NULL UNIQUE,
    story_id TEXT NOT NULL,
    fingerprint BLOB NOT NULL,
    published REAL NOT NULL,
    touched REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS story_entries_touched ON story_entries (touched);
CREATE TABLE IF NOT EXISTS story_bands (
    key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (key, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS story_bands_seq ON story_bands (seq);
"""


class SqliteStoryIndex:
    """A story index in one SQLite file, safe to share between processes on one machine.

    Each assign is one BEGIN IMMEDIATE transaction (the write lock is taken before the lookup), so
    two workers can never both decide that the same story is new.
    """

    # Purge expired rows every this many assigns rather than each time: the DELETE is an index
    # range scan, cheap, but not free.
    PURGE_EVERY = 256

    def __init__(
        self,
        path: str | Path,
        *,
        window_days: float = 7,
        threshold: float = DEFAULT_THRESHOLD,
        clock: Clock = time.time,
        busy_timeout_seconds: float = 30.0,
    ) -> None:
        self._window = window_days * 86400.0
        self._threshold = threshold
        self._clock = clock
        self._assigns = 0
        self._db = sqlite3.connect(str(path), timeout=busy_timeout_seconds, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SqliteStoryIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def assign(self, article_uri: str, fingerprint: Fingerprint, published: datetime) -> str:
        now = self._clock()
        cutoff = now - self._window
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            story = self._assign_locked(article_uri, fingerprint, published.timestamp(), now, cutoff)
            self._assigns += 1
            if self._assigns % self.PURGE_EVERY == 1:
                self._purge(cutoff)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return story

    def _assign_locked(self, uri: str, fp: Fingerprint, published: float, now: float, cutoff: float) -> str:
        db = self._db
        row = db.execute("SELECT story_id, touched FROM story_entries WHERE uri = ?", (uri,)).fetchone()
        if row is not None:
            if row[1] >= cutoff:
                db.execute("UPDATE story_entries SET touched = ? WHERE uri = ?", (now, uri))
                return str(row[0])
            self._delete_where("uri = ?", (uri,))
        keys = band_keys(fp)
        candidates: list[_Entry] = []
        if keys:
            marks = ",".join("?" * len(keys))
            rows = db.execute(
                "SELECT e.seq, e.uri, e.story_id, e.fingerprint, e.published, e.touched FROM story_entries e "
                f"WHERE e.touched >= ? AND e.seq IN (SELECT seq FROM story_bands WHERE key IN ({marks}))",
                (cutoff, *keys),
            ).fetchall()
            candidates = [_Entry(r[1], r[2], Fingerprint.from_bytes(r[3]), r[4], r[5], r[0]) for r in rows]
        story = _pick(candidates, fp, published, self._window, self._threshold) or new_story_id(uri)
        cur = db.execute(
            "INSERT INTO story_entries (uri, story_id, fingerprint, published, touched)"
            " VALUES (?, ?, ?, ?, ?)",
            (uri, story, fp.to_bytes(), published, now),
        )
        seq = cur.lastrowid
        db.executemany("INSERT OR IGNORE INTO story_bands (key, seq) VALUES (?, ?)", [(k, seq) for k in keys])
        return story

    def _purge(self, cutoff: float) -> None:
        self._delete_where("touched < ?", (cutoff,))

    def _delete_where(self, condition: str, params: tuple[Any, ...]) -> None:
        self._db.execute(
            f"DELETE FROM story_bands WHERE seq IN (SELECT seq FROM story_entries WHERE {condition})", params
        )
        self._db.execute(f"DELETE FROM story_entries WHERE {condition}", params)


# The whole assign in one script: Redis runs a script atomically, so lookup, confirmation and insert
# see one consistent index whichever worker calls. Similarity is recomputed here exactly as
# fingerprint.similarity does (same formula, same order of floating-point operations).
_LUA_ASSIGN = """
local p = ARGV[1]
local uri = ARGV[2]
local fp = ARGV[3]
local published = tonumber(ARGV[4])
local window = tonumber(ARGV[5])
local threshold = tonumber(ARGV[6])
local new_story = ARGV[7]
local nperm = tonumber(ARGV[8])
local min_lead = tonumber(ARGV[9])
local ttl = math.ceil(window)
local ekey = p .. 'e:' .. uri
local known = redis.call('HGET', ekey, 'story')
if known then
  redis.call('EXPIRE', ekey, ttl)
  return known
end
local function u32(s, i)
  local a, b, c, d = string.byte(s, i, i + 3)
  return a + b * 256 + c * 65536 + d * 16777216
end
local function jaccard(x, y, off)
  local eq = 0
  for k = 0, nperm - 1 do
    local i = off + k * 4
    if string.sub(x, i, i + 3) == string.sub(y, i, i + 3) then eq = eq + 1 end
  end
  return eq / nperm
end
local function similarity(x, y)
  local size_x, size_y = u32(x, 1), u32(y, 1)
  if size_x == 0 or size_y == 0 then return 0 end
  local lead_x, lead_y = u32(x, 5), u32(y, 5)
  local body = jaccard(x, y, 9)
  local lead = 0
  if math.min(lead_x, lead_y) >= min_lead then
    local j = jaccard(x, y, 9 + nperm * 4)
    local smaller = math.min(lead_x, lead_y)
    lead = math.min(1.0, (j * (lead_x + lead_y) / (1.0 + j)) / smaller)
  end
  return math.max(body, lead)
end
local best_story, best_seq = nil, nil
local seen = {}
for k = 10, #ARGV do
  local members = redis.call('SMEMBERS', p .. 'b:' .. ARGV[k])
  for _, other in ipairs(members) do
    if not seen[other] then
      seen[other] = true
      local e = redis.call('HMGET', p .. 'e:' .. other, 'story', 'fp', 'pub', 'seq')
      if e[1] then
        local seq = tonumber(e[4])
        if math.abs(tonumber(e[3]) - published) <= window and (best_seq == nil or seq < best_seq) then
          if similarity(fp, e[2]) >= threshold then
            best_story, best_seq = e[1], seq
          end
        end
      end
    end
  end
end
local story = best_story or new_story
local seq = redis.call('INCR', p .. 'seq')
redis.call('HSET', ekey, 'story', story, 'fp', fp, 'pub', ARGV[4], 'seq', seq)
redis.call('EXPIRE', ekey, ttl)
for k = 10, #ARGV do
  local bkey = p .. 'b:' .. ARGV[k]
  redis.call('SADD', bkey, uri)
  redis.call('EXPIRE', bkey, ttl)
end
return story
"""


class RedisStoryIndex:
    """A story index in Redis, shared by workers on any number of machines.

    Keys: `<prefix>e:<uri>` (hash: story, fingerprint, published, seq), `<prefix>b:<band key>`
    (set of uris), `<prefix>seq`. Every key expires `window` after its last write, which is what
    bounds the index; a band set may briefly name an expired entry, which the script skips. The
    script touches keys it computes itself, so it needs a single Redis (or one hash slot): the
    prefix should then be wrapped in braces, e.g. "{stories}:".
    """

    def __init__(
        self,
        client: Any,
        *,
        prefix: str = "wiredesk:stories:",
        window_days: float = 7,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._window = window_days * 86400.0
        self._threshold = threshold
        self._script = client.register_script(_LUA_ASSIGN)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisStoryIndex:
        import redis  # noqa: PLC0415 - optional extra, only when the story index is Redis

        return cls(redis.Redis.from_url(url), **kwargs)

    def assign(self, article_uri: str, fingerprint: Fingerprint, published: datetime) -> str:
        keys = band_keys(fingerprint)
        story = self._script(
            keys=[],
            args=[
                self._prefix,
                article_uri,
                fingerprint.to_bytes(),
                repr(published.timestamp()),
                repr(self._window),
                repr(self._threshold),
                new_story_id(article_uri),
                NUM_PERM,
                MIN_LEAD_SHINGLES,
                *keys,
            ],
        )
        return story.decode() if isinstance(story, bytes) else str(story)


def open_story_index(settings: Settings) -> StoryIndex:
    """The index the settings choose (transform.story_index), with the configured window."""
    transform = settings.transform
    window = float(transform.story_window_days)
    if transform.story_index == "memory":
        return MemoryStoryIndex(window_days=window)
    if transform.story_index == "redis":
        return RedisStoryIndex.from_url(transform.redis_url.get_secret_value(), window_days=window)
    path = settings.data_path(transform.story_index_path, "stories.sqlite")
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteStoryIndex(path, window_days=window)
