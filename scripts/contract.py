"""Derive tap-asana's contract from Asana's OpenAPI description.

    python scripts/contract.py PATH/TO/asana_oas.yaml [--commit SHA --date YYYY-MM-DD] [--out FILE]

The spec is Asana's own description of its REST API, published (Apache License 2.0) in the
public repository https://github.com/Asana/openapi as ``defs/asana_oas.yaml``. This script
takes facts only from it, no prose, and writes ``tap_asana/contract.json``:

- ``routes``: every GET route (path parameters written ``{gid}``), with its operation id,
  its query parameters (JSON type, and whether required), the name of the ``opt_fields``
  list it documents, the resource its ``data`` holds (a list or one record) and the other
  members of its answer (``envelope``: ``next_page``, or the events' ``sync`` and ``has_more``);
- ``opt_fields``: those lists, each named after the first operation (in path order) that
  documents it: every task listing shares ``getTasksForProject``'s;
- ``resources``: every resource those routes return or reference, keyed by the spec's schema
  name (``TaskResponse``), with each field's JSON types (``null`` where nullable), format,
  enum, and what it references (``ref``, another resource of the file) or holds (``items``
  of an array, ``fields`` of an inline object); a union (``MembershipResponse``) also
  lists its ``variants``, each a resource of the file.

A compact schema (``UserCompact``) is referenced through its full form (``UserResponse``,
else ``UserBase``), so a nested field path is checked against everything the referenced
resource has. The fake Asana enforces this file, the tap asks only for what it defines, and
the tests read it: a fresh clone needs no spec. Needs PyYAML (``pip install pyyaml``).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

OUT = Path(__file__).resolve().parents[1] / "tap_asana" / "contract.json"
#: Fields of `next_page` that some opt_fields enums list as if they were the resource's.
NEXT_PAGE_FIELDS = ("offset", "path", "uri")
#: A query parameter a route's own description names when its parameter list does not (search's `limit`).
DESCRIBED_PARAM = re.compile(r"specified by the `(\w+)` query parameter")


class Spec:
    def __init__(self, document: Dict[str, Any]):
        self.doc = document
        self.schemas: Dict[str, Any] = document["components"]["schemas"]
        self.parameters: Dict[str, Any] = document["components"].get("parameters", {})
        self.resources: Dict[str, Dict[str, Any]] = {}
        self.pending: List[str] = []

    # --- schemas -------------------------------------------------------------------------------
    def full_name(self, name: str) -> str:
        """The full form of a compact schema: what its fields can be asked for."""
        if name.endswith("Compact"):
            for candidate in (name[:-7] + "Response", name[:-7] + "Base"):
                if candidate in self.schemas:
                    return candidate
        return name

    def ref(self, name: str) -> str:
        full = self.full_name(name)
        if full not in self.resources and full not in self.pending:
            self.pending.append(full)
        return full

    def resolve_all(self) -> None:
        while self.pending:
            name = self.pending.pop(0)
            if name not in self.resources:
                self.resources[name] = {}  # placeholder: a cycle refers to it by name only
                self.resources[name] = self.resource(name)

    def resource(self, name: str) -> Dict[str, Any]:
        fields = self.fields_of(self.schemas[name])
        out: Dict[str, Any] = {"fields": fields}
        kind = self._resource_type(self.schemas[name])
        if kind:
            out["resource_type"] = kind
        variants = self._variants(self.schemas[name])
        if variants:  # a union (anyOf): each kind it may be is a resource of its own too
            out["variants"] = [self.ref(v) for v in variants]
        return out

    def _variants(self, schema: Dict[str, Any]) -> List[str]:
        if "$ref" in schema:
            return self._variants(self.schemas[_name(schema["$ref"])])
        parts = schema.get("anyOf") or schema.get("oneOf") or []
        return [_name(p["$ref"]) for p in parts if "$ref" in p]

    def _resource_type(self, schema: Dict[str, Any]) -> Optional[str]:
        """The example `resource_type` of a schema, following allOf and references."""
        if "$ref" in schema:
            return self._resource_type(self.schemas[_name(schema["$ref"])])
        example = (schema.get("properties", {}).get("resource_type") or {}).get("example")
        if isinstance(example, str):
            return example
        for part in schema.get("allOf", []):
            found = self._resource_type(part)
            if found:
                return found
        return None

    def fields_of(self, schema: Dict[str, Any]) -> Dict[str, Any]:
        """The fields of an object schema (allOf merged, anyOf/oneOf united)."""
        if "$ref" in schema:
            return self.fields_of(self.schemas[_name(schema["$ref"])])
        fields: Dict[str, Any] = {}
        for part in schema.get("allOf", []):
            fields.update(self.fields_of(part))
        for key in ("anyOf", "oneOf"):
            for part in schema.get(key, []):
                for field, spec in self.fields_of(part).items():
                    fields[field] = _unite(fields[field], spec) if field in fields else spec
        for field, sub in (schema.get("properties") or {}).items():
            fields[field] = self.field(sub)
        return fields

    def field(self, schema: Dict[str, Any]) -> Dict[str, Any]:
        """One field's type: JSON types, format, enum, ref / items / fields."""
        nullable = bool(schema.get("nullable"))
        if "$ref" in schema:
            name = _name(schema["$ref"])
            nullable = nullable or bool(self.schemas[name].get("nullable"))
            return _typed(["object"], nullable, ref=self.ref(name))
        parts = schema.get("allOf")
        if parts:
            refs = [p for p in parts if "$ref" in p]
            extras = [p for p in parts if "$ref" not in p]
            nullable = nullable or any(p.get("nullable") for p in extras)
            if len(refs) == 1:  # a reference, perhaps with a few fields of its own added
                spec = self.field(refs[0])
                own = {k: v for e in extras for k, v in self.fields_of(e).items()}
                extra = {k: v for k, v in spec.items() if k != "type"}
                return _typed(spec["type"], nullable, **extra, **({"fields": own} if own else {}))
            return _typed(["object"], nullable, fields=self.fields_of(schema))
        alternatives = schema.get("anyOf") or schema.get("oneOf")
        if alternatives:
            specs = [self.field(p) for p in alternatives]
            united = specs[0]
            for spec in specs[1:]:
                united = _unite(united, spec)
            return _typed(united["type"], nullable, **{k: v for k, v in united.items() if k != "type"})
        kind = schema.get("type")
        if kind == "array":
            return _typed(["array"], nullable, items=self.field(schema.get("items") or {}))
        if kind == "object" or "properties" in schema:
            fields = self.fields_of(schema)
            return _typed(["object"], nullable, **({"fields": fields} if fields else {}))
        extra: Dict[str, Any] = {}
        if schema.get("format"):
            extra["format"] = schema["format"]
        if schema.get("enum"):
            extra["enum"] = [e for e in schema["enum"] if e is not None]
            nullable = nullable or None in schema["enum"]
        return _typed([kind] if kind else [], nullable, **extra)

    # --- routes --------------------------------------------------------------------------------
    def parameter(self, item: Dict[str, Any]) -> Dict[str, Any]:
        return self.parameters[_name(item["$ref"])] if "$ref" in item else item

    def routes(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        for path, item in sorted(self.doc["paths"].items()):
            operation = item.get("get")
            if not operation:
                continue
            params = [self.parameter(p) for p in item.get("parameters", []) + operation.get("parameters", [])]
            query: Dict[str, Any] = {}
            opt_fields: List[str] = []
            for param in params:
                if param.get("in") != "query":
                    continue
                schema = param.get("schema") or {}
                if param["name"] == "opt_fields":
                    enum = (schema.get("items") or {}).get("enum") or []
                    opt_fields = sorted(e for e in enum if e.split(".")[0] not in NEXT_PAGE_FIELDS)
                kind = schema.get("type") or "string"
                entry: Dict[str, Any] = {"type": kind}
                if param.get("required"):
                    entry["required"] = True
                if schema.get("format"):
                    entry["format"] = schema["format"]
                if schema.get("enum"):
                    entry["enum"] = [e for e in schema["enum"] if e is not None]
                query[param["name"]] = entry
            for name in DESCRIBED_PARAM.findall(operation.get("description", "")):
                query.setdefault(name, {"type": "integer", "described": True})
            resource, many = self.data_of(operation)
            route: Dict[str, Any] = {"operation": operation["operationId"], "query": dict(sorted(query.items()))}
            if resource:
                route.update(resource=self.ref(resource), list=many)
            envelope = self.envelope_of(operation)
            if envelope:
                route["envelope"] = envelope
            if opt_fields:
                route["opt_fields"] = opt_fields
            out[re.sub(r"\{[^}]+\}", "{gid}", path)] = route
        return out

    def answer_of(self, operation: Dict[str, Any]) -> Dict[str, Any]:
        """The schema of the 200 answer's body."""
        responses = operation.get("responses", {})
        answer = responses.get(200) or responses.get("200") or {}
        schema = ((answer.get("content") or {}).get("application/json") or {}).get("schema") or {}
        return self.schemas[_name(schema["$ref"])] if "$ref" in schema else schema

    def envelope_of(self, operation: Dict[str, Any]) -> Dict[str, Any]:
        """The body's members beside `data`: `next_page` on listings, `sync` and `has_more` on events."""
        members = (self.answer_of(operation).get("properties") or {}).items()
        return {name: self.field(sub) for name, sub in sorted(members) if name != "data"}

    def data_of(self, operation: Dict[str, Any]) -> Tuple[Optional[str], bool]:
        schema = self.answer_of(operation)
        data = (schema.get("properties") or {}).get("data")
        if not data:
            return None, False
        many = data.get("type") == "array"
        item = data.get("items", {}) if many else data
        if "$ref" not in item:
            parts = [p for p in item.get("allOf", []) if "$ref" in p]
            if not parts:
                return None, many
            item = parts[0]
        return _name(item["$ref"]), many


def _name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _typed(types: List[str], nullable: bool, **extra: Any) -> Dict[str, Any]:
    kinds = list(dict.fromkeys(types + (["null"] if nullable else [])))
    return {"type": kinds, **{k: v for k, v in extra.items() if v is not None}}


def _unite(a: Dict[str, Any], b: Dict[str, Any]) -> Dict[str, Any]:
    """Two descriptions of one field (alternatives of anyOf): types united, refs listed."""
    out: Dict[str, Any] = {"type": list(dict.fromkeys(a["type"] + b["type"]))}
    refs = [r for spec in (a, b) for r in _as_list(spec.get("ref"))]
    if refs:
        out["ref"] = refs[0] if len(set(refs)) == 1 else sorted(set(refs))
    if a.get("format") == b.get("format") and a.get("format"):
        out["format"] = a["format"]
    if "enum" in a and "enum" in b:
        out["enum"] = list(dict.fromkeys(a["enum"] + b["enum"]))
    for key in ("items", "fields"):
        if key in a or key in b:
            out[key] = a.get(key) or b.get(key)
    return out


def _as_list(value: Any) -> List[str]:
    return [] if value is None else ([value] if isinstance(value, str) else list(value))


def build(document: Dict[str, Any], commit: str, date: str) -> Dict[str, Any]:
    spec = Spec(document)
    routes = spec.routes()
    spec.resolve_all()
    license_info = document.get("info", {}).get("license", {})
    return {
        "source": {
            "what": "Facts taken from Asana's OpenAPI description of its REST API 1.0 (routes, parameters, "
                    "opt_fields, fields and their types), no prose. Written by scripts/contract.py.",
            "repository": "https://github.com/Asana/openapi",
            "file": "defs/asana_oas.yaml",
            "commit": commit,
            "date": date,
            "license": license_info.get("name", "Apache 2.0"),
            "license_url": license_info.get("url", "https://www.apache.org/licenses/LICENSE-2.0"),
            "notice": "Copyright Asana, Inc. The OpenAPI description is licensed under the Apache License, "
                      "Version 2.0; this file is derived from it.",
        },
        "routes": routes,
        "opt_fields": _share_field_lists(routes),
        "resources": dict(sorted(spec.resources.items())),
    }


def _share_field_lists(routes: Dict[str, Any]) -> Dict[str, List[str]]:
    """Routes that document the same opt_fields (every task listing does) name one shared list,
    after the first operation that documents it; returns those lists."""
    lists: Dict[str, List[str]] = {}
    by_content: Dict[Tuple[str, ...], str] = {}
    for route in routes.values():
        fields = route.pop("opt_fields", None)
        if not fields:
            continue
        key = tuple(fields)
        if key not in by_content:
            by_content[key] = route["operation"]
            lists[route["operation"]] = fields
        route["opt_fields"] = by_content[key]
    return dict(sorted(lists.items()))


def write(contract: Dict[str, Any], out: Path) -> None:
    """One route or resource a line: small diffs when the spec moves."""
    lines = ["{", f' "source": {json.dumps(contract["source"], sort_keys=True)},']
    for key in ("routes", "opt_fields", "resources"):
        items = list(contract[key].items())
        lines.append(f' "{key}": {{')
        for i, (name, value) in enumerate(items):
            comma = "," if i < len(items) - 1 else ""
            lines.append(f"  {json.dumps(name)}: {json.dumps(value, sort_keys=True, separators=(',', ':'))}{comma}")
        lines.append(" }" if key == "resources" else " },")
    lines.append("}")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write tap_asana/contract.json from Asana's OpenAPI description: the file defs/asana_oas.yaml "
                    "of the public repository https://github.com/Asana/openapi (Apache-2.0).")
    parser.add_argument("spec", help="path to asana_oas.yaml")
    parser.add_argument("--commit", default="unknown", help="the Asana/openapi commit the file comes from")
    parser.add_argument("--date", default="unknown", help="that commit's date (YYYY-MM-DD)")
    parser.add_argument("--out", default=str(OUT), help=f"where to write (default {OUT})")
    args = parser.parse_args(argv)
    try:
        import yaml
    except ImportError:
        print("scripts/contract.py needs PyYAML: pip install pyyaml", file=sys.stderr)
        return 2
    with open(args.spec, encoding="utf-8") as handle:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        document = yaml.load(handle, Loader=loader)
    contract = build(document, args.commit, args.date)
    write(contract, Path(args.out))
    print(f"{args.out}: {len(contract['routes'])} GET routes, {len(contract['resources'])} resources")
    return 0


if __name__ == "__main__":
    sys.exit(main())
