"""Which streams and columns a Singer catalog selects, and the Asana field paths they need."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping

from tap_asana.streams import STREAMS, leaf_paths


class CatalogError(Exception):
    """A catalog that cannot be used, phrased for the user."""


@dataclass
class Selection:
    stream: type
    schema: Dict[str, Any]
    columns: List[str]
    paths: List[str]

    def fields(self, prefix: str = "") -> List[str]:
        """Selected leaf paths under a column (e.g. teams' ``users``), without the prefix."""
        if not prefix:
            return self.paths
        return [p[len(prefix) + 1:] for p in self.paths if p.startswith(prefix + ".")]


def select(catalog: Mapping[str, Any]) -> Dict[str, Selection]:
    """Selected streams and columns from a Singer catalog, in sync order."""
    entries = catalog.get("streams") if isinstance(catalog, dict) else None
    if not isinstance(entries, list):
        raise CatalogError("catalog must be a JSON object with a \"streams\" list; make one with --discover.")
    chosen: Dict[str, Selection] = {}
    for entry in entries:
        name = entry.get("tap_stream_id") or entry.get("stream") if isinstance(entry, dict) else None
        if name not in STREAMS:
            raise CatalogError(f"catalog names stream {name!r}, which tap-asana does not have; run --discover again.")
        meta = {tuple(m.get("breadcrumb", ())): m.get("metadata", {}) for m in entry.get("metadata", [])}
        schema = entry.get("schema") or {}
        if not (meta.get((), {}).get("selected") or schema.get("selected")):
            continue
        columns = [col for col in schema.get("properties", {})
                   if _column_selected(meta.get(("properties", col), {}))]
        paths = [p for col in columns for p in (leaf_paths(schema["properties"][col], col) or [col])]
        chosen[name] = Selection(STREAMS[name], schema, columns, paths)
    if not chosen:
        raise CatalogError("catalog selects no stream; set \"selected\": true in a stream's metadata.")
    return {name: chosen[name] for name in STREAMS if name in chosen}


def _column_selected(meta: Mapping[str, Any]) -> bool:
    if meta.get("inclusion") == "automatic":
        return True
    if meta.get("inclusion") == "unsupported":
        return False
    return bool(meta.get("selected", meta.get("selected-by-default", True)))
