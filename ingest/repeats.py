"""Items of one feed document that share an id: tell apart what differs, drop true repeats.

An item's id comes from its guid within its feed, else its normalised link, else its text
(wiredesk/ids.py). Feeds break both promises:
- a guid repeated on items with different links (a CMS that puts the section id, or the feed
  URL, in every <guid>) says nothing about which story an item is: each (guid, normalised link)
  is an item of its own, identified by `ids.item_id_with_link`. All of them, not all but the
  first: which listing comes first changes from poll to poll, and ids must not. The price: when
  a guid that was unique starts repeating, its item gets the new id once (its article, whose uri
  comes from the URL, is the same; the sinks see a later observation of the same content);
- the same item listed twice (same id and same normalised link, e.g. once more with a tracking
  parameter, or before and after an edit) is one item: one poll publishes one version of it.
  The copy with the latest feed date is kept, then the greatest content hash, so the choice never
  depends on the order of the items in the document; the others are dropped and counted.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime

from wiredesk import ids
from wiredesk.records import RawItem

_NO_DATE = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class DistinctItems:
    items: list[RawItem]
    # Listings dropped as repeats of a kept item, and how many of those differed from it in content.
    repeats: int = 0
    repeats_with_other_content: int = 0


def _preference(item: RawItem) -> tuple[datetime, datetime, str]:
    return (item.updated or item.published or _NO_DATE, item.published or _NO_DATE, item.content_hash)


def distinct_items(items: list[RawItem]) -> DistinctItems:
    """One item per identity, in document order of each identity's first listing."""
    by_id: dict[str, list[tuple[int, RawItem]]] = {}
    for position, item in enumerate(items):
        by_id.setdefault(item.item_id, []).append((position, item))
    kept: list[tuple[int, RawItem]] = []
    repeats = other_content = 0
    for listings in by_id.values():
        by_link: dict[str, list[tuple[int, RawItem]]] = {}
        for position, item in listings:
            by_link.setdefault(ids.canonical_url(item.link) if item.link else "", []).append((position, item))
        guid = listings[0][1].guid
        split = bool(guid.strip()) and len(by_link) > 1
        for same in by_link.values():
            chosen = max((item for _, item in same), key=_preference)
            if split:
                chosen = dataclasses.replace(
                    chosen, item_id=ids.item_id_with_link(chosen.feed_id, guid, chosen.link)
                )
            kept.append((same[0][0], chosen))
            repeats += len(same) - 1
            other_content += sum(1 for _, item in same if item.content_hash != chosen.content_hash)
    kept.sort(key=lambda entry: entry[0])
    return DistinctItems([item for _, item in kept], repeats, other_content)


__all__ = ["DistinctItems", "distinct_items"]
