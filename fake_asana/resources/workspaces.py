"""Workspaces, users and users' My Tasks lists (`user_task_list`). Two workspaces: a premium
organization and a free plain workspace, with some users in both."""
from __future__ import annotations

from typing import List, Sequence, Tuple

from ..errors import MULTI_WORKSPACE, ApiError, not_found
from ..factory import Generation
from ..routing import Route
from ..serving import ApiRequest, Body, Children, One, Serving
from ..store import Record, Ref, Rel, Store
from ..vocab import FIRST_NAMES, LAST_NAMES, MY_TASKS_SECTIONS
from .sections import new_section

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


# --- generated ---------------------------------------------------------------------------------------
def generate_workspaces(gen: Generation) -> Tuple[str, str]:
    """The organization and the plain workspace."""
    store = gen.store
    org = {"gid": store.new_gid(), "resource_type": "workspace", "name": "Acme Corp",
           "email_domains": ["acme.example"], "is_organization": True, "_premium": True}
    plain = {"gid": store.new_gid(), "resource_type": "workspace", "name": "Personal Projects",
             "email_domains": [], "is_organization": False, "_premium": False}
    return store.add(org)["gid"], store.add(plain)["gid"]


def generate_users(gen: Generation, org: str, personal: str) -> None:
    """The first user is "me", the token's owner."""
    rng, store = gen.rng, gen.store
    names = [(f, l) for f in FIRST_NAMES for l in LAST_NAMES]
    rng.shuffle(names)
    if not 3 <= gen.sizes.users <= len(names):
        raise ValueError(f"users must lie in 3..{len(names)}")
    for i in range(gen.sizes.users):
        first, last = names[i]
        if i < 2:  # "me" and one other are in both workspaces
            spaces = [org, personal]
        elif i == 2:
            spaces = [personal]
        else:
            roll = rng.random()
            spaces = [org] if roll < 0.7 else [org, personal] if roll < 0.85 else [personal]
        gid = store.new_gid()
        domain = "acme.example" if org in spaces else "mail.example"
        photo = None
        if rng.random() < 0.6:
            photo = {f"image_{s}x{s}": f"https://s3.amazonaws.com/profile_photos/{gid}.{s}x{s}.png"
                     for s in (21, 27, 36, 60, 128)}
            photo["image_1024x1024"] = f"https://s3.amazonaws.com/profile_photos/{gid}.1024x1024.jpg"
        store.add({"gid": gid, "resource_type": "user", "name": f"{first} {last}",
                   "email": f"{first.lower()}.{last.lower()}@{domain}", "photo": photo,
                   "workspaces": [Ref(w) for w in spaces], "custom_fields": []})
        for workspace in spaces:
            store.link(Rel.WORKSPACE_USERS, workspace, gid)
        if i == 0:
            store.me = gid


def generate_my_tasks(gen: Generation) -> None:
    """A My Tasks list per user and workspace, with its private sections."""
    store = gen.store
    for user in store.of_type("user"):
        for workspace in user["workspaces"]:
            gid = store.new_gid()
            store.add({"gid": gid, "resource_type": "user_task_list", "name": "My Tasks",
                       "owner": Ref(user["gid"]), "workspace": Ref(workspace.gid)})
            store.user_task_lists[(user["gid"], workspace.gid)] = gid
            for name in MY_TASKS_SECTIONS:
                new_section(gen.make, gid, name, gen.start, private=True)


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
