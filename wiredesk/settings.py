"""One typed settings object for every service: defaults < YAML file < WIREDESK_* environment.

Every leaf setting has exactly one environment variable, `WIREDESK_<SECTION>_<NAME>` (top-level
ones `WIREDESK_<NAME>`); secrets may also come from `<VAR>_FILE`. Unknown `WIREDESK_*` variables
are rejected, because a misspelt variable silently ignored is a production incident waiting.
All problems are reported at once. pydantic does the validation: it reports every bad field in
one pass with its path, which a hand-written validator would have to reimplement.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from wiredesk.errors import ConfigurationError, problem_list

ENV_PREFIX = "WIREDESK_"
CONFIG_FILE_ENV = "WIREDESK_CONFIG"

# The services run in containers, where probes and Prometheus reach them from outside; `run` is
# one process on a person's machine, where nothing else should reach it.
SERVICE_COMMANDS = frozenset({"ingest", "transform", "sink"})
SERVICE_METRICS_HOST = "0.0.0.0"  # noqa: S104 - every interface, on purpose (see above)
RUN_METRICS_HOST = "127.0.0.1"


class SettingsError(ConfigurationError):
    """Settings that cannot be used; the message lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(problem_list("invalid settings", problems))


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


# Cross-field problems are reported with this error type; their message names every setting (and
# its variable) itself, since no single field is at fault.
_CROSS_FIELD = "settings"


def _cross_field(problems: list[str]) -> None:
    if problems:
        raise PydanticCustomError(_CROSS_FIELD, "{problems}", {"problems": "\n".join(problems)})


class KafkaSettings(_Section):
    bootstrap: str = Field("", description="host:port list; empty = start the embedded broker")
    client_id: str = "wiredesk"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = ""
    sasl_username: str = ""
    sasl_password: SecretStr = SecretStr("")
    ssl_cafile: str = ""
    group_prefix: str = Field(
        "wiredesk",
        pattern=r"^[A-Za-z0-9._-]{1,200}$",
        description="consumer groups are <prefix>-transform, <prefix>-sink-<sinks> and "
        "<prefix>-dlq-redrive: give each deployment that shares a Kafka cluster its own",
    )
    raw_topic: str = "wiredesk.items.raw"
    articles_topic: str = "wiredesk.articles"
    dlq_topic: str = "wiredesk.dlq"
    raw_partitions: int = Field(6, ge=1, le=10_000)
    articles_partitions: int = Field(6, ge=1, le=10_000)
    dlq_partitions: int = Field(1, ge=1, le=10_000)
    replication_factor: int = Field(1, ge=1, le=10)
    # Apache Kafka defaults would be 45 s / 3 s; the embedded broker and tests lower these
    # because a group join there waits about half the session timeout (shared/notes/broker.md).
    session_timeout_ms: int = Field(10_000, ge=1_000, le=300_000)
    heartbeat_interval_ms: int = Field(3_000, ge=100, le=60_000)
    max_poll_interval_ms: int = Field(300_000, ge=1_000)
    fetch_max_wait_ms: int = Field(50, ge=0, le=10_000)
    max_poll_records: int = Field(200, ge=1, le=100_000)
    linger_ms: int = Field(10, ge=0, le=10_000)
    batch_size: int = Field(131_072, ge=1_024)
    compression_type: Literal["none", "gzip", "snappy", "lz4", "zstd"] = "gzip"
    request_timeout_ms: int = Field(30_000, ge=1_000)
    connect_timeout_seconds: float = Field(
        10.0,
        gt=0,
        le=600,
        description="how long a command or a --once run waits for the broker before exiting 69; "
        "services keep retrying",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        # Each of these makes the Kafka client refuse to start (kafka-python checks the first two).
        problems = []
        if self.heartbeat_interval_ms >= self.session_timeout_ms:
            problems.append(
                f"kafka.heartbeat_interval_ms ({self.heartbeat_interval_ms}) must be below "
                f"kafka.session_timeout_ms ({self.session_timeout_ms}) "
                "(WIREDESK_KAFKA_HEARTBEAT_INTERVAL_MS, WIREDESK_KAFKA_SESSION_TIMEOUT_MS)"
            )
        if self.fetch_max_wait_ms >= self.request_timeout_ms:
            problems.append(
                f"kafka.fetch_max_wait_ms ({self.fetch_max_wait_ms}) must be below "
                f"kafka.request_timeout_ms ({self.request_timeout_ms}) "
                "(WIREDESK_KAFKA_FETCH_MAX_WAIT_MS, WIREDESK_KAFKA_REQUEST_TIMEOUT_MS)"
            )
        if self.security_protocol.startswith("SASL") and not self.sasl_mechanism:
            problems.append(
                f"kafka.security_protocol {self.security_protocol} needs kafka.sasl_mechanism "
                "(WIREDESK_KAFKA_SASL_MECHANISM)"
            )
        if self.sasl_mechanism and not (self.sasl_username and self.sasl_password.get_secret_value()):
            problems.append(
                f"kafka.sasl_mechanism {self.sasl_mechanism} needs kafka.sasl_username and "
                "kafka.sasl_password (WIREDESK_KAFKA_SASL_USERNAME, WIREDESK_KAFKA_SASL_PASSWORD[_FILE])"
            )
        _cross_field(problems)
        return self

    def group(self, role: str) -> str:
        """The consumer group id of one role ("transform", "sink-sqlite", "dlq-redrive")."""
        return f"{self.group_prefix}-{role}"


class HttpSettings(_Section):
    user_agent: str = "wiredesk/0.1 (+https://github.com/wiredesk/wiredesk)"
    connect_timeout_seconds: float = Field(5.0, gt=0, le=120)
    read_timeout_seconds: float = Field(15.0, gt=0, le=600)
    max_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    max_redirects: int = Field(5, ge=0, le=20)
    # SSRF guard: refuse private, loopback and link-local addresses unless explicitly allowed
    # (tests and the embedded examples serve feeds from loopback).
    allow_private_addresses: bool = False


class IngestSettings(_Section):
    feeds_file: str = Field(
        "",
        description="YAML feed registry; empty = ./feeds.yaml if it exists, else (for `run` on the "
        "embedded default only) the bundled sample feeds",
    )
    default_interval_seconds: float = Field(300.0, gt=0)
    min_interval_seconds: float = Field(60.0, gt=0)
    max_interval_seconds: float = Field(3600.0, gt=0)
    max_backoff_seconds: float = Field(6 * 3600.0, gt=0)
    concurrency: int = Field(8, ge=1, le=256, description="feed fetches in flight at once per replica")
    state_store: Literal["sqlite", "postgres"] = Field(
        "sqlite",
        description="where ingest state lives: sqlite (one process, state_path) or postgres (shared "
        "by every replica, which then split the feeds through row leases)",
    )
    state_path: str = Field("", description="ingest state database; empty = <data_dir>/ingest.sqlite")
    postgres_dsn: SecretStr = Field(SecretStr(""), description="PostgreSQL DSN for state_store=postgres")
    postgres_schema: str = Field(
        "public", pattern=r"^[a-z_][a-z0-9_]{0,62}$", description="schema of the ingest tables (wd_ingest_*)"
    )
    lease_seconds: float = Field(
        30.0,
        ge=5,
        le=600,
        description="state_store=postgres: how long a replica holds a feed it polls; renewed while it "
        "works, so a dead replica's feeds are free again this long after it died. A fetch never runs "
        "past its lease",
    )
    max_items_per_feed: int = Field(
        5000,
        ge=1,
        le=1_000_000,
        description="entries read from one feed document; the rest of a longer one is left unread "
        "(feeds list their newest first), which bounds a poll's time and memory",
    )
    item_retention_days: float = Field(
        30.0, gt=0, description="forget items absent from their feed for this long (bounds the ledger)"
    )
    per_host_concurrency: int = Field(
        2, ge=1, le=256, description="fetches in flight to one host at once (per replica)"
    )
    per_host_delay_seconds: float = Field(
        0.5, ge=0, le=600, description="least time between two fetches from one host (per replica)"
    )
    registry_reload_seconds: float = Field(
        5.0, ge=0, description="how often the feeds file is checked for edits; 0 = never reload"
    )
    failing_after: int = Field(
        3, ge=1, le=1000, description="failed polls in a row after which a feed is failing, not degraded"
    )
    quiet_factor: float = Field(
        4.0,
        gt=1,
        description="a feed is quiet when nothing new came for this many times its usual gap between "
        "items (learnt from its own items)",
    )
    backpressure_max_lag: int = Field(
        50_000,
        ge=0,
        description="transform's lag on the raw topic (messages) above which ingest stretches its polling; "
        "0 = never",
    )
    backpressure_max_stretch: float = Field(
        8.0, ge=1, le=1000, description="the most polling intervals are stretched under back-pressure"
    )
    backpressure_check_seconds: float = Field(
        10.0, gt=0, description="how often transform's lag is read (committed offsets, high-water marks)"
    )
    websub_callback_url: str = Field(
        "",
        description="public base URL hubs reach the WebSub callback at (e.g. https://ingest.example.com"
        "/websub); empty = WebSub off. Feeds advertising a hub are subscribed at <this>/<feed id>",
    )
    websub_port: int = Field(
        9401, ge=0, le=65_535, description="port of the WebSub callback server (0 = pick a free one)"
    )
    websub_host: str = Field(
        "", description="address of the WebSub callback server; empty = the metrics server's address"
    )
    websub_lease_seconds: int = Field(
        432_000, ge=60, description="subscription lease asked of hubs; renewed before it ends"
    )
    websub_fallback_interval_seconds: float = Field(
        3600.0, gt=0, description="polling interval of a feed while a hub pushes it (the slow fallback)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = []
        if self.min_interval_seconds > self.max_interval_seconds:
            problems.append(
                f"ingest.min_interval_seconds ({self.min_interval_seconds:g}) is above "
                f"ingest.max_interval_seconds ({self.max_interval_seconds:g}) "
                "(WIREDESK_INGEST_MIN_INTERVAL_SECONDS, WIREDESK_INGEST_MAX_INTERVAL_SECONDS)"
            )
        if self.state_store == "postgres" and not self.postgres_dsn.get_secret_value():
            problems.append(
                "ingest.postgres_dsn is required when ingest.state_store is 'postgres' "
                "(WIREDESK_INGEST_POSTGRES_DSN or WIREDESK_INGEST_POSTGRES_DSN_FILE)"
            )
        callback = self.websub_callback_url
        if callback and not (callback.startswith(("http://", "https://")) and "://" in callback[:9]):
            problems.append(
                f"ingest.websub_callback_url {callback!r} must be an absolute http(s) URL "
                "(WIREDESK_INGEST_WEBSUB_CALLBACK_URL)"
            )
        _cross_field(problems)
        return self


class TransformSettings(_Section):
    fetch_full_text: bool = Field(True, description="fetch pages for teaser-only items")
    fetch_concurrency: int = Field(8, ge=1, le=64, description="page fetches in flight at once per worker")
    fetch_deadline_seconds: float = Field(
        20.0,
        gt=0,
        le=600,
        description="time the page fetches of one consumed batch may take together; a page not in by "
        "then keeps its teaser. At most half of kafka.max_poll_interval_ms",
    )
    story_index: Literal["memory", "sqlite", "redis"] = "sqlite"
    story_index_path: str = Field("", description="empty = <data_dir>/stories.sqlite")
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    story_window_days: int = Field(7, ge=1, le=365)
    future_skew_seconds: int = Field(900, ge=0)


class SinkSettings(_Section):
    storage: Literal["sqlite", "postgres", "none"] = "sqlite"
    search: Literal["sqlite", "postgres", "opensearch", "none"] = "sqlite"
    sqlite_path: str = Field("", description="empty = <data_dir>/wiredesk.sqlite")
    postgres_dsn: SecretStr = SecretStr("")
    opensearch_url: SecretStr = SecretStr("")
    batch_size: int = Field(500, ge=1, le=100_000)
    batch_timeout_seconds: float = Field(1.0, gt=0, le=60)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = []
        if self.search == "opensearch":
            problems.append(
                "sink.search=opensearch is not available in this version; use 'postgres', 'sqlite' "
                "or 'none' (WIREDESK_SINK_SEARCH)"
            )
        uses = [f"sink.{name}" for name in ("storage", "search") if getattr(self, name) == "postgres"]
        if uses and not self.postgres_dsn.get_secret_value():
            problems.append(
                f"sink.postgres_dsn is required when {' and '.join(uses)} is 'postgres' "
                "(WIREDESK_SINK_POSTGRES_DSN or WIREDESK_SINK_POSTGRES_DSN_FILE)"
            )
        _cross_field(problems)
        return self


class ServiceSettings(_Section):
    metrics_host: str = Field(
        "",
        description=f"address of /metrics /healthz /readyz; empty = {SERVICE_METRICS_HOST} (every "
        f"interface) for ingest, transform and sink, {RUN_METRICS_HOST} for `run`",
    )

    @field_validator("metrics_host")
    @classmethod
    def _bind_address(cls, host: str) -> str:
        # An address to listen on is one of this machine's: an IP literal (or 'localhost'). A name
        # would need a DNS lookup to mean anything, and a lookup at start is a failure mode.
        if host in ("", "localhost"):
            return host
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise PydanticCustomError(
                "bind_address",
                "'{host}' is not an IP address; the metrics server listens on an address of this "
                "machine: 0.0.0.0 (every interface), ::, 127.0.0.1 or another local address",
                {"host": host},
            ) from None
        return host

    metrics_port: int = Field(9400, ge=0, le=65_535, description="0 = pick a free port; -1 not allowed")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"
    drain_timeout_seconds: float = Field(30.0, gt=0)


class Settings(_Section):
    data_dir: str = Field(".wiredesk", description="where embedded-mode state lives")
    kafka: KafkaSettings = KafkaSettings()
    http: HttpSettings = HttpSettings()
    ingest: IngestSettings = IngestSettings()
    transform: TransformSettings = TransformSettings()
    sink: SinkSettings = SinkSettings()
    service: ServiceSettings = ServiceSettings()

    @model_validator(mode="after")
    def _fetches_end_inside_the_poll_interval(self) -> Settings:
        # A batch's page fetches, then its cleaning and producing, must end before the consumer's
        # max poll interval, or it loses its group and the batch is done again, for ever.
        if self.transform.fetch_deadline_seconds * 1000 > self.kafka.max_poll_interval_ms / 2:
            _cross_field(
                [
                    f"transform.fetch_deadline_seconds ({self.transform.fetch_deadline_seconds:g}) must "
                    f"be at most half of kafka.max_poll_interval_ms ({self.kafka.max_poll_interval_ms} ms)"
                ]
            )
        return self

    @property
    def embedded(self) -> bool:
        return not self.kafka.bootstrap

    def data_path(self, configured: str, default_name: str) -> Path:
        return Path(configured) if configured else Path(self.data_dir) / default_name

    def for_command(self, command: str) -> Settings:
        """The settings `command` really runs with: each 'empty = derived' value filled in.

        What the runner uses and what `wiredesk config --print` shows, so the two cannot differ.
        (The feed registry is chosen by the composition root, which knows the bundled samples.)
        """
        default_host = SERVICE_METRICS_HOST if command in SERVICE_COMMANDS else RUN_METRICS_HOST
        return self.with_overrides(
            {
                "ingest.state_path": str(self.data_path(self.ingest.state_path, "ingest.sqlite")),
                "transform.story_index_path": str(
                    self.data_path(self.transform.story_index_path, "stories.sqlite")
                ),
                "sink.sqlite_path": str(self.data_path(self.sink.sqlite_path, "wiredesk.sqlite")),
                "service.metrics_host": self.service.metrics_host or default_host,
            }
        )

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        """A copy with dotted-path overrides applied and validated ({"kafka.bootstrap": ...})."""
        tree = self.model_dump()
        for dotted, value in overrides.items():
            _set_path(tree, dotted.split("."), value)
        return _validate(tree)


def _set_path(tree: dict[str, Any], path: list[str], value: Any) -> None:
    for part in path[:-1]:
        tree = tree.setdefault(part, {})
    tree[path[-1]] = value


def _leaves(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _leaves(annotation, (*prefix, name))
        else:
            yield (*prefix, name), info


def env_name(path: tuple[str, ...]) -> str:
    return ENV_PREFIX + "_".join(path).upper()


def _env_table() -> dict[str, tuple[str, ...]]:
    return {env_name(path): path for path, _ in _leaves(Settings)}


def _secret_paths() -> set[tuple[str, ...]]:
    return {path for path, info in _leaves(Settings) if info.annotation is SecretStr}


def _from_environment(environ: Mapping[str, str], problems: list[str]) -> dict[str, Any]:
    table = _env_table()
    secrets = _secret_paths()
    tree: dict[str, Any] = {}
    for var, value in environ.items():
        if not var.startswith(ENV_PREFIX) or var == CONFIG_FILE_ENV:
            continue
        if var.endswith("_FILE") and var[: -len("_FILE")] in table:
            path = table[var[: -len("_FILE")]]
            if path not in secrets:
                problems.append(f"{var}: only secrets may be read from files")
                continue
            try:
                secret = Path(value).read_text(encoding="utf-8").strip()
            except OSError as exc:
                problems.append(f"{var}: cannot read {value}: {exc.strerror}")
                continue
            except UnicodeDecodeError as exc:
                problems.append(f"{var}: {value} is not UTF-8 text ({_decode_problem(exc)})")
                continue
            _set_path(tree, list(path), secret)
            continue
        elif var in table:
            path = table[var]
        else:
            problems.append(f"{var}: unknown setting (see `wiredesk config --print`)")
            continue
        _set_path(tree, list(path), value)
    return tree


def _merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _validate(tree: dict[str, Any], problems: list[str] | None = None) -> Settings:
    problems = list(problems or [])
    try:
        settings = Settings.model_validate(tree)
    except ValidationError as exc:
        variables = _env_table()
        for err in exc.errors():
            if err["type"] == _CROSS_FIELD:
                problems.extend(err["msg"].splitlines())
                continue
            where = ".".join(str(p) for p in err["loc"])
            variable = env_name(tuple(str(p) for p in err["loc"]))
            hint = f" ({variable})" if variable in variables else ""
            problems.append(f"{where}{hint}: {err['msg']}")
        raise SettingsError(problems) from None
    if problems:
        raise SettingsError(problems)
    return settings


def load_settings(config_file: str | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Build the effective settings; raises SettingsError listing every problem."""
    environ = os.environ if environ is None else environ
    problems: list[str] = []
    tree: dict[str, Any] = {}
    path = config_file or environ.get(CONFIG_FILE_ENV, "")
    if path:
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise SettingsError([f"config file {path}: {exc.strerror}"]) from None
        except UnicodeDecodeError as exc:
            raise SettingsError([f"config file {path}: not UTF-8 text ({_decode_problem(exc)})"]) from None
        except yaml.YAMLError as exc:
            raise SettingsError([f"config file {path}: not valid YAML: {exc}"]) from None
        if not isinstance(loaded, dict):
            raise SettingsError([f"config file {path}: top level must be a mapping"])
        tree = loaded
    tree = _merge(tree, _from_environment(environ, problems))
    return _validate(tree, problems)


def _decode_problem(exc: UnicodeDecodeError) -> str:
    return f"byte 0x{exc.object[exc.start]:02x} at offset {exc.start}"


def redacted(settings: Settings) -> dict[str, Any]:
    """Effective settings as plain data, secrets shown as '**********' when set."""
    return settings.model_dump(mode="json")


def documented_settings() -> list[tuple[str, str, str, str]]:
    """(dotted name, environment variable, default, description) for docs/configuration.md."""
    rows = []
    for path, info in _leaves(Settings):
        default = info.default
        if isinstance(default, SecretStr):
            default = "(secret)" if default.get_secret_value() else ""
        rows.append((".".join(path), env_name(path), repr(default), info.description or ""))
    return rows
