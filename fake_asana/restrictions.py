"""Who may see what: the free workspaces (402 on paid features) and those on Enterprise+
(workspace events), as the plan makes them; the projects the token's owner may not read
(403) and the tasks that vanish between being listed and being read (404). Fixed when the
server starts, from the options and the seed. A plan changes no data, only what answers 402."""
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
    enterprise_workspaces: frozenset = frozenset()

    @classmethod
    def build(cls, store: Store, options: Options) -> "Restrictions":
        with store.lock:
            spaces = store.of_type("workspace")
            free = {w["gid"] for w in spaces if options.plan == "free" or options.plan == "mixed" and not w["_premium"]}
            enterprise = {w["gid"] for w in spaces if options.plan == "enterprise" and w["is_organization"]}
            live = [p for p in store.of_type("project") if not p["archived"]]
            forbidden = {p["gid"] for p in live[:options.forbidden_projects]}
            readable = [t["gid"] for t in store.of_type("task") if t["projects"] and not t["parent"]
                        and all(p.gid not in forbidden for p in t["projects"])
                        and all(not store.records[p.gid]["archived"] for p in t["projects"])]
            picker = random.Random(f"vanished:{store.seed}")
            vanished = picker.sample(readable, min(len(readable), options.vanished_tasks))
        return cls(frozenset(free), frozenset(forbidden), frozenset(vanished), frozenset(enterprise))
