"""The command line: help texts, settings commands, and the offline clean/entities commands."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from app import cli
from tests.conftest import REPO, SEED

EXPECTED = json.loads((SEED / "expected.json").read_text())
SUBCOMMANDS = [
    "run",
    "ingest",
    "transform",
    "sink",
    "feeds",
    "search",
    "topics",
    "config",
    "clean",
    "entities",
    "dlq",
    "replay",
]


@pytest.mark.parametrize("command", [[], *[[c] for c in SUBCOMMANDS], ["dlq", "redrive"]])
def test_every_command_explains_itself(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main([*command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "usage: wiredesk" in out
    assert len(out.splitlines()) > 3


def test_config_print_redacts_secrets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WIREDESK_SINK_POSTGRES_DSN", "postgresql://u:topsecret@db/x")
    assert cli.main(["config", "--print"]) == 0
    out = capsys.readouterr().out
    assert "topsecret" not in out
    assert "raw_topic: wiredesk.items.raw" in out


def test_bad_settings_fail_at_start_listing_every_problem(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WIREDESK_KAFKA_RAW_PARTITIONS", "0")
    monkeypatch.setenv("WIREDESK_NO_SUCH_THING", "1")
    assert cli.main(["config", "--check"]) == 78
    err = capsys.readouterr().err
    assert "kafka.raw_partitions" in err
    assert "WIREDESK_NO_SUCH_THING" in err


def test_services_refuse_to_start_without_kafka(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("WIREDESK_KAFKA_BOOTSTRAP", raising=False)
    assert cli.main(["transform"]) == 78
    assert "WIREDESK_KAFKA_BOOTSTRAP" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("as_", "name"), [("html", "agency-article-page.html"), ("text", "agency-article-page.txt")]
)
def test_clean_prints_the_seed_article(as_: str, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["clean", "--as", as_, str(SEED / name)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    article = json.loads(lines[0])
    assert article["body_text"].split("\n\n") == EXPECTED["body_paragraphs"]
    assert article["wiredesk"]["agency"] == "ANI"


def test_clean_feed_and_bad_file_keep_one_line_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "absent.xml"
    code = cli.main(["clean", "--as", "feed", str(SEED / "agency-feed.rss.xml"), str(missing)])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1
    assert len(lines) == 2
    assert lines[0]["body_text"].split("\n\n") == EXPECTED["body_paragraphs"]
    assert lines[1]["file"] == str(missing)
    assert "error" in lines[1]


def test_entities_offsets_index_the_file_text(capsys: pytest.CaptureFixture[str]) -> None:
    path = SEED / "agency-article-page.txt"
    assert cli.main(["entities", "--as", "text", str(path)]) == 0
    spans = json.loads(capsys.readouterr().out)
    text = path.read_text()
    assert spans
    for span in spans:
        assert text[span["start"] : span["end"]] == span["text"]
        assert span["type"] in {"person", "organisation", "place"}


def _printed_config(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert cli.main(["config", "--print", *args]) == 0
    printed: dict[str, Any] = yaml.safe_load(capsys.readouterr().out)
    return printed


def test_config_print_shows_the_effective_values_not_empty_strings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in [v for v in os.environ if v.startswith("WIREDESK_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WIREDESK_DATA_DIR", str(tmp_path / "data"))
    run = _printed_config(capsys)
    assert run["ingest"]["state_path"] == str(tmp_path / "data" / "ingest.sqlite")
    assert run["transform"]["story_index_path"] == str(tmp_path / "data" / "stories.sqlite")
    assert run["sink"]["sqlite_path"] == str(tmp_path / "data" / "wiredesk.sqlite")
    assert run["service"]["metrics_host"] == "127.0.0.1"
    # Nothing configured and no ./feeds.yaml: `run` polls the bundled samples, and says which.
    assert run["ingest"]["feeds_file"] == str(REPO / "examples" / "feeds" / "feeds.yaml")
    assert _printed_config(capsys, "--for", "sink")["service"]["metrics_host"] == "0.0.0.0"
    # The services never fall back to the samples: they read ./feeds.yaml or what is configured.
    assert _printed_config(capsys, "--for", "ingest")["ingest"]["feeds_file"] == "feeds.yaml"
    (tmp_path / "feeds.yaml").write_text("feeds: []\n")
    assert _printed_config(capsys)["ingest"]["feeds_file"] == "feeds.yaml"


def test_feeds_lists_the_bundled_samples_saying_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in [v for v in os.environ if v.startswith("WIREDESK_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WIREDESK_DATA_DIR", str(tmp_path / "data"))
    assert cli.main(["feeds"]) == 0
    assert "the bundled sample feeds" in capsys.readouterr().out.splitlines()[0]


def test_clean_rejects_a_binary_file_and_still_cleans_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    binary = tmp_path / "photo.html"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    code = cli.main(["clean", str(binary), str(SEED / "agency-article-page.html")])
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert code == 1
    assert lines[0]["file"] == str(binary)
    assert "not a text file" in lines[0]["error"]
    assert lines[1]["body_text"].split("\n\n") == EXPECTED["body_paragraphs"]
    assert "\x00" not in captured.out and "\\u0000" not in captured.out
    assert [line for line in captured.err.splitlines() if line] == [
        f"wiredesk: {binary}: not a text file (a NUL byte at offset 8)"
    ]


def test_clean_detects_a_feed_from_its_content_whatever_its_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "download.html"  # a feed saved under a page's name
    saved.write_bytes((SEED / "agency-feed.rss.xml").read_bytes())
    assert cli.main(["clean", str(SEED / "agency-feed.rss.xml"), str(saved)]) == 0
    articles = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(articles) == 2
    for article in articles:  # one article per feed item, not the feed read as one web page
        assert article["body_text"].split("\n\n") == EXPECTED["body_paragraphs"]
        assert article["wiredesk"]["feed_id"] != "local"


def test_clean_detects_plain_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "notes"
    text.write_bytes((SEED / "agency-article-page.txt").read_bytes())
    assert cli.main(["clean", str(text)]) == 0
    (article,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert article["body_text"].split("\n\n") == EXPECTED["body_paragraphs"]


def test_entities_rejects_a_binary_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    binary = tmp_path / "a.txt"
    binary.write_bytes(b"PK\x03\x04\x14\x00\x00\x00" * 50)
    assert cli.main(["entities", str(binary)]) == 1
    assert "not a text file" in json.loads(capsys.readouterr().out)["error"]
