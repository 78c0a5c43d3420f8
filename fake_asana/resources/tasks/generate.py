"""Generated tasks: the tasks of each project, some in a second project, subtask trees
(some forced `subtask_depth` deep), tasks in no project, and dependencies."""
from __future__ import annotations

from typing import List, Sequence

from ...factory import Generation
from ...store import Record, Ref, Rel
from ...timefmt import DAY_MS, parse_ms
from .stories import generate as generate_stories
from .records import NOBODY, home, new_task


def project_tasks(gen: Generation, projects: Sequence[Record]) -> List[Record]:
    """About `tasks_per_project` (+-20%) top-level tasks per project."""
    per = gen.sizes.tasks_per_project
    out = []
    for project in projects:
        count = gen.rng.randint(max(1, round(per * 0.8)), max(1, round(per * 1.2))) if per > 0 else 0
        for _ in range(count):
            created = gen.between(parse_ms(project["created_at"]), gen.end - DAY_MS)
            task = new_task(gen.make, project["workspace"].gid, created, gen.between(created, gen.end))
            home(gen.make, task, project["gid"])
            out.append(task)
    return out


def multi_home(gen: Generation, tasks: Sequence[Record], projects: Sequence[Record]) -> None:
    """A share of the tasks joins a second project of its workspace."""
    for task in tasks:
        if gen.rng.random() >= gen.sizes.multi_home_fraction:
            continue
        others = [p["gid"] for p in projects if p["workspace"] == task["workspace"]
                  and all(p["gid"] != h.gid for h in task["projects"])]
        if others:
            home(gen.make, task, gen.rng.choice(others))


def subtasks(gen: Generation, tasks: Sequence[Record], projects: Sequence[Record]) -> List[Record]:
    out: List[Record] = []
    live = {p["gid"] for p in projects if not p["archived"]}
    candidates = [t for t in tasks if t["projects"][0].gid in live]
    forced = {t["gid"] for t in gen.rng.sample(candidates, min(len(candidates), gen.sizes.deep_chains))}
    for task in tasks:
        if task["gid"] in forced:
            _subtree(gen, task, 1, True, out)
        elif gen.rng.random() < gen.sizes.subtask_fraction:
            _subtree(gen, task, 1, False, out)
    return out


def _subtree(gen: Generation, parent: Record, level: int, force: bool, out: List[Record]) -> None:
    if level > gen.sizes.subtask_depth:
        return
    for k in range(gen.rng.randint(1, 3) if level == 1 else gen.rng.randint(1, 2)):
        created = gen.between(parse_ms(parent["created_at"]), gen.end)
        child = new_task(gen.make, parent["workspace"].gid, created, gen.between(created, gen.end),
                         parent=parent["gid"])
        out.append(child)
        deeper = force and k == 0
        if deeper or gen.rng.random() < 0.3:
            _subtree(gen, child, level + 1, deeper, out)


def orphans(gen: Generation, workspaces: Sequence[str]) -> List[Record]:
    """`orphan_tasks` tasks in no project per workspace, every other one assigned to "me"."""
    out = []
    for workspace in workspaces:
        users = gen.make.members(workspace)
        for i in range(gen.sizes.orphan_tasks):
            assignee = gen.store.me if i % 2 == 0 else gen.rng.choice(users)
            created = gen.between(gen.start, gen.end)
            out.append(new_task(gen.make, workspace, created, gen.between(created, gen.end), assignee=assignee))
    return out


def dependencies(gen: Generation, tasks: Sequence[Record]) -> None:
    """A share of the tasks depends on another task of its first project."""
    for task in tasks:
        if gen.rng.random() >= gen.sizes.dependency_fraction:
            continue
        siblings = gen.store.related(Rel.PROJECT_TASKS, task["projects"][0].gid)
        other = gen.rng.choice(siblings)
        if other == task["gid"] or any(d.gid == other for d in task["dependencies"]):
            continue
        task["dependencies"].append(Ref(other, "bare"))
        gen.store.records[other]["dependents"].append(Ref(task["gid"], "bare"))


def late_orphans(gen: Generation, workspaces: Sequence[str]) -> None:
    """Per workspace: a task in no project assigned to someone other than "me" (if
    `orphans` drew none), `unassigned_orphans` tasks assigned to nobody, and subtasks
    (the first one assigned to "me") under `orphan_subtask_trees` of them, with their
    stories. Drawn last and from a stream of their own, so the data generated before
    (gids included) is the same whatever these sizes are."""
    me, added = gen.store.me, []
    for workspace in workspaces:
        mine = [t for t in gen.store.related_records(Rel.WORKSPACE_TASKS, workspace)
                if not t["parent"] and not t["projects"]]
        others = [u for u in gen.make.members(workspace) if u != me]
        if others and not any(t["assignee"] and t["assignee"].gid != me for t in mine):
            mine.append(_orphan(gen, workspace, gen.rng.choice(others)))
            added.append(mine[-1])
        for _ in range(gen.sizes.unassigned_orphans):
            mine.append(_orphan(gen, workspace, NOBODY))
            added.append(mine[-1])
        # Trees under an orphan of "me" first, then an unassigned one, then the others.
        rank = {me: 0, None: 1}
        ordered = sorted(mine, key=lambda t: rank.get(t["assignee"].gid if t["assignee"] else None, 2))
        for parent in ordered[:gen.sizes.orphan_subtask_trees]:
            for k in range(gen.rng.randint(1, 2)):
                created = gen.between(parse_ms(parent["created_at"]), gen.end)
                added.append(new_task(gen.make, workspace, created, gen.between(created, gen.end),
                                      parent=parent["gid"], assignee=me if k == 0 else None))
    generate_stories(gen, added)


def _orphan(gen: Generation, workspace: str, assignee: str) -> Record:
    created = gen.between(gen.start, gen.end)
    return new_task(gen.make, workspace, created, gen.between(created, gen.end), assignee=assignee)
