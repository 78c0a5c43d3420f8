"""The GET routes of the resources of more.py, on top of the core `Api`'s helpers."""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .errors import ApiError, bad_param, not_found
from .more import DATE, Record
from .store import Rel
from .timefmt import parse_us

ROUTES: Tuple[Tuple[str, str], ...] = (
    ("/attachments", "attachments"),
    ("/attachments/{gid}", "attachment"),
    ("/memberships", "memberships"),
    ("/memberships/{gid}", "membership"),
    ("/team_memberships", "team_memberships"),
    ("/team_memberships/{gid}", "team_membership"),
    ("/teams/{gid}/team_memberships", "team_memberships_of_team"),
    ("/portfolio_memberships", "portfolio_memberships"),
    ("/portfolio_memberships/{gid}", "portfolio_membership"),
    ("/portfolios/{gid}/portfolio_memberships", "portfolio_memberships_of_portfolio"),
    ("/status_updates", "status_updates"),
    ("/status_updates/{gid}", "status_update"),
    ("/goals", "goals"),
    ("/goals/{gid}", "goal"),
    ("/time_tracking_entries", "time_tracking_entries"),
    ("/time_tracking_entries/{gid}", "time_tracking_entry"),
    ("/tasks/{gid}/time_tracking_entries", "task_time_tracking_entries"),
)
GOAL_FILTER = "Must specify one of workspace, team, project, portfolio or task"
ENTRY_FILTER = "Must specify at least one of task, attributable_to, portfolio, user or workspace"
ENTRY_DATES = ("entered_on_start_date: At least one of entered_on_start_date or entered_on_end_date must be "
               "provided when filtering by workspace")


class MoreApi:
    """The GET handlers of the new routes, on top of the core `Api`'s helpers (404s, 402s,
    403s, pagination and rendering behave exactly as on the other routes)."""

    def __init__(self, api: Any) -> None:
        self.api, self.store = api, api.store

    def routes(self) -> List[Tuple[str, Callable[..., Dict[str, Any]]]]:
        return [(template, getattr(self, name)) for template, name in ROUTES]

    # --- helpers ----------------------------------------------------------------------------------
    def _parent(self, request: Any, name: str, allowed: Sequence[str]) -> Record:
        gid = self.api._required(request, name)
        if not gid.isdigit():
            raise bad_param(name, "Not a Long")
        record = self.store.get(gid)
        if record is None or record["resource_type"] not in allowed:
            raise not_found(name, gid)
        kind = record["resource_type"]
        if kind == "project":
            return self.api._readable_project(gid)
        if kind == "task":
            return self.api._task(gid)
        if kind in ("portfolio", "goal"):
            self.api._premium(record["workspace"].gid)
        return record

    def _live(self, records: Sequence[Record], key: str) -> List[Record]:
        """Children of a deleted task go with it."""
        return [r for r in records if r[key] is None or r[key].gid in self.store.records]

    def _team_premium(self, team: Record) -> None:
        self.api._premium(team["organization"].gid)

    @staticmethod
    def _date(request: Any, name: str) -> Optional[str]:
        raw = request.params.get(name)
        if raw is None:
            return None
        if not DATE.match(raw):
            raise bad_param(name, f"Not a valid date: {raw}")
        return raw

    # --- attachments --------------------------------------------------------------------------------
    def attachments(self, request: Any) -> Dict[str, Any]:
        parent = self._parent(request, "parent", ("task", "project"))
        return self.api._list(request, self.store.related_records(Rel.ATTACHMENTS, parent["gid"]))

    def attachment(self, request: Any, gid: str) -> Dict[str, Any]:
        return self.api._one(request, self.api._get(gid, "attachment"))

    # --- memberships --------------------------------------------------------------------------------
    def memberships(self, request: Any) -> Dict[str, Any]:
        """`parent` a project or a portfolio (goal memberships are not generated: 400)."""
        parent = self._parent(request, "parent", ("project", "portfolio", "goal"))
        if parent["resource_type"] == "goal":
            raise bad_param("parent", "goal memberships are not served by this fake")
        relation = {"project": Rel.PROJECT_MEMBERSHIPS, "portfolio": Rel.PORTFOLIO_MEMBERSHIPS}
        records = self.store.related_records(relation[parent["resource_type"]], parent["gid"])
        member = request.params.get("member")
        if member:
            records = [r for r in records if r["member"].gid == member]
        return self.api._list(request, records)

    def membership(self, request: Any, gid: str) -> Dict[str, Any]:
        return self.api._one(request, self.api._get(gid, "membership"))

    def team_memberships(self, request: Any) -> Dict[str, Any]:
        params = request.params
        if params.get("team"):
            return self.team_memberships_of_team(request, params["team"])
        if not (params.get("user") and params.get("workspace")):
            raise bad_param("team", "Missing input")
        user = self.api._user(params["user"])
        workspace = self.api._get(params["workspace"], "workspace")
        records = [m for t in self.store.related(Rel.WORKSPACE_TEAMS, workspace["gid"])
                   for m in self.store.related_records(Rel.TEAM_MEMBERSHIPS, t) if m["user"].gid == user["gid"]]
        return self.api._list(request, sorted(records, key=lambda r: r["gid"]))

    def team_memberships_of_team(self, request: Any, gid: str) -> Dict[str, Any]:
        team = self.api._get(gid, "team")
        return self.api._list(request, self.store.related_records(Rel.TEAM_MEMBERSHIPS, team["gid"]))

    def team_membership(self, request: Any, gid: str) -> Dict[str, Any]:
        return self.api._one(request, self.api._get(gid, "team_membership"))

    def portfolio_memberships(self, request: Any) -> Dict[str, Any]:
        params = request.params
        if params.get("portfolio"):
            return self.portfolio_memberships_of_portfolio(request, params["portfolio"])
        if not (params.get("user") and params.get("workspace")):
            raise bad_param("portfolio", "Missing input")
        user = self.api._user(params["user"])
        workspace = self.api._get(params["workspace"], "workspace")
        self.api._premium(workspace["gid"])
        records = [m for p in self.store.related(Rel.WORKSPACE_PORTFOLIOS, workspace["gid"])
                   for m in self.store.related_records(Rel.PORTFOLIO_MEMBERSHIPS, p)
                   if m["user"].gid == user["gid"]]
        return self.api._list(request, sorted(records, key=lambda r: r["gid"]))

    def portfolio_memberships_of_portfolio(self, request: Any, gid: str) -> Dict[str, Any]:
        portfolio = self.api._portfolio(gid)
        records = self.store.related_records(Rel.PORTFOLIO_MEMBERSHIPS, portfolio["gid"])
        if request.params.get("user"):
            user = self.api._user(request.params["user"])
            records = [r for r in records if r["user"].gid == user["gid"]]
        return self.api._list(request, records)

    def portfolio_membership(self, request: Any, gid: str) -> Dict[str, Any]:
        record = self.api._get(gid, "portfolio_membership")
        self.api._premium(self.store.records[record["portfolio"].gid]["workspace"].gid)
        return self.api._one(request, record)

    # --- status updates -----------------------------------------------------------------------------
    def status_updates(self, request: Any) -> Dict[str, Any]:
        """`created_since` keeps those created at or after it (>=, like `modified_since`)."""
        parent = self._parent(request, "parent", ("project", "portfolio", "goal"))
        records = self.store.related_records(Rel.STATUS_UPDATES, parent["gid"])
        since = self.api._time(request, "created_since")
        if since is not None:
            records = [r for r in records if parse_us(r["created_at"]) >= since]
        return self.api._list(request, records)

    def status_update(self, request: Any, gid: str) -> Dict[str, Any]:
        record = self.api._get(gid, "status_update")
        parent = self.store.records[record["parent"].gid]
        if parent["resource_type"] != "project":
            self.api._premium(parent["workspace"].gid)
        return self.api._one(request, record)

    # --- goals --------------------------------------------------------------------------------------
    def goals(self, request: Any) -> Dict[str, Any]:
        params = request.params
        level = self.api._bool(request, "is_workspace_level")
        if params.get("workspace"):
            workspace = self.api._get(params["workspace"], "workspace")
            self.api._premium(workspace["gid"])
            goals = self.store.related_records(Rel.WORKSPACE_GOALS, workspace["gid"])
            if params.get("team"):
                goals = [g for g in goals if g["team"] and g["team"].gid == params["team"]]
        elif params.get("team"):
            team = self.api._get(params["team"], "team")
            self._team_premium(team)
            goals = [g for g in self.store.related_records(Rel.WORKSPACE_GOALS, team["organization"].gid)
                     if g["team"] and g["team"].gid == team["gid"]]
        else:
            scope = next((k for k in ("project", "portfolio", "task") if params.get(k)), None)
            if scope is None:
                raise ApiError(400, GOAL_FILTER)
            target = self.api._get(params[scope], scope)
            self.api._premium(target["workspace"].gid)
            goals = [g for g in self.store.of_type("goal") if target["gid"] in g["_supports"]]
        if level is not None:
            if not params.get("workspace"):
                raise bad_param("is_workspace_level", "Must be used with the workspace parameter")
            goals = [g for g in goals if g["is_workspace_level"] == level]
        return self.api._list(request, goals)

    def goal(self, request: Any, gid: str) -> Dict[str, Any]:
        goal = self.api._get(gid, "goal")
        self.api._premium(goal["workspace"].gid)
        return self.api._one(request, goal)

    # --- time tracking ------------------------------------------------------------------------------
    def task_time_tracking_entries(self, request: Any, gid: str) -> Dict[str, Any]:
        task = self.api._task(gid)
        self.api._premium(task["workspace"].gid)
        return self.api._list(request, self.store.related_records(Rel.TASK_TIME_ENTRIES, task["gid"]))

    def time_tracking_entries(self, request: Any) -> Dict[str, Any]:
        """Filters combine (AND); dates are inclusive `YYYY-MM-DD` bounds on `entered_on`."""
        params = request.params
        start, end = self._date(request, "entered_on_start_date"), self._date(request, "entered_on_end_date")
        entries = self._live(self.store.of_type("time_tracking_entry"), "task")
        chosen = False
        if params.get("task"):
            task = self.api._task(params["task"])
            self.api._premium(task["workspace"].gid)
            entries, chosen = [e for e in entries if e["task"].gid == task["gid"]], True
        if params.get("attributable_to"):
            project = self.api._get(params["attributable_to"], "project", "attributable_to")
            self.api._premium(project["workspace"].gid)
            entries = [e for e in entries if e["attributable_to"] and e["attributable_to"].gid == project["gid"]]
            chosen = True
        if params.get("portfolio"):
            portfolio = self.api._portfolio(params["portfolio"])
            items = set(self.store.related(Rel.PORTFOLIO_ITEMS, portfolio["gid"]))
            entries = [e for e in entries if e["attributable_to"] and e["attributable_to"].gid in items]
            chosen = True
        if params.get("workspace"):
            workspace = self.api._get(params["workspace"], "workspace")
            self.api._premium(workspace["gid"])
            if start is None and end is None:
                raise ApiError(400, ENTRY_DATES)
            entries = [e for e in entries if self.store.records[e["task"].gid]["workspace"].gid == workspace["gid"]]
            chosen = True
        if params.get("user"):
            user = self.api._user(params["user"])
            free = self.api.limits.free_workspaces
            entries = [e for e in entries if e["created_by"].gid == user["gid"]
                       and self.store.records[e["task"].gid]["workspace"].gid not in free]
            chosen = True
        if not chosen:
            raise ApiError(400, ENTRY_FILTER)
        if start is not None:
            entries = [e for e in entries if e["entered_on"] >= start]
        if end is not None:
            entries = [e for e in entries if e["entered_on"] <= end]
        return self.api._list(request, entries)

    def time_tracking_entry(self, request: Any, gid: str) -> Dict[str, Any]:
        entry = self.api._get(gid, "time_tracking_entry")
        task = self.store.records.get(entry["task"].gid)
        if task is None:
            raise not_found("time_tracking_entry", gid)
        self.api._premium(task["workspace"].gid)
        return self.api._one(request, entry)
