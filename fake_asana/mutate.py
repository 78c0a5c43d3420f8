"""Changes a test can make while the server runs, following Asana's `modified_at` rules
(asana-api.md 2.5): a new story bumps its task; a change to a subtask, or a new subtask,
does not bump the parent. Times are the wall clock (ms, Z), each strictly later than
the changed object's previous one. Which objects change is drawn from the seed and
the mutation's sequence number, so two servers with the same seed change the same ones.
Each change is also logged as an Asana event as it is applied (see events.py), so a
mutation scheduled with `after_requests` shows up in /events only once it happens."""
from __future__ import annotations

import random
import re
from typing import Any, Dict, List, Optional, Sequence

from .api import Restrictions
from .builder import Builder
from .events import EventLog
from .more_ops import OPS as MORE_OPS, MoreOps
from .store import Rel, Store
from .timefmt import fmt_datetime, parse_ms

Record = Dict[str, Any]
OPS = ("modify_tasks", "add_stories", "add_subtasks", "add_tasks", "add_to_project", "delete_tasks",
       "rename_tag", "archive_project", "add_project", "expire_sync_tokens") + MORE_OPS


class Mutator(MoreOps):
    def __init__(self, store: Store, restrictions: Restrictions, events: EventLog) -> None:
        self.store, self.limits, self.events = store, restrictions, events
        self._seq = 0

    def apply(self, op: str, **kwargs: Any) -> Dict[str, Any]:
        """Raises ValueError (unknown op, bad count) or TypeError (unknown argument)."""
        if op not in OPS:
            raise ValueError(f"unknown op {op!r}; one of {', '.join(OPS)}")
        count = kwargs.get("count", 1)
        if not isinstance(count, int) or count < 0:
            raise ValueError("count must be a non-negative integer")
        with self.store.lock:
            self._seq += 1
            rng = random.Random(f"mutate:{self.store.seed}:{self._seq}")
            result = getattr(self, op)(rng, Builder(self.store, rng), **kwargs)
        return {"op": op, **result}

    # --- what a sync can reach: tasks in readable projects and their subtasks ------------------------
    def _top_level(self) -> List[Record]:
        return [t for t in self.store.of_type("task") if not t["parent"] and t["projects"]
                and t["gid"] not in self.limits.vanished_tasks
                and any(p.gid not in self.limits.forbidden_projects for p in t["projects"])]

    def _below(self, roots: Sequence[Record]) -> List[Record]:
        out, frontier = [], [r["gid"] for r in roots]
        while frontier:
            children = self.store.related_records(Rel.TASK_SUBTASKS, frontier.pop())
            out.extend(children)
            frontier.extend(c["gid"] for c in children)
        return sorted(out, key=lambda t: t["gid"])

    def _pick(self, rng: random.Random, candidates: Sequence[Record], count: int,
              gids: Optional[Sequence[str]], resource_type: str) -> List[Record]:
        if gids is not None:
            missing = [g for g in gids if self.store.get(g, resource_type) is None]
            if missing:
                raise ValueError(f"not a {resource_type}: {', '.join(missing)}")
            return [self.store.records[g] for g in gids]
        return rng.sample(list(candidates), min(count, len(candidates)))

    # --- the ops --------------------------------------------------------------------------------------
    def modify_tasks(self, rng: random.Random, b: Builder, count: int = 1, subtasks: bool = False,
                     gids: Optional[Sequence[str]] = None, lose_events: bool = False) -> Dict[str, Any]:
        """Rename tasks. `lose_events` logs no event for the change: Asana delivers events
        at most once (asana-api.md 2.14), and a client must survive one never arriving."""
        top = self._top_level()
        chosen = self._pick(rng, self._below(top) if subtasks else top, count, gids, "task")
        for task in chosen:
            task["name"] = re.sub(r" \(edit \d+\)$", "", task["name"]) + f" (edit {self._seq})"
            at = self.store.stamp_ms(task["modified_at"])
            task["modified_at"] = fmt_datetime(at)
            if not lose_events:
                self.events.log(task, "changed", at, self.events.reach_of_task(task),
                                change=EventLog.changed("name", task["name"]))
        return {"gids": [t["gid"] for t in chosen],
                "tasks": [{"gid": t["gid"], "name": t["name"], "modified_at": t["modified_at"],
                           "parent": t["parent"].gid if t["parent"] else None} for t in chosen]}

    def add_stories(self, rng: random.Random, b: Builder, count: int = 1,
                    gids: Optional[Sequence[str]] = None) -> Dict[str, Any]:
        top = self._top_level()
        targets = self._pick(rng, top + self._below(top), count, gids, "task")
        stories = []
        for i in range(count if gids is None else len(targets)):
            task = targets[i % len(targets)] if targets else None
            if task is None:
                break
            at = self.store.stamp_ms(task["modified_at"])
            story = b.comment(task, at, author=self.store.me, text=f"Comment added by mutation {self._seq}.")
            task["modified_at"] = fmt_datetime(at)  # a new story bumps its task
            self.events.log(story, "added", at, self.events.reach_of_task(task), parent=task)
            stories.append({"gid": story["gid"], "task": task["gid"], "created_at": story["created_at"],
                            "task_modified_at": task["modified_at"]})
        return {"gids": [s["gid"] for s in stories], "task_gids": list(dict.fromkeys(s["task"] for s in stories)),
                "stories": stories}

    def add_subtasks(self, rng: random.Random, b: Builder, count: int = 1,
                     gids: Optional[Sequence[str]] = None) -> Dict[str, Any]:
        top = self._top_level()
        parents = self._pick(rng, top + self._below(top), count, gids, "task")
        created = []
        for parent in parents:
            at = self.store.stamp_ms()
            child = b.task(parent["workspace"].gid, at, at, parent=parent["gid"])  # parent not bumped
            self.events.log(child, "added", at, self.events.reach_of_task(child), parent=parent)
            created.append({"gid": child["gid"], "parent": parent["gid"], "modified_at": child["modified_at"],
                            "parent_num_subtasks": parent["num_subtasks"]})
        return {"gids": [c["gid"] for c in created], "tasks": created}

    def add_tasks(self, rng: random.Random, b: Builder, count: int = 1,
                  project: Optional[str] = None) -> Dict[str, Any]:
        if project is not None:
            projects = self._pick(rng, [], 1, [project], "project")
        else:
            projects = [p for p in self.store.of_type("project")
                        if not p["archived"] and p["gid"] not in self.limits.forbidden_projects]
        created = []
        for _ in range(count if projects else 0):
            home = rng.choice(projects)
            at = self.store.stamp_ms()
            task = b.task(home["workspace"].gid, at, at)
            b.home(task, home["gid"])
            self.events.log(task, "added", at, self.events.reach_of_task(task), parent=home)
            created.append({"gid": task["gid"], "project": home["gid"], "modified_at": task["modified_at"]})
        return {"gids": [c["gid"] for c in created], "tasks": created}

    def add_to_project(self, rng: random.Random, b: Builder, count: int = 1, project: Optional[str] = None,
                       gids: Optional[Sequence[str]] = None) -> Dict[str, Any]:
        """Add existing top-level tasks to one more project of their workspace (`project`, or
        one drawn per task). Asana's `modified_at` does not move when a task changes
        container (asana-api.md 2.5). The task's and the new project's event streams get the
        task `added`; the task's other projects are not told (whether Asana tells them is not
        documented: the fake takes the case harder on a client)."""
        chosen = self._pick(rng, self._top_level(), count, gids, "task")
        added = []
        for task in chosen:
            homes = {p.gid for p in task["projects"]}
            if project is not None:
                targets = self._pick(rng, [], 1, [project], "project")
            else:
                targets = [p for p in self.store.related_records(Rel.WORKSPACE_PROJECTS, task["workspace"].gid)
                           if not p["archived"] and p["gid"] not in homes
                           and p["gid"] not in self.limits.forbidden_projects]
            if not targets or targets[0]["gid"] in homes:
                continue
            home = rng.choice(targets)
            b.home(task, home["gid"])
            self.events.log(task, "added", self.store.stamp_ms(), {task["gid"], home["gid"]}, parent=home)
            added.append({"gid": task["gid"], "project": home["gid"], "modified_at": task["modified_at"]})
        return {"gids": [a["gid"] for a in added], "tasks": added}

    def delete_tasks(self, rng: random.Random, b: Builder, count: int = 1, subtasks: bool = False,
                     gids: Optional[Sequence[str]] = None) -> Dict[str, Any]:
        top = self._top_level()
        roots = self._pick(rng, self._below(top) if subtasks else top, count, gids, "task")
        deleted: List[str] = []
        for root in roots:
            if root["gid"] not in self.store.records:
                continue  # already gone with an ancestor picked earlier
            doomed = [root] + self._below([root])
            reaches = [self.events.reach_of_task(t) for t in doomed]  # while the ancestors still exist
            at = self.store.stamp_ms()
            if root["parent"] and root["parent"].gid in self.store.records:
                self.store.unlink(Rel.TASK_SUBTASKS, root["parent"].gid, root["gid"])
                self.store.records[root["parent"].gid]["num_subtasks"] -= 1
            for task, reach in zip(doomed, reaches):
                self.events.log(task, "deleted", at, reach)
                self._erase(task)
                deleted.append(task["gid"])
        return {"gids": deleted, "roots": [r["gid"] for r in roots]}

    def _erase(self, task: Record) -> None:
        store = self.store
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

    def rename_tag(self, rng: random.Random, b: Builder, count: int = 1,
                   gids: Optional[Sequence[str]] = None) -> Dict[str, Any]:
        tags = self._pick(rng, self.store.of_type("tag"), count, gids, "tag")
        for tag in tags:  # tags have no modified_at, and created_at never changes
            tag["name"] = re.sub(r" \(renamed \d+\)$", "", tag["name"]) + f" (renamed {self._seq})"
        return {"gids": [t["gid"] for t in tags], "names": [t["name"] for t in tags]}

    def archive_project(self, rng: random.Random, b: Builder, count: int = 1,
                        gids: Optional[Sequence[str]] = None) -> Dict[str, Any]:
        live = [p for p in self.store.of_type("project") if not p["archived"]]
        projects = self._pick(rng, live, count, gids, "project")
        for project in projects:
            project["archived"] = True
            project["modified_at"] = self.store.stamp(project["modified_at"])
            self.events.log(project, "changed", parse_ms(project["modified_at"]), {project["gid"]},
                            change=EventLog.changed("archived", True))
        return {"gids": [p["gid"] for p in projects],
                "modified_at": {p["gid"]: p["modified_at"] for p in projects}}

    def add_project(self, rng: random.Random, b: Builder, workspace: Optional[str] = None,
                    sections: int = 1, tasks: int = 0) -> Dict[str, Any]:
        spaces = [w for w in self.store.of_type("workspace") if w["is_organization"]] or self.store.of_type("workspace")
        space = self._pick(rng, [], 1, [workspace], "workspace")[0] if workspace else spaces[0]
        teams = self.store.related(Rel.WORKSPACE_TEAMS, space["gid"])
        fields = self.store.related(Rel.WORKSPACE_CUSTOM_FIELDS, space["gid"])
        at = self.store.stamp_ms()
        project = b.project(space["gid"], rng.choice(teams) if teams else None, at, at,
                            rng.sample(fields, min(2, len(fields))), sections,
                            name=f"New project {self._seq}")
        self.events.log(project, "added", at, {project["gid"]}, parent=space)
        task_gids = []
        for _ in range(tasks):
            task = b.task(space["gid"], at, at)
            b.home(task, project["gid"])
            self.events.log(task, "added", at, self.events.reach_of_task(task), parent=project)
            task_gids.append(task["gid"])
        return {"gids": [project["gid"]], "modified_at": project["modified_at"], "task_gids": task_gids}

    def expire_sync_tokens(self, rng: random.Random, b: Builder,
                           gids: Optional[Sequence[str]] = None) -> Dict[str, Any]:
        """Every /events sync token issued so far (for the resources `gids`, if given) answers
        412 from now on: the "may expire sooner, depending on load" of asana-api.md 2.14, on cue."""
        return {"gids": list(gids or []), "epoch": self.events.expire_tokens(gids)}
