from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from ingest_support import FEEDS, shared_feeds

from ingest.parser import REJECT_EMPTY, ParseError, parse_feed
from wiredesk import ids, records
from wiredesk.records import RawItem

NOW = datetime(2024, 3, 6, 12, 0, tzinfo=UTC)


def _parse(name: str, **kwargs: object):  # type: ignore[no-untyped-def]
    return parse_feed((FEEDS / name).read_bytes(), feed_id="fx", fetched_at=NOW, **kwargs)  # type: ignore[arg-type]


def test_rss_items_are_normalised() -> None:
    parsed = _parse("wire.rss.xml", base_url="https://fetch.example/feeds/wire.xml")
    assert parsed.format == "rss20"
    assert parsed.meta.title == "Harbour Gazette & Wire"
    assert parsed.meta.language == "en-gb"
    assert parsed.ttl_seconds == 30 * 60
    first = parsed.items[0]
    assert first.guid == "hg-2024-03-01-port"
    # Relative links resolve against the feed's site link, not the URL it was fetched from.
    assert first.link == "https://news.harbour.test/world/2024/03/port-strike-ends?utm_source=rss"
    assert first.title == "Port strike ends after & talks"
    assert first.summary == "<p>Dock workers returned on Friday.</p>"
    assert first.content.startswith("<p>Dock workers returned on Friday after a <b>two-week</b>")
    assert first.content_type == "text/html"
    assert first.authors == ("Ada Reporter",)
    assert first.categories == ("Labour", "Shipping")
    assert first.enclosures[0].url == "https://cdn.harbour.test/img/port.jpg"
    assert first.enclosures[0].length == 12345
    assert first.published == datetime(2024, 3, 1, 8, 30, tzinfo=UTC)
    assert first.item_id == ids.item_id("fx", first.guid)
    assert first.version == 1
    assert first.fetched_at == NOW
    assert first.feed == parsed.meta


def test_localised_and_zoneless_dates_fall_back_to_own_parser() -> None:
    parsed = _parse("wire.rss.xml")
    storm, repeat = parsed.items[1], parsed.items[2]
    assert storm.published == datetime(2024, 3, 4, 21, 5, tzinfo=UTC)  # "Seg, 04 Mar 2024 18:05 -0300"
    assert repeat.published == datetime(2024, 3, 4, 21, 5, tzinfo=UTC)  # no zone: taken as UTC
    # No guid: the id comes from the link, so the two entries with one link share it.
    assert storm.item_id == repeat.item_id == ids.item_id("fx", "", storm.link)


def test_empty_entry_is_rejected_and_the_rest_kept() -> None:
    parsed = _parse("wire.rss.xml")
    assert len(parsed.items) == 3
    assert [reason for reason, _ in parsed.rejected] == [REJECT_EMPTY]


def test_atom_entries() -> None:
    parsed = _parse("wire.atom.xml")
    assert parsed.format == "atom10"
    assert parsed.meta.language == "de"
    bridge, plain = parsed.items
    assert bridge.title == "Brücke gesperrt"
    assert bridge.link == "https://nordwind.test/artikel/bruecke-gesperrt"
    assert bridge.content == "<p>Die Brücke bleibt bis Montag gesperrt.</p>"
    assert bridge.content_type == "text/html"
    assert bridge.published == datetime(2024, 3, 2, 7, 15, tzinfo=UTC)
    assert bridge.updated == datetime(2024, 3, 2, 8, 0, tzinfo=UTC)
    assert bridge.authors == ("Berta Beispiel",)
    assert bridge.categories == ("Verkehr",)
    # A text/plain title keeps its angle brackets: they are text, not markup.
    assert plain.title == "Plain text <not a tag>"
    assert plain.content_type == "text/plain"
    assert plain.published is None


def test_json_feed() -> None:
    parsed = _parse("wire.feed.json")
    assert parsed.format == "json1.1"
    assert parsed.meta.title == "Lantern Daily"
    river, text_only = parsed.items
    assert river.guid == "101"
    assert river.link == "https://lantern.test/stories/101-river-rises"
    assert river.content_type == "text/html"
    assert river.summary == "Flood watch"
    assert river.categories == ("weather", "floods")
    assert river.authors == ("Lantern Desk",)  # inherited from the feed
    assert river.enclosures[0].length == 999
    assert river.published == datetime(2024, 3, 5, 11, 0, tzinfo=UTC)
    assert text_only.content_type == "text/plain"
    assert text_only.authors == ("Kim Writer",)
    assert sorted(reason for reason, _ in parsed.rejected) == [REJECT_EMPTY, "malformed"]


def test_truncated_feed_yields_what_it_can() -> None:
    parsed = _parse("truncated.rss.xml")
    assert parsed.bozo
    assert parsed.items[0].title == "First survives"
    assert parsed.items[0].link == "https://cut.test/1"


def test_mislabelled_cp1252_comes_out_as_correct_text() -> None:
    item = _parse("mislabelled-cp1252.rss.xml").items[0]
    assert item.title == "Eleições: candidatos são “otimistas”"
    assert item.summary == "Pesquisa de intenção de voto – 2º turno"
    assert item.published == datetime(2018, 9, 25, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "data",
    [
        (FEEDS / "not-a-feed.html").read_bytes(),
        b"",
        b"\x00\x01\x02 binary garbage",
        b"just some words",
        b'{"not": "a feed"}',
        b"{broken json",
        b"[1, 2, 3]",
    ],
)
def test_not_a_feed_is_a_parse_error(data: bytes) -> None:
    with pytest.raises(ParseError) as caught:
        parse_feed(data, feed_id="fx", fetched_at=NOW)
    assert not caught.value.retriable


def test_items_round_trip_through_records() -> None:
    for name in ["wire.rss.xml", "wire.atom.xml", "wire.feed.json"]:
        for item in _parse(name).items:
            assert records.loads(RawItem, records.dumps(item)) == item


def test_content_change_changes_hash_but_not_id() -> None:
    original = (FEEDS / "wire.rss.xml").read_bytes()
    edited = original.replace(b"two-week", b"three-week")
    before = parse_feed(original, feed_id="fx", fetched_at=NOW).items[0]
    after = parse_feed(edited, feed_id="fx", fetched_at=NOW).items[0]
    assert before.item_id == after.item_id
    assert before.content_hash != after.content_hash


def _corpus_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in {".xml", ".json", ".rdf"})


def test_feedparser_corpus_never_raises_unexpectedly() -> None:
    root = shared_feeds("feedparser")
    files = _corpus_files(root)
    assert len(files) > 1000
    parsed_items = 0
    for path in files:
        data = path.read_bytes()
        try:
            parsed = parse_feed(data, feed_id="corpus", fetched_at=NOW)
        except ParseError:
            # Only allowed when there is truly nothing to recover.
            reference = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
            assert not reference.entries, path
            assert not reference.get("version"), path
            continue
        parsed_items += len(parsed.items)
        for item in parsed.items:
            assert item.published is None or item.published.tzinfo is UTC
    assert parsed_items > 500


def test_real_feeds_every_item_normalised_with_utc_dates() -> None:
    root = shared_feeds("real-dev")
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest:
        parsed = parse_feed((root / entry["file"]).read_bytes(), feed_id="real", fetched_at=NOW)
        assert len(parsed.items) == entry["entries"], entry["file"]
        assert not parsed.rejected, entry["file"]
        assert len({i.item_id for i in parsed.items}) == len(parsed.items), entry["file"]
        for item in parsed.items:
            assert item.title, entry["file"]
            assert item.link.startswith("http"), entry["file"]
            assert item.published is not None or item.updated is not None, (entry["file"], item.title)
            for when in (item.published, item.updated):
                assert when is None or (when.tzinfo is UTC and 1990 < when.year < 2030)
            # Mis-declared encodings must not leave mojibake or replacement characters behind.
            assert "\ufffd" not in item.title + item.summary, entry["file"]
            assert "Ã" not in item.title, entry["file"]
        if entry.get("feed_title"):
            assert parsed.meta.title == entry["feed_title"]


def test_utf8_bytes_declared_latin1_come_out_as_correct_text() -> None:
    # feedparser already gets this one right; kept so a dependency change that breaks it shows.
    parsed = _parse("mislabelled-utf8.rss.xml")
    assert parsed.meta.title == "Café Zeitung"
    assert parsed.items[0].title == "Grüße aus München – été"
