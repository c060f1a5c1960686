"""`wiredesk clean` and `wiredesk entities`: the transform chain over local files, no Kafka.

The same pure functions the transform workers run, so what these print is what the pipeline
publishes (except `story_id`, which here clusters only the files of one invocation).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import orjson

from wiredesk import ids, records
from wiredesk.encoding import decode_html
from wiredesk.records import RawItem

log = logging.getLogger(__name__)

LOCAL_FEED = "local"


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


def _items_and_pages(path: Path, as_: str, url: str, now: datetime) -> Iterator[tuple[RawItem, str]]:
    data = path.read_bytes()
    if as_ != "feed":
        yield _raw_for_file(path, data, as_, url, now)
        return
    from ingest.parser import parse_feed

    parsed = parse_feed(data, feed_id=path.stem or LOCAL_FEED, fetched_at=now, base_url=url)
    for item in parsed.items:
        yield item, ""


def clean_files(files: Sequence[str], *, as_: str, url: str, out: TextIO) -> int:
    """Print one Article JSON per file (per item for feeds); a failed file prints an error line."""
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
            log.warning("cannot clean %s: %s", name, exc)
            lines = [_error_line(name, exc)]
        out.writelines(lines)
    out.flush()
    return 1 if failures else 0


def entity_files(files: Sequence[str], *, as_: str, out: TextIO) -> int:
    """Print, per file, one JSON list of entity spans over the cleaned (or, for text, own) text."""
    from transform.entities import find_entities

    failures = 0
    for name in files:
        try:
            data = Path(name).read_bytes()
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
            log.warning("cannot read entities of %s: %s", name, exc)
            line = _error_line(name, exc)
        out.write(line)
    out.flush()
    return 1 if failures else 0


def _error_line(name: str, exc: BaseException) -> str:
    line: dict[str, Any] = {"file": name, "error": f"{type(exc).__name__}: {exc}", "body_text": ""}
    return orjson.dumps(line).decode() + "\n"
