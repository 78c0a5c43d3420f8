"""The task factory, and how a task joins a project (Asana's `memberships`)."""
from __future__ import annotations

from typing import Any, Dict, Optional

from ...factory import Maker, ref
from ...store import Record, Ref, Rel
from ...timefmt import DAY_MS, HOUR_MS, fmt_date, fmt_datetime
from ...vocab import NOTES, TASK_OBJECTS, TASK_VERBS
from ..custom_fields import value

SUBTYPES = (("default_task", 0.85), ("milestone", 0.08), ("approval", 0.07))
OPEN_APPROVAL_STATUSES = ("pending", "rejected", "changes_requested")  # a completed approval is "approved"
#: `new_task(assignee=NOBODY)`: unassigned for sure (None lets the task draw an assignee).
NOBODY = ""


def new_task(make: Maker, workspace: str, created: int, modified: int, parent: Optional[str] = None,
             assignee: Optional[str] = None, name: Optional[str] = None) -> Record:
    """A task homed nowhere yet (see `home`); links it to its workspace and parent.
    `assignee` None draws one (or none); NOBODY leaves the task unassigned."""
    rng, store = make.rng, make.store
    gid = store.new_gid()
    users = make.members(workspace)
    subtype = make.weighted(SUBTYPES)
    if assignee is None and rng.random() < 0.75:
        assignee = rng.choice(users)
    completed = rng.random() < 0.4
    completed_at = rng.randint(created, modified) if completed else None
    creator = rng.choice(users)
    separator = subtype == "default_task" and rng.random() < 0.03
    title = name or f"{rng.choice(TASK_VERBS)} {rng.choice(TASK_OBJECTS)}"
    notes = rng.choice(NOTES)
    record: Record = {"gid": gid, "resource_type": "task", "name": title + (":" if separator else ""),
                      "resource_subtype": subtype}
    if subtype == "approval":
        record["approval_status"] = "approved" if completed else rng.choice(OPEN_APPROVAL_STATUSES)
    record.update({
        "assignee": ref(assignee),
        "assignee_section": ref(_my_tasks_section(make, assignee, workspace)),
        "assignee_status": rng.choice(("today", "upcoming", "later", "inbox")) if assignee else None,
        "assigned_by": ref(rng.choice(users)) if assignee else None,
        "completed": completed,
        "completed_at": fmt_datetime(completed_at) if completed_at else None,
        "completed_by": ref(rng.choice(users)) if completed else None,
        "created_at": fmt_datetime(created),
        "created_by": Ref(creator, "bare"),  # {gid, resource_type} only, as Asana documents it
        "modified_at": fmt_datetime(modified),
        "dependencies": [], "dependents": [],
        **_schedule(make, created),
        "external": ({"gid": f"ext-{gid[-6:]}", "data": f'{{"ticket": "OPS-{gid[-4:]}"}}'}
                     if rng.random() < 0.05 else None),
        "notes": notes, "html_notes": make.html_of(notes),
        "followers": [Ref(u) for u in dict.fromkeys(
            [creator] + ([assignee] if assignee else []) + rng.sample(users, min(len(users), rng.randint(0, 2))))],
        **make.likes(workspace),
        "is_rendered_as_separator": separator,
        "memberships": [], "projects": [], "tags": [],
        "num_subtasks": 0,
        "parent": ref(parent),
        "permalink_url": f"https://app.asana.com/0/0/{gid}",
        "custom_fields": [],
        "custom_type": None, "custom_type_status_option": None,  # a `custom` task's (see custom_types.py)
        "actual_time_minutes": None,
        "workspace": Ref(workspace),
    })
    store.add(_conditional_left_out(record))
    store.link(Rel.WORKSPACE_TASKS, workspace, gid)
    if parent:
        store.link(Rel.TASK_SUBTASKS, parent, gid)
        store.records[parent]["num_subtasks"] += 1
    return record


def _conditional_left_out(record: Record) -> Record:
    """Conditional fields that may not be null are left out where the task has none: an
    unassigned task has no `assignee_status`, most tasks no `external`."""
    for key in ("assignee_status", "external"):
        if record[key] is None:
            del record[key]
    return record


def _schedule(make: Maker, created: int) -> Dict[str, Any]:
    """Due and start dates: 15% with times, 45% dates only, the rest none."""
    rng = make.rng
    out: Dict[str, Any] = {"due_at": None, "due_on": None, "start_at": None, "start_on": None}
    roll = rng.random()
    if roll < 0.15:
        due = created + rng.randint(1, 60) * DAY_MS
        due -= due % 900_000  # on a quarter hour, as the web app sets times
        out.update(due_at=fmt_datetime(due), due_on=fmt_date(due))
        if rng.random() < 0.3:
            out["start_at"] = fmt_datetime(due - rng.randint(1, 8) * HOUR_MS)
    elif roll < 0.6:
        due = created + rng.randint(1, 60) * DAY_MS
        out["due_on"] = fmt_date(due)
        if rng.random() < 0.35:
            out["start_on"] = fmt_date(due - rng.randint(1, 10) * DAY_MS)
    return out


def _my_tasks_section(make: Maker, user: Optional[str], workspace: str) -> Optional[str]:
    if not user:
        return None
    utl = make.store.user_task_lists.get((user, workspace))
    sections = make.store.related(Rel.PROJECT_SECTIONS, utl) if utl else []
    return make.rng.choice(sections) if sections else None


def home(make: Maker, task: Record, project: str, section: Optional[str] = None) -> None:
    """Add a task to a project (and a section of it, drawn if not given)."""
    store = make.store
    if section is None:
        sections = store.related(Rel.PROJECT_SECTIONS, project)
        section = make.rng.choice(sections) if sections else None
    task["projects"].append(Ref(project))
    task["memberships"].append({"project": Ref(project), "section": ref(section)})
    if len(task["projects"]) == 1:
        task["permalink_url"] = f"https://app.asana.com/0/{project}/{task['gid']}"
    store.link(Rel.PROJECT_TASKS, project, task["gid"])
    if section:
        store.link(Rel.SECTION_TASKS, section, task["gid"])
    refresh_custom_fields(make, task)


def refresh_custom_fields(make: Maker, task: Record) -> None:
    """A task carries a value for each field set on any of its projects; values it
    already has are kept."""
    have = {v["gid"]: v for v in task["custom_fields"]}
    values = []
    for project in task["projects"]:
        for setting in make.store.related_records(Rel.PROJECT_SETTINGS, project.gid):
            field_gid = setting["custom_field"].gid
            if field_gid not in have:
                have[field_gid] = value(make, field_gid)
            if all(v["gid"] != field_gid for v in values):
                values.append(have[field_gid])
    task["custom_fields"] = values
