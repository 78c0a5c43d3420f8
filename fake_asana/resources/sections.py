"""Sections of projects (and the private sections of My Tasks lists, which are not served
or exported as a project's). Sections have no `modified_at` on Asana: only their events
tell a client that one changed."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence

from ..factory import Maker
from ..mutate import Change
from ..routing import Route
from ..serving import Children, One, Serving
from ..store import Record, Ref, Rel
from ..timefmt import fmt_datetime


# --- made --------------------------------------------------------------------------------------------
def new_section(make: Maker, parent: str, name: str, created: int, private: bool = False) -> Record:
    """A section at the end of a project (or, `private`, of a My Tasks list)."""
    record = {"gid": make.store.new_gid(), "resource_type": "section", "name": name,
              "created_at": fmt_datetime(created), "project": Ref(parent), "projects": [Ref(parent)]}
    if private:
        record["_my_tasks"] = True
    make.store.add(record)
    make.store.link(Rel.PROJECT_SECTIONS, parent, record["gid"])
    return record


# --- served ------------------------------------------------------------------------------------------
ROUTES = (
    Route("/projects/{gid}/sections", Children("project", Rel.PROJECT_SECTIONS, access=Serving.project_readable)),
    Route("/sections/{gid}", One("section")),
)


# --- changed -----------------------------------------------------------------------------------------
def _project_sections(change: Change) -> List[Record]:
    live = {p["gid"] for p in change.live_projects()}
    return [s for s in change.store.of_type("section") if not s.get("_my_tasks") and s["project"].gid in live]


def _section(change: Change, gid: str) -> Record:
    section = change.store.get(gid, "section")
    if section is None or section.get("_my_tasks"):
        raise ValueError(f"not a project section: {gid}")
    return section


def add_section(change: Change, count: int = 1, project: Optional[str] = None,
                name: Optional[str] = None) -> Dict[str, Any]:
    """New sections at the end of `project` (or of one drawn live project), each `added`
    (parent: the project) in the project's stream."""
    home = change.pick(change.live_projects(), 1, [project] if project else None, "project")
    if not home:
        return {"gids": [], "project": None}
    home = home[0]
    created = []
    for i in range(count):
        at = change.store.stamp_ms()
        title = name or f"New section {change.seq}" + (f".{i + 1}" if count > 1 else "")
        section = new_section(change.make, home["gid"], title, at)
        change.events.log(section, "added", at, {home["gid"]}, parent=home)
        created.append(section["gid"])
    return {"gids": created, "project": home["gid"]}


def rename_section(change: Change, count: int = 1, gids: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """Rename project sections: a section `changed` (field `name`) in its project's stream."""
    if gids is not None:
        sections = [_section(change, g) for g in gids]
    else:
        sections = change.pick(_project_sections(change), count, None, "section")
    for section in sections:
        section["name"] = re.sub(r" \(renamed \d+\)$", "", section["name"]) + f" (renamed {change.seq})"
        project = change.store.records[section["project"].gid]
        change.events.log(section, "changed", change.store.stamp_ms(), {project["gid"]},
                          change=change.events.changed("name", section["name"]))
    return {"gids": [s["gid"] for s in sections], "names": [s["name"] for s in sections]}


def delete_section(change: Change, count: int = 1, gids: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """Delete project sections: a section `deleted` in the project's stream. The last
    section of a project is kept (skipped), as Asana refuses to delete it. Its tasks move
    to the project's first remaining section (Asana's API wants a section empty first;
    the app moves the tasks, so the fake does): each moved task is `added` (parent: the
    new section) in its own and the project's streams, its `modified_at` unchanged."""
    store = change.store
    if gids is not None:
        sections = [_section(change, g) for g in gids]
    else:
        sections = change.pick([s for s in _project_sections(change)
                                if len(store.related(Rel.PROJECT_SECTIONS, s["project"].gid)) > 1],
                               count, None, "section")
    deleted: List[str] = []
    moved: List[Dict[str, Any]] = []
    for section in sections:
        project = store.records[section["project"].gid]
        remaining = [g for g in store.related(Rel.PROJECT_SECTIONS, project["gid"]) if g != section["gid"]]
        if not remaining or section["gid"] not in store.records:
            continue
        target = store.records[remaining[0]]
        change.events.log(section, "deleted", store.stamp_ms(), {project["gid"]})
        moved.extend(_move_tasks(change, section, target, project))
        store.unlink(Rel.PROJECT_SECTIONS, project["gid"], section["gid"])
        store.remove(section["gid"])
        deleted.append(section["gid"])
    return {"gids": deleted, "moved": moved}


def _move_tasks(change: Change, section: Record, target: Record, project: Record) -> List[Dict[str, Any]]:
    store, moved = change.store, []
    for task in store.related_records(Rel.SECTION_TASKS, section["gid"]):
        for membership in task["memberships"]:
            if membership["project"].gid == project["gid"]:
                membership["section"] = Ref(target["gid"])
        store.unlink(Rel.SECTION_TASKS, section["gid"], task["gid"])
        store.link(Rel.SECTION_TASKS, target["gid"], task["gid"])
        change.events.log(task, "added", store.stamp_ms(), {task["gid"], project["gid"]}, parent=target)
        moved.append({"gid": task["gid"], "section": target["gid"], "modified_at": task["modified_at"]})
    return moved
