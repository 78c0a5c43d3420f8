"""Projects, their memberships and their custom field settings. Every fourth generated
project is in the plain workspace; some are archived, some are templates."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from ..errors import MULTI_WORKSPACE, ApiError, bad_param
from ..events import EventLog
from ..factory import Generation, Maker, ref
from ..mutate import Change
from ..routing import Route
from ..serving import ApiRequest, Body, Children, One, Serving
from ..store import Record, Ref, Rel
from ..timefmt import DAY_MS, fmt_date, fmt_datetime, parse_ms
from ..vocab import COLORS, NOTES, PROJECT_KINDS, PROJECT_WORDS, SECTION_NAMES, STATUS_TITLES
from .custom_fields import new_setting, value
from .portfolios import MEMBERSHIP_COMPACT, as_membership
from .sections import new_section
from .tasks.records import home, new_task

TEAM_PROJECT_TEAM_MEMBER_SHARE = 0.3  # team projects whose team is a member too
ADMIN_ONLY_SHARE = 0.25  # of generated projects' minimum access levels for customizing and sharing


# --- made --------------------------------------------------------------------------------------------
def new_project(make: Maker, workspace: str, team: Optional[str], created: int, modified: int,
                fields: Sequence[str] = (), sections: int = 3, name: Optional[str] = None) -> Record:
    """A project with `sections` sections and a setting and a value for each field of `fields`."""
    rng, store = make.rng, make.store
    gid = store.new_gid()
    users = make.members(workspace)
    owner = store.me if rng.random() < 0.5 else rng.choice(users)
    members = list(dict.fromkeys([owner] + rng.sample(users, min(len(users), rng.randint(1, 4)))))
    followers = [u for u in members if rng.random() < 0.6] or [owner]
    completed = rng.random() < 0.1
    completed_at = rng.randint(created, modified) if completed else None
    due = created + rng.randint(20, 200) * DAY_MS if rng.random() < 0.6 else None
    start = due - rng.randint(5, 60) * DAY_MS if due and rng.random() < 0.5 else None
    notes = rng.choice(NOTES)
    title = name or f"{rng.choice(PROJECT_WORDS)} {rng.choice(PROJECT_KINDS)}"
    record: Record = {
        "gid": gid, "resource_type": "project", "name": title, "archived": False,
        "color": rng.choice(COLORS + ("none",)),
        "icon": rng.choice(("list", "board", "timeline", "calendar", "rocket", "star", None)),
        "created_at": fmt_datetime(created), "modified_at": fmt_datetime(modified),
        "completed": completed,
        "completed_at": fmt_datetime(completed_at) if completed_at else None,
        "completed_by": Ref(owner) if completed else None,
        "current_status": None, "current_status_update": None,
        "custom_field_settings": [], "custom_fields": [],
        "default_view": rng.choice(("list", "board", "calendar", "timeline")),
        "due_date": fmt_date(due) if due else None, "due_on": fmt_date(due) if due else None,
        "start_on": fmt_date(start) if start else None,
        "notes": notes, "html_notes": make.html_of(notes),
        "members": [Ref(u) for u in members], "followers": [Ref(u) for u in followers],
        "owner": Ref(owner), "team": ref(team), "workspace": Ref(workspace),
        "public": rng.random() < 0.7,
        "privacy_setting": rng.choice(("public_to_workspace", "private")),
        "default_access_level": rng.choice(("admin", "editor", "commenter", "viewer")),
        "minimum_access_level_for_customization": "editor", "minimum_access_level_for_sharing": "editor",
        "_template": False,  # whether it is a template: what generation needs, no field of ProjectResponse
        "permalink_url": f"https://app.asana.com/0/{gid}/list",
        "project_brief": None, "created_from_template": None,
    }
    if not team:
        del record["team"]  # a plain workspace's project has none: left out, as the contract allows no null
    if rng.random() < 0.5:
        _current_status(make, record, members, created, modified)
    store.add(record)
    _attach(make, record, team, created, modified, fields, sections)
    return record


def _current_status(make: Maker, record: Record, members: Sequence[str], created: int, modified: int) -> None:
    """The legacy `current_status` and its `current_status_update` (status_updates.py turns
    it into the project's newest status update)."""
    rng, store = make.rng, make.store
    author = rng.choice(members)
    status_at = fmt_datetime(rng.randint(created, modified))
    title = rng.choice(STATUS_TITLES)
    text = f"{title}. Next review in two weeks."
    record["current_status"] = {
        "gid": store.new_gid(), "resource_type": "project_status", "title": title, "text": text,
        "html_text": make.html_of(text), "color": rng.choice(("green", "yellow", "red", "blue", "complete")),
        "author": Ref(author), "created_at": status_at, "created_by": Ref(author), "modified_at": status_at}
    record["current_status_update"] = {"gid": store.new_gid(), "resource_type": "status_update",
                                       "title": title, "resource_subtype": "project_status_update"}


def _attach(make: Maker, record: Record, team: Optional[str], created: int, modified: int,
            fields: Sequence[str], sections: int) -> None:
    """Links a new project to its workspace and team, and gives it its sections and fields."""
    store, gid = make.store, record["gid"]
    store.link(Rel.WORKSPACE_PROJECTS, record["workspace"].gid, gid)
    if team:
        store.link(Rel.TEAM_PROJECTS, team, gid)
    for i in range(sections):
        new_section(make, gid, SECTION_NAMES[i % len(SECTION_NAMES)],
                    min(modified, created + make.rng.randint(0, 7 * DAY_MS)))
    for field_gid in fields:
        setting = new_setting(make, gid, field_gid, Rel.PROJECT_SETTINGS)
        record["custom_field_settings"].append(Ref(setting["gid"], "full"))
        record["custom_fields"].append(value(make, field_gid))


def new_membership(make: Maker, project: Record, member: str, access_level: str) -> Record:
    """A project membership of a user or a team (`ProjectMembershipCompactResponse`)."""
    record = {"gid": make.store.new_gid(), "resource_type": "membership",
              "resource_subtype": "project_membership", "parent": Ref(project["gid"]), "member": Ref(member),
              "access_level": access_level}
    make.store.add(record)
    make.store.link(Rel.PROJECT_MEMBERSHIPS, project["gid"], record["gid"])
    return record


# --- generated ---------------------------------------------------------------------------------------
def generate(gen: Generation, org: str, personal: str, teams: List[str], fields: List[str]) -> List[Record]:
    """`projects` projects (2-5 fields each in the organization), then the archived ones
    and the templates drawn among them."""
    rng, n = gen.rng, gen.sizes.projects
    out = []
    for i in range(n):
        workspace = personal if i % 4 == 3 else org
        team = teams[i % len(teams)] if workspace == org and teams else None
        chosen = sorted(rng.sample(fields, rng.randint(2, min(5, len(fields)))), key=fields.index) \
            if workspace == org else []
        created = gen.between(gen.start, gen.start + (gen.end - gen.start) // 2)
        out.append(new_project(gen.make, workspace, team, created, gen.between(created, gen.end), chosen,
                               gen.sizes.sections_per_project))
    n_archived = max(1, n // 10) if n >= 4 else 0
    n_templates = max(1, n // 8) if n >= 5 else 0
    special = rng.sample(range(n), n_archived + n_templates)
    archived, templates = special[:n_archived], special[n_archived:]
    for i in archived:
        out[i]["archived"] = True
    for i in templates:
        out[i]["_template"] = True
        for other in out:
            if other is not out[i] and other["workspace"] == out[i]["workspace"] and rng.random() < 0.2:
                other["created_from_template"] = Ref(out[i]["gid"])
    return out


def generate_access_levels(gen: Generation, projects: Sequence[Record]) -> None:
    """Who may customize and who may share each project: editors, or only admins."""
    for project in projects:
        for setting in ("minimum_access_level_for_customization", "minimum_access_level_for_sharing"):
            project[setting] = "admin" if gen.rng.random() < ADMIN_ONLY_SHARE else "editor"


def generate_memberships(gen: Generation, projects: Sequence[Record]) -> None:
    """A membership per project member (the owner an admin), and sometimes the team's."""
    for project in projects:
        for user in [m.gid for m in project["members"]]:
            level = "admin" if user == project["owner"].gid else gen.make.weighted(
                (("editor", 0.6), ("commenter", 0.25), ("viewer", 0.15)))
            new_membership(gen.make, project, user, level)
        if project.get("team") and gen.rng.random() < TEAM_PROJECT_TEAM_MEMBER_SHARE:
            new_membership(gen.make, project, project["team"].gid, "editor")


# --- served ------------------------------------------------------------------------------------------


def by_archived(kit: Serving, request: ApiRequest, projects: List[Record]) -> List[Record]:
    archived = kit.flag(request, "archived")
    return [p for p in projects if archived is None or p["archived"] == archived]


def projects(kit: Serving, request: ApiRequest) -> Body:
    workspace, team = request.params.get("workspace"), request.params.get("team")
    if team:
        found = kit.store.related_records(Rel.TEAM_PROJECTS, kit.get(team, "team")["gid"])
        if workspace:
            found = [p for p in found if p["workspace"].gid == workspace]
    elif workspace:
        found = kit.store.related_records(Rel.WORKSPACE_PROJECTS, kit.get(workspace, "workspace")["gid"])
    else:
        raise ApiError(400, MULTI_WORKSPACE)
    return kit.page(request, by_archived(kit, request, found))


def memberships(kit: Serving, request: ApiRequest) -> Body:
    """`parent` a project or a portfolio (goal memberships are not generated: 400)."""
    parent = kit.parent(request, "parent", ("project", "portfolio", "goal"))
    if parent["resource_type"] == "goal":
        raise bad_param("parent", "goal memberships are not served by this fake")
    compact: Sequence[str] = ()
    if parent["resource_type"] == "portfolio":
        records = [as_membership(m) for m in kit.store.related_records(Rel.PORTFOLIO_MEMBERSHIPS, parent["gid"])]
        compact = MEMBERSHIP_COMPACT
    else:
        records = kit.store.related_records(Rel.PROJECT_MEMBERSHIPS, parent["gid"])
    member = request.params.get("member")
    if member:
        records = [r for r in records if r["member"].gid == member]
    return kit.page(request, records, compact=compact)


ROUTES = (
    Route("/projects", projects),
    Route("/projects/{gid}", One("project")),
    Route("/workspaces/{gid}/projects", Children("workspace", Rel.WORKSPACE_PROJECTS, refine=by_archived)),
    Route("/teams/{gid}/projects", Children("team", Rel.TEAM_PROJECTS, refine=by_archived)),
    Route("/projects/{gid}/custom_field_settings",
          Children("project", Rel.PROJECT_SETTINGS, access=Serving.project_readable)),
    Route("/memberships", memberships),
    Route("/memberships/{gid}", One("membership")),
)


# --- changed -----------------------------------------------------------------------------------------
def archive_project(change: Change, count: int = 1, gids: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """Archiving bumps the project's `modified_at`; its stream gets `changed` (`archived`)."""
    live = [p for p in change.store.of_type("project") if not p["archived"]]
    projects = change.pick(live, count, gids, "project")
    for project in projects:
        project["archived"] = True
        project["modified_at"] = change.store.stamp(project["modified_at"])
        change.events.log(project, "changed", parse_ms(project["modified_at"]), {project["gid"]},
                          change=EventLog.changed("archived", True))
    return {"gids": [p["gid"] for p in projects],
            "modified_at": {p["gid"]: p["modified_at"] for p in projects}}


def add_project(change: Change, workspace: Optional[str] = None, sections: int = 1,
                tasks: int = 0) -> Dict[str, Any]:
    """A project in `workspace` (default: the organization) with up to two of its fields,
    `sections` sections and `tasks` tasks, each `added`."""
    store = change.store
    space = change.workspace(workspace)
    teams = store.related(Rel.WORKSPACE_TEAMS, space["gid"])
    fields = store.related(Rel.WORKSPACE_CUSTOM_FIELDS, space["gid"])
    at = store.stamp_ms()
    project = new_project(change.make, space["gid"], change.rng.choice(teams) if teams else None, at, at,
                          change.rng.sample(fields, min(2, len(fields))), sections, name=f"New project {change.seq}")
    change.events.log(project, "added", at, {project["gid"]}, parent=space)
    task_gids = []
    for _ in range(tasks):
        task = new_task(change.make, space["gid"], at, at)
        home(change.make, task, project["gid"])
        change.events.log(task, "added", at, change.events.reach_of_task(task), parent=project)
        task_gids.append(task["gid"])
    return {"gids": [project["gid"]], "modified_at": project["modified_at"], "task_gids": task_gids}


def add_project_member(change: Change, project: Optional[str] = None, user: Optional[str] = None,
                       access_level: str = "editor") -> Dict[str, Any]:
    """A user joins a project: a membership, `members` grows, `modified_at` stays
    (associations do not count), and the project's stream gets `changed` (`members`, added)."""
    record = change.one_of(project, "project", [p for p in change.store.of_type("project")
                                                if not p["archived"] and change.has_room(p)])
    member = change.new_member(user, record["workspace"].gid, [m.gid for m in record["members"]])
    membership = new_membership(change.make, record, member, access_level)
    if all(m.gid != member for m in record["members"]):
        record["members"].append(Ref(member))
    user_record = change.store.records[member]
    change.events.log(record, "changed", change.store.stamp_ms(), {record["gid"]},
                      change={"field": "members", "action": "added",
                              "added_value": {"gid": member, "resource_type": "user", "name": user_record["name"]}})
    return {"gids": [membership["gid"]], "project": record["gid"], "user": member}
