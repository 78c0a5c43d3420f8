"""Time tracking entries on tasks (paid)."""
from __future__ import annotations

from typing import List, Optional, Tuple

from ..errors import ApiError, not_found
from ..routing import Route
from ..serving import ApiRequest, Body, Children, One, Record, Serving
from ..store import Rel

ENTRY_FILTER = "Must specify at least one of task, attributable_to, portfolio, user or workspace"
ENTRY_DATES = ("entered_on_start_date: At least one of entered_on_start_date or entered_on_end_date must be "
               "provided when filtering by workspace")


def task_paid(kit: Serving, task: Record) -> None:
    kit.task_visible(task)
    kit.paid(task)


def entry_paid(kit: Serving, entry: Record) -> None:
    task = kit.store.records.get(entry["task"].gid)
    if task is None:  # gone with its deleted task
        raise not_found("time_tracking_entry", entry["gid"])
    kit.paid(task)


def time_tracking_entries(kit: Serving, request: ApiRequest) -> Body:
    """Filters combine (AND); dates are inclusive `YYYY-MM-DD` bounds on `entered_on`."""
    start, end = kit.date(request, "entered_on_start_date"), kit.date(request, "entered_on_end_date")
    entries = [e for e in kit.store.of_type("time_tracking_entry") if e["task"].gid in kit.store.records]
    entries, chosen = by_filters(kit, request, entries, bounded=start is not None or end is not None)
    if not chosen:
        raise ApiError(400, ENTRY_FILTER)
    if start is not None:
        entries = [e for e in entries if e["entered_on"] >= start]
    if end is not None:
        entries = [e for e in entries if e["entered_on"] <= end]
    return kit.page(request, entries)


def by_filters(kit: Serving, request: ApiRequest, entries: List[Record], bounded: bool) -> Tuple[List[Record], bool]:
    """The entries every filter given keeps, and whether any was given."""
    params, store, chosen = request.params, kit.store, False
    if params.get("task"):
        task = kit.task(params["task"])
        kit.paid(task)
        entries, chosen = [e for e in entries if e["task"].gid == task["gid"]], True
    if params.get("attributable_to"):
        project = kit.get(params["attributable_to"], "project", "attributable_to")
        kit.paid(project)
        entries, chosen = [e for e in entries if _attributed(e) == project["gid"]], True
    if params.get("portfolio"):
        items = set(store.related(Rel.PORTFOLIO_ITEMS, kit.portfolio(params["portfolio"])["gid"]))
        entries, chosen = [e for e in entries if _attributed(e) in items], True
    if params.get("workspace"):
        workspace = kit.get(params["workspace"], "workspace")
        kit.premium(workspace["gid"])
        if not bounded:
            raise ApiError(400, ENTRY_DATES)
        entries = [e for e in entries if store.records[e["task"].gid]["workspace"].gid == workspace["gid"]]
        chosen = True
    if params.get("user"):
        user = kit.user(params["user"])
        entries = [e for e in entries if e["created_by"].gid == user["gid"]
                   and store.records[e["task"].gid]["workspace"].gid not in kit.limits.free_workspaces]
        chosen = True
    return entries, chosen


def _attributed(entry: Record) -> Optional[str]:
    return entry["attributable_to"].gid if entry["attributable_to"] else None


ROUTES = (
    Route("/tasks/{gid}/time_tracking_entries", Children("task", Rel.TASK_TIME_ENTRIES, access=task_paid)),
    Route("/time_tracking_entries", time_tracking_entries),
    Route("/time_tracking_entries/{gid}", One("time_tracking_entry", access=entry_paid)),
)
