"""Reading a project by listing its tasks.

A full read (first run, a 412, the daily read) sends every task it lists, and every subtask
when it opens them: they are in hand, so the full dataset costs no extra request. Subtasks
are opened, down to every depth, when the finder cannot learn of a changed subtask otherwise
(a subtask's change does not bump its parent, asana-api.md 2.5). The walk that stands in for
a failed search sends only what changed since the bookmarks.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Container, Dict, Iterable, List, Optional

from tap_asana.capture.family import NO_SHIFT
from tap_asana.client import Skip
from tap_asana.scheduler import Job
from tap_asana.streams import Tasks


class ProjectWalk:
    """`then_read`: tasks to read by gid once the listing is done if it did not hold them (a
    task an event named that has left the project: its record must still say so)."""

    def __init__(self, capture: Any, partition: str, project: str, subtasks: bool,
                 shift: dt.timedelta = NO_SHIFT, named: Container[str] = (),
                 on_fail: Optional[Callable[[Skip], Iterable[Job]]] = None, then_read: Iterable[str] = (),
                 left: Container[str] = ()):
        self.capture, self.partition, self.project = capture, partition, project
        self.subtasks, self.shift, self.named, self.on_fail = subtasks, shift, named, on_fail
        self.then_read, self.left = list(then_read), left
        self.listed: set = set()

    def job(self) -> Job:
        return self.capture.reader.listing(self.partition, Tasks, {"gid": self.project}, self.on_records,
                                           fields=self.capture.family.fields, on_fail=self.on_fail,
                                           on_done=self.on_done)

    def on_records(self, records: List[Dict[str, Any]]) -> List[Job]:
        found = self.capture.family.found
        self.listed.update(r["gid"] for r in records)
        return [job for record in records
                for job in found(self.partition, record, "tasks", self.subtasks, self.shift, self.named)]

    def on_done(self) -> List[Job]:
        gone = [gid for gid in self.then_read if gid not in self.listed]
        return self.capture.read_by_gid(self.partition, gone, left=self.left)
