"""The feed registry: which feeds to poll, read from a YAML file (`feeds.yaml`).

```yaml
feeds:
  - id: example-world                     # slug, unique; becomes part of every item id
    url: https://example.org/world.rss    # http(s) URL, file:// URL, or a path relative to this file
    name: Example World                   # optional, for people
    interval_seconds: 600                 # optional, fixed base interval (else adaptive)
    full_text: true                       # optional: items are teasers, transform fetches pages
    agency: Reuters                       # optional hint for transform (a known agency's spelling
                                          #   is made canonical: "associated press" -> AP)
    language: en                          # optional hint (BCP 47)
    enabled: true                         # optional
```

A bare list of feeds at the top level is accepted too. Every problem in the file is collected and
reported at once (`RegistryError.problems`), like the settings are: an operator fixing a registry
should not have to run the service once per typo. docs/feeds.md documents every field.

A running ingest re-reads the file when it changes (`RegistryWatcher`): added feeds are polled,
removed ones stopped, edited URLs followed; an edit that does not validate changes nothing, and
the reason is logged once, until the file changes again.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from wiredesk.agencies import canonical_agency
from wiredesk.errors import ConfigurationError, problem_list

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
_KNOWN_KEYS = frozenset(
    {"id", "url", "name", "interval_seconds", "full_text", "agency", "language", "enabled"}
)
_TOP_KEYS = frozenset({"feeds"})


class RegistryError(ConfigurationError):
    """A registry that cannot be used; `problems` lists every issue found."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(problem_list(f"invalid feed registry {source}", problems))


@dataclass(frozen=True, slots=True)
class Feed:
    id: str
    url: str
    name: str = ""
    interval_seconds: float | None = None
    full_text: bool = False
    agency: str = ""
    language: str = ""
    enabled: bool = True

    @property
    def is_file(self) -> bool:
        return self.url.startswith("file:")


@dataclass(frozen=True, slots=True)
class Registry:
    feeds: tuple[Feed, ...]
    source: str = ""

    def __iter__(self) -> Iterator[Feed]:
        return iter(self.feeds)

    def __len__(self) -> int:
        return len(self.feeds)

    @property
    def enabled(self) -> tuple[Feed, ...]:
        return tuple(f for f in self.feeds if f.enabled)

    def get(self, feed_id: str) -> Feed | None:
        for feed in self.feeds:
            if feed.id == feed_id:
                return feed
        return None


def load_registry(path: str | Path) -> Registry:
    """Read and validate a registry file; raises RegistryError listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegistryError(str(path), [f"cannot read: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise RegistryError(str(path), [f"not UTF-8: {exc}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RegistryError(str(path), [f"not valid YAML: {exc}"]) from None
    return parse_registry(data, base_dir=path.resolve().parent, source=str(path))


def parse_registry(data: Any, *, base_dir: Path, source: str = "<registry>") -> Registry:
    """Validate already-loaded YAML data. Relative paths resolve against base_dir."""
    problems: list[str] = []
    if data is None:
        entries: Any = []
    elif isinstance(data, list):
        entries = data
    elif isinstance(data, dict):
        for key in sorted(set(map(str, data)) - _TOP_KEYS):
            problems.append(f"unknown top-level key {key!r} (expected 'feeds')")
        entries = data.get("feeds") or []
    else:
        raise RegistryError(source, ["top level must be a mapping with 'feeds' or a list of feeds"])
    if not isinstance(entries, list):
        raise RegistryError(source, ["'feeds' must be a list"])
    feeds: list[Feed] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        feed = _parse_entry(entry, index, base_dir, problems)
        if feed is None:
            continue
        if feed.id in seen:
            problems.append(f"feeds[{index}]: duplicate id {feed.id!r} (first at feeds[{seen[feed.id]}])")
            continue
        seen[feed.id] = index
        feeds.append(feed)
    if problems:
        raise RegistryError(source, problems)
    return Registry(feeds=tuple(feeds), source=source)


def _parse_entry(entry: Any, index: int, base_dir: Path, problems: list[str]) -> Feed | None:
    where = f"feeds[{index}]"
    if not isinstance(entry, dict):
        problems.append(f"{where}: must be a mapping, got {type(entry).__name__}")
        return None
    before = len(problems)
    for key in sorted(set(map(str, entry)) - _KNOWN_KEYS):
        problems.append(f"{where}: unknown key {key!r}")
    feed_id = entry.get("id")
    if not isinstance(feed_id, str) or not _SLUG.match(feed_id):
        problems.append(
            f"{where}: id {feed_id!r} must be a slug (lowercase letters, digits, '.', '_', '-'; ≤ 64)"
        )
    else:
        where = f"{where} ({feed_id})"
    url = _parse_url(entry.get("url"), base_dir, where, problems)
    name = _string(entry, "name", where, problems)
    # A known agency under any of its spellings takes the canonical one, the name its stories'
    # own credits would give; an agency the list does not know is kept as written.
    hint = _string(entry, "agency", where, problems)
    agency = canonical_agency(hint) or hint
    language = _string(entry, "language", where, problems)
    if language and not _LANGUAGE.match(language):
        problems.append(f"{where}: language {language!r} is not a language tag like 'en' or 'pt-BR'")
    interval = entry.get("interval_seconds")
    if interval is not None and (
        isinstance(interval, bool) or not isinstance(interval, int | float) or interval <= 0
    ):
        problems.append(f"{where}: interval_seconds must be a positive number, got {interval!r}")
    full_text = _flag(entry, "full_text", False, where, problems)
    enabled = _flag(entry, "enabled", True, where, problems)
    if len(problems) > before:
        return None
    return Feed(
        id=str(feed_id),
        url=url,
        name=name,
        interval_seconds=float(interval) if interval is not None else None,
        full_text=full_text,
        agency=agency,
        language=language,
        enabled=enabled,
    )


def _parse_url(value: Any, base_dir: Path, where: str, problems: list[str]) -> str:
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: url is required (http(s) URL, file:// URL or path)")
        return ""
    value = value.strip()
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        problems.append(f"{where}: url {value!r} is not a URL: {exc}")
        return ""
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not parts.hostname:
            problems.append(f"{where}: url {value!r} has no host")
        return str(value)
    if scheme == "file":
        if not parts.path:
            problems.append(f"{where}: url {value!r} has no path")
        return str(value)
    # One-letter "schemes" are Windows drive letters; anything else with a scheme is unsupported.
    if scheme and len(scheme) > 1:
        problems.append(f"{where}: url scheme {scheme!r} is not http, https or file")
        return ""
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    return path.resolve().as_uri()


def _string(entry: dict[str, Any], key: str, where: str, problems: list[str]) -> str:
    value = entry.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.append(f"{where}: {key} must be a string, got {type(value).__name__}")
        return ""
    return value.strip()


def _flag(entry: dict[str, Any], key: str, default: bool, where: str, problems: list[str]) -> bool:
    value = entry.get(key, default)
    if not isinstance(value, bool):
        problems.append(f"{where}: {key} must be true or false, got {value!r}")
        return default
    return value


@dataclass(frozen=True, slots=True)
class RegistryChange:
    """What an edit of the registry changed, by feed id."""

    registry: Registry
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    moved: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        parts = [
            f"{len(ids)} {what}"
            for what, ids in (
                ("added", self.added),
                ("removed or disabled", self.removed),
                ("with a new URL", self.moved),
                ("otherwise edited", self.changed),
            )
            if ids
        ]
        return ", ".join(parts) or "no feed changed"


def diff(old: Registry, new: Registry) -> RegistryChange:
    before = {feed.id: feed for feed in old.enabled}
    after = {feed.id: feed for feed in new.enabled}
    kept = before.keys() & after.keys()
    return RegistryChange(
        registry=new,
        added=tuple(sorted(after.keys() - before.keys())),
        removed=tuple(sorted(before.keys() - after.keys())),
        moved=tuple(sorted(fid for fid in kept if before[fid].url != after[fid].url)),
        changed=tuple(
            sorted(fid for fid in kept if before[fid].url == after[fid].url and before[fid] != after[fid])
        ),
    )


@dataclass
class RegistryWatcher:
    """Notices edits of the registry file and re-reads it; a broken edit keeps the last good one.

    Edits are noticed by the file's modification time, size and inode (an editor that writes a
    new file and renames it over the old one changes the inode). `check()` returns the change
    when a new version validates; a version that does not is reported once through `errors`.
    """

    path: Path
    current: Registry
    _seen: tuple[int, int, int] | None = field(default=None, init=False)
    last_error: str = field(default="", init=False)

    def __post_init__(self) -> None:
        self._seen = self._signature()

    def _signature(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def check(self) -> RegistryChange | RegistryError | None:
        """None when the file is unchanged; the change, or the error of a broken edit, otherwise."""
        signature = self._signature()
        if signature == self._seen:
            return None
        self._seen = signature
        try:
            registry = load_registry(self.path)
        except RegistryError as exc:
            self.last_error = str(exc)
            return exc
        self.last_error = ""
        change = diff(self.current, registry)
        self.current = registry
        return change


__all__ = [
    "Feed",
    "Registry",
    "RegistryChange",
    "RegistryError",
    "RegistryWatcher",
    "diff",
    "load_registry",
    "parse_registry",
]
