"""Schemas and the Singer catalog: the only code that reads ``schemas/``.

Each stream's schema is ``schemas/<stream>.json``; shared fragments live in
``schemas/shared/``. A ``{"$ref": "<path>"}`` object is replaced by a deep copy
of the file it names, resolved recursively. Every ``$ref`` path is relative to
the ``schemas/`` root (``"shared/ref.json"``), also inside ``shared/`` itself,
so a fragment reads the same wherever it is used. Siblings of ``$ref`` are not
allowed: JSON Schema draft 4 ignores them, so they would only mislead.
"""
from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any, Optional

from singer import metadata

from tap_asana.streams import DELETED_AT, INCREMENTAL, STREAMS


def _read(path: str) -> Any:
    node = resources.files("tap_asana") / "schemas"
    for part in path.split("/"):
        node = node / part
    return json.loads(node.read_text(encoding="utf-8"))


def _resolve(node: Any, cache: dict[str, Any], stack: tuple[str, ...] = ()) -> Any:
    if isinstance(node, list):
        return [_resolve(item, cache, stack) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        path = node["$ref"]
        if len(node) != 1:
            raise ValueError(f"$ref {path!r} has sibling keys {sorted(node)}")
        if path in stack:
            raise ValueError(f"$ref cycle: {' -> '.join(stack + (path,))}")
        if path not in cache:
            cache[path] = _resolve(_read(path), cache, stack + (path,))
        return copy.deepcopy(cache[path])
    return {key: _resolve(value, cache, stack) for key, value in node.items()}


def load_schemas() -> dict[str, dict[str, Any]]:
    """Every stream's schema, ``$ref``-free, as fresh dicts owned by the caller. A column Asana
    does not return for the stream's resource (``Stream.unreturned``) says so in its description."""
    cache: dict[str, Any] = {}
    schemas = {name: _resolve({"$ref": f"{name}.json"}, cache) for name in STREAMS}
    for name, stream in STREAMS.items():
        for column in stream.unreturned:
            schemas[name]["properties"][column]["description"] = UNRETURNED.format(stream=name)
    return schemas


#: The description of a column Asana's API does not return for the stream's resource.
UNRETURNED = ("Always null: Asana's API does not return this field for {stream} (its OpenAPI description does "
              "not define it). The column is kept so that existing tables keep their shape.")


def _metadata(stream: type, schema: dict[str, Any]) -> list[dict[str, Any]]:
    keys = list(stream.key_properties)
    replication_key: Optional[str] = stream.replication_key
    mdata = metadata.new()
    metadata.write(mdata, (), "table-key-properties", keys)
    metadata.write(mdata, (), "forced-replication-method", stream.replication_method)
    if stream.replication_method == INCREMENTAL:
        metadata.write(mdata, (), "valid-replication-keys", [replication_key])
    metadata.write(mdata, (), "inclusion", "available")
    for column in schema["properties"]:
        crumb = ("properties", column)
        if column in keys or column == replication_key or (stream.sends_deletes and column == DELETED_AT):
            metadata.write(mdata, crumb, "inclusion", "automatic")
        else:
            metadata.write(mdata, crumb, "inclusion", "available")
            metadata.write(mdata, crumb, "selected-by-default", True)
    return [
        {"breadcrumb": list(entry["breadcrumb"]), "metadata": entry["metadata"]}
        for entry in metadata.to_list(mdata)
    ]


def discover() -> dict[str, Any]:
    """The Singer catalog: every stream, none selected."""
    schemas = load_schemas()
    entries = []
    for name, stream in STREAMS.items():
        schema = schemas[name]
        entry: dict[str, Any] = {
            "tap_stream_id": name,
            "stream": name,
            "schema": schema,
            "key_properties": list(stream.key_properties),
            "replication_method": stream.replication_method,
            "metadata": _metadata(stream, schema),
        }
        if stream.replication_key:
            entry["replication_key"] = stream.replication_key
        entries.append(entry)
    return {"streams": entries}
