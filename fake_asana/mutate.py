"""Changes a test can make while the server runs, following Asana's `modified_at` rules
(asana-api.md 2.5): a new story bumps its task; a change to a subtask, or a new subtask,
does not bump the parent; moving a task between containers (projects, sections) does not
bump it. Times come from the fake's clock (ms, Z; `advance_clock` moves it), each strictly
later than the changed object's previous one. Which objects change is drawn from the seed
and the mutation's sequence number, so two servers with the same seed change the same
ones. Each change is also logged as an Asana event as it is applied (see events.py), so a
mutation scheduled with `after_requests` shows up in /events only once it happens."""
from __future__ import annotations

import random
import re
from typing import Any, Dict, List, Optional, Sequence

from .builder import NOBODY, Builder
from .events import EventLog
from .more_ops import OPS as MORE_OPS, MoreOps
from .options import Options
from .restrictions import Restrictions
from .store import Ref, Rel, Store
from .timefmt import fmt_datetime, parse_ms

Record = Dict[str, Any]
OPS = ("modify_tasks", "add_stories", "add_subtasks", "add_tasks", "add_to_project", "remove_from_project",
       "delete_tasks", "add_orphan_tasks", "add_section", "rename_section", "delete_section", "rename_tag",
       "archive_project", "add_project", "expire_sync_tokens", "advance_clock") + MORE_OPS


class Mutator(MoreOps):
    def __init__(self, store: Store, restrictions: Restrictions, events: EventLog,
                 options: Optional[Options] = None) -> None:
        self.store, self.limits, self.events = store, restrictions, events
        self.options = options or Options()
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

    def _orphans(self) -> List[Record]:
        """Top-level tasks in no project: reachable only through their assignee (or search)."""
        return [t for t in self.store.of_type("task") if not t["parent"] and not t["projects"]]

    def _roots(self, orphans: bool) -> List[Record]:
        return self._orphans() if orphans else self._top_level()

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

    def _live_projects(self, workspace: Optional[str] = None) -> List[Record]:
        return [p for p in self.store.of_type("project") if not p["archived"]
                and p["gid"] not in self.limits.forbidden_projects
                and (workspace is None or p["workspace"].gid == workspace)]

    def _project_sections(self) -> List[Record]:
        live = {p["gid"] for p in self._live_projects()}
        return [s for s in self.store.of_type("section") if not s.get("_my_tasks") and s["project"].gid in live]

    def _section(self, gid: str) -> Record:
        section = self.store.get(gid, "section")
        if section is None or section.get("_my_tasks"):
            raise ValueError(f"not a project section: {gid}")
        return section

    def _field_change_reach(self, task: Record) -> frozenset:
        """Whose streams a field change of `task` reaches. With `bubble_subtask_changes` off,
        a subtask's change stays in its own stream (and those of projects it is itself in):
        asana-api.md 2.14a, Asana documents bubbling for stories, not for subtask fields."""
        if task["parent"] and not self.options.bubble_subtask_changes:
            return frozenset({task["gid"], *(p.gid for p in task["projects"])})
        return self.events.reach_of_task(task)

    # --- the ops --------------------------------------------------------------------------------------
    def modify_tasks(self, rng: random.Random, b: Builder, count: int = 1, subtasks: bool = False,
                     gids: Optional[Sequence[str]] = None, lose_events: bool = False,
                     orphans: bool = False) -> Dict[str, Any]:
        """Rename tasks (drawn from tasks in projects, or with `orphans` from tasks in no
        project; `subtasks`: from the subtasks below those). `lose_events` logs no event for
        the change: Asana delivers events at most once (asana-api.md 2.14), and a client must
        survive one never arriving. The event's reach follows `bubble_subtask_changes`."""
        top = self._roots(orphans)
        chosen = self._pick(rng, self._below(top) if subtasks else top, count, gids, "task")
        for task in chosen:
            task["name"] = re.sub(r" \(edit \d+\)$", "", task["name"]) + f" (edit {self._seq})"
            at = self.store.stamp_ms(task["modified_at"])
            task["modified_at"] = fmt_datetime(at)
            if not lose_events:
                self.events.log(task, "changed", at, self._field_change_reach(task),
                                change=EventLog.changed("name", task["name"]))
        return {"gids": [t["gid"] for t in chosen],
                "tasks": [{"gid": t["gid"], "name": t["name"], "modified_at": t["modified_at"],
                           "parent": t["parent"].gid if t["parent"] else None} for t in chosen]}

    def add_stories(self, rng: random.Random, b: Builder, count: int = 1,
                    gids: Optional[Sequence[str]] = None, orphans: bool = False) -> Dict[str, Any]:
        """Comments on tasks or subtasks (with `orphans`: of tasks in no project). A story
        bubbles up to every ancestor and project whatever `bubble_subtask_changes` says:
        Asana documents that one."""
        top = self._roots(orphans)
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
                     gids: Optional[Sequence[str]] = None, orphans: bool = False) -> Dict[str, Any]:
        """A new subtask is `added` (parent: its parent task) in its own, its ancestors' and
        their projects' streams, whatever `bubble_subtask_changes` says."""
        top = self._roots(orphans)
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

    def remove_from_project(self, rng: random.Random, b: Builder, count: int = 1, project: Optional[str] = None,
                            gids: Optional[Sequence[str]] = None) -> Dict[str, Any]:
        """Take tasks out of one of their projects (`project`, or one drawn per task): the
        project's task list, the task's `projects` and `memberships`, the section's tasks and
        the task's custom fields that came only from that project all follow. Its
        `modified_at` does not move (asana-api.md 2.5). A task may leave its last project:
        it becomes a task in no project, reachable through its assignee. A `removed` event
        (parent: the project) goes to the task's and that project's streams. A task not in
        `project` is skipped."""
        if project is not None:
            self._pick(rng, [], 1, [project], "project")
            candidates = [t for t in self.store.related_records(Rel.PROJECT_TASKS, project)
                          if t["gid"] not in self.limits.vanished_tasks]
        else:
            candidates = self._top_level()
        chosen = self._pick(rng, candidates, count, gids, "task")
        removed = []
        for task in chosen:
            homes = [p.gid for p in task["projects"]]
            if project is not None:
                leaving = project
            else:
                readable = [h for h in homes if h not in self.limits.forbidden_projects] or homes
                leaving = rng.choice(readable) if readable else None
            if leaving is None or leaving not in homes:
                continue
            task["projects"] = [p for p in task["projects"] if p.gid != leaving]
            for membership in [m for m in task["memberships"] if m["project"].gid == leaving]:
                if membership["section"]:
                    self.store.unlink(Rel.SECTION_TASKS, membership["section"].gid, task["gid"])
                task["memberships"].remove(membership)
            self.store.unlink(Rel.PROJECT_TASKS, leaving, task["gid"])
            b.refresh_custom_fields(task)
            home = self.store.records[leaving]
            self.events.log(task, "removed", self.store.stamp_ms(), {task["gid"], leaving}, parent=home)
            removed.append({"gid": task["gid"], "project": leaving, "modified_at": task["modified_at"],
                            "projects": [p.gid for p in task["projects"]]})
        return {"gids": [r["gid"] for r in removed], "tasks": removed}

    def delete_tasks(self, rng: random.Random, b: Builder, count: int = 1, subtasks: bool = False,
                     gids: Optional[Sequence[str]] = None, orphans: bool = False) -> Dict[str, Any]:
        """Delete tasks and everything below them. Each one gets a `deleted` event (parent
        null: asana-api.md 3.14 sets it for added/removed only) in its own, its ancestors'
        and their projects' streams, reckoned before anything is erased; a task in no project
        (and not below one) reaches no project. Afterwards the task, and its event stream,
        answer 404. `meta.deleted` in the export keeps each gid with its event's time."""
        top = self._roots(orphans)
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
                event = self.events.log(task, "deleted", at, reach)
                self._erase(task)
                self.store.deleted[task["gid"]] = event["created_at"]
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

    def add_orphan_tasks(self, rng: random.Random, b: Builder, count: int = 1, workspace: Optional[str] = None,
                         assignee: Optional[str] = "me") -> Dict[str, Any]:
        """New tasks in no project of `workspace` (default: the organization), assigned to
        `assignee` (a user gid or "me"; null: nobody, a task no listing but search reaches).
        Each is `added` (parent: the workspace) in its own stream only."""
        space = self._workspace(rng, workspace)
        if assignee is None:
            who = NOBODY
        else:
            who = self.store.me if assignee == "me" else self._pick(rng, [], 1, [assignee], "user")[0]["gid"]
            if who not in self.store.related(Rel.WORKSPACE_USERS, space["gid"]):
                raise ValueError(f"user {who} is not in workspace {space['gid']}")
        created = []
        for _ in range(count):
            at = self.store.stamp_ms()
            task = b.task(space["gid"], at, at, assignee=who)
            self.events.log(task, "added", at, {task["gid"]}, parent=space)
            created.append({"gid": task["gid"], "assignee": who or None, "modified_at": task["modified_at"]})
        return {"gids": [c["gid"] for c in created], "tasks": created}

    def _workspace(self, rng: random.Random, workspace: Optional[str]) -> Record:
        if workspace is not None:
            return self._pick(rng, [], 1, [workspace], "workspace")[0]
        spaces = self.store.of_type("workspace")
        return next((w for w in spaces if w["is_organization"]), spaces[0])

    # --- sections: no modified_at in Asana, so only their events tell a client ----------------------
    def add_section(self, rng: random.Random, b: Builder, count: int = 1, project: Optional[str] = None,
                    name: Optional[str] = None) -> Dict[str, Any]:
        """New sections at the end of `project` (or of one drawn live project), each `added`
        (parent: the project) in the project's stream."""
        home = self._pick(rng, self._live_projects(), 1, [project] if project else None, "project")
        if not home:
            return {"gids": [], "project": None}
        home = home[0]
        created = []
        for i in range(count):
            at = self.store.stamp_ms()
            title = name or f"New section {self._seq}" + (f".{i + 1}" if count > 1 else "")
            section = b.section(home["gid"], title, at)
            self.events.log(section, "added", at, {home["gid"]}, parent=home)
            created.append(section["gid"])
        return {"gids": created, "project": home["gid"]}

    def rename_section(self, rng: random.Random, b: Builder, count: int = 1,
                       gids: Optional[Sequence[str]] = None) -> Dict[str, Any]:
        """Rename project sections: a section `changed` (field `name`) in its project's stream."""
        if gids is not None:
            sections = [self._section(g) for g in gids]
        else:
            sections = self._pick(rng, self._project_sections(), count, None, "section")
        for section in sections:
            section["name"] = re.sub(r" \(renamed \d+\)$", "", section["name"]) + f" (renamed {self._seq})"
            project = self.store.records[section["project"].gid]
            self.events.log(section, "changed", self.store.stamp_ms(), {project["gid"]},
                            change=EventLog.changed("name", section["name"]))
        return {"gids": [s["gid"] for s in sections], "names": [s["name"] for s in sections]}

    def delete_section(self, rng: random.Random, b: Builder, count: int = 1,
                       gids: Optional[Sequence[str]] = None) -> Dict[str, Any]:
        """Delete project sections: a section `deleted` in the project's stream. The last
        section of a project is kept (skipped), as Asana refuses to delete it. Its tasks move
        to the project's first remaining section (Asana's API wants a section empty first;
        the app moves the tasks, so the fake does): each moved task is `added` (parent: the
        new section) in its own and the project's streams, its `modified_at` unchanged."""
        if gids is not None:
            sections = [self._section(g) for g in gids]
        else:
            sections = self._pick(rng, [s for s in self._project_sections()
                                        if len(self.store.related(Rel.PROJECT_SECTIONS, s["project"].gid)) > 1],
                                  count, None, "section")
        deleted, moved = [], []
        for section in sections:
            project = self.store.records[section["project"].gid]
            remaining = [g for g in self.store.related(Rel.PROJECT_SECTIONS, project["gid"]) if g != section["gid"]]
            if not remaining or section["gid"] not in self.store.records:
                continue
            target = self.store.records[remaining[0]]
            self.events.log(section, "deleted", self.store.stamp_ms(), {project["gid"]})
            for task in self.store.related_records(Rel.SECTION_TASKS, section["gid"]):
                for membership in task["memberships"]:
                    if membership["project"].gid == project["gid"]:
                        membership["section"] = Ref(target["gid"])
                self.store.unlink(Rel.SECTION_TASKS, section["gid"], task["gid"])
                self.store.link(Rel.SECTION_TASKS, target["gid"], task["gid"])
                self.events.log(task, "added", self.store.stamp_ms(), {task["gid"], project["gid"]}, parent=target)
                moved.append({"gid": task["gid"], "section": target["gid"], "modified_at": task["modified_at"]})
            self.store.unlink(Rel.PROJECT_SECTIONS, project["gid"], section["gid"])
            self.store.remove(section["gid"])
            deleted.append(section["gid"])
        return {"gids": deleted, "moved": moved}

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
        space = self._workspace(rng, workspace)
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

    def advance_clock(self, rng: random.Random, b: Builder, hours: float = 0,
                      seconds: float = 0) -> Dict[str, Any]:
        """Move the fake's clock forward (never back) without waiting: the Date header, the
        times of later changes and every lifetime check (sync tokens, offsets, OAuth tokens)
        follow it, so a token older than `sync_ttl` after the jump answers 412 and one
        younger still works."""
        for value in (hours, seconds):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError("hours and seconds must be non-negative numbers")
        offset = self.store.clock.advance(hours * 3600 + seconds)
        return {"offset_s": offset, "clock": fmt_datetime(self.store.clock.ms())}
