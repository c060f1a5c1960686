"""`wiredesk clean` and `wiredesk entities`: the transform chain over local files, no Kafka.

The same pure functions the transform workers run, so what these print is what the pipeline
publishes (except `story_id`, which here clusters only the files of one invocation).
"""

from __future__ import annotations

import codecs
import logging
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import orjson

from wiredesk import ids, records
from wiredesk.encoding import decode_html
from wiredesk.errors import RecordFailure
from wiredesk.records import RawItem

log = logging.getLogger(__name__)

LOCAL_FEED = "local"

# What a file is, read from its first bytes rather than its name: a feed saved as "x.html" is
# still a feed. A feed is XML whose root element is a feed's, or a JSON Feed; a page has markup.
_PROLOGUE = rb"(?:\s|<\?[^>]*\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)*"
_FEED_ROOT = re.compile(_PROLOGUE + rb"<(?:rss|feed|rdf:RDF|RDF)[\s>/]", re.IGNORECASE | re.DOTALL)
_JSON_FEED = re.compile(rb'^\s*\{.*"version"\s*:\s*"https?://jsonfeed\.org/version/', re.DOTALL)
_MARKUP = re.compile(
    rb"<(?:!doctype\s+html|html|head|body|article|main|section|div|p|h[1-6]|br|span|table|ul)[\s>/]",
    re.IGNORECASE,
)
_SNIFF_BYTES = 64 * 1024
# Bytes that occur in text: tab, newline, carriage return, form feed, backspace, escape.
_TEXT_CONTROLS = frozenset(b"\t\n\r\f\b\x1b")


class NotText(RecordFailure):
    """The file is not text (an image, an archive): cleaning it would print garbage."""


def require_text(data: bytes) -> None:
    """Raise NotText for bytes that are not text in any encoding this reads."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return  # UTF-16 text, where NUL bytes are half of every ASCII character
    nul = data.find(b"\x00")
    if nul >= 0:
        raise NotText(f"not a text file (a NUL byte at offset {nul})")
    sample = data[:_SNIFF_BYTES]
    controls = sum(1 for byte in sample if byte < 0x20 and byte not in _TEXT_CONTROLS)
    if controls * 20 > len(sample):
        raise NotText(f"not a text file ({controls} control bytes in the first {len(sample)})")


def detect_kind(data: bytes) -> str:
    """'feed', 'html' or 'text', from the content."""
    head = data[:_SNIFF_BYTES].removeprefix(codecs.BOM_UTF8)
    if _FEED_ROOT.match(head) or _JSON_FEED.match(head):
        return "feed"
    return "html" if _MARKUP.search(head) else "text"


def _raw_for_file(path: Path, data: bytes, as_: str, url: str, now: datetime) -> tuple[RawItem, str]:
    """The local file as a RawItem, and the page HTML when the file is a page.

    The page goes to derive_article beside the item, as a fetched page does in the transform
    worker: it is this command's input, not a field of the topic contract.
    """
    link = url or path.resolve().as_uri()
    body = decode_html(data) if as_ == "html" else data.decode("utf-8", "replace")
    raw = RawItem(
        feed_id=LOCAL_FEED,
        item_id=ids.item_id(LOCAL_FEED, link=link),
        version=1,
        fetched_at=now,
        content_hash=ids.content_hash(body),
        link=url,
    )
    if as_ == "html":
        return raw, body
    return replace(raw, content=body, content_type="text/plain"), ""


def _items_and_pages(path: Path, as_: str | None, url: str, now: datetime) -> Iterator[tuple[RawItem, str]]:
    data = path.read_bytes()
    require_text(data)
    as_ = as_ or detect_kind(data)
    if as_ != "feed":
        yield _raw_for_file(path, data, as_, url, now)
        return
    from ingest.parser import parse_feed

    parsed = parse_feed(data, feed_id=path.stem or LOCAL_FEED, fetched_at=now, base_url=url)
    for item in parsed.items:
        yield item, ""


def clean_files(
    files: Sequence[str], *, as_: str | None, url: str, out: TextIO, err: TextIO | None = None
) -> int:
    """Print one Article JSON per file (per item for feeds); a failed file prints an error line.

    `as_` None detects each file's kind from its content. Each failed file is also named on
    `err` (stderr), one line each; the others are still cleaned.
    """
    from transform.pipeline import derive_article
    from transform.stories import MemoryStoryIndex

    stories = MemoryStoryIndex()
    now = datetime.now(UTC)
    failures = 0
    for name in files:
        # Lines are written outside the `try`: an output error (a closed pipe) is not a bad file.
        try:
            lines = [
                records.dumps(derive_article(raw, story_index=stories, now=now, page_html=page_html)).decode()
                + "\n"
                for raw, page_html in _items_and_pages(Path(name), as_, url, now)
            ]
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the others
            failures += 1
            _complain(name, exc, err)
            lines = [_error_line(name, exc)]
        out.writelines(lines)
    out.flush()
    return 1 if failures else 0


def entity_files(files: Sequence[str], *, as_: str, out: TextIO, err: TextIO | None = None) -> int:
    """Print, per file, one JSON list of entity spans over the cleaned (or, for text, own) text."""
    from transform.entities import find_entities

    failures = 0
    for name in files:
        try:
            data = Path(name).read_bytes()
            require_text(data)
            if as_ == "html":
                from transform.clean import clean_page

                text = "\n\n".join(clean_page(decode_html(data)).paragraphs)
            else:
                text = data.decode("utf-8", "replace")
            spans = [
                {"start": s.start, "end": s.end, "type": s.type, "text": s.text} for s in find_entities(text)
            ]
            line = orjson.dumps(spans).decode() + "\n"
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the others
            failures += 1
            _complain(name, exc, err)
            line = _error_line(name, exc)
        out.write(line)
    out.flush()
    return 1 if failures else 0


def _complain(name: str, exc: BaseException, err: TextIO | None) -> None:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    if not isinstance(exc, OSError | NotText):
        reason = f"{type(exc).__name__}: {reason}"
    print(f"wiredesk: {name}: {reason}", file=err or sys.stderr)


def _error_line(name: str, exc: BaseException) -> str:
    line: dict[str, Any] = {"file": name, "error": f"{type(exc).__name__}: {exc}", "body_text": ""}
    return orjson.dumps(line).decode() + "\n"
