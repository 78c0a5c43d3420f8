"""The /_control endpoints (no auth, never faulted, not counted): stats, mutations
(now or after N more API requests), the full export, the config and the request log."""
from __future__ import annotations

import inspect
import json
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import more
from .mutate import OPS, Mutator
from .options import Options
from .render import Renderer
from .resources.workspaces import alphabetical
from .restrictions import Restrictions
from .stats import Stats
from .store import Rel, Store

Result = Tuple[int, Dict[str, Any]]


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
    """Everything the API serves, every field included (opt-in ones too), references as
    compact records. Team members and portfolio items are listed in the order the API
    lists them. My Tasks sections are not project sections and are left out. `meta` holds
    what a test oracle cannot read from the records: tasks in no project (`orphans`, and
    `orphan_subtasks` below them), the tasks deleted so far with the `created_at` of their
    `deleted` event, and the options in force (the clock is in /_control/config)."""
    render = Renderer(store)
    with store.lock:
        def full(resource_type: str) -> List[Dict[str, Any]]:
            return [render.full(r, opt_in=True) for r in store.of_type(resource_type)]

        teams = [dict(render.full(t, opt_in=True),
                      users=[render.compact(u) for u in alphabetical(store.related_records(Rel.TEAM_USERS, t["gid"]))])
                 for t in store.of_type("team")]
        portfolios = [dict(render.full(p, opt_in=True),
                           portfolio_items=[render.compact(i)
                                            for i in store.related_records(Rel.PORTFOLIO_ITEMS, p["gid"])])
                      for p in store.of_type("portfolio")]
        orphans, orphan_subtasks = orphan_trees(store)
        return {
            "workspaces": full("workspace"), "users": full("user"), "teams": teams, "projects": full("project"),
            "sections": [render.full(s, opt_in=True) for s in store.of_type("section") if not s.get("_my_tasks")],
            "tasks": full("task"), "stories": full("story"), "tags": full("tag"), "portfolios": portfolios,
            "custom_fields": full("custom_field"), "user_task_lists": full("user_task_list"),
            **more.export(store, lambda r: render.full(r, opt_in=True)),
            "meta": {"seed": store.seed, "me": store.me,
                     "free_workspaces": sorted(restrictions.free_workspaces),
                     "forbidden_projects": sorted(restrictions.forbidden_projects),
                     "vanished_tasks": sorted(restrictions.vanished_tasks),
                     "orphans": orphans, "orphan_subtasks": orphan_subtasks,
                     "deleted": dict(sorted(store.deleted.items())),
                     "options": options.as_dict() if options else None},
        }


class Control:
    def __init__(self, store: Store, restrictions: Restrictions, mutator: Mutator, stats: Stats,
                 config: Callable[[], Dict[str, Any]], options: Optional[Options] = None) -> None:
        self.store, self.restrictions, self.mutator, self.stats = store, restrictions, mutator, stats
        self.options = options
        self._config = config
        self._lock = threading.Lock()
        self._served = 0
        self._pending: List[Tuple[int, str, Dict[str, Any]]] = []
        self._applied: List[Dict[str, Any]] = []

    def handle(self, method: str, path: str, body: bytes) -> Result:
        route = (method, path.rstrip("/"))
        if route == ("GET", "/_control/stats"):
            return 200, self.stats.snapshot()
        if route == ("POST", "/_control/reset_stats"):
            self.stats.reset()
            return 200, {"ok": True}
        if route == ("POST", "/_control/mutate"):
            try:
                request = json.loads(body or b"{}")
                if not isinstance(request, dict):
                    raise ValueError("the body must be a JSON object")
                return 200, self.mutate(**request)
            except (ValueError, TypeError) as exc:
                return 400, {"error": str(exc)}
        if route == ("GET", "/_control/mutations"):
            with self._lock:
                return 200, {"applied": list(self._applied), "pending": len(self._pending), "served": self._served}
        if route == ("GET", "/_control/export"):
            return 200, export(self.store, self.restrictions, self.options)
        if route == ("GET", "/_control/config"):
            return 200, self._config()
        if route == ("GET", "/_control/requests"):
            return 200, {"requests": self.stats.lines()}
        return 404, {"error": f"no control endpoint {method} {path}"}

    def mutate(self, op: Optional[str] = None, after_requests: Optional[int] = None, **kwargs: Any) -> Dict[str, Any]:
        if op not in OPS:
            raise ValueError(f"unknown op {op!r}; one of {', '.join(OPS)}")
        # Check the arguments now, so a scheduled mutation cannot fail later on a typo.
        inspect.signature(getattr(self.mutator, op)).bind(None, None, **kwargs)
        if not after_requests:
            result = self.mutator.apply(op, **kwargs)
            with self._lock:
                self._applied.append(result)
            return result
        if not isinstance(after_requests, int) or after_requests < 0:
            raise ValueError("after_requests must be a non-negative integer")
        with self._lock:
            at = self._served + after_requests
            self._pending.append((at, op, kwargs))
        return {"scheduled": True, "op": op, "at_request": at}

    def api_request_done(self) -> None:
        """Called once per finished API request: applies the mutations that are due."""
        with self._lock:
            self._served += 1
            due = [p for p in self._pending if p[0] <= self._served]
            self._pending = [p for p in self._pending if p[0] > self._served]
        for at, op, kwargs in due:
            try:
                result = self.mutator.apply(op, **kwargs)
            except (ValueError, TypeError) as exc:
                result = {"op": op, "error": str(exc)}
            with self._lock:
                self._applied.append(dict(result, applied_at_request=at))
