"""Reading a project by listing its tasks: every task of the project (or, with ``tasks`` alone
selected, only those Asana says were modified since the bookmark), each opened down to every
depth of subtasks when subtasks or stories are wanted, since a subtask's change does not bump
its parent (asana-api.md 2.5)."""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Container, Dict, Iterable, List, Optional

from tap_asana.client import Skip, format_asana_time
from tap_asana.scheduler import Job
from tap_asana.streams import Tasks

NO_SHIFT = dt.timedelta()


class ProjectWalk:
    def __init__(self, capture: Any, partition: str, project: str, walk: bool,
                 shift: dt.timedelta = NO_SHIFT, named: Container[str] = (),
                 on_fail: Optional[Callable[[Skip], Iterable[Job]]] = None):
        self.capture, self.partition, self.project = capture, partition, project
        self.walk, self.shift, self.named, self.on_fail = walk, shift, named, on_fail

    def job(self) -> Job:
        since = self.capture.family_since()
        params = {} if self.walk else {"modified_since": format_asana_time(since)}
        return self.capture.reader.listing(self.partition, Tasks, {"gid": self.project}, self.on_records,
                                           fields=self.capture.family.fields, params=params, on_fail=self.on_fail)

    def on_records(self, records: List[Dict[str, Any]]) -> List[Job]:
        found = self.capture.family.found
        return [job for record in records
                for job in found(self.partition, record, "tasks", self.walk, self.shift, self.named)]
