"""What task search (`searchTasksForWorkspace`) sees. Asana's search index lags writes by
10-60 seconds; with `search_lag_s` the fake's search sees each task as it was that many
seconds ago on the fake's clock: a task changed within the lag is matched (its filters and
its sort key) by its previous state, a task created within the lag is not found, and what is
returned is the task as it is now.

The index keeps, per task, the versions of what search reads, each stamped with the time of
the mutation that left the task so (`refresh`, called after every op): the generated data is
indexed from the start of time, a deleted task's last version is None."""
from __future__ import annotations

from typing import Callable, Dict, List, Optional, Sequence, Tuple

from .store import Record, Rel, Store

#: The fields search filters and sorts by.
SEARCHED = ("gid", "name", "notes", "resource_subtype", "completed", "completed_at", "created_at", "modified_at",
            "due_at", "due_on", "start_on", "parent", "projects", "tags", "assignee", "num_likes")


def view_of(store: Store, task: Record) -> Record:
    """What search reads of a task now: its searched fields (lists copied), its sections, and
    `_attached`, whether it has an attachment."""
    view: Record = {k: task.get(k) for k in SEARCHED}
    view["projects"], view["tags"] = list(task["projects"]), list(task["tags"])
    view["memberships"] = [dict(m) for m in task["memberships"]]
    view["_attached"] = bool(store.related(Rel.ATTACHMENTS, task["gid"]))
    return view


class SearchIndex:
    """Holds the store's lock only when the caller does (ops and routes run under it)."""

    def __init__(self, store: Store, lag_s: Callable[[], float]) -> None:
        self.store, self._lag_s = store, lag_s
        self._versions: Dict[str, List[Tuple[int, Optional[Record]]]] = {
            t["gid"]: [(0, view_of(store, t))] for t in store.of_type("task")}

    def refresh(self) -> None:
        """Records, at the fake's time now, every task whose searched state changed since."""
        at = self.store.clock.ms()
        live = set()
        for task in self.store.of_type("task"):
            live.add(task["gid"])
            view = view_of(self.store, task)
            versions = self._versions.setdefault(task["gid"], [])
            if not versions or versions[-1][1] != view:
                versions.append((at, view))
        for gid, versions in self._versions.items():
            if gid not in live and versions[-1][1] is not None:
                versions.append((at, None))

    def visible(self, tasks: Sequence[Record]) -> List[Record]:
        """The views search matches `tasks` by: as they are now, or with a lag as they were
        then (a task with no version that old yet is left out)."""
        lag_ms = int(self._lag_s() * 1000)
        if lag_ms <= 0:
            return [view_of(self.store, t) for t in tasks]
        cutoff = self.store.clock.ms() - lag_ms
        out = []
        for task in tasks:
            seen = [view for at, view in self._versions.get(task["gid"], ()) if at <= cutoff]
            if seen and seen[-1] is not None:
                out.append(seen[-1])
        return out
