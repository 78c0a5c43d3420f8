"""Workspaces, users and users' My Tasks lists (`user_task_list`)."""
from __future__ import annotations

from typing import List, Sequence

from ..errors import MULTI_WORKSPACE, ApiError, not_found
from ..routing import Route
from ..serving import ApiRequest, Body, Children, One, Record, Serving
from ..store import Rel, Store

#: Member lists of a workspace or team take no `limit`: by name, at most 2000
#: (`getUsersForWorkspace`, `getUsersForTeam`).
MEMBER_LIST_MAX = 2000


def premium_workspaces(store: Store) -> List[str]:
    return [w["gid"] for w in store.of_type("workspace") if w["_premium"]]


def alphabetical(users: Sequence[Record]) -> List[Record]:
    """A workspace's or team's members as Asana lists them."""
    return sorted(users, key=lambda u: (u["name"].lower(), u["gid"]))[:MEMBER_LIST_MAX]


def by_name(kit: Serving, request: ApiRequest, users: List[Record]) -> List[Record]:
    return alphabetical(users)


# --- served ------------------------------------------------------------------------------------------
def users(kit: Serving, request: ApiRequest) -> Body:
    workspace, team = request.params.get("workspace"), request.params.get("team")
    if team:
        found = kit.store.related_records(Rel.TEAM_USERS, kit.get(team, "team")["gid"])
        if workspace:
            found = [u for u in found if any(w.gid == workspace for w in u["workspaces"])]
    elif workspace:
        found = kit.store.related_records(Rel.WORKSPACE_USERS, kit.get(workspace, "workspace")["gid"])
    else:
        raise ApiError(400, MULTI_WORKSPACE)
    return kit.page(request, found)


def user(kit: Serving, request: ApiRequest, gid: str) -> Body:
    return kit.one(request, kit.user(gid))


def user_task_list_of(kit: Serving, request: ApiRequest, gid: str) -> Body:
    owner = kit.user(gid)
    workspace = kit.get(kit.required(request, "workspace"), "workspace")
    utl = kit.store.user_task_lists.get((owner["gid"], workspace["gid"]))
    if utl is None:
        raise not_found("user", gid)
    return kit.one(request, kit.store.records[utl])


def workspaces(kit: Serving, request: ApiRequest) -> Body:
    me = kit.store.records[request.user]
    return kit.page(request, [kit.store.records[w.gid] for w in me["workspaces"]])


ROUTES = (
    Route("/users", users),
    Route("/users/{gid}", user, counted_apart=("me",)),
    Route("/users/{gid}/user_task_list", user_task_list_of),
    Route("/workspaces", workspaces),
    Route("/workspaces/{gid}", One("workspace")),
    Route("/workspaces/{gid}/users", Children("workspace", Rel.WORKSPACE_USERS, refine=by_name, paged=False)),
    Route("/user_task_lists/{gid}", One("user_task_list")),
)
