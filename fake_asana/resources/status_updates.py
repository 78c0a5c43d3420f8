"""Status updates of projects, portfolios and goals (a project's are free, the others paid)."""
from __future__ import annotations

from ..routing import Route
from ..serving import ApiRequest, Body, One, Record, Serving
from ..store import Rel
from ..timefmt import parse_us


def parent_paid(kit: Serving, update: Record) -> None:
    parent = kit.store.records[update["parent"].gid]
    if parent["resource_type"] != "project":
        kit.paid(parent)


def status_updates(kit: Serving, request: ApiRequest) -> Body:
    """`created_since` keeps those created at or after it (>=, like `modified_since`)."""
    parent = kit.parent(request, "parent", ("project", "portfolio", "goal"))
    records = kit.store.related_records(Rel.STATUS_UPDATES, parent["gid"])
    since = kit.time(request, "created_since")
    if since is not None:
        records = [r for r in records if parse_us(r["created_at"]) >= since]
    return kit.page(request, records)


ROUTES = (
    Route("/status_updates", status_updates),
    Route("/status_updates/{gid}", One("status_update", access=parent_paid)),
)
