"""Status updates of projects, portfolios and goals (a project's are free, the others
paid). The newest one is its parent's `current_status_update`; adding one does not move
the parent's `modified_at` (associations do not count)."""
from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

from ..factory import Generation, Maker
from ..mutate import Change
from ..routing import Route
from ..serving import ApiRequest, Body, One, Serving
from ..store import Record, Ref, Rel
from ..timefmt import fmt_datetime, parse_ms, parse_us

STATUS_OF_COLOR = {"green": "on_track", "yellow": "at_risk", "red": "off_track", "blue": "on_hold",
                   "complete": "complete"}
PROJECT_STATUS_TYPES = ("on_track", "at_risk", "off_track", "on_hold", "complete")
EXTRA_STATUS_UPDATES = (0, 3)  # older status updates of a project that has a current one
OLDER_TITLES = ("Kickoff done", "On track", "At risk: vendor delay", "Wrapping up")
REACTED_SHARE = 0.3  # of generated status updates with reactions


# --- made --------------------------------------------------------------------------------------------
def new_status_update(make: Maker, parent: Record, created: int, author: str, status_type: str, title: str,
                      gid: Optional[str] = None) -> Record:
    """Becomes the parent's `current_status_update` unless the parent has a newer one."""
    store = make.store
    text = f"{title}. Next review in two weeks."
    record: Record = {"gid": gid or store.new_gid(), "resource_type": "status_update", "title": title,
                      "resource_subtype": f"{parent['resource_type']}_status_update",
                      "status_type": status_type, "text": text, "html_text": make.html_of(text),
                      "author": Ref(author), "created_at": fmt_datetime(created), "created_by": Ref(author),
                      "modified_at": fmt_datetime(created), "parent": Ref(parent["gid"]),
                      **make.likes(parent["workspace"].gid), "reaction_summary": []}
    store.add(record)
    store.link(Rel.STATUS_UPDATES, parent["gid"], record["gid"])
    current = parent.get("current_status_update")
    newest = store.records.get(current.gid) if isinstance(current, Ref) else None
    if newest is None or newest["created_at"] <= record["created_at"]:
        parent["current_status_update"] = Ref(record["gid"])
    return record


# --- generated ---------------------------------------------------------------------------------------
def generate_for_projects(gen: Generation, projects: Sequence[Record]) -> None:
    """A project with a current status gets it as a status update (same gid, so the
    project record is unchanged), plus a few older ones."""
    rng = gen.rng
    for project in projects:
        current, legacy = project["current_status_update"], project["current_status"]
        if not isinstance(current, dict) or not legacy:
            continue
        latest = parse_ms(legacy["created_at"])
        for _ in range(rng.randint(*EXTRA_STATUS_UPDATES)):
            title = rng.choice(OLDER_TITLES)
            new_status_update(gen.make, project, gen.between(parse_ms(project["created_at"]), latest - 1),
                              rng.choice([m.gid for m in project["members"]]), rng.choice(PROJECT_STATUS_TYPES),
                              title)
        project["current_status_update"] = None
        new_status_update(gen.make, project, latest, legacy["author"].gid, STATUS_OF_COLOR[legacy["color"]],
                          current["title"], gid=current["gid"])


def generate_for_portfolios(gen: Generation) -> None:
    """0-2 per portfolio, by its owner."""
    for portfolio in gen.store.of_type("portfolio"):
        created = parse_ms(portfolio["created_at"])
        for _ in range(gen.rng.randint(0, 2)):
            status = gen.rng.choice(PROJECT_STATUS_TYPES)
            new_status_update(gen.make, portfolio, gen.between(created, gen.end), portfolio["owner"].gid, status,
                              status.replace("_", " ").capitalize())


def generate_reactions(gen: Generation) -> None:
    """Reactions to some status updates (drawn after everything else)."""
    for update in gen.store.of_type("status_update"):
        parent = gen.store.records[update["parent"].gid]
        update["reaction_summary"] = gen.make.reactions(parent["workspace"].gid, REACTED_SHARE)


# --- served ------------------------------------------------------------------------------------------


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


# --- changed -----------------------------------------------------------------------------------------
def add_status_update(change: Change, parent: Optional[str] = None, status_type: str = "on_track",
                      title: Optional[str] = None) -> Dict[str, Any]:
    """A status update on a project (default: one drawn), portfolio or goal; it becomes
    the parent's `current_status_update`. A project's event stream gets `added`."""
    if parent is not None:
        record = change.store.get(parent)
        if record is None or record["resource_type"] not in ("project", "portfolio", "goal"):
            raise ValueError(f"not a project, portfolio or goal: {parent}")
    else:
        record = change.one_of(None, "project", change.live_projects())
    at = change.store.stamp_ms()
    update = new_status_update(change.make, record, at, change.store.me, status_type, title or f"Status {change.seq}")
    if record["resource_type"] == "project":
        change.events.log(update, "added", at, {record["gid"]}, parent=record)
    return {"gids": [update["gid"]], "parent": record["gid"], "created_at": update["created_at"]}
