"""Generated files (JSON Schemas, configuration and metrics docs) must match the code."""

from __future__ import annotations

from wiredesk import contract, docs


def test_schemas_match_the_record_types() -> None:
    for name, schema in contract.schemas().items():
        committed = (contract.SCHEMA_DIR / name).read_bytes()
        assert committed == contract.render(schema), (
            f"schemas/{name} is stale: run python -m wiredesk.contract"
        )


def test_docs_match_settings_and_metrics() -> None:
    for path, text in docs.generated().items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale: run python -m wiredesk.docs"


def test_examples_validate_against_their_schemas() -> None:
    import json

    import jsonschema

    for example, schema in (
        ("raw-item.json", "raw-item.schema.json"),
        ("article.json", "article.schema.json"),
    ):
        document = json.loads((contract.SCHEMA_DIR / "examples" / example).read_text())
        jsonschema.validate(document, json.loads((contract.SCHEMA_DIR / schema).read_text()))
