"""Asana's own contract, as ``contract.json`` holds it: what each GET route takes and returns,
and each resource's fields with their JSON types. ``scripts/contract.py`` writes the file from
Asana's published OpenAPI description (https://github.com/Asana/openapi, Apache-2.0).

The tap asks Asana only for fields the contract defines (``requestable``), and where it relies
on a value it reads (a page's ``next_page``, a record's replication key) it says what the
contract promised when the value breaks it (``describe``). Nothing here touches the network.
"""
from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import Any, Iterator, List, Mapping, Optional

#: Fields every nested Asana object carries, which the opt_fields enums leave out.
ALWAYS = ("gid", "resource_type")
_PLACEHOLDER = re.compile(r"\{[^}]+\}")


def route_template(path: str) -> str:
    """A path template in the contract's form: every placeholder written ``{gid}``."""
    return _PLACEHOLDER.sub("{gid}", path)


def template_of(path: str) -> str:
    """The template of a path as sent: ``/tasks/123/stories`` -> ``/tasks/{gid}/stories``."""
    return "/".join("{gid}" if p.isdigit() or p == "me" else p for p in path.split("/"))


class Contract:
    def __init__(self, data: Mapping[str, Any]):
        self.source: Mapping[str, Any] = data["source"]
        self.routes: Mapping[str, Any] = data["routes"]
        self.field_lists: Mapping[str, List[str]] = data["opt_fields"]
        self.resources: Mapping[str, Any] = data["resources"]

    # --- routes ----------------------------------------------------------------------------------
    def route(self, path: str) -> Optional[Mapping[str, Any]]:
        """A route by its template (``/tasks/{task_gid}``) or by a path as sent (``/tasks/123``)."""
        return self.routes.get(template_of(route_template(path)))

    def documented(self, path: str) -> List[str]:
        """The opt_fields a route's own documentation lists."""
        route = self.route(path) or {}
        return self.field_lists.get(route.get("opt_fields", ""), [])

    def requestable(self, path: str, field: str, resource: Optional[str] = None) -> bool:
        """Whether `field` (a dotted opt_fields path) is defined for the route `path`: listed by
        the route, or a field of its resource (`resource`: one variant of a union), where each
        step of a nested path is a field of the resource the step before references."""
        if field in self.documented(path):
            return True
        route = self.route(path)
        owner = resource or (route or {}).get("resource")
        return owner is not None and self.field(owner, field) is not None

    # --- resources -------------------------------------------------------------------------------
    def fields(self, resource: str) -> Mapping[str, Any]:
        return self.resources[resource]["fields"]

    def field(self, resource: str, path: str) -> Optional[Mapping[str, Any]]:
        """The description of a dotted field path of a resource, or None if undefined."""
        return self._follow([self.fields(resource)], path)

    def member(self, path: str, name: str) -> Optional[Mapping[str, Any]]:
        """The description of a member of a route's answer beside `data` (dotted: ``next_page.offset``)."""
        route = self.route(path) or {}
        return self._follow([route.get("envelope") or {}], name)

    def _follow(self, candidates: List[Mapping[str, Any]], path: str) -> Optional[Mapping[str, Any]]:
        spec: Optional[Mapping[str, Any]] = None
        for depth, step in enumerate(path.split(".")):
            spec = next((fields[step] for fields in candidates if step in fields), None)
            if spec is None:
                return {"type": ["string"]} if depth and candidates and step in ALWAYS else None
            target = spec.get("items", spec)
            candidates = [self.fields(owner) for owner in _as_list(target.get("ref"))]
            if target.get("fields"):
                candidates.append(target["fields"])
        return spec

    def variants(self, resource: str) -> List[str]:
        return list(self.resources[resource].get("variants", ()))

    def walk(self, resource: str, prefix: str = "", depth: int = 1) -> Iterator[tuple]:
        """(path, description) of a resource's fields and, `depth` levels down, of the inline
        objects and referenced resources they hold."""
        for name, spec in sorted(self.fields(resource).items()):
            yield from self._walk_field(f"{prefix}{name}", spec, depth)

    def _walk_field(self, path: str, spec: Mapping[str, Any], depth: int) -> Iterator[tuple]:
        yield path, spec
        if depth <= 0:
            return
        target = spec.get("items", spec)
        if target.get("fields"):
            for name, sub in sorted(target["fields"].items()):
                yield from self._walk_field(f"{path}.{name}", sub, depth - 1)
        for owner in _as_list(target.get("ref")):
            for name, sub in sorted(self.fields(owner).items()):
                yield from self._walk_field(f"{path}.{name}", sub, depth - 1)

    def describe(self, resource: str, path: str) -> str:
        """What the contract says a field is, in a few words: ``a string (date-time)``."""
        spec = self.field(resource, path)
        return describe(spec) if spec else "not defined"


_JSON_TYPES = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
               "object": (dict,), "array": (list,), "null": (type(None),)}


def conforms(value: Any, spec: Mapping[str, Any]) -> bool:
    """Whether a value has one of the JSON types a description allows (a bool is no number)."""
    kinds = spec.get("type") or []
    if not kinds:
        return True
    if isinstance(value, bool):
        return "boolean" in kinds
    return any(isinstance(value, _JSON_TYPES.get(kind, ())) for kind in kinds)


def describe(spec: Mapping[str, Any]) -> str:
    kinds = [k for k in spec.get("type", []) if k != "null"] or ["any value"]
    text = " or ".join(f"an {k}" if k[0] in "aeiou" else f"a {k}" for k in kinds)
    if spec.get("format"):
        text += f" ({spec['format']})"
    return text + (", or null" if "null" in spec.get("type", []) else "")


def _as_list(value: Any) -> List[str]:
    return [] if value is None else ([value] if isinstance(value, str) else list(value))


@functools.lru_cache(maxsize=None)
def load() -> Contract:
    """The contract shipped with the tap (read once, on first use)."""
    text = (resources.files("tap_asana") / "contract.json").read_text(encoding="utf-8")
    return Contract(json.loads(text))
