"""The Asana endpoints under /api/1.0: routing, parameters, filters and the envelope.
HTTP, auth, limits and faults live in server.py; this module maps an authenticated
GET to a status and a JSON body."""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from . import errors
from .errors import FORBIDDEN, MULTI_WORKSPACE, ApiError, bad_param, not_found
from .events import EventLog
from .more_api import MoreApi
from .options import Options
from .paging import Pager, parse_limit
from .render import FieldTree, Renderer, parse_opt_fields
from .store import Rel, Store
from .timefmt import parse_us

Record = Dict[str, Any]
Body = Dict[str, Any]

#: (path template, handler method). `{gid}` matches one path segment; the first match wins.
ROUTES: Tuple[Tuple[str, str], ...] = (
    ("/users/me", "user_me"),
    ("/users", "users"),
    ("/users/{gid}", "user"),
    ("/users/{gid}/user_task_list", "user_task_list_of"),
    ("/workspaces", "workspaces"),
    ("/workspaces/{gid}", "workspace"),
    ("/workspaces/{gid}/users", "workspace_users"),
    ("/workspaces/{gid}/teams", "workspace_teams"),
    ("/organizations/{gid}/teams", "organization_teams"),  # legacy alias that old SDKs call
    ("/workspaces/{gid}/projects", "workspace_projects"),
    ("/workspaces/{gid}/tags", "workspace_tags"),
    ("/workspaces/{gid}/custom_fields", "workspace_custom_fields"),
    ("/workspaces/{gid}/tasks/search", "search"),
    ("/teams/{gid}", "team"),
    ("/teams/{gid}/users", "team_users"),
    ("/teams/{gid}/projects", "team_projects"),
    ("/projects", "projects"),
    ("/projects/{gid}", "project"),
    ("/projects/{gid}/sections", "project_sections"),
    ("/projects/{gid}/tasks", "project_tasks"),
    ("/projects/{gid}/custom_field_settings", "project_custom_field_settings"),
    ("/sections/{gid}", "section"),
    ("/sections/{gid}/tasks", "section_tasks"),
    ("/tasks", "tasks"),
    ("/tasks/{gid}", "task"),
    ("/tasks/{gid}/subtasks", "subtasks"),
    ("/tasks/{gid}/stories", "stories"),
    ("/tasks/{gid}/tags", "task_tags"),
    ("/stories/{gid}", "story"),
    ("/tags", "tags"),
    ("/tags/{gid}", "tag"),
    ("/tags/{gid}/tasks", "tag_tasks"),
    ("/portfolios", "portfolios"),
    ("/portfolios/{gid}", "portfolio"),
    ("/portfolios/{gid}/items", "portfolio_items"),
    ("/custom_fields/{gid}", "custom_field"),
    ("/user_task_lists/{gid}", "user_task_list"),
    ("/user_task_lists/{gid}/tasks", "user_task_list_tasks"),
    ("/events", "events"),
)
SEARCH_ROUTE = "GET /workspaces/{gid}/tasks/search"
#: /workspaces/{gid}/users and /teams/{gid}/users take no `limit`: alphabetical, at most 2000.
MEMBER_LIST_MAX = 2000
SEARCH_SORT_KEYS = {"modified_at": "modified_at", "created_at": "created_at", "completed_at": "completed_at",
                    "due_date": "due_on", "relevance": "modified_at"}


def alphabetical(users: Sequence[Record]) -> List[Record]:
    """Workspace and team member lists: by name, at most 2000 (asana-api.md 2.2)."""
    return sorted(users, key=lambda u: (u["name"].lower(), u["gid"]))[:MEMBER_LIST_MAX]


@dataclass
class ApiRequest:
    path: str  # below /api/1.0
    query: List[Tuple[str, str]]
    user: str  # the authenticated user's gid
    base_url: str
    params: Dict[str, str] = field(init=False)
    fields: Optional[FieldTree] = field(init=False)

    def __post_init__(self) -> None:
        self.params = {}
        for key, value in self.query:
            self.params.setdefault(key, value)
        self.fields = parse_opt_fields(self.params.get("opt_fields"))


@dataclass(frozen=True)
class Restrictions:
    """Who may see what: premium-only endpoints, 403 projects, tasks that vanished."""

    free_workspaces: frozenset
    forbidden_projects: frozenset
    vanished_tasks: frozenset

    @classmethod
    def build(cls, store: Store, options: Options) -> "Restrictions":
        with store.lock:
            free = {w["gid"] for w in store.of_type("workspace") if options.free_workspaces or not w["_premium"]}
            live = [p for p in store.of_type("project") if not p["archived"]]
            forbidden = {p["gid"] for p in live[:options.forbidden_projects]}
            readable = [t["gid"] for t in store.of_type("task") if t["projects"] and not t["parent"]
                        and all(p.gid not in forbidden for p in t["projects"])
                        and all(not store.records[p.gid]["archived"] for p in t["projects"])]
            picker = random.Random(f"vanished:{store.seed}")
            vanished = picker.sample(readable, min(len(readable), options.vanished_tasks))
        return cls(frozenset(free), frozenset(forbidden), frozenset(vanished))


class Api:
    def __init__(self, store: Store, pager: Pager, restrictions: Restrictions, event_log: EventLog) -> None:
        self.store, self.pager, self.limits, self.event_log = store, pager, restrictions, event_log
        self.render = Renderer(store)
        handlers = [(t, getattr(self, h)) for t, h in ROUTES] + MoreApi(self).routes()
        self._routes = [(re.compile("^" + t.replace("{gid}", "([^/]+)") + "/?$"), f"GET {t}", handler)
                        for t, handler in handlers]

    def match(self, method: str, path: str) -> Tuple[str, Optional[Callable[..., Body]], Sequence[str]]:
        """The route's stats name, its handler and path arguments (handler None: 404)."""
        if method == "GET":
            for pattern, name, handler in self._routes:
                found = pattern.match(path)
                if found:
                    return name, handler, found.groups()
        return f"{method} (no route)", None, ()

    def handle(self, handler: Optional[Callable[..., Body]], args: Sequence[str], request: ApiRequest) -> Body:
        if handler is None:
            raise ApiError(404, errors.NO_ROUTE)
        with self.store.lock:
            return handler(request, *args)

    # --- helpers ---------------------------------------------------------------------------------
    def _get(self, gid: str, resource_type: str, param: Optional[str] = None) -> Record:
        param = param or resource_type
        if not gid.isdigit():
            raise bad_param(param, "Not a Long")
        record = self.store.get(gid, resource_type)
        if record is None:
            raise not_found(param, gid)
        return record

    def _user(self, value: str, param: str = "user") -> Record:
        if value == "me":
            return self.store.records[self.store.me]
        if "@" in value:
            for user in self.store.of_type("user"):
                if user["email"].lower() == value.lower():
                    return user
            raise not_found(param, value)
        return self._get(value, "user", param)

    def _required(self, request: ApiRequest, name: str) -> str:
        value = request.params.get(name)
        if not value:
            raise bad_param(name, "Missing input")
        return value

    def _premium(self, workspace_gid: str) -> None:
        if workspace_gid in self.limits.free_workspaces:
            raise ApiError(402, errors.PREMIUM_ONLY)

    def _readable_project(self, gid: str) -> Record:
        project = self._get(gid, "project")
        if gid in self.limits.forbidden_projects:
            raise ApiError(403, FORBIDDEN)
        return project

    def _task(self, gid: str) -> Record:
        if gid in self.limits.vanished_tasks:  # deleted between listing and reading
            raise not_found("task", gid)
        return self._get(gid, "task")

    @staticmethod
    def _bool(request: ApiRequest, name: str) -> Optional[bool]:
        raw = request.params.get(name)
        if raw is None:
            return None
        if raw.lower() not in ("true", "false"):
            raise bad_param(name, f"Not a boolean: {raw}")
        return raw.lower() == "true"

    @staticmethod
    def _time(request: ApiRequest, name: str) -> Optional[int]:
        raw = request.params.get(name)
        if raw is None:
            return None
        try:
            return parse_us(raw)
        except ValueError:
            raise bad_param(name, f"Not a valid ISO 8601 date-time: {raw}")

    def _list(self, request: ApiRequest, records: Sequence[Record]) -> Body:
        page, extra = self.pager.page(records, request.path, request.query, request.params, request.base_url)
        return {"data": self.render.many(page, request.fields), **extra}

    def _unpaged(self, request: ApiRequest, records: Sequence[Record]) -> Body:
        return {"data": self.render.many(records, request.fields)}

    def _one(self, request: ApiRequest, record: Record) -> Body:
        return {"data": self.render.one(record, request.fields)}

    def _task_filters(self, request: ApiRequest, tasks: Sequence[Record]) -> List[Record]:
        """`modified_since` (>=) and `completed_since` (incomplete, or completed at or after)."""
        since = self._time(request, "modified_since")
        if since is not None:
            tasks = [t for t in tasks if parse_us(t["modified_at"]) >= since]
        completed = request.params.get("completed_since")
        if completed is not None:
            if completed == "now":
                tasks = [t for t in tasks if not t["completed"]]
            else:
                bound = self._time(request, "completed_since")
                tasks = [t for t in tasks if not t["completed"] or parse_us(t["completed_at"]) >= bound]
        return list(tasks)

    def _archived(self, request: ApiRequest, projects: Sequence[Record]) -> List[Record]:
        archived = self._bool(request, "archived")
        return [p for p in projects if archived is None or p["archived"] == archived]

    def _assigned(self, user: str, workspace: str) -> List[Record]:
        return [t for t in self.store.related_records(Rel.WORKSPACE_TASKS, workspace)
                if t["assignee"] and t["assignee"].gid == user]

    def _members_alphabetically(self, request: ApiRequest, relation: str, owner: str) -> Body:
        return self._unpaged(request, alphabetical(self.store.related_records(relation, owner)))

    # --- users and workspaces --------------------------------------------------------------------
    def user_me(self, request: ApiRequest) -> Body:
        return self._one(request, self.store.records[request.user])

    def user(self, request: ApiRequest, gid: str) -> Body:
        return self._one(request, self._user(gid))

    def users(self, request: ApiRequest) -> Body:
        workspace, team = request.params.get("workspace"), request.params.get("team")
        if team:
            users = self.store.related_records(Rel.TEAM_USERS, self._get(team, "team")["gid"])
            if workspace:
                users = [u for u in users if any(w.gid == workspace for w in u["workspaces"])]
        elif workspace:
            users = self.store.related_records(Rel.WORKSPACE_USERS, self._get(workspace, "workspace")["gid"])
        else:
            raise ApiError(400, MULTI_WORKSPACE)
        return self._list(request, users)

    def workspaces(self, request: ApiRequest) -> Body:
        me = self.store.records[request.user]
        return self._list(request, [self.store.records[w.gid] for w in me["workspaces"]])

    def workspace(self, request: ApiRequest, gid: str) -> Body:
        return self._one(request, self._get(gid, "workspace"))

    def workspace_users(self, request: ApiRequest, gid: str) -> Body:
        return self._members_alphabetically(request, Rel.WORKSPACE_USERS, self._get(gid, "workspace")["gid"])

    def user_task_list_of(self, request: ApiRequest, gid: str) -> Body:
        user = self._user(gid)
        workspace = self._get(self._required(request, "workspace"), "workspace")
        utl = self.store.user_task_lists.get((user["gid"], workspace["gid"]))
        if utl is None:
            raise not_found("user", gid)
        return self._one(request, self.store.records[utl])

    def user_task_list(self, request: ApiRequest, gid: str) -> Body:
        return self._one(request, self._get(gid, "user_task_list"))

    def user_task_list_tasks(self, request: ApiRequest, gid: str) -> Body:
        utl = self._get(gid, "user_task_list")
        tasks = self._assigned(utl["owner"].gid, utl["workspace"].gid)
        return self._list(request, self._task_filters(request, tasks))

    # --- teams -----------------------------------------------------------------------------------
    def _teams(self, request: ApiRequest, gid: str, param: str) -> Body:
        workspace = self._get(gid, "workspace", param)
        if not workspace["is_organization"]:
            # Only organizations have teams; asana-api.md leaves the exact answer unverified.
            raise bad_param(param, f"Not an organization: {gid}")
        return self._list(request, self.store.related_records(Rel.WORKSPACE_TEAMS, gid))

    def workspace_teams(self, request: ApiRequest, gid: str) -> Body:
        return self._teams(request, gid, "workspace")

    def organization_teams(self, request: ApiRequest, gid: str) -> Body:
        return self._teams(request, gid, "organization")

    def team(self, request: ApiRequest, gid: str) -> Body:
        return self._one(request, self._get(gid, "team"))

    def team_users(self, request: ApiRequest, gid: str) -> Body:
        return self._members_alphabetically(request, Rel.TEAM_USERS, self._get(gid, "team")["gid"])

    # --- projects and sections ---------------------------------------------------------------------
    def projects(self, request: ApiRequest) -> Body:
        workspace, team = request.params.get("workspace"), request.params.get("team")
        if team:
            projects = self.store.related_records(Rel.TEAM_PROJECTS, self._get(team, "team")["gid"])
            if workspace:
                projects = [p for p in projects if p["workspace"].gid == workspace]
        elif workspace:
            projects = self.store.related_records(Rel.WORKSPACE_PROJECTS, self._get(workspace, "workspace")["gid"])
        else:
            raise ApiError(400, MULTI_WORKSPACE)
        return self._list(request, self._archived(request, projects))

    def workspace_projects(self, request: ApiRequest, gid: str) -> Body:
        projects = self.store.related_records(Rel.WORKSPACE_PROJECTS, self._get(gid, "workspace")["gid"])
        return self._list(request, self._archived(request, projects))

    def team_projects(self, request: ApiRequest, gid: str) -> Body:
        projects = self.store.related_records(Rel.TEAM_PROJECTS, self._get(gid, "team")["gid"])
        return self._list(request, self._archived(request, projects))

    def project(self, request: ApiRequest, gid: str) -> Body:
        return self._one(request, self._get(gid, "project"))

    def project_sections(self, request: ApiRequest, gid: str) -> Body:
        project = self._readable_project(gid)
        return self._list(request, self.store.related_records(Rel.PROJECT_SECTIONS, project["gid"]))

    def project_tasks(self, request: ApiRequest, gid: str) -> Body:
        # Asana documents no `modified_since` here, so it is ignored like any unknown parameter.
        request.params.pop("modified_since", None)
        project = self._readable_project(gid)
        tasks = self.store.related_records(Rel.PROJECT_TASKS, project["gid"])
        return self._list(request, self._task_filters(request, tasks))

    def project_custom_field_settings(self, request: ApiRequest, gid: str) -> Body:
        project = self._readable_project(gid)
        return self._list(request, self.store.related_records(Rel.PROJECT_SETTINGS, project["gid"]))

    def section(self, request: ApiRequest, gid: str) -> Body:
        return self._one(request, self._get(gid, "section"))

    def section_tasks(self, request: ApiRequest, gid: str) -> Body:
        section = self._get(gid, "section")
        if section["project"].gid in self.limits.forbidden_projects:
            raise ApiError(403, FORBIDDEN)
        tasks = self.store.related_records(Rel.SECTION_TASKS, gid)
        return self._list(request, self._task_filters(request, tasks))

    # --- tasks and stories ------------------------------------------------------------------------
    def tasks(self, request: ApiRequest) -> Body:
        params = request.params
        chosen = [k for k in ("project", "tag", "section", "user_task_list") if params.get(k)]
        by_assignee = bool(params.get("assignee")) or bool(params.get("workspace"))
        if len(chosen) + by_assignee != 1 or by_assignee and not (params.get("assignee") and params.get("workspace")):
            raise ApiError(400, errors.TASK_FILTER)
        if by_assignee:
            workspace = self._get(params["workspace"], "workspace")
            tasks = self._assigned(self._user(params["assignee"], "assignee")["gid"], workspace["gid"])
        elif chosen[0] == "project":
            tasks = self.store.related_records(Rel.PROJECT_TASKS, self._readable_project(params["project"])["gid"])
        elif chosen[0] == "tag":
            tasks = self.store.related_records(Rel.TAG_TASKS, self._get(params["tag"], "tag")["gid"])
        elif chosen[0] == "section":
            return self.section_tasks(request, params["section"])
        else:
            return self.user_task_list_tasks(request, params["user_task_list"])
        return self._list(request, self._task_filters(request, tasks))

    def task(self, request: ApiRequest, gid: str) -> Body:
        return self._one(request, self._task(gid))

    def subtasks(self, request: ApiRequest, gid: str) -> Body:
        return self._list(request, self.store.related_records(Rel.TASK_SUBTASKS, self._task(gid)["gid"]))

    def stories(self, request: ApiRequest, gid: str) -> Body:
        return self._list(request, self.store.related_records(Rel.TASK_STORIES, self._task(gid)["gid"]))

    def task_tags(self, request: ApiRequest, gid: str) -> Body:
        task = self._task(gid)
        return self._list(request, [self.store.records[t.gid] for t in task["tags"] if t.gid in self.store.records])

    def story(self, request: ApiRequest, gid: str) -> Body:
        return self._one(request, self._get(gid, "story"))

    # --- tags ------------------------------------------------------------------------------------
    def tags(self, request: ApiRequest) -> Body:
        workspace = request.params.get("workspace")
        if not workspace:
            raise ApiError(400, MULTI_WORKSPACE)
        return self.workspace_tags(request, workspace)

    def workspace_tags(self, request: ApiRequest, gid: str) -> Body:
        return self._list(request, self.store.related_records(Rel.WORKSPACE_TAGS, self._get(gid, "workspace")["gid"]))

    def tag(self, request: ApiRequest, gid: str) -> Body:
        return self._one(request, self._get(gid, "tag"))

    def tag_tasks(self, request: ApiRequest, gid: str) -> Body:
        tasks = self.store.related_records(Rel.TAG_TASKS, self._get(gid, "tag")["gid"])
        return self._list(request, self._task_filters(request, tasks))

    # --- premium: portfolios, custom fields, search -------------------------------------------------
    def portfolios(self, request: ApiRequest) -> Body:
        workspace = self._get(self._required(request, "workspace"), "workspace")
        self._premium(workspace["gid"])
        # A PAT or OAuth user sees only portfolios it owns (asana-api.md 2.9).
        owner = self._user(request.params.get("owner") or "me", "owner")["gid"]
        portfolios = [p for p in self.store.related_records(Rel.WORKSPACE_PORTFOLIOS, workspace["gid"])
                      if p["owner"].gid == owner]
        return self._list(request, portfolios)

    def _portfolio(self, gid: str) -> Record:
        portfolio = self._get(gid, "portfolio")
        self._premium(portfolio["workspace"].gid)
        return portfolio

    def portfolio(self, request: ApiRequest, gid: str) -> Body:
        return self._one(request, self._portfolio(gid))

    def portfolio_items(self, request: ApiRequest, gid: str) -> Body:
        return self._list(request, self.store.related_records(Rel.PORTFOLIO_ITEMS, self._portfolio(gid)["gid"]))

    def workspace_custom_fields(self, request: ApiRequest, gid: str) -> Body:
        workspace = self._get(gid, "workspace")
        self._premium(workspace["gid"])
        return self._list(request, self.store.related_records(Rel.WORKSPACE_CUSTOM_FIELDS, gid))

    def custom_field(self, request: ApiRequest, gid: str) -> Body:
        field_record = self._get(gid, "custom_field")
        self._premium(field_record["_workspace"])
        return self._one(request, field_record)

    def _hidden(self, task: Record) -> bool:
        """Tasks the user cannot see: under a top-level task whose projects are all 403."""
        while task["parent"] and task["parent"].gid in self.store.records:
            task = self.store.records[task["parent"].gid]
        homes = [p.gid for p in task["projects"]]
        return bool(homes) and all(h in self.limits.forbidden_projects for h in homes)

    def search(self, request: ApiRequest, gid: str) -> Body:
        """A subset of Asana's search filters; no next_page ever (asana-api.md 2.6)."""
        workspace = self._get(gid, "workspace")
        self._premium(workspace["gid"])
        limit = parse_limit(request.params.get("limit"), default=20)
        tasks = [t for t in self.store.related_records(Rel.WORKSPACE_TASKS, gid) if not self._hidden(t)]
        tasks = self._search_filters(request, tasks)
        sort_by = request.params.get("sort_by", "modified_at")
        if sort_by not in SEARCH_SORT_KEYS and sort_by != "likes":
            raise bad_param("sort_by", f"Not a valid enum value: {sort_by}")
        ascending = self._bool(request, "sort_ascending") or False
        if sort_by == "likes":
            tasks.sort(key=lambda t: (t["num_likes"], t["gid"]), reverse=not ascending)
        else:
            key = SEARCH_SORT_KEYS[sort_by]
            tasks.sort(key=lambda t: (t.get(key) or "", t["gid"]), reverse=not ascending)
        return {"data": self.render.many(tasks[:limit], request.fields)}

    def _search_filters(self, request: ApiRequest, tasks: List[Record]) -> List[Record]:
        params = request.params
        for name, test in (("is_subtask", lambda t, v: bool(t["parent"]) == v),
                           ("completed", lambda t, v: t["completed"] == v)):
            wanted = self._bool(request, name)
            if wanted is not None:
                tasks = [t for t in tasks if test(t, wanted)]
        for field_name in ("modified_at", "created_at", "completed_at", "due_at"):
            after, before = self._time(request, field_name + ".after"), self._time(request, field_name + ".before")
            if after is not None:
                tasks = [t for t in tasks if t.get(field_name) and parse_us(t[field_name]) > after]
            if before is not None:
                tasks = [t for t in tasks if t.get(field_name) and parse_us(t[field_name]) < before]
        for name, lookup in (("projects", lambda t: {p.gid for p in t["projects"]}),
                             ("tags", lambda t: {g.gid for g in t["tags"]}),
                             ("sections", lambda t: {m["section"].gid for m in t["memberships"] if m["section"]}),
                             ("assignee", lambda t: {t["assignee"].gid} if t["assignee"] else set())):
            for mode in ("any", "not", "all"):
                raw = params.get(f"{name}.{mode}")
                if raw is None:
                    continue
                gids = {self.store.me if g == "me" else g for g in raw.split(",") if g}
                if mode == "any":
                    tasks = [t for t in tasks if lookup(t) & gids]
                elif mode == "not":
                    tasks = [t for t in tasks if not lookup(t) & gids]
                else:
                    tasks = [t for t in tasks if gids <= lookup(t)]
        if params.get("resource_subtype"):
            tasks = [t for t in tasks if t["resource_subtype"] == params["resource_subtype"]]
        if params.get("text"):
            text = params["text"].lower()
            tasks = [t for t in tasks if text in t["name"].lower() or text in t["notes"].lower()]
        return tasks

    # --- events ----------------------------------------------------------------------------------
    def events(self, request: ApiRequest) -> Body:
        """A task's or a project's event stream (asana-api.md 2.14): 412 with a fresh token
        when `sync` is absent or stale, else the events since the token."""
        gid = self._required(request, "resource")
        if not gid.isdigit():
            raise bad_param("resource", "Not a Long")
        record = self.store.get(gid)
        if record is None or record["resource_type"] not in ("task", "project"):
            raise not_found("resource", gid)
        if record["resource_type"] == "project" and gid in self.limits.forbidden_projects:
            raise ApiError(403, FORBIDDEN)
        if gid in self.limits.vanished_tasks:
            raise not_found("resource", gid)
        return self.event_log.serve(gid, request.params.get("sync"))
