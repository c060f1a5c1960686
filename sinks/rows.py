"""An Article flattened into the columns every relational sink stores: one place, both backends."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from wiredesk.derivation import legacy_key, transform_sort_key
from wiredesk.records import Article, dumps


def iso_utc(value: datetime | None) -> str | None:
    """UTC ISO 8601 with a "Z", the records' own form; sorts correctly as text in SQLite."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _clean(text: str) -> str:
    # NUL is valid in a Python str and in JSON, but PostgreSQL text cannot hold it and it
    # truncates FTS input in C libraries: drop it rather than fail the whole batch.
    return text.replace("\x00", "") if "\x00" in text else text


# A JSON "\u0000" escape not itself preceded by an escaped backslash (an even run of "\\").
_NUL_ESCAPE = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")


def _without_nul_escapes(doc: bytes) -> bytes:
    # PostgreSQL jsonb rejects \u0000 too; the stored document keeps every other character.
    return _NUL_ESCAPE.sub(rb"\1", doc) if b"\\u0000" in doc else doc


@dataclass(frozen=True, slots=True)
class ArticleRow:
    uri: str
    version: int
    transform_version: str
    transform_key: str
    derivation_key: str
    item_id: str
    item_version: int
    feed_id: str
    story_id: str
    headline: str
    versioncreated: datetime | None
    firstcreated: datetime | None
    language: str
    agency: str
    canonical_url: str
    source_url: str
    search_text: str
    doc: bytes

    @property
    def key(self) -> str:
        """What the version guards compare: greater is newer (wiredesk/derivation.py)."""
        return self.derivation_key


def to_row(article: Article) -> ArticleRow:
    w = article.wiredesk
    # The standfirst is searchable text the body may not repeat; it ranks with the body.
    search_text = "\n\n".join(t for t in (article.description_text, article.body_text) if t)
    return ArticleRow(
        uri=article.uri,
        version=article.version,
        transform_version=w.transform_version,
        transform_key=transform_sort_key(w.transform_version),
        # Articles derived before the key existed order below every keyed one.
        derivation_key=w.derivation_key or legacy_key(article.version, w.transform_version),
        item_id=w.item_id,
        item_version=w.item_version,
        feed_id=w.feed_id,
        story_id=w.story_id,
        headline=_clean(article.headline),
        versioncreated=article.versioncreated,
        firstcreated=article.firstcreated,
        language=article.language,
        agency=w.agency,
        canonical_url=w.canonical_url,
        source_url=w.source_url or w.canonical_url,
        search_text=_clean(search_text),
        doc=_without_nul_escapes(dumps(article)),
    )


def newest_per_uri(rows: list[ArticleRow]) -> tuple[list[ArticleRow], int, int]:
    """Collapse repeats of one uri within a batch to its newest derivation.

    Returns (rows, stale, unchanged): how many dropped rows were older than the kept one, and how
    many were exact repeats of it. A database upsert cannot touch the same row twice in one
    statement, and only the newest would survive anyway.
    """
    best: dict[str, ArticleRow] = {}
    stale = unchanged = 0
    for row in rows:
        current = best.get(row.uri)
        if current is None:
            best[row.uri] = row
        elif row.key > current.key:
            best[row.uri] = row
            stale += 1
        elif row.key == current.key:
            unchanged += 1
        else:
            stale += 1
    return list(best.values()), stale, unchanged
