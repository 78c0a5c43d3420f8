"""The fixed set of changes `make bench` makes in one workspace between two incremental runs,
and which of them came through in what the tap sent.

Each change touches its own tasks (no task, nor any task below it, is used by two changes),
so a record that proves one change cannot be the echo of another. The tasks are drawn from
the fake's export with a seeded generator: the same dataset and seed give the same changes.
Whether a change came through is read from the tap's records only:

| change | came through when the tap sent |
|---|---|
| 3 tasks renamed | each task in `tasks` with its new name |
| 2 deep subtasks renamed (each a subtask of a subtask; one assigned, one not) | each in `subtasks` with its new name |
| 3 stories added (two on tasks, one on a subtask) | each story in `stories` |
| 1 subtask added | the new subtask in `subtasks` |
| 1 task added to another project | the task in `tasks`, that project in its `projects` |
| 1 task removed from one of its two projects | the task in `tasks`, that project no longer in its `projects` |
| 2 tasks deleted, one with subtasks | each deleted task in `tasks`, each subtask below it in `subtasks`, with `_sdc_deleted_at` |
| 1 task in no project renamed (assigned to someone) | the task in `tasks` with its new name |
| 1 section renamed | the section in `sections` with its new name |
"""
from __future__ import annotations

import random
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple

DELETED_AT = "_sdc_deleted_at"

#: (key, column header), in the order of the tables.
KINDS: Tuple[Tuple[str, str], ...] = (
    ("tasks_renamed", "3 tasks renamed"),
    ("subtasks_renamed", "2 deep subtasks renamed"),
    ("stories_added", "3 stories added"),
    ("subtask_added", "subtask added"),
    ("added_to_project", "added to a project"),
    ("removed_from_project", "removed from a project"),
    ("deleted", "2 tasks deleted (1 with subtasks)"),
    ("no_project_renamed", "task in no project renamed"),
    ("section_renamed", "section renamed"),
)

Record = Dict[str, Any]
#: stream -> records the tap sent in one run
Sent = Mapping[str, List[Record]]


def _gids(refs: Optional[Iterable[Mapping[str, Any]]]) -> List[str]:
    return [r["gid"] for r in refs or () if isinstance(r, Mapping) and "gid" in r]


class ChangeSet:
    def __init__(self, export: Mapping[str, Any], workspace: str, seed: int):
        rng = random.Random(f"bench-changes:{seed}:{workspace}")
        tasks = {t["gid"]: t for t in export["tasks"] if t["workspace"]["gid"] == workspace}
        projects = [p for p in export["projects"] if p["workspace"]["gid"] == workspace]
        live = {p["gid"] for p in projects if not p["archived"]} - set(export["meta"]["forbidden_projects"])
        vanished = set(export["meta"]["vanished_tasks"])

        def root(task: Record) -> Record:
            while task["parent"]:
                task = tasks[task["parent"]["gid"]]
            return task

        def depth(task: Record) -> int:
            n = 0
            while task["parent"]:
                task, n = tasks[task["parent"]["gid"]], n + 1
            return n

        # Tasks of live projects only, whose whole family is readable.
        top = sorted((t for t in tasks.values() if not t["parent"] and t["projects"] and t["gid"] not in vanished
                      and all(g in live for g in _gids(t["projects"]))), key=lambda t: t["gid"])
        top_gids = {t["gid"] for t in top}
        below = sorted((t for t in tasks.values() if t["parent"] and root(t)["gid"] in top_gids),
                       key=lambda t: t["gid"])
        used: set = set()  # roots already given to a change

        def pick(candidates: List[Record], count: int, why: str) -> List[Record]:
            free = [t for t in candidates if root(t)["gid"] not in used]
            if len(free) < count:
                raise SystemExit(f"bench: the dataset has too few tasks for the change {why!r}")
            chosen = rng.sample(free, count)
            used.update(root(t)["gid"] for t in chosen)
            return chosen

        self.workspace = workspace
        self.delete = pick([t for t in top if t["num_subtasks"]], 1, "delete a task with subtasks") + \
            pick([t for t in top if not t["num_subtasks"]], 1, "delete a task")
        self.remove = pick([t for t in top if len(t["projects"]) >= 2], 1, "remove from a project")[0]
        self.remove_from = rng.choice(_gids(self.remove["projects"]))
        self.add = pick([t for t in top if live - set(_gids(t["projects"]))], 1, "add to a project")[0]
        self.add_to = rng.choice(sorted(live - set(_gids(self.add["projects"]))))
        self.rename = pick(top, 3, "rename tasks")
        # One assigned to someone, one to nobody: on a free plan a user's task listing finds the
        # first whatever the project's events say, no listing but the project's the second.
        deep = [t for t in below if depth(t) >= 2]
        self.rename_deep = pick([t for t in deep if t["assignee"]], 1, "rename an assigned deep subtask") + \
            pick([t for t in deep if not t["assignee"]], 1, "rename an unassigned deep subtask")
        self.story_on = pick(top, 2, "stories on tasks") + pick(below, 1, "a story on a subtask")
        self.new_subtask_under = pick(top, 1, "add a subtask")[0]
        orphans = sorted((t for t in tasks.values() if not t["parent"] and not t["projects"] and t["assignee"]),
                         key=lambda t: t["gid"])
        self.orphan = pick(orphans, 1, "rename a task in no project")[0]
        sections = sorted((s for s in export["sections"] if s["project"]["gid"] in live), key=lambda s: s["gid"])
        self.section = rng.choice(sections)
        # kind -> [(stream, gid, test)]: a record of `stream` with `gid` that passes `test`
        self.expected: Dict[str, List[Tuple[str, str, Callable[[Record], bool]]]] = {k: [] for k, _ in KINDS}

    def apply(self, fake: Any) -> Dict[str, Any]:
        """Make every change through the fake's control API; returns what each op answered."""
        done: Dict[str, Any] = {}
        expect = self.expected

        def named(name: str) -> Callable[[Record], bool]:
            return lambda r: r.get("name") == name

        done["tasks_renamed"] = fake.mutate("modify_tasks", gids=[t["gid"] for t in self.rename])
        for t in done["tasks_renamed"]["tasks"]:
            expect["tasks_renamed"].append(("tasks", t["gid"], named(t["name"])))
        done["subtasks_renamed"] = fake.mutate("modify_tasks", gids=[t["gid"] for t in self.rename_deep])
        for t in done["subtasks_renamed"]["tasks"]:
            expect["subtasks_renamed"].append(("subtasks", t["gid"], named(t["name"])))
        done["stories_added"] = fake.mutate("add_stories", gids=[t["gid"] for t in self.story_on])
        for gid in done["stories_added"]["gids"]:
            expect["stories_added"].append(("stories", gid, lambda r: True))
        done["subtask_added"] = fake.mutate("add_subtasks", gids=[self.new_subtask_under["gid"]])
        for gid in done["subtask_added"]["gids"]:
            expect["subtask_added"].append(("subtasks", gid, lambda r: True))
        done["added_to_project"] = fake.mutate("add_to_project", gids=[self.add["gid"]], project=self.add_to)
        for t in done["added_to_project"]["tasks"]:
            expect["added_to_project"].append(
                ("tasks", t["gid"], lambda r, p=t["project"]: p in _gids(r.get("projects"))))
        done["removed_from_project"] = fake.mutate("remove_from_project", gids=[self.remove["gid"]],
                                                   project=self.remove_from)
        for t in done["removed_from_project"]["tasks"]:
            expect["removed_from_project"].append(
                ("tasks", t["gid"], lambda r, p=t["project"]: not r.get(DELETED_AT) and p not in _gids(r.get("projects"))))
        done["deleted"] = fake.mutate("delete_tasks", gids=[t["gid"] for t in self.delete])
        roots = set(done["deleted"]["roots"])
        for gid in done["deleted"]["gids"]:
            expect["deleted"].append(("tasks" if gid in roots else "subtasks", gid, lambda r: bool(r.get(DELETED_AT))))
        done["no_project_renamed"] = fake.mutate("modify_tasks", gids=[self.orphan["gid"]])
        for t in done["no_project_renamed"]["tasks"]:
            expect["no_project_renamed"].append(("tasks", t["gid"], named(t["name"])))
        done["section_renamed"] = fake.mutate("rename_section", gids=[self.section["gid"]])
        for gid, name in zip(done["section_renamed"]["gids"], done["section_renamed"]["names"]):
            expect["section_renamed"].append(("sections", gid, named(name)))
        for key, _ in KINDS:
            if not expect[key]:
                raise SystemExit(f"bench: the change {key!r} changed nothing: {done[key]}")
        return done

    def came_through(self, runs: Iterable[Sent]) -> Dict[str, str]:
        """Per change kind: "yes" when every record it needs was sent in one of `runs`, "no"
        when none was, else "k/n" (how many of the records it needs were sent)."""
        index: Dict[Tuple[str, str], List[Record]] = {}
        for sent in runs:
            for stream, records in sent.items():
                for record in records:
                    index.setdefault((stream, record.get("gid")), []).append(record)
        out = {}
        for key, _ in KINDS:
            wanted = self.expected[key]
            met = sum(any(test(r) for r in index.get((stream, gid), ())) for stream, gid, test in wanted)
            out[key] = "yes" if met == len(wanted) else "no" if met == 0 else f"{met}/{len(wanted)}"
        return out

    def missing(self, runs: Iterable[Sent]) -> Dict[str, List[str]]:
        """Per change kind that did not fully come through: the `stream:gid` not (rightly) sent."""
        runs = list(runs)
        out: Dict[str, List[str]] = {}
        for key, _ in KINDS:
            for stream, gid, test in self.expected[key]:
                if not any(test(r) for sent in runs for r in sent.get(stream, ()) if r.get("gid") == gid):
                    out.setdefault(key, []).append(f"{stream}:{gid}")
        return out
