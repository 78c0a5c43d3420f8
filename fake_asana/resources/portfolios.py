"""Portfolios (paid), their items and their memberships."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from ..errors import bad_param
from ..factory import Generation, Maker
from ..mutate import Change
from ..routing import Route
from ..serving import ApiRequest, Body, Children, One, Serving
from ..store import Record, Ref, Rel
from ..timefmt import DAY_MS, fmt_datetime
from ..vocab import COLORS, PROJECT_WORDS
from .custom_fields import new_setting, value


# --- made --------------------------------------------------------------------------------------------
def new_portfolio(make: Maker, org: str, owner: str, created: int, name: str, fields: Sequence[str],
                  items: Sequence[str]) -> Record:
    """A portfolio of `owner` with two of the fields and 2-5 of the `items` (project gids)."""
    rng, store = make.rng, make.store
    gid = store.new_gid()
    due = created + rng.randint(30, 300) * DAY_MS
    others = [u for u in make.members(org) if u != owner]
    record: Record = {
        "gid": gid, "resource_type": "portfolio", "name": name,
        "archived": False, "color": rng.choice(COLORS),
        "start_on": fmt_datetime(created)[:10], "due_on": fmt_datetime(due)[:10],
        "default_access_level": rng.choice(("admin", "editor", "viewer")),
        "created_at": fmt_datetime(created), "created_by": Ref(owner),
        "custom_field_settings": [], "current_status_update": None, "custom_fields": [],
        "members": [Ref(u) for u in [owner] + rng.sample(others, min(len(others), 2))],
        "owner": Ref(owner), "workspace": Ref(org),
        "permalink_url": f"https://app.asana.com/0/portfolio/{gid}/list",
        "public": rng.random() < 0.5, "privacy_setting": rng.choice(("public_to_domain", "members_only")),
        "project_templates": [],
    }
    store.add(record)
    store.link(Rel.WORKSPACE_PORTFOLIOS, org, gid)
    for field_gid in rng.sample(fields, 2) if len(fields) >= 2 else []:
        setting = new_setting(make, gid, field_gid, Rel.PORTFOLIO_SETTINGS)
        record["custom_field_settings"].append(Ref(setting["gid"], "full"))
        record["custom_fields"].append(value(make, field_gid))
    for project in rng.sample(items, min(len(items), rng.randint(2, 5))):
        store.link(Rel.PORTFOLIO_ITEMS, gid, project)
    return record


# --- generated ---------------------------------------------------------------------------------------
def generate(gen: Generation, org: str, projects: Sequence[Record], fields: Sequence[str]) -> None:
    """`portfolios` portfolios of "me" in the organization, each with two fields and 2-5
    of its projects (templates excepted)."""
    candidates = [p["gid"] for p in projects if p["workspace"].gid == org and not p["_template"]]
    for i in range(gen.sizes.portfolios):
        created = gen.between(gen.start, gen.end)
        new_portfolio(gen.make, org, gen.store.me, created, f"{PROJECT_WORDS[(i * 3) % len(PROJECT_WORDS)]} portfolio",
                      fields, candidates)


def generate_memberships(gen: Generation) -> None:
    """A membership per portfolio member (the owner an admin)."""
    for portfolio in gen.store.of_type("portfolio"):
        for user in [m.gid for m in portfolio["members"]]:
            level = "admin" if user == portfolio["owner"].gid else gen.rng.choice(("editor", "viewer"))
            new_membership(gen.make, portfolio, user, level)


def new_membership(make: Maker, portfolio: Record, user: str, access_level: str) -> Record:
    """Stored as `/portfolio_memberships` shows it (`DeprecatedPortfolioMembershipResponse`);
    `/memberships` shows it through `as_membership`."""
    record = {"gid": make.store.new_gid(), "resource_type": "portfolio_membership",
              "portfolio": Ref(portfolio["gid"]), "user": Ref(user), "access_level": access_level}
    make.store.add(record)
    make.store.link(Rel.PORTFOLIO_MEMBERSHIPS, portfolio["gid"], record["gid"])
    return record


# --- served ------------------------------------------------------------------------------------------


def portfolios(kit: Serving, request: ApiRequest) -> Body:
    """The portfolios `owner` owns ("me" by default): Asana lets a user list no one else's; a
    service account without `owner` gets every portfolio of the workspace (`getPortfolios`)."""
    workspace = kit.get(kit.required(request, "workspace"), "workspace")
    kit.premium(workspace["gid"])
    found = kit.store.related_records(Rel.WORKSPACE_PORTFOLIOS, workspace["gid"])
    if request.params.get("owner") or not request.service_account:
        owner = kit.user(request.params.get("owner") or "me", "owner")["gid"]
        found = [p for p in found if p["owner"].gid == owner]
    return kit.page(request, found)


def by_user(kit: Serving, request: ApiRequest, records: List[Record]) -> List[Record]:
    if request.params.get("user"):
        member = kit.user(request.params["user"])
        records = [r for r in records if r["user"].gid == member["gid"]]
    return records


MEMBERSHIPS_OF_PORTFOLIO = Children("portfolio", Rel.PORTFOLIO_MEMBERSHIPS, access=Serving.paid, refine=by_user)


def portfolio_memberships(kit: Serving, request: ApiRequest) -> Body:
    """`portfolio`, or `user` and `workspace`: that user's memberships of the workspace's portfolios."""
    params = request.params
    if params.get("portfolio"):
        return MEMBERSHIPS_OF_PORTFOLIO(kit, request, params["portfolio"])
    if not (params.get("user") and params.get("workspace")):
        raise bad_param("portfolio", "Missing input")
    member = kit.user(params["user"])
    workspace = kit.get(params["workspace"], "workspace")
    kit.premium(workspace["gid"])
    records = [m for p in kit.store.related(Rel.WORKSPACE_PORTFOLIOS, workspace["gid"])
               for m in kit.store.related_records(Rel.PORTFOLIO_MEMBERSHIPS, p) if m["user"].gid == member["gid"]]
    return kit.page(request, sorted(records, key=lambda r: r["gid"]))


#: The compact shape of a portfolio membership on `/memberships`.
MEMBERSHIP_COMPACT = ("resource_type", "parent", "member", "access_level")


def as_membership(membership: Record) -> Record:
    """A portfolio membership as `/memberships` shows it (`PortfolioMembershipResponse`, a
    variant of `getMemberships`' union): `parent` and `member` for `portfolio` and `user`."""
    return {"gid": membership["gid"], "resource_type": "portfolio_membership", "parent": membership["portfolio"],
            "member": membership["user"], "access_level": membership["access_level"]}


def portfolio_paid(kit: Serving, membership: Record) -> None:
    kit.paid(kit.store.records[membership["portfolio"].gid])


ROUTES = (
    Route("/portfolios", portfolios),
    Route("/portfolios/{gid}", One("portfolio", access=Serving.paid)),
    Route("/portfolios/{gid}/items", Children("portfolio", Rel.PORTFOLIO_ITEMS, access=Serving.paid)),
    Route("/portfolios/{gid}/portfolio_memberships", MEMBERSHIPS_OF_PORTFOLIO),
    Route("/portfolio_memberships", portfolio_memberships),
    Route("/portfolio_memberships/{gid}", One("portfolio_membership", access=portfolio_paid)),
)


# --- changed -----------------------------------------------------------------------------------------
def add_portfolio(change: Change, workspace: Optional[str] = None, owner: Optional[str] = None,
                  name: Optional[str] = None) -> Dict[str, Any]:
    """A portfolio in `workspace` (default: the organization) owned by `owner` (default: a user
    other than "me", whose portfolios "me" cannot list), with its owner's membership."""
    store = change.store
    space = change.workspace(workspace)["gid"]
    who = change.new_member(owner, space, [store.me])
    fields = store.related(Rel.WORKSPACE_CUSTOM_FIELDS, space)
    items = [p["gid"] for p in change.live_projects(space)]
    record = new_portfolio(change.make, space, who, store.stamp_ms(), name or f"Portfolio {change.seq}", fields, items)
    new_membership(change.make, record, who, "admin")
    return {"gids": [record["gid"]], "owner": who, "workspace": space}


def add_portfolio_member(change: Change, portfolio: Optional[str] = None, user: Optional[str] = None,
                         access_level: str = "editor") -> Dict[str, Any]:
    """A user joins a portfolio: a membership, and `members` grows."""
    record = change.one_of(portfolio, "portfolio", [p for p in change.store.of_type("portfolio")
                                                    if change.has_room(p)])
    member = change.new_member(user, record["workspace"].gid, [m.gid for m in record["members"]])
    membership = new_membership(change.make, record, member, access_level)
    if all(m.gid != member for m in record["members"]):
        record["members"].append(Ref(member))
    return {"gids": [membership["gid"]], "portfolio": record["gid"], "user": member}
