"""How far an unfinished partition got, so a stopped run resumes without redoing it.

A finder that reads many tasks in one partition (a project's first full read, a workspace's
search from start_date, the users' tasks in no project) reads each task's stories, attachments
and subtasks in a unit of its own (``state.unit_partition``). As units finish, the partition's
cursor moves, and the run keeps it in the state's ``progress`` with each STATE it writes:

- ``GidCursor``: once the listing is whole, the smallest gid of a task not read whole yet. A
  resumed run lists the tasks again (a request per 100) and skips those below it. Tasks new
  since then have larger gids, and a task moved in is named by the project's events.
- ``TimeCursor``: search answers sorted by ``modified_at``; the cursor is just before the
  oldest task not read whole yet (or where the next page starts), and a resumed search starts
  there (search takes a time to start from, not a page offset).
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict, Mapping, Optional, Set

from tap_asana.client import format_asana_time, parse_asana_time

#: search's `modified_at.after` is strict: a cursor sits this far before the task it keeps
_BEFORE = dt.timedelta(milliseconds=1)


class GidCursor:
    def __init__(self, resume_at: Optional[str] = None):
        self.resume_at = resume_at  # a resumed run's cursor: tasks below it were read whole
        self.listed: Set[str] = set()
        self.open: Set[str] = set()
        self.complete = False

    def skips(self, gid: str) -> bool:
        """Whether an interrupted run already read this task whole."""
        return self.resume_at is not None and _gid_key(gid) < _gid_key(self.resume_at)

    def found(self, task: Mapping[str, Any], units: bool) -> None:
        """A task listed; `units` says whether reading it takes requests (its unit opened)."""
        self.listed.add(task["gid"])
        if units:
            self.open.add(task["gid"])

    def done(self, gid: str) -> None:
        self.open.discard(gid)

    def value(self) -> Optional[str]:
        if not self.complete or not self.open:
            return None
        return min(self.open, key=_gid_key)


class TimeCursor:
    def __init__(self, after: str):
        self.after = after  # where the search's next page starts
        self.open: Dict[str, dt.datetime] = {}  # task -> its modified_at, while its unit is open

    def found(self, task: Mapping[str, Any], units: bool) -> None:
        if units and task.get("modified_at"):
            self.open[task["gid"]] = parse_asana_time(task["modified_at"])

    def paged(self, last_modified_at: str) -> None:
        """A page was handed over whose newest task was modified at `last_modified_at`."""
        self.after = format_asana_time(parse_asana_time(last_modified_at) - _BEFORE)

    def done(self, gid: str) -> None:
        self.open.pop(gid, None)

    def value(self) -> str:
        if not self.open:
            return self.after
        return format_asana_time(min(self.open.values()) - _BEFORE)


def _gid_key(gid: str) -> tuple:
    """Gids compare as numbers (all digits; a longer one is larger)."""
    return (len(gid), gid)
