"""Goals (paid) and the time periods they run over."""
from __future__ import annotations

from typing import List

from ..errors import ApiError, bad_param
from ..routing import Route
from ..serving import ApiRequest, Body, One, Record, Serving
from ..store import Rel

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
