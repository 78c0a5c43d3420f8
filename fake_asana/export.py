"""`GET /_control/export` (and `FakeAsana.export()`): the server's own copy of everything
the API serves, for a test to compare a sync against."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from .options import Options
from .render import Renderer
from .resources.workspaces import alphabetical
from .restrictions import Restrictions
from .store import Rel, Store


def orphan_trees(store: Store) -> Tuple[List[str], List[str]]:
    """Top-level tasks in no project, and every subtask below them (any depth), in gid order."""
    roots = [t["gid"] for t in store.of_type("task") if not t["parent"] and not t["projects"]]
    below, frontier = [], list(roots)
    while frontier:
        children = store.related(Rel.TASK_SUBTASKS, frontier.pop())
        below.extend(children)
        frontier.extend(children)
    return roots, sorted(below)


def export(store: Store, restrictions: Restrictions, options: Optional[Options] = None) -> Dict[str, Any]:
    """Every record with every field (opt-in ones too), in gid order, references as compact
    records. Team members and portfolio items are listed in the order the API lists them.
    My Tasks sections are not project sections and are left out; the attachments and time
    tracking entries of deleted tasks are gone with them. `meta` holds what a test oracle
    cannot read from the records: tasks in no project (`orphans`, and `orphan_subtasks`
    below them), the tasks deleted so far with the `created_at` of their `deleted` event,
    and the options in force (the clock is in /_control/config)."""
    render = Renderer(store)
    with store.lock:
        def every(resource_type: str, parent_key: Optional[str] = None) -> List[Dict[str, Any]]:
            records = store.of_type(resource_type)
            if parent_key:
                records = [r for r in records if r[parent_key].gid in store.records]
            return [render.full(r, opt_in=True) for r in records]

        teams = [dict(render.full(t, opt_in=True),
                      users=[render.compact(u) for u in alphabetical(store.related_records(Rel.TEAM_USERS, t["gid"]))])
                 for t in store.of_type("team")]
        portfolios = [dict(render.full(p, opt_in=True),
                           portfolio_items=[render.compact(i)
                                            for i in store.related_records(Rel.PORTFOLIO_ITEMS, p["gid"])])
                      for p in store.of_type("portfolio")]
        orphans, orphan_subtasks = orphan_trees(store)
        return {
            "workspaces": every("workspace"), "users": every("user"), "teams": teams, "projects": every("project"),
            "sections": [render.full(s, opt_in=True) for s in store.of_type("section") if not s.get("_my_tasks")],
            "tasks": every("task"), "stories": every("story"), "tags": every("tag"), "portfolios": portfolios,
            "custom_fields": every("custom_field"), "user_task_lists": every("user_task_list"),
            "attachments": every("attachment", "parent"), "project_memberships": every("membership"),
            "team_memberships": every("team_membership"), "portfolio_memberships": every("portfolio_membership"),
            "status_updates": every("status_update"), "goals": every("goal"),
            "time_tracking_entries": every("time_tracking_entry", "task"),
            "meta": {"seed": store.seed, "me": store.me,
                     "free_workspaces": sorted(restrictions.free_workspaces),
                     "enterprise_workspaces": sorted(restrictions.enterprise_workspaces),
                     "forbidden_projects": sorted(restrictions.forbidden_projects),
                     "vanished_tasks": sorted(restrictions.vanished_tasks),
                     "orphans": orphans, "orphan_subtasks": orphan_subtasks,
                     "deleted": dict(sorted(store.deleted.items())),
                     "options": options.as_dict() if options else None},
        }
