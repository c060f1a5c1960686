"""The topic contract as JSON Schema, generated from the record types so the two cannot drift.

`python -m wiredesk.contract` rewrites schemas/*.schema.json; a test fails when the committed
files differ from what the records say, so every contract change is a reviewed diff.
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import orjson

from wiredesk.records import Article, RawItem

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas"

DESCRIPTIONS: dict[str, str] = {
    "RawItem.feed_id": "Registry id of the feed the item came from.",
    "RawItem.item_id": "Stable item id: from the guid within its feed, else the normalised link, else a "
    "hash of title and content; from guid and normalised link when the feed gives one guid to items "
    "with different links. The Kafka key.",
    "RawItem.version": "1 for a new item; +1 each time ingest sees its content change.",
    "RawItem.fetched_at": "When ingest fetched the feed (UTC).",
    "RawItem.content_hash": "What ingest compares to tell a change from a repeat.",
    "RawItem.content_type": "How to read `content`.",
    "RawItem.published": "The feed's published date in UTC, if it gave one.",
    "RawItem.updated": "The feed's updated date in UTC, if it gave one.",
    "RawItem.fetch_full_text": "The registry marks the feed's items as teasers: transform fetches the page.",
    "RawItem.trace_id": "Correlates log lines across services.",
    "Article.uri": "Stable article id derived from the canonical URL (urn:wiredesk:article:...). "
    "The Kafka key.",
    "Article.version": "The raw item's version within its own feed. Not comparable across feeds: "
    "order an article's messages by `wiredesk.derivation_key`.",
    "Article.firstcreated": "When the story was first published (UTC).",
    "Article.versioncreated": "When this version of the story was published or updated (UTC).",
    "Article.located": "Dateline place, e.g. NEW DELHI.",
    "Article.body_text": "Clean paragraphs separated by a blank line.",
    "Article.body_html": "Sanitised HTML of the body (allow-listed tags, safe link schemes only).",
    "Article.language": "ISO 639-1 code detected from the body.",
    "Article.subject": "Publisher tags, split, de-duplicated and kept only where the story supports them.",
    "Provenance.agency": "News agency credited (ANI, PTI, Reuters, AP, AFP, ...), empty if none.",
    "Provenance.auto_published": "The outlet says the story was published from an agency feed unedited.",
    "Provenance.story_id": "Shared by near-duplicate copies of the same story across outlets.",
    "Provenance.fingerprint": "Near-duplicate fingerprint (hex).",
    "Provenance.transform_version": "Version of the transform that derived this article "
    "(the last part of `derivation_key`).",
    "Provenance.derivation_key": "Orders the messages of one `uri`: the greater string (compared "
    "byte by byte) is the newer derivation, equal strings the same one. Built from the feed's date "
    "for the item, the fetch time, a tie-break and the transform version (docs/topics.md). Empty "
    "only on articles from before it existed.",
}


def _type_schema(tp: Any, owner: str, name: str, defs: dict[str, Any]) -> dict[str, Any]:
    origin = get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in get_args(tp) if a is not type(None)]
        inner = _type_schema(options[0], owner, name, defs)
        return {"anyOf": [inner, {"type": "null"}]} if len(get_args(tp)) > len(options) else inner
    if origin is Literal:
        return {"enum": list(get_args(tp))}
    if origin is tuple:
        return {"type": "array", "items": _type_schema(get_args(tp)[0], owner, name, defs)}
    if tp is str:
        return {"type": "string"}
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if tp is datetime:
        return {"type": "string", "format": "date-time"}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        defs.setdefault(tp.__name__, _object_schema(tp, defs))
        return {"$ref": f"#/$defs/{tp.__name__}"}
    raise TypeError(f"no JSON Schema mapping for {owner}.{name}: {tp!r}")


def _object_schema(kind: Any, defs: dict[str, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(kind)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for f in dataclasses.fields(kind):
        prop = _type_schema(hints[f.name], kind.__name__, f.name, defs)
        description = DESCRIPTIONS.get(f"{kind.__name__}.{f.name}")
        if description:
            prop = {**prop, "description": description}
        properties[f.name] = prop
        # Producers write every field, but only fields without a default are required: a field
        # added later in the major version must not make older messages invalid.
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.append(f.name)
    # Additive evolution within a major version: consumers must ignore unknown properties.
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": True}


def json_schema(kind: type[RawItem] | type[Article], topic: str) -> dict[str, Any]:
    defs: dict[str, Any] = {}
    body = _object_schema(kind, defs)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://wiredesk.dev/schemas/{kind.SCHEMA}.v{kind.SCHEMA_VERSION}.schema.json",
        "title": f"{kind.SCHEMA} v{kind.SCHEMA_VERSION}",
        "description": f"Value of messages on topic `{topic}` (headers: wd-schema={kind.SCHEMA}, "
        f"wd-schema-version={kind.SCHEMA_VERSION}).",
        **body,
        "$defs": dict(sorted(defs.items())),
    }


def schemas() -> dict[str, dict[str, Any]]:
    return {
        "raw-item.schema.json": json_schema(RawItem, "wiredesk.items.raw"),
        "article.schema.json": json_schema(Article, "wiredesk.articles"),
    }


def render(schema: dict[str, Any]) -> bytes:
    return orjson.dumps(schema, option=orjson.OPT_INDENT_2) + b"\n"


def main() -> int:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for name, schema in schemas().items():
        (SCHEMA_DIR / name).write_bytes(render(schema))
        print(f"wrote {SCHEMA_DIR / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
