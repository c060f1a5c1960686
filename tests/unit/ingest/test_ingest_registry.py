from __future__ import annotations

from pathlib import Path

import pytest

from ingest.registry import RegistryError, load_registry, parse_registry


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_registry_with_defaults_and_paths(tmp_path: Path) -> None:
    (tmp_path / "local").mkdir()
    path = _write(
        tmp_path,
        """
feeds:
  - id: world
    url: https://news.example.org/world.rss
    name: World
    interval_seconds: 120
    full_text: true
    agency: Reuters
    language: en-GB
  - id: local-file
    url: local/feed.xml
    enabled: false
  - id: abs.file_1
    url: file:///srv/feeds/a.xml
""",
    )
    registry = load_registry(path)
    assert [f.id for f in registry] == ["world", "local-file", "abs.file_1"]
    world = registry.get("world")
    assert world is not None
    assert world.interval_seconds == 120.0
    assert world.full_text
    assert world.agency == "Reuters"
    assert world.language == "en-GB"
    local = registry.get("local-file")
    assert local is not None
    assert local.url == (tmp_path / "local" / "feed.xml").resolve().as_uri()
    assert local.is_file
    assert not local.enabled
    assert [f.id for f in registry.enabled] == ["world", "abs.file_1"]


def test_bare_list_and_empty_file(tmp_path: Path) -> None:
    registry = parse_registry([{"id": "a", "url": "http://a.example/x"}], base_dir=tmp_path)
    assert len(registry) == 1
    assert len(load_registry(_write(tmp_path, ""))) == 0


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
feeds:
  - id: dup
    url: https://a.example/1
  - id: dup
    url: https://a.example/2
  - id: Bad Id
    url: https://a.example/3
  - id: noscheme
    url: gopher://a.example/
  - id: nohost
    url: "https:///path"
  - id: typo
    url: https://a.example/4
    intervall: 30
  - id: badvalues
    url: https://a.example/5
    interval_seconds: -1
    full_text: "yes"
    language: "english please"
  - id: nourl
  - just a string
extra: 1
""",
    )
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    text = "\n".join(caught.value.problems)
    for needle in [
        "duplicate id 'dup'",
        "'Bad Id' must be a slug",
        "scheme 'gopher'",
        "has no host",
        "unknown key 'intervall'",
        "interval_seconds must be a positive number",
        "full_text must be true or false",
        "language 'english please'",
        "(nourl): url is required",
        "must be a mapping, got str",
        "unknown top-level key 'extra'",
    ]:
        assert needle in text, needle
    assert caught.value.exit_code == 78
    assert str(path) in str(caught.value)


def test_unreadable_and_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="cannot read"):
        load_registry(tmp_path / "missing.yaml")
    with pytest.raises(RegistryError, match="not valid YAML"):
        load_registry(_write(tmp_path, "feeds: [\n"))
    with pytest.raises(RegistryError, match="must be a list"):
        load_registry(_write(tmp_path, "feeds: 3\n"))


@pytest.mark.parametrize(
    ("hint", "agency"),
    [
        ("Reuters", "Reuters"),
        ("associated press", "AP"),
        ("afp", "AFP"),
        ("Agence France Presse", "AFP"),
        ("Press  Trust of India", "PTI"),
        ("  Interfax ", "Interfax"),
        ("Example Wire Service", "Example Wire Service"),
    ],
)
def test_agency_hint_takes_the_canonical_spelling_when_the_agency_is_known(hint: str, agency: str) -> None:
    registry = parse_registry([{"id": "a", "url": "http://a.example/x", "agency": hint}], base_dir=Path())
    assert registry.feeds[0].agency == agency


def test_an_edited_registry_is_read_again_and_a_broken_edit_keeps_the_last_good(tmp_path: Path) -> None:
    from ingest.registry import RegistryError, RegistryWatcher

    path = tmp_path / "feeds.yaml"
    path.write_text(
        "feeds:\n  - {id: a, url: https://a.example.org/rss}\n  - {id: b, url: https://b.example.org/rss}\n"
    )
    watcher = RegistryWatcher(path, load_registry(path))
    assert watcher.check() is None
    path.write_text(
        "feeds:\n  - {id: a, url: https://a.example.org/new}\n  - {id: c, url: https://c.example.org/rss}\n"
        "  - {id: d, url: https://d.example.org/rss, enabled: false}\n"
    )
    change = watcher.check()
    assert not isinstance(change, RegistryError)
    assert change is not None
    assert (change.added, change.removed, change.moved) == (("c",), ("b",), ("a",))
    assert [f.id for f in watcher.current.enabled] == ["a", "c"]
    path.write_text("feeds:\n  - {id: a, url: ftp://nope}\n  - {id: a, url: https://x.example.org/}\n")
    broken = watcher.check()
    assert isinstance(broken, RegistryError)
    assert "scheme 'ftp'" in str(broken)
    assert [f.id for f in watcher.current.enabled] == ["a", "c"]
    # Reported once: the same broken file is not news.
    assert watcher.check() is None
    path.unlink()
    assert isinstance(watcher.check(), RegistryError)
    assert [f.id for f in watcher.current.enabled] == ["a", "c"]
