"""Time tracking entries on tasks (paid). Each entry adds to its task's
`actual_time_minutes`; time is often logged days after the work, so `entered_on` may lie
before the entry's `created_at`."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..errors import ApiError, not_found
from ..events import EventLog
from ..factory import Generation, Maker
from ..mutate import Change
from ..routing import Route
from ..serving import ApiRequest, Body, Children, One, Serving
from ..store import Record, Ref, Rel
from ..timefmt import DATE, DAY_MS, fmt_date, fmt_datetime, parse_ms
from .workspaces import premium_workspaces

TIME_TRACKED_SHARE = 0.25  # tasks and subtasks in premium workspaces with 1-3 entries
CATEGORIES = (("Development", "blue"), ("Design", "purple"), ("Meetings", "yellow"), ("Support", "green"))
APPROVAL = (("DRAFT", 0.5), ("SUBMITTED", 0.2), ("APPROVED", 0.25), ("REJECTED", 0.05))
BILLABLE = (("billable", 0.5), ("nonBillable", 0.3), ("notApplicable", 0.2))
DESCRIPTIONS = ("", "Pairing session", "Review and fixes", "Call with the vendor")


# --- made --------------------------------------------------------------------------------------------
class TimeEntries:
    """Makes entries with a set of categories of its own, made (gids drawn) when the first
    entry needs them."""

    def __init__(self, make: Maker) -> None:
        self.make = make
        self._categories: Optional[List[Record]] = None

    def categories(self) -> List[Record]:
        if self._categories is None:
            self._categories = [{"gid": self.make.store.new_gid(), "resource_type": "time_tracking_category",
                                 "name": name, "color": color} for name, color in CATEGORIES]
        return self._categories

    def entry(self, task: Record, created: int, entered_on: str, duration: int, author: str) -> Record:
        make, rng = self.make, self.make.rng
        projects = [p.gid for p in task["projects"]]
        record: Record = {
            "gid": make.store.new_gid(), "resource_type": "time_tracking_entry", "duration_minutes": duration,
            "entered_on": entered_on, "attributable_to": Ref(projects[0]) if projects else None,
            "created_by": Ref(author), "categories": rng.sample(self.categories(), rng.randint(0, 1)),
            "created_at": fmt_datetime(created), "task": Ref(task["gid"]),
            "description": rng.choice(DESCRIPTIONS),
            "approval_status": make.weighted(APPROVAL), "billable_status": make.weighted(BILLABLE),
        }
        if not projects:  # a task in no project's time is attributed to none: left out, it may not be null
            del record["attributable_to"]
        make.store.add(record)
        make.store.link(Rel.TASK_TIME_ENTRIES, task["gid"], record["gid"])
        task["actual_time_minutes"] = (task["actual_time_minutes"] or 0) + duration
        return record


# --- generated ---------------------------------------------------------------------------------------
def generate(gen: Generation, tasks: Sequence[Record]) -> None:
    premium = set(premium_workspaces(gen.store))
    entries, rng = TimeEntries(gen.make), gen.rng
    for task in tasks:
        if task["workspace"].gid not in premium or rng.random() >= TIME_TRACKED_SHARE:
            continue
        users = gen.make.members(task["workspace"].gid)
        created = parse_ms(task["created_at"])
        for _ in range(rng.randint(1, 3)):
            logged = gen.between(created, gen.end)
            entered = max(created, logged - rng.choice((0, 0, 1, 2, 7, 30)) * DAY_MS)
            entries.entry(task, logged, fmt_date(entered), rng.choice((15, 30, 45, 60, 90, 120, 240)),
                          rng.choice(users))


# --- served ------------------------------------------------------------------------------------------

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
    return entry["attributable_to"].gid if entry.get("attributable_to") else None


ROUTES = (
    Route("/tasks/{gid}/time_tracking_entries", Children("task", Rel.TASK_TIME_ENTRIES, access=task_paid)),
    Route("/time_tracking_entries", time_tracking_entries),
    Route("/time_tracking_entries/{gid}", One("time_tracking_entry", access=entry_paid)),
)


# --- changed -----------------------------------------------------------------------------------------
def add_time_tracking_entry(change: Change, count: int = 1, gids: Optional[Sequence[str]] = None,
                            entered_on: Optional[str] = None, days_back: Optional[int] = None,
                            duration_minutes: int = 30, bump: bool = False) -> Dict[str, Any]:
    """Log time on tasks (`gids`, or drawn from premium workspaces). `entered_on` (a date)
    or `days_back` puts the entry on a past day while its `created_at` is now.
    `actual_time_minutes` grows; `modified_at` does not move unless `bump`: Asana does not
    say that time tracking moves it, so the fake takes the harder case for a client by
    default. With `bump` the task's event stream also gets `changed` (`actual_time_minutes`)."""
    if entered_on is not None and not DATE.match(entered_on):
        raise ValueError("entered_on must be YYYY-MM-DD")
    premium = set(premium_workspaces(change.store))
    candidates = [t for t in change.reachable_tasks() if t["workspace"].gid in premium]
    entries, out = TimeEntries(change.make), []
    for task in change.pick(candidates, count, gids, "task"):
        at = change.store.stamp_ms(task["modified_at"] if bump else None)
        day = entered_on or fmt_date(at - (days_back if days_back is not None else change.rng.randint(0, 30)) * DAY_MS)
        entry = entries.entry(task, at, day, duration_minutes, change.store.me)
        if bump:
            task["modified_at"] = fmt_datetime(at)
            change.events.log(task, "changed", at, change.events.reach_of_task(task),
                              change=EventLog.changed("actual_time_minutes", task["actual_time_minutes"]))
        out.append({"gid": entry["gid"], "task": task["gid"], "entered_on": day,
                    "created_at": entry["created_at"], "task_modified_at": task["modified_at"]})
    return {"gids": [e["gid"] for e in out], "task_gids": [e["task"] for e in out], "entries": out}
