"""What the fake's answers must be by Asana's contract (`tap_asana/contract.json`), read here
on its own (not through the fake's reader, so the two check each other): every record of a
route is its resource (a union: the variant its type names), each field one the resource
defines, its value of one of the contract's JSON types (null only where nullable), its
date-time or date well formed, its enum kept, nested objects and list items their referenced
resource's or inline fields."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

CONTRACT = json.loads((Path(__file__).resolve().parents[1] / "tap_asana" / "contract.json").read_text())
ROUTES: Mapping[str, Any] = CONTRACT["routes"]
RESOURCES: Mapping[str, Any] = CONTRACT["resources"]
ALWAYS = ("gid", "resource_type")
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
KINDS = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,), "object": (dict,),
         "array": (list,)}

Fields = Mapping[str, Any]


def documented(template: str) -> List[str]:
    """The route's documented opt_fields; for a route without a list, its resource's (and
    variants') top-level fields."""
    route = ROUTES[template]
    if route.get("opt_fields"):
        return list(CONTRACT["opt_fields"][route["opt_fields"]])
    resource = RESOURCES[route["resource"]]
    names = set(resource["fields"])
    for variant in resource.get("variants", ()):
        names |= set(RESOURCES[variant]["fields"])
    return sorted(names)


def _refs(value: Any) -> List[str]:
    return [] if value is None else ([value] if isinstance(value, str) else list(value))


def typed(value: Any, kinds: Sequence[str]) -> bool:
    if not kinds:
        return True
    if value is None:
        return "null" in kinds
    if isinstance(value, bool):
        return "boolean" in kinds
    return any(isinstance(value, KINDS[k]) for k in kinds if k not in ("null", "boolean"))


class Checker:
    """Collects every way the records it is shown break the contract."""

    def __init__(self) -> None:
        self.problems: List[str] = []
        self.checked = 0

    def record(self, record: Mapping[str, Any], resource: str, where: str) -> None:
        self.checked += 1
        self._object(record, [resource], None, where, top=True)

    def _candidates(self, refs: Sequence[str], inline: Optional[Fields]) -> List[Tuple[str, Fields]]:
        """What an object may be: each referenced resource (a union: each variant), with the
        inline fields beside a reference added to it (`GoalResponse.metric`); else the inline fields."""
        out = []
        for ref in refs:
            for name in RESOURCES[ref].get("variants") or [ref]:
                out.append((name, {**RESOURCES[name]["fields"], **(inline or {})}))
        if inline and not refs:
            out.append(("inline", inline))
        return out

    def _object(self, value: Mapping[str, Any], refs: Sequence[str], inline: Optional[Fields], where: str,
                top: bool = False) -> None:
        candidates = self._candidates(refs, inline)
        if not candidates:
            return
        kind_of = {name: RESOURCES.get(name, {}).get("resource_type") for name, _ in candidates}
        by_subtype = [c for c in candidates if kind_of[c[0]] and kind_of[c[0]] == value.get("resource_subtype")]
        by_type = [c for c in candidates if kind_of[c[0]] and kind_of[c[0]] == value.get("resource_type")]
        pool = by_subtype or by_type or candidates

        def stray(fields: Fields) -> List[str]:
            return [k for k in value if k not in fields and (top or k not in ALWAYS)]
        chosen = next((c for c in pool if not stray(c[1])), None)
        if chosen is None:
            name, fields = pool[0]
            self.problems.append(f"{where}: {', '.join(sorted(stray(fields)))} not a field of "
                                 f"{' or '.join(c[0] for c in pool)}")
            return
        for key, item in value.items():
            if key in chosen[1]:
                self._value(item, chosen[1][key], f"{where}.{key}")

    def _value(self, value: Any, spec: Mapping[str, Any], where: str) -> None:
        kinds = spec.get("type") or []
        if not typed(value, kinds):
            self.problems.append(f"{where}: {json.dumps(value)[:60]} is not {' or '.join(kinds)}")
            return
        if value is None:
            return
        if spec.get("enum") and value not in spec["enum"]:
            self.problems.append(f"{where}: {value!r} is not one of {spec['enum']}")
        pattern = {"date-time": DATE_TIME, "date": DATE}.get(spec.get("format", ""))
        if pattern and isinstance(value, str) and not pattern.match(value):
            self.problems.append(f"{where}: {value!r} is not a {spec['format']}")
        if isinstance(value, list):
            for item in value:
                self._value(item, spec.get("items") or {}, where + "[]")
        elif isinstance(value, dict):
            self._object(value, _refs(spec.get("ref")), spec.get("fields"), where)


# --- what to ask the fake for -------------------------------------------------------------------------
def _gids(data: Mapping[str, Any], kind: str) -> List[str]:
    return [r["gid"] for r in data[kind]]


#: The kind of record (export key) each route's `{gid}` is asked with.
GID_OF = {
    "/workspaces/{gid}": "workspaces", "/workspaces/{gid}/users": "workspaces",
    "/workspaces/{gid}/projects": "workspaces", "/workspaces/{gid}/tags": "workspaces",
    "/workspaces/{gid}/custom_fields": "workspaces", "/workspaces/{gid}/tasks/search": "workspaces",
    "/users/{gid}": "users", "/user_task_lists/{gid}": "user_task_lists",
    "/user_task_lists/{gid}/tasks": "user_task_lists",
    "/teams/{gid}": "teams", "/teams/{gid}/users": "teams", "/teams/{gid}/projects": "teams",
    "/teams/{gid}/team_memberships": "teams", "/team_memberships/{gid}": "team_memberships",
    "/projects/{gid}": "projects", "/projects/{gid}/custom_field_settings": "projects",
    "/projects/{gid}/sections": "projects", "/projects/{gid}/tasks": "projects",
    "/memberships/{gid}": "project_memberships", "/sections/{gid}": "sections", "/sections/{gid}/tasks": "sections",
    "/tasks/{gid}": "tasks", "/tasks/{gid}/subtasks": "tasks", "/tasks/{gid}/stories": "tasks",
    "/tasks/{gid}/tags": "tasks", "/tasks/{gid}/time_tracking_entries": "tasks", "/stories/{gid}": "stories",
    "/attachments/{gid}": "attachments", "/tags/{gid}": "tags", "/tags/{gid}/tasks": "tags",
    "/custom_fields/{gid}": "custom_fields", "/status_updates/{gid}": "status_updates",
    "/portfolios/{gid}": "portfolios", "/portfolios/{gid}/items": "portfolios",
    "/portfolios/{gid}/portfolio_memberships": "portfolios", "/portfolio_memberships/{gid}": "portfolio_memberships",
    "/goals/{gid}": "goals", "/time_tracking_entries/{gid}": "time_tracking_entries",
    "/workspaces/{gid}/events": "workspaces",  # with the PAT: 402 (the service account's are checked apart)
}


def by_path(data: Mapping[str, Any]) -> Dict[str, List[str]]:
    """The gids each route's `{gid}` is asked with (teams: of organizations only)."""
    out = {template: _gids(data, kind) for template, kind in GID_OF.items()}
    out["/workspaces/{gid}/teams"] = [w["gid"] for w in data["workspaces"] if w["is_organization"]]
    return out


def by_query(data: Mapping[str, Any]) -> Dict[str, List[Dict[str, str]]]:
    """The queries each route without `{gid}` is asked with."""
    g = {kind: _gids(data, kind) for kind in data if kind != "meta"}

    def each(name: str, gids: Sequence[str]) -> List[Dict[str, str]]:
        return [{name: gid} for gid in gids]
    return {
        "/workspaces": [{}], "/users": each("workspace", g["workspaces"]),
        "/team_memberships": each("team", g["teams"]), "/projects": each("workspace", g["workspaces"]),
        "/memberships": each("parent", g["projects"] + g["portfolios"]), "/tasks": each("project", g["projects"]),
        "/attachments": each("parent", g["tasks"] + g["projects"]), "/tags": each("workspace", g["workspaces"]),
        "/status_updates": each("parent", g["projects"] + g["portfolios"] + g["goals"]),
        "/portfolios": each("workspace", g["workspaces"]), "/portfolio_memberships": each("portfolio", g["portfolios"]),
        "/goals": each("workspace", g["workspaces"]), "/time_tracking_entries": each("task", g["tasks"]),
    }


def requests_for(data: Mapping[str, Any], served: Sequence[str]) -> List[Tuple[str, str, Dict[str, str]]]:
    """(template, path, query) for every route served but `/events` (which needs sync tokens)."""
    paths, queries = by_path(data), by_query(data)
    out: List[Tuple[str, str, Dict[str, str]]] = []
    for template in served:
        if template in paths:
            out.extend((template, template.replace("{gid}", gid), {}) for gid in paths[template])
        elif template in queries:
            out.extend((template, template, query) for query in queries[template])
    for utl in data["user_task_lists"]:
        out.append(("/users/{gid}/user_task_list", f"/users/{utl['owner']['gid']}/user_task_list",
                    {"workspace": utl["workspace"]["gid"]}))
    return out
