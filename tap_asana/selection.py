"""Which streams and columns a Singer catalog selects, and the Asana field paths they need.

The catalog says *what* to send; the tap's own schema (``discover``) says *how* records
look. A catalog made by another tap (singer-io's tap-asana, an older version of this one)
may carry other schemas: the tap ignores them, sends its own for the selected columns and
names the differences in one WARNING, so the SCHEMA message always describes the records.
"""
from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from tap_asana.discover import load_schemas
from tap_asana.streams import STREAMS, leaf_paths

LOGGER = logging.getLogger("tap_asana")
REDISCOVER = "Run --discover again and select streams there (or use --select)."


class CatalogError(Exception):
    """A catalog that cannot be used, phrased for the user."""


@dataclass
class Selection:
    stream: type
    #: the tap's own schema for this stream, cut down to the selected columns
    schema: Dict[str, Any]
    columns: List[str]
    paths: List[str]

    def fields(self, prefix: str = "") -> List[str]:
        """Selected leaf paths under a column (e.g. teams' ``users``), without the prefix."""
        if not prefix:
            return self.paths
        return [p[len(prefix) + 1:] for p in self.paths if p.startswith(prefix + ".")]


def select(catalog: Any) -> Dict[str, Selection]:
    """Selected streams and columns from a Singer catalog, in sync order."""
    schemas = load_schemas()
    chosen: Dict[str, Selection] = {}
    changed: List[str] = []
    missing: List[str] = []
    unknown: List[str] = []
    for name, entry in _entries(catalog):
        meta = _metadata(name, entry)
        theirs = _schema(name, entry)
        if not _selected(name, meta.get((), {}), theirs or {}):
            continue
        ours = schemas[name]
        forced = set(STREAMS[name].key_properties) | {STREAMS[name].replication_key} - {None}
        columns = [col for col in ours["properties"]
                   if col in forced or _column_selected(name, col, meta.get(("properties", col), {}))]
        paths = [p for col in columns for p in (leaf_paths(ours["properties"][col], col) or [col])]
        schema = dict(ours, properties={col: ours["properties"][col] for col in columns})
        chosen[name] = Selection(STREAMS[name], schema, columns, paths)
        props = (theirs or {}).get("properties") or {}
        changed += [f"{name}.{c}" for c in columns if c in props and props[c] != ours["properties"][c]]
        missing += [f"{name}.{c}" for c in columns if c not in props]
        unknown += [f"{name}.{c}" for c in props if c not in ours["properties"]]
    if not chosen:
        raise CatalogError("catalog selects no stream; set \"selected\": true in a stream's metadata "
                           "(breadcrumb []), or pass --select STREAM.")
    if changed or missing or unknown:
        LOGGER.warning("The catalog's schemas are not tap-asana's: %s. The tap sends its own schema for the "
                       "selected columns, which describes its records. %s",
                       _describe(changed, missing, unknown), REDISCOVER)
    return {name: chosen[name] for name in STREAMS if name in chosen}


def apply_patterns(catalog: Any, select: Iterable[str] = (), deselect: Iterable[str] = ()) -> Dict[str, Any]:
    """A copy of the catalog with streams and columns selected by fnmatch patterns.

    A pattern without a dot matches stream names (``tasks``, ``*``) and selects the stream;
    one with a dot matches ``stream.column`` (``stories.*``, ``tasks.notes``). A stream that
    only column patterns reach sends just those columns (and its key columns). ``deselect``
    patterns win over ``select`` ones. A pattern that matches nothing is an error (a typo)."""
    select, deselect = list(select), list(deselect)
    catalog = copy.deepcopy(catalog)
    entries = _entries(catalog)
    columns = {name: list(schema["properties"]) for name, schema in load_schemas().items()}
    for flag, patterns in (("--select", select), ("--deselect", deselect)):
        for pattern in patterns:
            if not any(_matches(pattern, name, columns[name]) for name, _ in entries):
                raise CatalogError(_no_match(flag, pattern, columns))
    for name, entry in entries:
        _metadata(name, entry)  # validates
        crumbs = {tuple(m["breadcrumb"]): m["metadata"] for m in entry.setdefault("metadata", [])}

        def put(crumb: Tuple[str, ...], selected: bool) -> None:
            if crumb not in crumbs:
                crumbs[crumb] = {}
                entry["metadata"].append({"breadcrumb": list(crumb), "metadata": crumbs[crumb]})
            crumbs[crumb]["selected"] = selected

        stream_hit = any(fnmatchcase(name, p) for p in select if "." not in p)
        column_hits = {c for c in columns[name] for p in select if "." in p and fnmatchcase(f"{name}.{c}", p)}
        if stream_hit or column_hits:
            put((), True)
        if column_hits and not stream_hit:
            for col in columns[name]:
                put(("properties", col), col in column_hits)
        if any(fnmatchcase(name, p) for p in deselect if "." not in p):
            put((), False)
        for col in columns[name]:
            if any(fnmatchcase(f"{name}.{col}", p) for p in deselect if "." in p):
                put(("properties", col), False)
    return catalog


# --- reading a catalog: every malformed part is one CatalogError naming where ----------------------
def _entries(catalog: Any) -> List[Tuple[str, Dict[str, Any]]]:
    entries = catalog.get("streams") if isinstance(catalog, dict) else None
    if not isinstance(entries, list):
        raise CatalogError("catalog must be a JSON object with a \"streams\" list; make one with --discover.")
    named: List[Tuple[str, Dict[str, Any]]] = []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise CatalogError(f"catalog stream #{number} is a {_kind(entry)}, not an object with tap_stream_id, "
                               f"schema and metadata. {REDISCOVER}")
        name = entry.get("tap_stream_id") or entry.get("stream")
        if name not in STREAMS:
            raise CatalogError(f"catalog names stream {name!r}, which tap-asana does not have; run --discover again.")
        if any(name == seen for seen, _ in named):
            raise CatalogError(f"catalog lists stream {name!r} twice; keep one entry.")
        named.append((name, entry))
    return named


def _metadata(name: str, entry: Mapping[str, Any]) -> Dict[Tuple[str, ...], Mapping[str, Any]]:
    items = entry.get("metadata")
    if items is None:
        return {}
    if not isinstance(items, list):
        raise CatalogError(f"catalog stream {name!r}: \"metadata\" must be a list of "
                           f"{{\"breadcrumb\": [...], \"metadata\": {{...}}}} objects, not a {_kind(items)}. {REDISCOVER}")
    meta: Dict[Tuple[str, ...], Mapping[str, Any]] = {}
    for item in items:
        crumb = item.get("breadcrumb") if isinstance(item, dict) else None
        values = item.get("metadata") if isinstance(item, dict) else None
        if not isinstance(crumb, list) or not all(isinstance(c, str) for c in crumb) or not isinstance(values, dict):
            raise CatalogError(f"catalog stream {name!r}: a metadata item must be an object with a \"breadcrumb\" "
                               f"list of strings and a \"metadata\" object, not {_short(item)}. {REDISCOVER}")
        selected = values.get("selected")
        if selected is not None and not isinstance(selected, bool):
            where = ".".join(crumb[1:]) or "the stream"
            raise CatalogError(f"catalog stream {name!r}: \"selected\" of {where} must be true or false, "
                               f"not {selected!r}.")
        meta[tuple(crumb)] = values
    return meta


def _schema(name: str, entry: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    schema = entry.get("schema")
    if schema is None:
        return None
    if not isinstance(schema, dict):
        raise CatalogError(f"catalog stream {name!r}: \"schema\" must be a JSON schema object, not a "
                           f"{_kind(schema)}. {REDISCOVER}")
    if not isinstance(schema.get("properties", {}), dict):
        raise CatalogError(f"catalog stream {name!r}: \"schema.properties\" must be an object of column schemas, "
                           f"not a {_kind(schema['properties'])}. {REDISCOVER}")
    return schema


def _selected(name: str, stream_meta: Mapping[str, Any], schema: Mapping[str, Any]) -> bool:
    legacy = schema.get("selected")  # selection on the schema, from before metadata
    if legacy is not None and not isinstance(legacy, bool):
        raise CatalogError(f"catalog stream {name!r}: \"schema.selected\" must be true or false, not {legacy!r}.")
    return bool(stream_meta.get("selected") or legacy)


def _column_selected(name: str, column: str, meta: Mapping[str, Any]) -> bool:
    """A column the catalog says nothing of is sent, as a fresh --discover would select it."""
    if meta.get("inclusion") == "unsupported":
        return False
    if meta.get("inclusion") == "automatic":
        return True
    return bool(meta.get("selected", meta.get("selected-by-default", True)))


def _describe(changed: List[str], missing: List[str], unknown: List[str]) -> str:
    parts = []
    if changed:
        parts.append(f"columns typed differently: {', '.join(changed)}")
    if missing:
        streams = sorted({c.split('.')[0] for c in missing}, key=list(STREAMS).index)
        parts.append(f"{len(missing)} columns it does not list (in {', '.join(streams)}), sent as a fresh "
                     f"--discover selects them")
    if unknown:
        parts.append(f"columns tap-asana does not have, not sent: {', '.join(unknown)}")
    return "; ".join(parts)


def _no_match(flag: str, pattern: str, columns: Mapping[str, List[str]]) -> str:
    """Why a pattern matched nothing, with the names it could have matched: the columns of the
    streams its stream part names, else the streams."""
    streams = [name for name in columns if fnmatchcase(name, pattern.split(".", 1)[0])] if "." in pattern else []
    if len(streams) == 1:
        return (f"{flag} {pattern!r} matches no column of {streams[0]}. Its columns: "
                f"{', '.join(columns[streams[0]])}.")
    if streams:
        which = "any stream" if len(streams) == len(columns) else ", ".join(streams)
        return (f"{flag} {pattern!r} matches no column of {which}. "
                "--discover lists each stream's columns (its schema's properties).")
    return (f"{flag} {pattern!r} matches no stream or column. Streams: {', '.join(STREAMS)}; columns are written "
            "stream.column (tasks.notes).")


def _matches(pattern: str, stream: str, columns: Iterable[str]) -> bool:
    if "." not in pattern:
        return fnmatchcase(stream, pattern)
    return any(fnmatchcase(f"{stream}.{col}", pattern) for col in columns)


def _kind(value: Any) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number" if isinstance(value, (int, float)) else type(value).__name__)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
