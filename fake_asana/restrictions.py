"""Who may see what: the free workspaces (402 on paid features), the projects the token's
owner may not read (403) and the tasks that vanish between being listed and being read
(404). Fixed when the server starts, from the options and the seed."""
from __future__ import annotations

import random
from dataclasses import dataclass

from .options import Options
from .store import Store


@dataclass(frozen=True)
class Restrictions:
    free_workspaces: frozenset
    forbidden_projects: frozenset
    vanished_tasks: frozenset

    @classmethod
    def build(cls, store: Store, options: Options) -> "Restrictions":
        with store.lock:
            free = {w["gid"] for w in store.of_type("workspace") if options.free_workspaces or not w["_premium"]}
            live = [p for p in store.of_type("project") if not p["archived"]]
            forbidden = {p["gid"] for p in live[:options.forbidden_projects]}
            readable = [t["gid"] for t in store.of_type("task") if t["projects"] and not t["parent"]
                        and all(p.gid not in forbidden for p in t["projects"])
                        and all(not store.records[p.gid]["archived"] for p in t["projects"])]
            picker = random.Random(f"vanished:{store.seed}")
            vanished = picker.sample(readable, min(len(readable), options.vanished_tasks))
        return cls(frozenset(free), frozenset(forbidden), frozenset(vanished))
