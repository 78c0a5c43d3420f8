"""Turning stored records into Asana's JSON: compact records for collections, full
records (minus opt-in fields) for single GETs, and `opt_fields` projections."""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

from .store import Ref, Store

#: A parsed opt_fields: field name -> sub-tree (empty: the field as a leaf).
FieldTree = Dict[str, "FieldTree"]

#: Compact shapes: the fields of the `*Compact` schemas of Asana's OpenAPI description.
COMPACT: Dict[str, tuple] = {
    "task": ("gid", "resource_type", "name", "resource_subtype"),
    "story": ("gid", "resource_type", "created_at", "created_by", "resource_subtype", "text"),
    "custom_field": ("gid", "resource_type", "name", "resource_subtype", "type"),
    "custom_field_setting": ("gid", "resource_type"),
    "user_task_list": ("gid", "resource_type", "name", "owner", "workspace"),
    "attachment": ("gid", "resource_type", "name", "resource_subtype"),
    "membership": ("gid", "resource_type", "resource_subtype", "parent", "member", "access_level"),
    "team_membership": ("gid", "resource_type", "user", "team", "is_guest", "is_limited_access", "is_admin"),
    "portfolio_membership": ("gid", "resource_type", "portfolio", "user"),
    "status_update": ("gid", "resource_type", "title", "resource_subtype"),
    "goal": ("gid", "resource_type", "name", "owner"),
    "time_tracking_entry": ("gid", "resource_type", "duration_minutes", "entered_on", "attributable_to",
                            "created_by", "categories"),
    "time_period": ("gid", "resource_type", "display_name", "period", "start_on", "end_on"),
}
DEFAULT_COMPACT = ("gid", "resource_type", "name")

#: Fields a full record leaves out unless asked for by name (marked "[Opt In]" in Asana's
#: OpenAPI description; see https://developers.asana.com/docs/inputoutput-options).
OPT_IN: Dict[str, frozenset] = {
    "task": frozenset({"created_by", "dependencies", "dependents", "external", "html_notes",
                       "is_rendered_as_separator", "num_subtasks"}),
    "project": frozenset({"html_notes", "project_brief", "created_from_template"}),
    "story": frozenset({"html_text"}),
    "team": frozenset({"description", "html_description"}),
    "portfolio": frozenset({"archived"}),
    "custom_field": frozenset({"description"}),
}


def parse_opt_fields(raw: Optional[str]) -> Optional[FieldTree]:
    """`assignee.name,memberships.section.name` -> {"assignee": {"name": {}}, ...}.
    Asana's `this.` prefix is dropped; empty pieces are ignored."""
    if raw is None:
        return None
    tree: FieldTree = {}
    for path in raw.split(","):
        path = path.strip()
        if path.startswith("this."):
            path = path[5:]
        node = tree
        for part in (p for p in path.split(".") if p):
            node = node.setdefault(part, {})
    return tree


class Renderer:
    def __init__(self, store: Store) -> None:
        self.store = store

    def gone(self, value: Any) -> bool:
        """A reference to something deleted since: the field is left out, as a list leaves it out."""
        return isinstance(value, Ref) and value.gid not in self.store.records

    def compact(self, record: Dict[str, Any]) -> Dict[str, Any]:
        keys = COMPACT.get(record["resource_type"], DEFAULT_COMPACT)
        return {k: self._value(record[k], None, False) for k in keys if k in record and not self.gone(record[k])}

    def full(self, record: Dict[str, Any], opt_in: bool = False) -> Dict[str, Any]:
        skip = () if opt_in else OPT_IN.get(record.get("resource_type", ""), ())
        return {k: self._value(v, None, opt_in) for k, v in record.items()
                if k[0] != "_" and k not in skip and not self.gone(v)}

    def project(self, record: Dict[str, Any], tree: FieldTree) -> Dict[str, Any]:
        """Exactly the requested fields, plus `gid` (Asana always returns it)."""
        out: Dict[str, Any] = {"gid": record["gid"]} if "gid" in record else {}
        for name, sub in tree.items():
            if name in record and name[0] != "_" and not self.gone(record[name]):
                out[name] = self._value(record[name], sub, False)
        return out

    def one(self, record: Dict[str, Any], tree: Optional[FieldTree]) -> Dict[str, Any]:
        return self.full(record) if tree is None else self.project(record, tree)

    def many(self, records: Iterable[Dict[str, Any]], tree: Optional[FieldTree]) -> List[Dict[str, Any]]:
        if tree is None:
            return [self.compact(r) for r in records]
        return [self.project(r, tree) for r in records]

    def _value(self, value: Any, tree: Optional[FieldTree], opt_in: bool) -> Any:
        if isinstance(value, Ref):
            return self._ref(value, tree, opt_in)
        if isinstance(value, list):
            out = [self._value(v, tree, opt_in) for v in value]
            # A reference to something deleted since disappears from a list.
            return [v for v in out if v is not None]
        if isinstance(value, dict):
            if tree:
                return self.project(value, tree)
            return {k: self._value(v, None, opt_in) for k, v in value.items() if k[0] != "_" and not self.gone(v)}
        return value

    def _ref(self, ref: Ref, tree: Optional[FieldTree], opt_in: bool) -> Optional[Dict[str, Any]]:
        target = self.store.records.get(ref.gid)
        if target is None:
            return None
        if tree:
            # Dotted paths resolve the referenced resource's full record (`assignee.email`).
            return self.project(target, tree)
        if ref.embed == "bare":
            return {"gid": target["gid"], "resource_type": target["resource_type"]}
        if ref.embed == "full" and tree is None:
            return self.full(target, opt_in)
        return self.compact(target)
