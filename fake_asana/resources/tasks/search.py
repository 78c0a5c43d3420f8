"""Task search (`searchTasksForWorkspace`): a subset of Asana's filters and sort keys, paid
workspaces only, and never a `next_page` (Asana's search does not paginate). Filters and sort
keys read each task as the search index has it (search_index.py: with `search_lag_s`, as it
was that long ago); what is returned is the task as it is now."""
from __future__ import annotations

from typing import Any, Callable, List, Set, Tuple

from ...errors import bad_param
from ...paging import parse_limit
from ...routing import Route
from ...serving import ApiRequest, Body, Serving
from ...store import Record, Rel
from ...timefmt import parse_us

SORT_KEYS = {"modified_at": "modified_at", "created_at": "created_at", "completed_at": "completed_at",
             "due_date": "due_on", "relevance": "modified_at"}
TIME_FIELDS = ("modified_at", "created_at", "completed_at", "due_at")
#: `<name>.any`, `<name>.not`, `<name>.all`: gids matched against what a task holds.
SETS: Tuple[Tuple[str, Callable[[Record], Set[str]]], ...] = (
    ("projects", lambda t: {p.gid for p in t["projects"]}),
    ("tags", lambda t: {g.gid for g in t["tags"]}),
    ("sections", lambda t: {m["section"].gid for m in t["memberships"] if m["section"]}),
    ("assignee", lambda t: {t["assignee"].gid} if t["assignee"] else set()),
)


def hidden(kit: Serving, task: Record) -> bool:
    """Tasks the user cannot see: under a top-level task whose projects are all 403."""
    while task["parent"] and task["parent"].gid in kit.store.records:
        task = kit.store.records[task["parent"].gid]
    homes = [p.gid for p in task["projects"]]
    return bool(homes) and all(h in kit.limits.forbidden_projects for h in homes)


def search(kit: Serving, request: ApiRequest, gid: str) -> Body:
    workspace = kit.get(gid, "workspace")
    kit.premium(workspace["gid"])
    limit = parse_limit(request.params.get("limit"), default=20)
    tasks = kit.search_index.visible([t for t in kit.store.related_records(Rel.WORKSPACE_TASKS, gid)
                                      if not hidden(kit, t)])
    tasks = by_sets(kit, request, by_times(kit, request, by_flags(kit, request, tasks)))
    tasks = by_subtype_and_text(request, tasks)
    sort_by = request.params.get("sort_by", "modified_at")
    if sort_by not in SORT_KEYS and sort_by != "likes":
        raise bad_param("sort_by", f"Not a valid enum value: {sort_by}")
    ascending = kit.flag(request, "sort_ascending") or False
    if sort_by == "likes":
        tasks.sort(key=lambda t: (t["num_likes"], t["gid"]), reverse=not ascending)
    else:
        key = SORT_KEYS[sort_by]
        tasks.sort(key=lambda t: (t.get(key) or "", t["gid"]), reverse=not ascending)
    return {"data": kit.render.many([kit.store.records[t["gid"]] for t in tasks[:limit]], request.fields)}


def by_flags(kit: Serving, request: ApiRequest, tasks: List[Record]) -> List[Record]:
    tests: Tuple[Tuple[str, Callable[[Record, bool], Any]], ...] = (
        ("is_subtask", lambda t, v: bool(t["parent"]) == v), ("completed", lambda t, v: t["completed"] == v),
        ("has_attachment", lambda t, v: t["_attached"] == v))
    for name, test in tests:
        wanted = kit.flag(request, name)
        if wanted is not None:
            tasks = [t for t in tasks if test(t, wanted)]
    return tasks


def by_times(kit: Serving, request: ApiRequest, tasks: List[Record]) -> List[Record]:
    """`<field>.after` and `<field>.before`, both strict."""
    for field_name in TIME_FIELDS:
        after, before = kit.time(request, field_name + ".after"), kit.time(request, field_name + ".before")
        if after is not None:
            tasks = [t for t in tasks if t.get(field_name) and parse_us(t[field_name]) > after]
        if before is not None:
            tasks = [t for t in tasks if t.get(field_name) and parse_us(t[field_name]) < before]
    return tasks


def by_sets(kit: Serving, request: ApiRequest, tasks: List[Record]) -> List[Record]:
    for name, lookup in SETS:
        for mode in ("any", "not", "all"):
            raw = request.params.get(f"{name}.{mode}")
            if raw is None:
                continue
            gids = {kit.store.me if g == "me" else g for g in raw.split(",") if g}
            if mode == "any":
                tasks = [t for t in tasks if lookup(t) & gids]
            elif mode == "not":
                tasks = [t for t in tasks if not lookup(t) & gids]
            else:
                tasks = [t for t in tasks if gids <= lookup(t)]
    return tasks


def by_subtype_and_text(request: ApiRequest, tasks: List[Record]) -> List[Record]:
    params = request.params
    if params.get("resource_subtype"):
        tasks = [t for t in tasks if t["resource_subtype"] == params["resource_subtype"]]
    if params.get("text"):
        text = params["text"].lower()
        tasks = [t for t in tasks if text in t["name"].lower() or text in t["notes"].lower()]
    return tasks


ROUTES = (Route("/workspaces/{gid}/tasks/search", search, search=True),)
