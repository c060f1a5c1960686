"""The order of an article's derivations: which of two writes of the same `uri` is the newer.

One article (one canonical URL) can reach the sinks from several feeds, each with its own item
version counter, and from replays that re-derive the same raw item with a newer transform. Item
versions of different feeds say nothing about each other, so the order rests on what every copy
has, in this priority:

1. content time: the feed's own date for the item (the later of its updated and published
   dates), else the time it was fetched; never later than the fetch (a date in the future is a
   publisher's clock or time-zone error and must not pin the article for ever);
2. observation time: when ingest fetched this version (it grows with every version ingest
   publishes, so an edit that leaves the feed's dates alone still wins);
3. a digest of (item id, content hash): a deterministic tie-break between copies fetched in the
   same instant, so every replica and consumer settles on the same copy whatever the order;
4. the transform version (dotted, compared numerically): a replay of the same raw item with a
   newer extractor replaces the older derivation of the same content.

Everything above is a function of the raw item and the transform version only (never of the
clock at derivation time or of a page fetch), so replaying a raw item gives the same key.

The key is a string whose byte order is that order (`derivation_key`), carried in
`Article.wiredesk.derivation_key`: sinks compare it in SQL with a binary collation, consumers
compare it as a string, and neither needs to know the rule. Layout, fields separated by a space:
the key scheme ("1"), the content time and the observation time as fixed-width UTC
(`YYYY-MM-DDTHH:MM:SS.ffffffZ`), the tie-break as 32 hex digits, and last, because it alone
varies in length, `transform_sort_key(transform_version)`. A later rule (e.g. ranking the source
feed's authority first) gets a new scheme digit, which sorts after every key of this one.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from wiredesk.records import RawItem

KEY_SCHEME = "1"
# Articles from before derivation keys (an empty `derivation_key`): ordered by their item version
# and transform version as they used to be, below every key of a real scheme.
LEGACY_SCHEME = "0"
LEGACY_VERSION_DIGITS = 20

# Numbers and words alternate inside a part ("1rc2" -> 1, "rc", 2), as natural sorting does.
_RUN = re.compile(r"\d+|[^\d]+")
# Anything that could collide with the key's own separators is dropped from word runs.
_UNSAFE = re.compile(r"[^\x21-\x7e]")


def _encode_run(run: str) -> str:
    if run.isdigit():
        digits = run.lstrip("0") or "0"
        # Length first, so that a longer number always sorts after a shorter one ("9" < "10").
        # Two decimal digits of length cover numbers up to 99 digits long.
        return "1" + f"{min(len(digits), 99):02d}" + digits
    # Words sort before numbers, so "1.0.dev" < "1.0.0" as in most version schemes.
    return "0" + _UNSAFE.sub("", run.lower())


def transform_sort_key(version: str) -> str:
    """A key whose binary (byte) order is the dotted-version order of `version`.

    Parts are separated by a space (0x20), below every printable character, so a version that
    is a prefix of another sorts first ("1.2" < "1.2.1"). Runs inside a part are separated by
    "!" (0x21), below every encoded run start ("0" and "1"), for the same reason.
    """
    parts = version.strip().split(".")
    return " ".join("!".join(_encode_run(run) for run in _RUN.findall(part)) for part in parts)


def compare_transform_versions(a: str, b: str) -> int:
    """-1, 0 or 1 as dotted version `a` is older than, the same as, or newer than `b`."""
    ka, kb = transform_sort_key(a), transform_sort_key(b)
    return (ka > kb) - (ka < kb)


def content_time(published: datetime | None, updated: datetime | None, fetched_at: datetime) -> datetime:
    """The feed's date for this version of the item, capped at the moment it was fetched."""
    claimed = [d for d in (published, updated) if d is not None]
    return min(max(claimed), fetched_at) if claimed else fetched_at


def _instant(value: datetime) -> str:
    t = value.astimezone(UTC)
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
        f".{t.microsecond:06d}Z"
    )


def _tie_break(item_id: str, content_hash: str) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{item_id}\x1f{content_hash}".encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def derivation_key(
    *,
    content_time: datetime,
    observed_at: datetime,
    item_id: str,
    content_hash: str,
    transform_version: str,
) -> str:
    """The sortable key of one derivation; see the module docstring for the rule and layout."""
    return " ".join(
        (
            KEY_SCHEME,
            _instant(content_time),
            _instant(observed_at),
            _tie_break(item_id, content_hash),
            transform_sort_key(transform_version),
        )
    )


def raw_item_key(raw: RawItem, transform_version: str) -> str:
    """The key of the article that `transform_version` derives from `raw`."""
    return derivation_key(
        content_time=content_time(raw.published, raw.updated, raw.fetched_at),
        observed_at=raw.fetched_at,
        item_id=raw.item_id,
        content_hash=raw.content_hash,
        transform_version=transform_version,
    )


def legacy_key(item_version: int, transform_version: str) -> str:
    """The key of an article written before derivation keys existed (its field is empty).

    The sinks' schema migrations compute the same string in SQL for rows stored back then.
    """
    return (
        f"{LEGACY_SCHEME} {max(item_version, 0):0{LEGACY_VERSION_DIGITS}d} "
        f"{transform_sort_key(transform_version)}"
    )
