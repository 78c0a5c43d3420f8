"""The catalog against the stream contract (tests/fixtures/streams_contract.json,
transcribed by hand from the contract, not generated from the schemas)."""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any, Iterator

import pytest
from singer import metadata
from singer.catalog import Catalog

from tap_asana.discover import discover, load_schemas
from tap_asana.streams import STREAMS, Tasks, leaf_paths

CONTRACT = json.loads(
    (Path(__file__).parent / "fixtures" / "streams_contract.json").read_text(encoding="utf-8")
)
CUSTOM_FIELD_STREAMS = ("tasks", "subtasks", "projects", "portfolios")


@pytest.fixture(scope="module")
def catalog() -> dict:
    return discover()


@pytest.fixture(scope="module")
def entries(catalog: dict) -> dict:
    return {entry["tap_stream_id"]: entry for entry in catalog["streams"]}


def _walk(schema: Any, path: str = "") -> Iterator[tuple[str, dict]]:
    """Every sub-schema under properties and items, with its dotted path."""
    if not isinstance(schema, dict):
        return
    for key, sub in schema.get("properties", {}).items():
        sub_path = f"{path}.{key}" if path else key
        yield sub_path, sub
        yield from _walk(sub, sub_path)
    if "items" in schema:
        yield f"{path}[]", schema["items"]
        yield from _walk(schema["items"], path)


def _types(schema: dict) -> list:
    t = schema.get("type")
    return t if isinstance(t, list) else [t]


def test_catalog_streams_match_contract_and_registry(entries: dict) -> None:
    assert set(entries) == set(CONTRACT)
    assert set(entries) == set(STREAMS)
    assert set(CONTRACT) == set(STREAMS)
    for name, entry in entries.items():
        assert entry["stream"] == name


def test_schema_files_match_registry() -> None:
    root = resources.files("tap_asana") / "schemas"
    on_disk = {p.name[: -len(".json")] for p in root.iterdir() if p.name.endswith(".json")}
    assert on_disk == set(STREAMS)
    shared = {p.name for p in (root / "shared").iterdir() if p.name.endswith(".json")}
    assert "ref.json" in shared and "custom_fields.json" in shared


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_every_contract_column_is_a_property(entries: dict, name: str) -> None:
    props = entries[name]["schema"]["properties"]
    missing = [col for col in CONTRACT[name]["columns"] if col not in props]
    assert not missing, f"{name} lacks {missing}"


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_keys_and_replication_match_contract(entries: dict, name: str) -> None:
    expected = CONTRACT[name]
    entry = entries[name]
    root = metadata.to_map(entry["metadata"])[()]
    assert entry["key_properties"] == expected["key_properties"]
    assert root["table-key-properties"] == expected["key_properties"]
    assert root["forced-replication-method"] == expected["replication_method"]
    assert entry["replication_method"] == expected["replication_method"]
    assert entry.get("replication_key") == expected["replication_key"]
    assert STREAMS[name].replication_key == expected["replication_key"]
    if expected["replication_key"]:
        assert root["valid-replication-keys"] == [expected["replication_key"]]
    else:
        assert "valid-replication-keys" not in root
    assert root["inclusion"] == "available"
    assert "selected" not in root


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_inclusion(entries: dict, name: str) -> None:
    expected = CONTRACT[name]
    automatic = set(expected["key_properties"]) | {expected["replication_key"]} - {None}
    if name in ("tasks", "subtasks", "sections"):  # deletes are records with this column: always sent
        automatic.add("_sdc_deleted_at")
    mdata = metadata.to_map(entries[name]["metadata"])
    props = entries[name]["schema"]["properties"]
    assert {crumb[1] for crumb in mdata if crumb} == set(props)
    for column in props:
        md = mdata[("properties", column)]
        assert "selected" not in md
        if column in automatic:
            assert md["inclusion"] == "automatic", column
        else:
            assert md["inclusion"] == "available", column
            assert md["selected-by-default"] is True, column


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_everything_nullable(entries: dict, name: str) -> None:
    schema = entries[name]["schema"]
    assert "null" in _types(schema)
    not_nullable = [path for path, sub in _walk(schema) if "null" not in _types(sub)]
    assert not not_nullable, f"{name}: {not_nullable}"


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_timestamps_are_date_time(entries: dict, name: str) -> None:
    for path, sub in _walk(entries[name]["schema"]):
        leaf = path.rsplit(".", 1)[-1]
        if leaf.endswith("_at") or leaf == "date_time":
            assert sub.get("format") == "date-time", f"{name}.{path}"
            assert _types(sub) == ["null", "string"], f"{name}.{path}"


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_dates_are_date(entries: dict, name: str) -> None:
    for path, sub in _walk(entries[name]["schema"]):
        leaf = path.rsplit(".", 1)[-1]
        if leaf.endswith("_on") or leaf in ("due_date", "date"):
            assert sub.get("format") == "date", f"{name}.{path}"


@pytest.mark.parametrize("name", CUSTOM_FIELD_STREAMS)
def test_custom_fields_described_to_the_leaf(entries: dict, name: str) -> None:
    custom_fields = entries[name]["schema"]["properties"]["custom_fields"]
    assert "array" in _types(custom_fields)
    field = custom_fields["items"]["properties"]
    option = field["enum_options"]["items"]["properties"]
    assert {"gid", "name", "color", "enabled"} <= set(option)
    assert "boolean" in _types(option["enabled"])
    assert {"gid", "name", "color", "enabled"} <= set(field["enum_value"]["properties"])
    assert {"gid", "name", "color"} <= set(field["multi_enum_values"]["items"]["properties"])
    assert "gid" in field["people_value"]["items"]["properties"]
    assert field["date_value"]["properties"]["date"]["format"] == "date"
    assert field["date_value"]["properties"]["date_time"]["format"] == "date-time"
    assert "number" in _types(field["number_value"])
    for column in ("display_value", "text_value"):
        assert "string" in _types(field[column])


def test_no_ref_left() -> None:
    schemas = load_schemas()
    assert set(schemas) == set(STREAMS)
    for name, schema in schemas.items():
        assert "$ref" not in json.dumps(schema), name


def test_load_schemas_returns_fresh_copies() -> None:
    first = load_schemas()
    first["tasks"]["properties"]["assignee"]["properties"]["gid"]["type"] = "mutated"
    assert first["subtasks"]["properties"]["assignee"]["properties"]["gid"]["type"] != "mutated"
    assert load_schemas()["tasks"]["properties"]["assignee"]["properties"]["gid"]["type"] != "mutated"


def test_catalog_round_trips(catalog: dict) -> None:
    text = json.dumps(catalog)
    parsed = Catalog.from_dict(json.loads(text))
    assert [s.tap_stream_id for s in parsed.streams] == list(STREAMS)
    for entry, stream in zip(catalog["streams"], parsed.streams):
        assert stream.schema.to_dict() == entry["schema"]
        assert stream.key_properties == entry["key_properties"]
        assert stream.replication_key == entry.get("replication_key")
        assert stream.replication_method == entry["replication_method"]
        assert stream.metadata == entry["metadata"]
        assert not stream.is_selected()


def test_leaf_paths_reach_nested_columns() -> None:
    paths = leaf_paths(load_schemas()["tasks"])
    assert "custom_fields.enum_options.color" in paths
    assert "assignee.name" in paths
    assert "custom_fields" not in paths
    fields = Tasks.opt_fields(paths)
    assert "is_rendered_as_separator" in fields.split(",")
    assert "is_rendered_as_seperator" not in fields.split(",")
