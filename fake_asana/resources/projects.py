"""Projects, their memberships and their custom field settings."""
from __future__ import annotations

from typing import List

from ..errors import MULTI_WORKSPACE, ApiError, bad_param
from ..routing import Route
from ..serving import ApiRequest, Body, Children, One, Record, Serving
from ..store import Rel


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
    relation = {"project": Rel.PROJECT_MEMBERSHIPS, "portfolio": Rel.PORTFOLIO_MEMBERSHIPS}
    records = kit.store.related_records(relation[parent["resource_type"]], parent["gid"])
    member = request.params.get("member")
    if member:
        records = [r for r in records if r["member"].gid == member]
    return kit.page(request, records)


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
