"""Deterministic data: the same (seed, sizes, now) always gives the same store, gids
and timestamps included. Every generated timestamp lies in the two years before
`now - 1 hour`, so nothing generated is newer than an hour ago."""
from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from . import more, vocab
from .builder import DAY_MS, NOBODY, Builder
from .store import Ref, Rel, Store
from .timefmt import fmt_datetime, hour_floor_ms, parse_ms, wall_ms

HOUR_MS = 3_600_000


@dataclass(frozen=True)
class Sizes:
    users: int
    teams: int
    projects: int  # every fourth one is in the plain (non-organization) workspace
    sections_per_project: int
    tasks_per_project: int  # top-level tasks, +-20% per project
    stories_per_task: float  # mean, for tasks and subtasks alike
    subtask_fraction: float  # share of top-level tasks that get a subtask tree
    subtask_depth: int
    deep_chains: int  # tasks whose subtasks are forced `subtask_depth` levels deep
    orphan_tasks: int  # per workspace: tasks in no project (only in their assignee's My Tasks)
    tags: int  # per workspace
    portfolios: int  # in the organization
    multi_home_fraction: float = 0.06  # tasks that are also in a second project
    dependency_fraction: float = 0.05
    unassigned_orphans: int = 1  # per workspace: tasks in no project and assigned to nobody
    orphan_subtask_trees: int = 1  # per workspace: tasks in no project that get subtasks


PRESETS: Dict[str, Sizes] = {
    "tiny": Sizes(users=6, teams=2, projects=5, sections_per_project=3, tasks_per_project=4, stories_per_task=3,
                  subtask_fraction=0.12, subtask_depth=3, deep_chains=2, orphan_tasks=2, tags=3, portfolios=1),
    "demo": Sizes(users=12, teams=3, projects=10, sections_per_project=3, tasks_per_project=26,
                  stories_per_task=3.7, subtask_fraction=0.12, subtask_depth=3, deep_chains=3, orphan_tasks=5,
                  tags=8, portfolios=2),
    "medium": Sizes(users=30, teams=6, projects=40, sections_per_project=4, tasks_per_project=52,
                    stories_per_task=3.3, subtask_fraction=0.12, subtask_depth=4, deep_chains=5, orphan_tasks=10,
                    tags=14, portfolios=4),
    "large": Sizes(users=60, teams=10, projects=100, sections_per_project=4, tasks_per_project=56,
                   stories_per_task=3.1, subtask_fraction=0.12, subtask_depth=4, deep_chains=8, orphan_tasks=20,
                   tags=18, portfolios=6),
}
SIZE_NAMES = frozenset(f.name for f in dataclasses.fields(Sizes))

CUSTOM_FIELDS = (  # (name, type, extra): one of every type Asana has for values
    ("Priority", "enum", {"options": (("High", "red", True), ("Medium", "yellow-orange", True),
                                      ("Low", "green", True), ("Someday", "cool-gray", False))}),
    ("Stage", "enum", {"options": (("Idea", "purple", True), ("Build", "blue", True), ("Live", "green", True))}),
    ("Estimate (h)", "number", {"precision": 1, "format": "none"}),
    ("Budget", "number", {"precision": 2, "format": "currency", "currency_code": "EUR"}),
    ("Ticket ID", "text", {}),
    ("Platforms", "multi_enum", {"options": (("iOS", "blue", True), ("Android", "green", True),
                                             ("Web", "purple", True), ("Desktop", "orange", True))}),
    ("Target date", "date", {}),
    ("Reviewer", "people", {}),
)


def sizes_for(preset: str, **overrides: Any) -> Sizes:
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
    return dataclasses.replace(PRESETS[preset], **overrides)


def default_now_ms() -> int:
    """The current UTC time floored to the hour: two servers started within the same
    hour with the same seed hold identical data."""
    return hour_floor_ms(wall_ms())


def generate(seed: int, sizes: Sizes, now_ms: Optional[int] = None) -> Store:
    store = Store(seed, default_now_ms() if now_ms is None else now_ms)
    with store.lock:
        _Generation(store, sizes).run()
        more.generate(store)
    return store


class _Generation:
    def __init__(self, store: Store, sizes: Sizes) -> None:
        self.store, self.sizes = store, sizes
        self.rng = random.Random(f"data:{store.seed}")
        self.b = Builder(store, self.rng)
        self.end = store.now_ms - HOUR_MS
        self.start = self.end - 730 * DAY_MS

    def between(self, low: int, high: int) -> int:
        return self.rng.randint(low, max(low, high))

    def run(self) -> None:
        org, personal = self.workspaces()
        self.users(org, personal)
        self.my_tasks()
        teams = self.teams(org)
        fields = self.custom_fields(org)
        tags = {ws: self.tags(ws) for ws in (org, personal)}
        projects = self.projects(org, personal, teams, fields)
        tasks = self.project_tasks(projects)
        self.multi_home(tasks, projects)
        subtasks = self.subtasks(tasks, projects)
        orphans = self.orphans((org, personal))
        everything = tasks + subtasks + orphans
        self.tag_tasks(everything, tags)
        self.dependencies(tasks)
        self.stories(everything)
        self.portfolios(org, projects, fields)
        self.more_orphans((org, personal))

    # --- people and places ----------------------------------------------------------------------
    def workspaces(self) -> Sequence[str]:
        org = {"gid": self.store.new_gid(), "resource_type": "workspace", "name": "Acme Corp",
               "email_domains": ["acme.example"], "is_organization": True, "_premium": True}
        plain = {"gid": self.store.new_gid(), "resource_type": "workspace", "name": "Personal Projects",
                 "email_domains": [], "is_organization": False, "_premium": False}
        return self.store.add(org)["gid"], self.store.add(plain)["gid"]

    def users(self, org: str, personal: str) -> None:
        names = [(f, l) for f in vocab.FIRST_NAMES for l in vocab.LAST_NAMES]
        self.rng.shuffle(names)
        if not 3 <= self.sizes.users <= len(names):
            raise ValueError(f"users must lie in 3..{len(names)}")
        for i in range(self.sizes.users):
            first, last = names[i]
            if i < 2:  # "me" (the token's owner) and one other are in both workspaces
                spaces = [org, personal]
            elif i == 2:
                spaces = [personal]
            else:
                roll = self.rng.random()
                spaces = [org] if roll < 0.7 else [org, personal] if roll < 0.85 else [personal]
            gid = self.store.new_gid()
            domain = "acme.example" if org in spaces else "mail.example"
            photo = None
            if self.rng.random() < 0.6:
                photo = {f"image_{s}x{s}": f"https://s3.amazonaws.com/profile_photos/{gid}.{s}x{s}.png"
                         for s in (21, 27, 36, 60, 128)}
                photo["image_1024x1024"] = f"https://s3.amazonaws.com/profile_photos/{gid}.1024x1024.jpg"
            self.store.add({"gid": gid, "resource_type": "user", "name": f"{first} {last}",
                            "email": f"{first.lower()}.{last.lower()}@{domain}", "photo": photo,
                            "workspaces": [Ref(w) for w in spaces]})
            for workspace in spaces:
                self.store.link(Rel.WORKSPACE_USERS, workspace, gid)
            if i == 0:
                self.store.me = gid

    def my_tasks(self) -> None:
        for user in self.store.of_type("user"):
            for workspace in user["workspaces"]:
                gid = self.store.new_gid()
                self.store.add({"gid": gid, "resource_type": "user_task_list", "name": "My Tasks",
                                "owner": Ref(user["gid"]), "workspace": Ref(workspace.gid)})
                self.store.user_task_lists[(user["gid"], workspace.gid)] = gid
                for name in vocab.MY_TASKS_SECTIONS:
                    self.b.section(gid, name, self.start, private=True)

    def teams(self, org: str) -> List[str]:
        users = self.b.members(org)
        out = []
        for i in range(self.sizes.teams):
            name = vocab.TEAM_NAMES[i % len(vocab.TEAM_NAMES)]
            name += f" {i // len(vocab.TEAM_NAMES) + 1}" if i >= len(vocab.TEAM_NAMES) else ""
            gid = self.store.new_gid()
            text = f"The {name} team: plans, requests and rituals."
            self.store.add({"gid": gid, "resource_type": "team", "name": name, "description": text,
                            "html_description": self.b.html_of(text), "organization": Ref(org),
                            "permalink_url": f"https://app.asana.com/0/team/{gid}",
                            "visibility": self.rng.choice(("secret", "request_to_join", "public"))})
            self.store.link(Rel.WORKSPACE_TEAMS, org, gid)
            others = [u for u in users if u != self.store.me]
            for user in [self.store.me] + self.rng.sample(others, min(len(others), self.rng.randint(2, 6))):
                self.store.link(Rel.TEAM_USERS, gid, user)
            out.append(gid)
        return out

    def custom_fields(self, org: str) -> List[str]:
        out = []
        for name, kind, extra in CUSTOM_FIELDS:
            gid = self.store.new_gid()
            record: Dict[str, Any] = {"gid": gid, "resource_type": "custom_field", "name": name, "type": kind,
                                      "resource_subtype": kind, "representation_type": kind,
                                      "description": f"{name}, shared across the organization."}
            if "options" in extra:
                record["enum_options"] = [
                    {"gid": self.store.new_gid(), "resource_type": "enum_option", "name": option,
                     "enabled": enabled, "color": color} for option, color, enabled in extra["options"]]
            if kind == "number":
                record.update(precision=extra["precision"], format=extra["format"],
                              currency_code=extra.get("currency_code"))
            record.update({"is_formula_field": False, "is_value_read_only": False,
                           "is_global_to_workspace": True, "has_notifications_enabled": True,
                           "asana_created_field": None, "custom_label": None, "custom_label_position": None,
                           "id_prefix": None, "created_by": Ref(self.store.me),
                           "privacy_setting": "public_with_guests", "default_access_level": "editor",
                           "_workspace": org})
            self.store.add(record)
            self.store.link(Rel.WORKSPACE_CUSTOM_FIELDS, org, gid)
            out.append(gid)
        return out

    def tags(self, workspace: str) -> List[str]:
        users = self.b.members(workspace)
        out = []
        for i in range(self.sizes.tags):
            gid = self.store.new_gid()
            name = vocab.TAG_NAMES[i % len(vocab.TAG_NAMES)] + (f"-{i}" if i >= len(vocab.TAG_NAMES) else "")
            self.store.add({"gid": gid, "resource_type": "tag", "name": name,
                            "color": self.rng.choice(vocab.COLORS), "notes": self.rng.choice(vocab.NOTES),
                            "created_at": fmt_datetime(self.between(self.start, self.end)),
                            "followers": [Ref(u) for u in self.rng.sample(users, min(len(users), 2))],
                            "workspace": Ref(workspace), "permalink_url": f"https://app.asana.com/0/{gid}/list"})
            self.store.link(Rel.WORKSPACE_TAGS, workspace, gid)
            out.append(gid)
        return out

    # --- projects and tasks ---------------------------------------------------------------------
    def projects(self, org: str, personal: str, teams: List[str], fields: List[str]) -> List[Dict[str, Any]]:
        rng, n = self.rng, self.sizes.projects
        out = []
        for i in range(n):
            workspace = personal if i % 4 == 3 else org
            team = teams[i % len(teams)] if workspace == org and teams else None
            chosen = sorted(rng.sample(fields, rng.randint(2, min(5, len(fields)))), key=fields.index) \
                if workspace == org else []
            created = self.between(self.start, self.start + (self.end - self.start) // 2)
            out.append(self.b.project(workspace, team, created, self.between(created, self.end), chosen,
                                      self.sizes.sections_per_project))
        n_archived = max(1, n // 10) if n >= 4 else 0
        n_templates = max(1, n // 8) if n >= 5 else 0
        special = rng.sample(range(n), n_archived + n_templates)
        archived, templates = special[:n_archived], special[n_archived:]
        for i in archived:
            out[i]["archived"] = True
        for i in templates:
            out[i]["is_template"] = True
            for other in out:
                if other is not out[i] and other["workspace"] == out[i]["workspace"] and rng.random() < 0.2:
                    other["created_from_template"] = Ref(out[i]["gid"])
        return out

    def project_tasks(self, projects: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        per = self.sizes.tasks_per_project
        out = []
        for project in projects:
            count = self.rng.randint(max(1, round(per * 0.8)), max(1, round(per * 1.2))) if per > 0 else 0
            for _ in range(count):
                created = self.between(parse_ms(project["created_at"]), self.end - DAY_MS)
                task = self.b.task(project["workspace"].gid, created, self.between(created, self.end))
                self.b.home(task, project["gid"])
                out.append(task)
        return out

    def multi_home(self, tasks: List[Dict[str, Any]], projects: List[Dict[str, Any]]) -> None:
        for task in tasks:
            if self.rng.random() >= self.sizes.multi_home_fraction:
                continue
            others = [p["gid"] for p in projects if p["workspace"] == task["workspace"]
                      and all(p["gid"] != h.gid for h in task["projects"])]
            if others:
                self.b.home(task, self.rng.choice(others))

    def subtasks(self, tasks: List[Dict[str, Any]], projects: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        out: List[Dict[str, Any]] = []
        live = {p["gid"] for p in projects if not p["archived"]}
        candidates = [t for t in tasks if t["projects"][0].gid in live]
        forced = {t["gid"] for t in self.rng.sample(candidates, min(len(candidates), self.sizes.deep_chains))}
        for task in tasks:
            if task["gid"] in forced:
                self._subtree(task, 1, True, out)
            elif self.rng.random() < self.sizes.subtask_fraction:
                self._subtree(task, 1, False, out)
        return out

    def _subtree(self, parent: Dict[str, Any], level: int, force: bool, out: List[Dict[str, Any]]) -> None:
        if level > self.sizes.subtask_depth:
            return
        for k in range(self.rng.randint(1, 3) if level == 1 else self.rng.randint(1, 2)):
            created = self.between(parse_ms(parent["created_at"]), self.end)
            child = self.b.task(parent["workspace"].gid, created, self.between(created, self.end),
                                parent=parent["gid"])
            out.append(child)
            deeper = force and k == 0
            if deeper or self.rng.random() < 0.3:
                self._subtree(child, level + 1, deeper, out)

    def orphans(self, workspaces: Sequence[str]) -> List[Dict[str, Any]]:
        out = []
        for workspace in workspaces:
            users = self.b.members(workspace)
            for i in range(self.sizes.orphan_tasks):
                assignee = self.store.me if i % 2 == 0 else self.rng.choice(users)
                created = self.between(self.start, self.end)
                out.append(self.b.task(workspace, created, self.between(created, self.end), assignee=assignee))
        return out

    def more_orphans(self, workspaces: Sequence[str]) -> None:
        """Per workspace: a task in no project assigned to someone other than "me" (if
        `orphans` drew none), `unassigned_orphans` tasks assigned to nobody, and subtasks
        (the first one assigned to "me") under `orphan_subtask_trees` of them, with their
        stories. Drawn last and from their own random stream, so the data generated before
        (gids included) is the same as without them."""
        self.rng = random.Random(f"orphans:{self.store.seed}")
        self.b = Builder(self.store, self.rng)
        me, added = self.store.me, []
        for workspace in workspaces:
            mine = [t for t in self.store.related_records(Rel.WORKSPACE_TASKS, workspace)
                    if not t["parent"] and not t["projects"]]
            others = [u for u in self.b.members(workspace) if u != me]
            if others and not any(t["assignee"] and t["assignee"].gid != me for t in mine):
                mine.append(self._orphan(workspace, self.rng.choice(others)))
                added.append(mine[-1])
            for _ in range(self.sizes.unassigned_orphans):
                mine.append(self._orphan(workspace, NOBODY))
                added.append(mine[-1])
            # Trees under an orphan of "me" first, then an unassigned one, then the others.
            rank = {me: 0, None: 1}
            ordered = sorted(mine, key=lambda t: rank.get(t["assignee"].gid if t["assignee"] else None, 2))
            for parent in ordered[:self.sizes.orphan_subtask_trees]:
                for k in range(self.rng.randint(1, 2)):
                    created = self.between(parse_ms(parent["created_at"]), self.end)
                    added.append(self.b.task(workspace, created, self.between(created, self.end),
                                             parent=parent["gid"], assignee=me if k == 0 else None))
        self.stories(added)

    def _orphan(self, workspace: str, assignee: str) -> Dict[str, Any]:
        created = self.between(self.start, self.end)
        return self.b.task(workspace, created, self.between(created, self.end), assignee=assignee)

    def tag_tasks(self, tasks: List[Dict[str, Any]], tags: Dict[str, List[str]]) -> None:
        for task in tasks:
            available = tags[task["workspace"].gid]
            if available and self.rng.random() < 0.3:
                for tag in self.rng.sample(available, min(len(available), self.rng.randint(1, 2))):
                    task["tags"].append(Ref(tag))
                    self.store.link(Rel.TAG_TASKS, tag, task["gid"])

    def dependencies(self, tasks: List[Dict[str, Any]]) -> None:
        for task in tasks:
            if self.rng.random() >= self.sizes.dependency_fraction:
                continue
            siblings = self.store.related(Rel.PROJECT_TASKS, task["projects"][0].gid)
            other = self.rng.choice(siblings)
            if other == task["gid"] or any(d.gid == other for d in task["dependencies"]):
                continue
            task["dependencies"].append(Ref(other, "bare"))
            self.store.records[other]["dependents"].append(Ref(task["gid"], "bare"))

    def stories(self, tasks: List[Dict[str, Any]]) -> None:
        mean = self.sizes.stories_per_task
        for task in tasks:
            created, modified = parse_ms(task["created_at"]), parse_ms(task["modified_at"])
            count = round(self.rng.uniform(0, 2 * mean))
            for at in sorted(self.between(created, modified) for _ in range(count)):
                if self.rng.random() < 0.45:
                    self.b.comment(task, at)
                else:
                    self.b.system_story(task, at)

    def portfolios(self, org: str, projects: List[Dict[str, Any]], fields: List[str]) -> None:
        rng, me = self.rng, self.store.me
        candidates = [p["gid"] for p in projects if p["workspace"].gid == org and not p["is_template"]]
        for i in range(self.sizes.portfolios):
            gid = self.store.new_gid()
            created = self.between(self.start, self.end)
            due = created + rng.randint(30, 300) * DAY_MS
            others = [u for u in self.b.members(org) if u != me]
            record: Dict[str, Any] = {
                "gid": gid, "resource_type": "portfolio",
                "name": f"{vocab.PROJECT_WORDS[(i * 3) % len(vocab.PROJECT_WORDS)]} portfolio",
                "archived": False, "color": rng.choice(vocab.COLORS),
                "start_on": fmt_datetime(created)[:10], "due_on": fmt_datetime(due)[:10],
                "default_access_level": rng.choice(("admin", "editor", "viewer")),
                "created_at": fmt_datetime(created), "created_by": Ref(me),
                "custom_field_settings": [], "current_status_update": None, "custom_fields": [],
                "members": [Ref(u) for u in [me] + rng.sample(others, min(len(others), 2))],
                "owner": Ref(me), "workspace": Ref(org),
                "permalink_url": f"https://app.asana.com/0/portfolio/{gid}/list",
                "public": rng.random() < 0.5, "privacy_setting": rng.choice(("public_to_domain", "members_only")),
                "project_templates": [],
            }
            self.store.add(record)
            self.store.link(Rel.WORKSPACE_PORTFOLIOS, org, gid)
            for field_gid in rng.sample(fields, 2) if fields else []:
                setting = self.b.setting(gid, field_gid, Rel.PORTFOLIO_SETTINGS)
                record["custom_field_settings"].append(Ref(setting["gid"], "full"))
                record["custom_fields"].append(self.b.custom_field_value(field_gid))
            for project in rng.sample(candidates, min(len(candidates), rng.randint(2, 5))):
                self.store.link(Rel.PORTFOLIO_ITEMS, gid, project)
