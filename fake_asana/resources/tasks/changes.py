"""The mutation ops on tasks. Asana's `modified_at` rules: a field change and a new story
bump the task; a new subtask does not bump its parent; joining or leaving a project does
not bump the task."""
from __future__ import annotations

import re
from typing import Any, Dict, FrozenSet, List, Optional, Sequence

from ...events import EventLog
from ...mutate import Change
from ...store import Record, Ref, Rel
from ...timefmt import fmt_datetime
from ..custom_fields import UNSET, value_change, with_value
from .records import NOBODY, home, new_task, refresh_custom_fields
from .stories import new_story, story_added


def _field_change_reach(change: Change, task: Record) -> FrozenSet[str]:
    """Whose streams a field change of `task` reaches. With `bubble_subtask_changes` off, a
    subtask's change stays in its own stream (and those of projects it is itself in): Asana
    documents bubbling for stories, not for a subtask's fields."""
    if task["parent"] and not change.options.bubble_subtask_changes:
        return frozenset({task["gid"], *(p.gid for p in task["projects"])})
    return change.events.reach_of_task(task)


def modify_tasks(change: Change, count: int = 1, subtasks: bool = False, gids: Optional[Sequence[str]] = None,
                 lose_events: bool = False, orphans: bool = False) -> Dict[str, Any]:
    """Rename tasks (drawn from tasks in projects, or with `orphans` from tasks in no
    project; `subtasks`: from the subtasks below those). `lose_events` logs no event for
    the change: Asana delivers events at most once (`getEvents`), and a client must survive
    one never arriving. The event's reach follows `bubble_subtask_changes`."""
    top = change.roots(orphans)
    chosen = change.pick(change.below(top) if subtasks else top, count, gids, "task")
    for task in chosen:
        task["name"] = re.sub(r" \(edit \d+\)$", "", task["name"]) + f" (edit {change.seq})"
        at = change.store.stamp_ms(task["modified_at"])
        task["modified_at"] = fmt_datetime(at)
        if not lose_events:
            change.events.log(task, "changed", at, _field_change_reach(change, task),
                              change=EventLog.changed("name", task["name"]))
    return {"gids": [t["gid"] for t in chosen],
            "tasks": [{"gid": t["gid"], "name": t["name"], "modified_at": t["modified_at"],
                       "parent": t["parent"].gid if t["parent"] else None} for t in chosen]}


def add_subtasks(change: Change, count: int = 1, gids: Optional[Sequence[str]] = None,
                 orphans: bool = False) -> Dict[str, Any]:
    """A new subtask is `added` (parent: its parent task) in its own, its ancestors' and
    their projects' streams, whatever `bubble_subtask_changes` says."""
    top = change.roots(orphans)
    parents = change.pick(top + change.below(top), count, gids, "task")
    created = []
    for parent in parents:
        at = change.store.stamp_ms()
        child = new_task(change.make, parent["workspace"].gid, at, at, parent=parent["gid"])  # parent not bumped
        change.events.log(child, "added", at, change.events.reach_of_task(child), parent=parent)
        created.append({"gid": child["gid"], "parent": parent["gid"], "modified_at": child["modified_at"],
                        "parent_num_subtasks": parent["num_subtasks"]})
    return {"gids": [c["gid"] for c in created], "tasks": created}


def add_tasks(change: Change, count: int = 1, project: Optional[str] = None) -> Dict[str, Any]:
    """New tasks in `project`, or each in a live project drawn."""
    projects = change.pick([], 1, [project], "project") if project is not None else change.live_projects()
    created = []
    for _ in range(count if projects else 0):
        target = change.rng.choice(projects)
        at = change.store.stamp_ms()
        task = new_task(change.make, target["workspace"].gid, at, at)
        home(change.make, task, target["gid"])
        change.events.log(task, "added", at, change.events.reach_of_task(task), parent=target)
        created.append({"gid": task["gid"], "project": target["gid"], "modified_at": task["modified_at"]})
    return {"gids": [c["gid"] for c in created], "tasks": created}


def add_to_project(change: Change, count: int = 1, project: Optional[str] = None,
                   gids: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """Add existing top-level tasks to one more project of their workspace (`project`, or
    one drawn per task); `modified_at` does not move. The task's and the new project's
    event streams get the task `added`; the task's other projects are not told (whether
    Asana tells them is not documented: the fake takes the case harder on a client)."""
    chosen = change.pick(change.top_level(), count, gids, "task")
    added = []
    for task in chosen:
        homes = {p.gid for p in task["projects"]}
        if project is not None:
            targets = change.pick([], 1, [project], "project")
        else:
            targets = [p for p in change.store.related_records(Rel.WORKSPACE_PROJECTS, task["workspace"].gid)
                       if not p["archived"] and p["gid"] not in homes
                       and p["gid"] not in change.limits.forbidden_projects]
        if not targets or targets[0]["gid"] in homes:
            continue
        target = change.rng.choice(targets)
        home(change.make, task, target["gid"])
        change.events.log(task, "added", change.store.stamp_ms(), {task["gid"], target["gid"]}, parent=target)
        added.append({"gid": task["gid"], "project": target["gid"], "modified_at": task["modified_at"]})
    return {"gids": [a["gid"] for a in added], "tasks": added}


def remove_from_project(change: Change, count: int = 1, project: Optional[str] = None,
                        gids: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """Take tasks out of one of their projects (`project`, or one drawn per task): the
    project's task list, the task's `projects` and `memberships`, the section's tasks and
    the task's custom fields that came only from that project all follow; `modified_at`
    does not move. A task may leave its last project: it becomes a task in no project,
    reachable through its assignee. A `removed` event (parent: the project) goes to the
    task's and that project's streams. A task not in `project` is skipped."""
    if project is not None:
        change.pick([], 1, [project], "project")
        candidates = [t for t in change.store.related_records(Rel.PROJECT_TASKS, project)
                      if t["gid"] not in change.limits.vanished_tasks]
    else:
        candidates = change.top_level()
    removed = []
    for task in change.pick(candidates, count, gids, "task"):
        homes = [p.gid for p in task["projects"]]
        if project is not None:
            leaving = project
        else:
            readable = [h for h in homes if h not in change.limits.forbidden_projects] or homes
            leaving = change.rng.choice(readable) if readable else None
        if leaving is None or leaving not in homes:
            continue
        _leave(change, task, leaving)
        removed.append({"gid": task["gid"], "project": leaving, "modified_at": task["modified_at"],
                        "projects": [p.gid for p in task["projects"]]})
    return {"gids": [r["gid"] for r in removed], "tasks": removed}


def _leave(change: Change, task: Record, project: str) -> None:
    store = change.store
    task["projects"] = [p for p in task["projects"] if p.gid != project]
    for membership in [m for m in task["memberships"] if m["project"].gid == project]:
        if membership["section"]:
            store.unlink(Rel.SECTION_TASKS, membership["section"].gid, task["gid"])
        task["memberships"].remove(membership)
    store.unlink(Rel.PROJECT_TASKS, project, task["gid"])
    refresh_custom_fields(change.make, task)
    change.events.log(task, "removed", store.stamp_ms(), {task["gid"], project}, parent=store.records[project])


def delete_tasks(change: Change, count: int = 1, subtasks: bool = False, gids: Optional[Sequence[str]] = None,
                 orphans: bool = False) -> Dict[str, Any]:
    """Delete tasks and everything below them. Each one gets a `deleted` event (no parent:
    Asana sets an event's parent for added and removed only) in its own, its ancestors'
    and their projects' streams, reckoned before anything is erased; a task in no project
    (and not below one) reaches no project. Afterwards the task, and its event stream,
    answer 404. `meta.deleted` in the export keeps each gid with its event's time."""
    store = change.store
    top = change.roots(orphans)
    roots = change.pick(change.below(top) if subtasks else top, count, gids, "task")
    deleted: List[str] = []
    for root in roots:
        if root["gid"] not in store.records:
            continue  # already gone with an ancestor picked earlier
        doomed = [root] + change.below([root])
        reaches = [change.events.reach_of_task(t) for t in doomed]  # while the ancestors still exist
        at = store.stamp_ms()
        if root["parent"] and root["parent"].gid in store.records:
            store.unlink(Rel.TASK_SUBTASKS, root["parent"].gid, root["gid"])
            store.records[root["parent"].gid]["num_subtasks"] -= 1
        for task, reach in zip(doomed, reaches):
            event = change.events.log(task, "deleted", at, reach)
            _erase(change, task)
            store.deleted[task["gid"]] = event["created_at"]
            deleted.append(task["gid"])
    return {"gids": deleted, "roots": [r["gid"] for r in roots]}


def _erase(change: Change, task: Record) -> None:
    store = change.store
    for story in store.related(Rel.TASK_STORIES, task["gid"]):
        store.remove(story)
    for membership in task["memberships"]:
        store.unlink(Rel.PROJECT_TASKS, membership["project"].gid, task["gid"])
        if membership["section"]:
            store.unlink(Rel.SECTION_TASKS, membership["section"].gid, task["gid"])
    for tag in task["tags"]:
        store.unlink(Rel.TAG_TASKS, tag.gid, task["gid"])
    store.unlink(Rel.WORKSPACE_TASKS, task["workspace"].gid, task["gid"])
    store.remove(task["gid"])


def add_orphan_tasks(change: Change, count: int = 1, workspace: Optional[str] = None,
                     assignee: Optional[str] = "me") -> Dict[str, Any]:
    """New tasks in no project of `workspace` (default: the organization), assigned to
    `assignee` (a user gid or "me"; null: nobody, a task no listing but search reaches).
    Each is `added` (parent: the workspace) in its own stream only."""
    space = change.workspace(workspace)
    if assignee is None:
        who = NOBODY
    else:
        who = change.store.me if assignee == "me" else change.pick([], 1, [assignee], "user")[0]["gid"]
        if who not in change.store.related(Rel.WORKSPACE_USERS, space["gid"]):
            raise ValueError(f"user {who} is not in workspace {space['gid']}")
    created = []
    for _ in range(count):
        at = change.store.stamp_ms()
        task = new_task(change.make, space["gid"], at, at, assignee=who)
        change.events.log(task, "added", at, {task["gid"]}, parent=space)
        created.append({"gid": task["gid"], "assignee": who or None, "modified_at": task["modified_at"]})
    return {"gids": [c["gid"] for c in created], "tasks": created}


def set_custom_field_value(change: Change, gids: Optional[Sequence[str]] = None, field: Optional[str] = None,
                           value: Any = UNSET) -> Dict[str, Any]:
    """Set a task's value of one of its custom fields (`field`: gid or name; default one
    drawn). `value` as the API takes it (see `custom_fields.with_value`); absent: a new value
    drawn. A custom field change bumps `modified_at` and adds a `<type>_custom_field_changed`
    story; the task's stream gets `changed`."""
    candidates = [t for t in change.reachable_tasks() if t["custom_fields"]]
    out = []
    for task in change.pick(candidates, 1, gids, "task"):
        values = task["custom_fields"]
        if field is None:
            index = change.rng.randrange(len(values)) if values else -1
        else:
            index = next((i for i, v in enumerate(values) if field in (v["gid"], v["name"])), -1)
        if index < 0:
            raise ValueError(f"task {task['gid']} has no custom field {field!r}")
        old = values[index]
        new = with_value(change.make, old, value)
        values[index] = new
        at = change.store.stamp_ms(task["modified_at"])
        kind = new["resource_subtype"]
        story = new_story(change.make, task, at, change.store.me, f"{kind}_custom_field_changed",
                          f"changed {new['name']}", {"custom_field": Ref(new["gid"]), **value_change(kind, old, new)})
        story_added(change, task, story, at)
        shown = {"gid": new["gid"], "resource_type": "custom_field", "display_value": new["display_value"]}
        change.events.log(task, "changed", at, change.events.reach_of_task(task),
                          change=EventLog.changed("custom_fields", shown))
        out.append({"task": task["gid"], "field": new["gid"], "display_value": new["display_value"],
                    "task_modified_at": task["modified_at"], "story": story["gid"]})
    return {"gids": [o["task"] for o in out], "values": out}
