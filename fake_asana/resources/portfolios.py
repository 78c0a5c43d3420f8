"""Portfolios (paid), their items and their memberships."""
from __future__ import annotations

from typing import List

from ..errors import bad_param
from ..routing import Route
from ..serving import ApiRequest, Body, Children, One, Record, Serving
from ..store import Rel


def portfolios(kit: Serving, request: ApiRequest) -> Body:
    """Only the portfolios `owner` owns: Asana lets a user list no one else's (`getPortfolios`)."""
    workspace = kit.get(kit.required(request, "workspace"), "workspace")
    kit.premium(workspace["gid"])
    owner = kit.user(request.params.get("owner") or "me", "owner")["gid"]
    return kit.page(request, [p for p in kit.store.related_records(Rel.WORKSPACE_PORTFOLIOS, workspace["gid"])
                              if p["owner"].gid == owner])


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
