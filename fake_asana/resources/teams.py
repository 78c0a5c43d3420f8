"""Teams (organizations only) and team memberships."""
from __future__ import annotations

from ..errors import bad_param
from ..routing import Route
from ..serving import ApiRequest, Body, Children, One, Record, Serving
from ..store import Rel
from .workspaces import by_name


def organization_only(kit: Serving, workspace: Record) -> None:
    if not workspace["is_organization"]:
        # Only organizations have teams; what Asana answers for a plain workspace is not verified.
        raise bad_param("workspace", f"Not an organization: {workspace['gid']}")


MEMBERSHIPS_OF_TEAM = Children("team", Rel.TEAM_MEMBERSHIPS)


def team_memberships(kit: Serving, request: ApiRequest) -> Body:
    """`team`, or `user` and `workspace`: that user's memberships of the workspace's teams."""
    params = request.params
    if params.get("team"):
        return MEMBERSHIPS_OF_TEAM(kit, request, params["team"])
    if not (params.get("user") and params.get("workspace")):
        raise bad_param("team", "Missing input")
    member = kit.user(params["user"])
    workspace = kit.get(params["workspace"], "workspace")
    records = [m for t in kit.store.related(Rel.WORKSPACE_TEAMS, workspace["gid"])
               for m in kit.store.related_records(Rel.TEAM_MEMBERSHIPS, t) if m["user"].gid == member["gid"]]
    return kit.page(request, sorted(records, key=lambda r: r["gid"]))


ROUTES = (
    Route("/workspaces/{gid}/teams", Children("workspace", Rel.WORKSPACE_TEAMS, access=organization_only)),
    Route("/teams/{gid}", One("team")),
    Route("/teams/{gid}/users", Children("team", Rel.TEAM_USERS, refine=by_name, paged=False)),
    Route("/teams/{gid}/team_memberships", MEMBERSHIPS_OF_TEAM),
    Route("/team_memberships", team_memberships),
    Route("/team_memberships/{gid}", One("team_membership")),
)
