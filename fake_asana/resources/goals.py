"""Goals (paid) and the time periods they run over: two at workspace level and two per
team in the organization, some with a status update."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from ..errors import ApiError, bad_param
from ..factory import Generation, Maker
from ..mutate import Change
from ..routing import Route
from ..serving import ApiRequest, Body, One, Serving
from ..store import Record, Ref, Rel
from ..timefmt import DAY_MS, fmt_date
from .status_updates import new_status_update
from .workspaces import premium_workspaces

GOALS_PER_TEAM = 2  # plus GOALS_PER_TEAM workspace-level goals per organization
STATUS_TYPES = ("on_track", "at_risk", "off_track", "achieved", "partial", "missed", "dropped")
STATUS = {"on_track": "green", "at_risk": "yellow", "off_track": "red", "achieved": "achieved",
          "partial": "partial", "missed": "missed", "dropped": "dropped"}
NAMES = ("Grow revenue", "Cut churn", "Ship v2", "Hire the team", "Improve NPS", "Reduce costs",
         "Expand to EMEA", "Raise uptime", "Launch partner program", "Halve support backlog")
QUARTER_ENDS = {3: 31, 6: 30, 9: 30, 12: 31}


# --- made --------------------------------------------------------------------------------------------
def time_period(make: Maker, start: int) -> Record:
    """The quarter `start` falls in: one record per quarter, shared by its goals."""
    day = fmt_date(start)
    year, month = int(day[:4]), int(day[5:7])
    quarter = (month - 1) // 3 + 1
    start_on = f"{year}-{(quarter - 1) * 3 + 1:02d}-01"
    for existing in make.store.of_type("time_period"):
        if existing["start_on"] == start_on:
            return existing
    end_month = quarter * 3
    record = {"gid": make.store.new_gid(), "resource_type": "time_period", "period": f"Q{quarter}",
              "display_name": f"Q{quarter} FY{year % 100:02d}",
              "start_on": start_on, "end_on": f"{year}-{end_month:02d}-{QUARTER_ENDS[end_month]}", "parent": None}
    return make.store.add(record)


def new_goal(make: Maker, workspace: str, team: Optional[str], at: int, name: str,
             supports: Sequence[str] = ()) -> Record:
    """A goal of a team, or at workspace level (`team` None), due at the end of its quarter;
    `supports`: the projects it is a goal of."""
    rng, users = make.rng, make.members(workspace)
    owner = rng.choice(users)
    period = time_period(make, at)
    target = float(rng.choice((10, 50, 100, 1000)))
    unit = rng.choice(("none", "percentage", "currency"))
    notes = f"{name}: measured every quarter."
    record: Record = {
        "gid": make.store.new_gid(), "resource_type": "goal", "name": name,
        "html_notes": make.html_of(notes), "notes": notes,
        "due_on": period["end_on"], "start_on": period["start_on"] if rng.random() < 0.5 else None,
        "is_workspace_level": team is None, **{k: v for k, v in make.likes(workspace).items()
                                               if k in ("liked", "likes", "num_likes")},
        "team": Ref(team) if team else None, "workspace": Ref(workspace), "time_period": Ref(period["gid"]),
        "metric": {"gid": make.store.new_gid(), "resource_type": "goal_metric", "resource_subtype": "number",
                   "precision": 0 if unit != "currency" else 2, "unit": unit,
                   "currency_code": "EUR" if unit == "currency" else None,
                   "initial_number_value": 0.0, "target_number_value": target,
                   "current_number_value": round(target * rng.random(), 0),
                   "current_display_value": None, "progress_source": "manual",
                   "is_custom_weight": False, "can_manage": True},
        "owner": Ref(owner), "current_status_update": None, "status": None,
        "followers": [Ref(u) for u in dict.fromkeys([owner] + rng.sample(users, min(2, len(users))))],
        "custom_field_settings": [], "custom_fields": [],
        "default_access_level": rng.choice(("viewer", "commenter", "editor")),
        "privacy_setting": rng.choice(("public_to_workspace", "members_only")),
        "_supports": list(supports),
    }
    record["metric"]["current_display_value"] = str(int(record["metric"]["current_number_value"]))
    make.store.add(record)
    make.store.link(Rel.WORKSPACE_GOALS, workspace, record["gid"])
    return record


def goal_status(make: Maker, goal: Record, created: int) -> Record:
    """A status update by the goal's owner; the goal's `status` follows it."""
    status_type = make.rng.choice(STATUS_TYPES)
    update = new_status_update(make, goal, created, goal["owner"].gid, status_type,
                               status_type.replace("_", " ").capitalize())
    goal["status"] = STATUS[status_type]
    return update


# --- generated ---------------------------------------------------------------------------------------
def generate(gen: Generation) -> None:
    names = iter(NAMES * 100)
    for workspace in premium_workspaces(gen.store):
        if not gen.store.records[workspace]["is_organization"]:
            continue
        teams = gen.store.related(Rel.WORKSPACE_TEAMS, workspace)
        projects = [p["gid"] for p in gen.store.related_records(Rel.WORKSPACE_PROJECTS, workspace)]
        owners = [None] * GOALS_PER_TEAM + [t for t in teams for _ in range(GOALS_PER_TEAM)]
        for team in owners:
            at = gen.between(gen.end - 400 * DAY_MS, gen.end)
            supports = gen.rng.sample(projects, min(len(projects), gen.rng.randint(0, 2)))
            goal = new_goal(gen.make, workspace, team, at, next(names), supports)
            if gen.rng.random() < 0.6:
                goal_status(gen.make, goal, at)


# --- served ------------------------------------------------------------------------------------------

GOAL_FILTER = "Must specify one of workspace, team, project, portfolio or task"


def goals(kit: Serving, request: ApiRequest) -> Body:
    """`workspace` (and `team`), `team`, or what a goal supports (`project`, `portfolio`, `task`);
    `is_workspace_level` only with `workspace`."""
    params = request.params
    level = kit.flag(request, "is_workspace_level")
    if params.get("workspace"):
        workspace = kit.get(params["workspace"], "workspace")
        kit.premium(workspace["gid"])
        found = kit.store.related_records(Rel.WORKSPACE_GOALS, workspace["gid"])
        if params.get("team"):
            found = [g for g in found if g["team"] and g["team"].gid == params["team"]]
    elif params.get("team"):
        found = goals_of_team(kit, params["team"])
    else:
        found = goals_supporting(kit, request)
    if level is not None:
        if not params.get("workspace"):
            raise bad_param("is_workspace_level", "Must be used with the workspace parameter")
        found = [g for g in found if g["is_workspace_level"] == level]
    return kit.page(request, found)


def goals_of_team(kit: Serving, gid: str) -> List[Record]:
    team = kit.get(gid, "team")
    kit.premium(team["organization"].gid)
    return [g for g in kit.store.related_records(Rel.WORKSPACE_GOALS, team["organization"].gid)
            if g["team"] and g["team"].gid == team["gid"]]


def goals_supporting(kit: Serving, request: ApiRequest) -> List[Record]:
    scope = next((k for k in ("project", "portfolio", "task") if request.params.get(k)), None)
    if scope is None:
        raise ApiError(400, GOAL_FILTER)
    target = kit.get(request.params[scope], scope)
    kit.paid(target)
    return [g for g in kit.store.of_type("goal") if target["gid"] in g["_supports"]]


ROUTES = (
    Route("/goals", goals),
    Route("/goals/{gid}", One("goal", access=Serving.paid)),
)


# --- changed -----------------------------------------------------------------------------------------
def add_goal(change: Change, workspace: Optional[str] = None, team: Optional[str] = None,
             name: Optional[str] = None) -> Dict[str, Any]:
    """A goal in a team (`team`) or at workspace level (default: the first organization)."""
    if team is not None:
        space = change.one_of(team, "team", [])["organization"].gid
    else:
        spaces = [w["gid"] for w in change.store.of_type("workspace") if w["is_organization"]]
        space = change.one_of(workspace, "workspace", [])["gid"] if workspace else spaces[0]
    goal = new_goal(change.make, space, team, change.store.stamp_ms(), name or f"Goal {change.seq}")
    return {"gids": [goal["gid"]], "workspace": space, "team": team}
