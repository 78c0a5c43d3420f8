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
    def __init__(self, capture: Any, partition: str, project: str, subtasks: bool,
                 shift: dt.timedelta = NO_SHIFT, named: Container[str] = (),
                 on_fail: Optional[Callable[[Skip], Iterable[Job]]] = None):
        self.capture, self.partition, self.project = capture, partition, project
        self.subtasks, self.shift, self.named, self.on_fail = subtasks, shift, named, on_fail

    def job(self) -> Job:
        return self.capture.reader.listing(self.partition, Tasks, {"gid": self.project}, self.on_records,
                                           fields=self.capture.family.fields, on_fail=self.on_fail)

    def on_records(self, records: List[Dict[str, Any]]) -> List[Job]:
        found = self.capture.family.found
        return [job for record in records
                for job in found(self.partition, record, "tasks", self.subtasks, self.shift, self.named)]
