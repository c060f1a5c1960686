"""The typed records that travel on wiredesk's topics, and their one (de)serialisation path.

Every record is frozen and slotted; datetimes are timezone-aware UTC; each record type carries
its schema name and version. Serialisation uses orjson with fixed options so that the bytes on
the wire are the same whichever service produced them. `schemas/` holds the JSON Schema of each
value; changes within a major version are additive only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, TypeVar

import orjson

from wiredesk.errors import RecordFailure

# OPT_UTC_Z: "2022-02-18T02:50:00Z", the form ninjs consumers expect.
# OPT_OMIT_MICROSECONDS is *not* set: fetched_at precision matters for lag measurement.
_DUMPS_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC


class RecordError(RecordFailure, ValueError):
    """A message value that does not decode into the record its topic promises."""


def utc(value: datetime) -> datetime:
    """The same instant in UTC; naive datetimes are rejected rather than guessed at."""
    if value.tzinfo is None:
        raise RecordError(f"naive datetime {value.isoformat()} (records hold UTC-aware datetimes)")
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Enclosure:
    url: str
    type: str = ""
    length: int | None = None


@dataclass(frozen=True, slots=True)
class FeedMeta:
    """What the feed says about itself; travels with every item so consumers need no lookup."""

    title: str = ""
    link: str = ""
    language: str = ""


ContentType = Literal["text/html", "text/plain"]


@dataclass(frozen=True, slots=True)
class RawItem:
    """One feed item as ingest saw it: topic `wiredesk.items.raw`, key `item_id`.

    `version` starts at 1 and grows each time ingest sees the item's content change;
    `content_hash` is what ingest compares to decide that.
    """

    SCHEMA: ClassVar[str] = "wiredesk.RawItem"
    SCHEMA_VERSION: ClassVar[int] = 1

    feed_id: str
    item_id: str
    version: int
    fetched_at: datetime
    content_hash: str
    guid: str = ""
    link: str = ""
    title: str = ""
    summary: str = ""
    content: str = ""
    content_type: ContentType = "text/html"
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    enclosures: tuple[Enclosure, ...] = ()
    published: datetime | None = None
    updated: datetime | None = None
    feed: FeedMeta = field(default_factory=FeedMeta)
    # The registry marks feeds whose items carry only a teaser: transform fetches the page.
    fetch_full_text: bool = False
    trace_id: str = ""
    # The registry's agency for this feed: transform uses it when the copy itself credits none.
    agency_hint: str = ""


@dataclass(frozen=True, slots=True)
class Entity:
    """A ninjs `person`/`organisation`/`place` entry."""

    name: str


@dataclass(frozen=True, slots=True)
class Subject:
    """A ninjs `subject` entry: here, a cleaned publisher tag."""

    name: str


@dataclass(frozen=True, slots=True)
class Quality:
    """Per-article quality signals; counted per source so publisher layout changes show up."""

    empty_body: bool = False
    missing_date: bool = False
    future_date: bool = False
    language_mismatch: bool = False
    teaser_only: bool = False


@dataclass(frozen=True, slots=True)
class Provenance:
    """The `wiredesk` object of an Article: pipeline facts that ninjs has no field for."""

    feed_id: str
    item_id: str
    item_version: int
    transform_version: str
    ingested_at: datetime
    # Byte order = derivation order across feeds and replays (wiredesk/derivation.py); empty on
    # articles from before it existed.
    derivation_key: str = ""
    source_url: str = ""
    canonical_url: str = ""
    agency: str = ""
    auto_published: bool = False
    story_id: str = ""
    fingerprint: str = ""
    word_count: int = 0
    reading_time_seconds: int = 0
    trace_id: str = ""
    quality: Quality = field(default_factory=Quality)


@dataclass(frozen=True, slots=True)
class Article:
    """A cleaned, enriched story shaped after IPTC ninjs: topic `wiredesk.articles`, key `uri`."""

    SCHEMA: ClassVar[str] = "wiredesk.Article"
    SCHEMA_VERSION: ClassVar[int] = 1

    uri: str
    version: int
    headline: str
    body_text: str
    wiredesk: Provenance
    type: str = "text"
    firstcreated: datetime | None = None
    versioncreated: datetime | None = None
    byline: str = ""
    located: str = ""
    description_text: str = ""
    body_html: str = ""
    language: str = ""
    person: tuple[Entity, ...] = ()
    organisation: tuple[Entity, ...] = ()
    place: tuple[Entity, ...] = ()
    subject: tuple[Subject, ...] = ()

    @property
    def paragraphs(self) -> list[str]:
        return [p for p in self.body_text.split("\n\n") if p]


Record = RawItem | Article
R = TypeVar("R", RawItem, Article)


def dumps(record: Record) -> bytes:
    """The one way a record becomes bytes on a topic."""
    return orjson.dumps(record, option=_DUMPS_OPTIONS)


def loads(kind: type[R], data: bytes | str) -> R:
    """Decode a topic value into its record; anything malformed raises RecordError."""
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise RecordError(f"not JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise RecordError(f"{kind.SCHEMA} must be a JSON object, got {type(obj).__name__}")
    return from_dict(kind, obj)


def from_dict(kind: type[R], obj: dict[str, Any]) -> R:
    try:
        record: R = _build(kind, obj)
    except RecordError:
        raise
    except (TypeError, ValueError, KeyError) as exc:
        raise RecordError(f"{kind.SCHEMA}: {exc}") from exc
    return record


_NESTED: dict[str, Any] = {
    "feed": FeedMeta,
    "enclosures": Enclosure,
    "wiredesk": Provenance,
    "quality": Quality,
    "person": Entity,
    "organisation": Entity,
    "place": Entity,
    "subject": Subject,
}
_DATETIMES = {"fetched_at", "published", "updated", "firstcreated", "versioncreated", "ingested_at"}


def _build(kind: Any, obj: dict[str, Any]) -> Any:
    fields = {f.name: f for f in dataclasses.fields(kind)}
    unknown = set(obj) - set(fields)
    # Additive schema evolution: newer producers may add fields older consumers do not know.
    kwargs: dict[str, Any] = {}
    for name, value in obj.items():
        if name in unknown:
            continue
        kwargs[name] = _convert(name, value)
    missing = [
        name
        for name, f in fields.items()
        if name not in kwargs
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise RecordError(f"{getattr(kind, 'SCHEMA', kind.__name__)}: missing {', '.join(missing)}")
    _check_types(kind, kwargs)
    return kind(**kwargs)


def _convert(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in _DATETIMES:
        if not isinstance(value, str):
            raise RecordError(f"{name}: expected an ISO 8601 string")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise RecordError(f"{name}: {exc}") from exc
        return utc(parsed)
    nested = _NESTED.get(name)
    if nested is not None:
        if isinstance(value, list):
            return tuple(_build(nested, v) if isinstance(v, dict) else _bad(name, v) for v in value)
        if isinstance(value, dict):
            return _build(nested, value)
        return _bad(name, value)
    if isinstance(value, list):
        return tuple(value)
    return value


def _bad(name: str, value: Any) -> Any:
    raise RecordError(f"{name}: unexpected {type(value).__name__}")


_SCALAR_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "bool": (bool,),
}


def _check_types(kind: Any, kwargs: dict[str, Any]) -> None:
    """Reject wrong scalar types early: a str where an int belongs would poison sinks later."""
    for f in dataclasses.fields(kind):
        if f.name not in kwargs:
            continue
        value = kwargs[f.name]
        annotation = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
        expected = _SCALAR_TYPES.get(annotation)
        if expected is None:
            if annotation.startswith("tuple[str") and not all(isinstance(v, str) for v in value):
                raise RecordError(f"{f.name}: expected a list of strings")
            continue
        if expected == (int,) and isinstance(value, bool):
            raise RecordError(f"{f.name}: expected int, got bool")
        if not isinstance(value, expected):
            raise RecordError(f"{f.name}: expected {annotation}, got {type(value).__name__}")


def record_key(record: Record) -> bytes:
    """The Kafka key: the record's id, so all versions of one item share a partition."""
    return (record.item_id if isinstance(record, RawItem) else record.uri).encode()


__all__ = [
    "Article",
    "ContentType",
    "Enclosure",
    "Entity",
    "FeedMeta",
    "Provenance",
    "Quality",
    "RawItem",
    "Record",
    "RecordError",
    "Subject",
    "dumps",
    "from_dict",
    "loads",
    "record_key",
    "utc",
]
