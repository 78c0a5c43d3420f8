"""Asana's contract, as `tap_asana/contract.json` holds it: the facts `scripts/contract.py` took
from Asana's OpenAPI description (https://github.com/Asana/openapi): every GET route's path
template (placeholders written `{gid}`), its query parameters, the name of its documented
`opt_fields` list and its resource; every resource's fields, with references to other
resources, inline objects and, for a union, its variants.

The fake holds every request under /api/1.0 to it (see `Router.match`), more strictly than
Asana, which ignores what it does not know: a path that is no route of the contract, a query
parameter the route does not define, a required one missing, and an `opt_fields` path that is
neither in the route's documented list nor a field of its resource are violations."""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib.resources import files
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

#: Fields every nested Asana object carries, which the spec's field lists leave out.
ALWAYS = ("gid", "resource_type")
_ALWAYS_SPEC: Mapping[str, Any] = {"type": ["string"]}

#: The kinds of violation, in the order a request's 400 reports them.
ROUTE, PARAMETER, MISSING, OPT_FIELD = "route", "parameter", "missing", "opt_field"

Query = Sequence[Tuple[str, str]]


@dataclass(frozen=True)
class Violation:
    """One way a request breaks the contract: its kind, what it names (the path, the
    parameter or the opt_fields path) and the message of its 400."""

    kind: str
    name: str
    message: str


def opt_field_paths(raw: str) -> List[str]:
    """The paths of an `opt_fields` value: comma-separated, Asana's `this.` prefix dropped,
    empty pieces ignored."""
    paths = []
    for piece in raw.split(","):
        piece = piece.strip()
        if piece.startswith("this."):
            piece = piece[5:]
        if piece:
            paths.append(piece)
    return paths


def _as_list(value: Any) -> List[str]:
    return [] if value is None else ([value] if isinstance(value, str) else list(value))


class Contract:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self.routes: Mapping[str, Mapping[str, Any]] = data["routes"]
        self.lists: Mapping[str, List[str]] = data["opt_fields"]
        self.resources: Mapping[str, Mapping[str, Any]] = data["resources"]
        # Templates with fewer placeholders first, so a literal segment wins over `{gid}`.
        self._patterns = sorted(
            ((t.count("{gid}"), re.compile("^" + re.escape(t).replace(re.escape("{gid}"), "([^/]+)") + "/?$"), t)
             for t in self.routes), key=lambda entry: (entry[0], entry[2]))

    # --- routes ----------------------------------------------------------------------------------
    def route_of(self, path: str) -> Tuple[Optional[str], Tuple[str, ...]]:
        """The template a path (below /api/1.0) is an instance of, and the path's arguments."""
        for _, pattern, template in self._patterns:
            found = pattern.match(path)
            if found:
                return template, found.groups()
        return None, ()

    def documented(self, template: str) -> frozenset:
        return frozenset(self.lists.get(self.routes[template].get("opt_fields") or "", ()))

    # --- resources ---------------------------------------------------------------------------------
    def fields_of(self, resource: str) -> List[Mapping[str, Any]]:
        """The field lists a resource's records may draw on: its own and each variant's."""
        entry = self.resources[resource]
        return [entry["fields"]] + [self.resources[v]["fields"] for v in entry.get("variants", ())]

    def field(self, resource: str, path: str) -> Optional[Mapping[str, Any]]:
        """What the contract says of a dotted field path of a resource (None: not a field),
        each step a field of what the step before references or holds inline."""
        candidates = self.fields_of(resource)
        spec: Optional[Mapping[str, Any]] = None
        for depth, step in enumerate(path.split(".")):
            spec = next((fields[step] for fields in candidates if step in fields), None)
            if spec is None:
                return _ALWAYS_SPEC if depth and candidates and step in ALWAYS else None
            target = spec.get("items", spec)
            candidates = [fields for owner in _as_list(target.get("ref")) for fields in self.fields_of(owner)]
            if target.get("fields"):
                candidates.append(target["fields"])
        return spec

    # --- the check -----------------------------------------------------------------------------------
    def check(self, template: str, query: Query) -> List[Violation]:
        """What in a request's query breaks the route's contract: parameters it does not
        define (in the query's order), required ones missing, then opt_fields paths it does
        not know; each named once."""
        route = self.routes[template]
        defined: Mapping[str, Any] = route.get("query") or {}
        unknown: List[Violation] = []
        fields: List[Violation] = []
        for name, value in query:
            if name not in defined:
                if all(v.name != name for v in unknown):
                    unknown.append(Violation(PARAMETER, name, f"{name}: Not a parameter of {route['operation']} "
                                                              f"(GET {template})"))
            elif name == "opt_fields":
                fields.extend(v for v in self._opt_fields(template, value) if all(f.name != v.name for f in fields))
        sent = {name for name, value in query if value}
        missing = [Violation(MISSING, name, f"{name}: Missing input")
                   for name, spec in defined.items() if spec.get("required") and name not in sent]
        return unknown + missing + fields

    def _opt_fields(self, template: str, raw: str) -> Iterable[Violation]:
        route, documented = self.routes[template], self.documented(template)
        resource = route.get("resource")
        for path in dict.fromkeys(opt_field_paths(raw)):
            if path in documented or (resource and self.field(resource, path) is not None):
                continue
            yield Violation(OPT_FIELD, path, f"opt_fields: {path} is not a field of {resource} "
                                             f"(nor listed by {route['operation']})")

    def conforming(self, query: Query, violations: Sequence[Violation]) -> List[Tuple[str, str]]:
        """The query as Asana would read it: parameters it does not define and opt_fields
        paths it does not know left out."""
        unknown = {v.name for v in violations if v.kind == PARAMETER}
        bad_fields = {v.name for v in violations if v.kind == OPT_FIELD}
        out = []
        for name, value in query:
            if name in unknown:
                continue
            if name == "opt_fields" and bad_fields:
                value = ",".join(p for p in opt_field_paths(value) if p not in bad_fields)
            out.append((name, value))
        return out


@functools.lru_cache(maxsize=None)
def load_contract() -> Contract:
    """The contract shipped with the tap (read once)."""
    text = (files("tap_asana") / "contract.json").read_text(encoding="utf-8")
    return Contract(json.loads(text))


def route_message(path: str) -> str:
    return f"{path}: Not a route of Asana's API (no GET path of its OpenAPI description matches)"


def route_violation(path: str) -> Violation:
    return Violation(ROUTE, path, route_message(path))


def as_record(method: str, path: str, violation: Violation) -> Dict[str, str]:
    """A violation as `GET /_control/violations` lists it."""
    return {"method": method, "path": path, "kind": violation.kind, "name": violation.name,
            "message": violation.message}
