from __future__ import annotations

from pathlib import Path

import pytest

from wiredesk.settings import SettingsError, documented_settings, load_settings, redacted


def test_defaults_are_valid_and_embedded() -> None:
    settings = load_settings(environ={})
    assert settings.embedded
    assert settings.kafka.raw_topic == "wiredesk.items.raw"


def test_yaml_file_then_environment_override(tmp_path: Path) -> None:
    config = tmp_path / "wiredesk.yaml"
    config.write_text("kafka:\n  bootstrap: a:9092\n  raw_partitions: 12\nsink:\n  batch_size: 50\n")
    settings = load_settings(str(config), environ={"WIREDESK_KAFKA_RAW_PARTITIONS": "24"})
    assert settings.kafka.bootstrap == "a:9092"
    assert settings.kafka.raw_partitions == 24
    assert settings.sink.batch_size == 50
    assert not settings.embedded


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(
            environ={
                "WIREDESK_KAFKA_RAW_PARTITIONS": "many",
                "WIREDESK_SINK_STORAGE": "mongodb",
                "WIREDESK_KAFKA_BOOTSTRAPP": "typo:9092",
            }
        )
    text = str(caught.value)
    assert len(caught.value.problems) == 3
    assert "WIREDESK_KAFKA_BOOTSTRAPP: unknown setting" in text
    assert "kafka.raw_partitions" in text
    assert "sink.storage" in text


def test_page_fetch_deadline_must_leave_room_inside_the_poll_interval() -> None:
    # Fetching a batch's pages for longer than the consumer may stay away from the broker is
    # what threw transform out of its group; half the interval is left for cleaning and producing.
    env = {"WIREDESK_KAFKA_MAX_POLL_INTERVAL_MS": "60000", "WIREDESK_TRANSFORM_FETCH_DEADLINE_SECONDS": "45"}
    with pytest.raises(SettingsError) as caught:
        load_settings(environ=env)
    assert caught.value.problems == [
        "transform.fetch_deadline_seconds (45) must be at most half of kafka.max_poll_interval_ms (60000 ms)"
    ]
    settings = load_settings(environ={**env, "WIREDESK_TRANSFORM_FETCH_DEADLINE_SECONDS": "30"})
    assert settings.transform.fetch_deadline_seconds == 30
    defaults = load_settings(environ={})
    assert defaults.transform.fetch_deadline_seconds * 1000 <= defaults.kafka.max_poll_interval_ms / 2


def test_unknown_yaml_key_is_rejected(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("kafka:\n  bootstrapp: x\n")
    with pytest.raises(SettingsError, match="bootstrapp"):
        load_settings(str(config), environ={})


def test_secrets_from_files_and_redacted(tmp_path: Path) -> None:
    secret = tmp_path / "dsn"
    secret.write_text("postgresql://user:hunter2@db/wire\n")
    settings = load_settings(environ={"WIREDESK_SINK_POSTGRES_DSN_FILE": str(secret)})
    assert settings.sink.postgres_dsn.get_secret_value() == "postgresql://user:hunter2@db/wire"
    shown = redacted(settings)
    assert "hunter2" not in str(shown)
    assert shown["sink"]["postgres_dsn"] == "**********"


def test_only_secrets_come_from_files(tmp_path: Path) -> None:
    f = tmp_path / "v"
    f.write_text("x:1")
    with pytest.raises(SettingsError, match="only secrets"):
        load_settings(environ={"WIREDESK_KAFKA_BOOTSTRAP_FILE": str(f)})


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="config file"):
        load_settings(str(tmp_path / "absent.yaml"), environ={})


def test_every_setting_is_documented_with_its_variable() -> None:
    rows = documented_settings()
    names = {env for _, env, _, _ in rows}
    assert "WIREDESK_KAFKA_BOOTSTRAP" in names
    assert "WIREDESK_DATA_DIR" in names
    assert all(env.startswith("WIREDESK_") for env in names)


def test_cross_field_problems_are_reported_with_the_others_each_on_its_own() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(
            environ={
                "WIREDESK_SINK_STORAGE": "postgres",
                "WIREDESK_SINK_SEARCH": "opensearch",
                "WIREDESK_INGEST_MIN_INTERVAL_SECONDS": "900",
                "WIREDESK_INGEST_MAX_INTERVAL_SECONDS": "300",
                "WIREDESK_KAFKA_RAW_PARTITIONS": "0",
            }
        )
    problems = caught.value.problems
    assert len(problems) == 4
    assert any(p.startswith("sink.search=opensearch is not available") for p in problems)
    assert any(p.startswith("sink.postgres_dsn is required when sink.storage is") for p in problems)
    assert any(p.startswith("ingest.min_interval_seconds (900) is above") for p in problems)
    assert any(p.startswith("kafka.raw_partitions (WIREDESK_KAFKA_RAW_PARTITIONS)") for p in problems)


def test_postgres_with_a_dsn_and_equal_intervals_are_fine() -> None:
    settings = load_settings(
        environ={
            "WIREDESK_SINK_SEARCH": "postgres",
            "WIREDESK_SINK_POSTGRES_DSN": "dbname=x",
            "WIREDESK_INGEST_MIN_INTERVAL_SECONDS": "300",
            "WIREDESK_INGEST_MAX_INTERVAL_SECONDS": "300",
        }
    )
    assert settings.sink.search == "postgres"


def test_overrides_are_validated_like_the_rest() -> None:
    with pytest.raises(SettingsError, match=r"postgres_dsn is required when sink\.search"):
        load_settings(environ={}).with_overrides({"sink.search": "postgres"})


@pytest.mark.parametrize("host", ["", "localhost", "0.0.0.0", "::", "127.0.0.1", "::1", "10.1.2.3"])
def test_metrics_host_accepts_addresses(host: str) -> None:
    assert load_settings(environ={"WIREDESK_SERVICE_METRICS_HOST": host}).service.metrics_host == host


@pytest.mark.parametrize("host", ["no-such-host.invalid", "example.org", "127.0.0.1:9400", "http://0.0.0.0"])
def test_metrics_host_refuses_names_and_urls_without_a_lookup(host: str) -> None:
    with pytest.raises(SettingsError, match="is not an IP address"):
        load_settings(environ={"WIREDESK_SERVICE_METRICS_HOST": host})


def test_sasl_needs_a_mechanism_and_credentials() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={"WIREDESK_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"})
    assert "kafka.sasl_mechanism" in str(caught.value)
    with pytest.raises(SettingsError, match=r"needs kafka\.sasl_username"):
        load_settings(environ={"WIREDESK_KAFKA_SASL_MECHANISM": "PLAIN"})


def test_for_command_fills_in_every_derived_value(tmp_path: Path) -> None:
    settings = load_settings(environ={"WIREDESK_DATA_DIR": str(tmp_path)})
    run = settings.for_command("run")
    assert run.ingest.state_path == str(tmp_path / "ingest.sqlite")
    assert run.transform.story_index_path == str(tmp_path / "stories.sqlite")
    assert run.sink.sqlite_path == str(tmp_path / "wiredesk.sqlite")
    assert run.service.metrics_host == "127.0.0.1"
    for service in ("ingest", "transform", "sink"):
        assert settings.for_command(service).service.metrics_host == "0.0.0.0"


def test_for_command_keeps_what_was_configured(tmp_path: Path) -> None:
    settings = load_settings(
        environ={"WIREDESK_SERVICE_METRICS_HOST": "::1", "WIREDESK_SINK_SQLITE_PATH": str(tmp_path / "a.db")}
    )
    ingest = settings.for_command("ingest")
    assert ingest.service.metrics_host == "::1"
    assert ingest.sink.sqlite_path == str(tmp_path / "a.db")
    assert ingest.for_command("ingest") == ingest


def test_consumer_groups_follow_the_configured_prefix() -> None:
    # Two deployments sharing one Kafka cluster must not share consumer groups.
    kafka = load_settings(environ={"WIREDESK_KAFKA_GROUP_PREFIX": "desk-eu"}).kafka
    assert kafka.group("transform") == "desk-eu-transform"
    assert load_settings(environ={}).kafka.group("dlq-redrive") == "wiredesk-dlq-redrive"
    with pytest.raises(SettingsError):
        load_settings(environ={"WIREDESK_KAFKA_GROUP_PREFIX": "no spaces/please"})
