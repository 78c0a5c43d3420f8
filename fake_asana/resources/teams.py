"""Teams (organizations only) and team memberships."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ..errors import bad_param
from ..factory import Generation, Maker
from ..mutate import Change
from ..routing import Route
from ..serving import ApiRequest, Body, Children, One, Serving
from ..store import Record, Ref, Rel
from ..vocab import TEAM_NAMES
from .workspaces import by_name

#: A team's settings of who may do what (`TeamResponse`): all team members or only its admins.
ACCESS_LEVELS = ("edit_team_name_or_description_access_level", "edit_team_visibility_or_trash_team_access_level",
                 "member_invite_management_access_level", "guest_invite_management_access_level",
                 "join_request_management_access_level", "team_member_removal_access_level")
ADMINS_ONLY_SHARE = 0.3  # of generated teams' settings
ENDORSED_SHARE = 0.25


# --- generated ---------------------------------------------------------------------------------------
def generate(gen: Generation, org: str) -> List[str]:
    """`teams` teams in the organization, each with "me" and 2-6 others."""
    store, rng = gen.store, gen.rng
    users = gen.make.members(org)
    out = []
    for i in range(gen.sizes.teams):
        name = TEAM_NAMES[i % len(TEAM_NAMES)]
        name += f" {i // len(TEAM_NAMES) + 1}" if i >= len(TEAM_NAMES) else ""
        gid = store.new_gid()
        text = f"The {name} team: plans, requests and rituals."
        store.add({"gid": gid, "resource_type": "team", "name": name, "description": text,
                   "html_description": gen.make.html_of(text), "organization": Ref(org),
                   "permalink_url": f"https://app.asana.com/0/team/{gid}",
                   "visibility": rng.choice(("secret", "request_to_join", "public")),
                   "endorsed": False, "custom_field_settings": [],
                   **{setting: "all_team_members" for setting in ACCESS_LEVELS},
                   "team_content_management_access_level": "no_restriction"})
        store.link(Rel.WORKSPACE_TEAMS, org, gid)
        others = [u for u in users if u != store.me]
        for user in [store.me] + rng.sample(others, min(len(others), rng.randint(2, 6))):
            store.link(Rel.TEAM_USERS, gid, user)
        out.append(gid)
    return out


def generate_settings(gen: Generation) -> None:
    """Who may do what in each team, and which teams the organization endorses (drawn after
    everything else, so the data drawn before keeps its values)."""
    for team in gen.store.of_type("team"):
        team["endorsed"] = gen.rng.random() < ENDORSED_SHARE
        for setting in ACCESS_LEVELS:
            team[setting] = "only_team_admins" if gen.rng.random() < ADMINS_ONLY_SHARE else "all_team_members"
        admins_only = gen.rng.random() < ADMINS_ONLY_SHARE
        team["team_content_management_access_level"] = "only_team_admins" if admins_only else "no_restriction"


def generate_memberships(gen: Generation) -> None:
    """A membership per team member; "me" is an admin of every team."""
    for team in gen.store.of_type("team"):
        for user in gen.store.related(Rel.TEAM_USERS, team["gid"]):
            admin = user == gen.store.me or gen.rng.random() < 0.15
            new_membership(gen.make, team["gid"], user, admin, is_guest=not admin and gen.rng.random() < 0.05)


def new_membership(make: Maker, team: str, user: str, is_admin: bool, is_guest: bool = False) -> Record:
    record = {"gid": make.store.new_gid(), "resource_type": "team_membership", "user": Ref(user),
              "team": Ref(team), "is_guest": is_guest, "is_limited_access": False, "is_admin": is_admin}
    make.store.add(record)
    make.store.link(Rel.TEAM_MEMBERSHIPS, team, record["gid"])
    return record


# --- served ------------------------------------------------------------------------------------------


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


# --- changed -----------------------------------------------------------------------------------------
def add_team_member(change: Change, team: Optional[str] = None, user: Optional[str] = None,
                    is_admin: bool = False) -> Dict[str, Any]:
    """A user of the organization joins a team (`team`, or one drawn that has room)."""
    store = change.store
    open_teams = [t for t in store.of_type("team") if set(store.related(
        Rel.WORKSPACE_USERS, t["organization"].gid)) - set(store.related(Rel.TEAM_USERS, t["gid"]))]
    record = change.one_of(team, "team", open_teams)
    present = store.related(Rel.TEAM_USERS, record["gid"])
    member = change.new_member(user, record["organization"].gid, present)
    store.link(Rel.TEAM_USERS, record["gid"], member)
    membership = new_membership(change.make, record["gid"], member, is_admin)
    return {"gids": [membership["gid"]], "team": record["gid"], "user": member}
