"""Reading a project by listing its tasks.

A full read (first run, a 412, the daily safety read) lists every task of the project. Its
first read sends them all (from start_date on: they are in hand, so the full dataset costs no
extra request). A later full read sends what changed since the last one: a task whose
``modified_at`` moved since then (its shift reaches back to that read), and the tasks of every
bucket whose fingerprint says a task came, went or moved (``fingerprint.py``); a quiet project
sends nothing. To know the buckets the whole listing must be in hand, so a full read sends
once its listing is done, in gid order (which its cursor follows, so a stopped run resumes
where it got to).

Subtasks are opened, down to every depth, when the finder cannot learn of a changed subtask
otherwise (a subtask's change does not bump its parent: ``getTasks`` says so). The walk that
stands in for a failed search sends only what changed since the bookmarks.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Container, Dict, Iterable, List, Optional

from tap_asana.capture import fingerprint
from tap_asana.capture.cursors import GidCursor
from tap_asana.capture.family import EVERYTHING, NO_SHIFT
from tap_asana.client import Skip
from tap_asana.scheduler import Job
from tap_asana.streams import Tasks


class SafetyRead:
    """What a full read compares against: the last full read's fingerprint (None: the project
    was never read in full, and everything is sent)."""

    def __init__(self, last: Optional[str]):
        self.last = last
        self.found = fingerprint.Fingerprint()

    @property
    def first(self) -> bool:
        return self.last is None

    def named(self, records: List[Dict[str, Any]]) -> Container[str]:
        """The tasks to send whatever their time: all on a first read, else those of the buckets
        that changed."""
        if self.first:
            return EVERYTHING
        changed = self.found.changed(self.last)
        return {r["gid"] for r in records if fingerprint.bucket(r["gid"]) in changed}


class ProjectWalk:
    """`then_read`: tasks to read by gid once the listing is done if it did not hold them (a
    task an event named that has left the project: its record must still say so). `safety`:
    a full read's comparison with the last one (None: a walk that sends what changed since
    the bookmarks); `on_read` is told its fingerprint once the whole listing is read. A full
    read reads each task in a unit of its own and keeps a cursor (``cursors.py``), so a
    stopped run resumes where it got to."""

    def __init__(self, capture: Any, partition: str, project: str, subtasks: bool,
                 shift: dt.timedelta = NO_SHIFT, safety: Optional[SafetyRead] = None,
                 on_fail: Optional[Callable[[Skip], Iterable[Job]]] = None, then_read: Iterable[str] = (),
                 left: Container[str] = (), on_read: Callable[[str], None] = lambda _fingerprint: None):
        self.capture, self.partition, self.project = capture, partition, project
        self.subtasks, self.shift, self.safety, self.on_fail = subtasks, shift, safety, on_fail
        self.then_read, self.left, self.on_read = list(then_read), left, on_read
        self.listed: Dict[str, Dict[str, Any]] = {}
        self.cursor = capture.cursor_of(partition, GidCursor) if safety else None

    def job(self) -> Job:
        return self.capture.reader.listing(self.partition, Tasks, {"gid": self.project}, self.on_records,
                                           fields=self.capture.family.fields, on_fail=self.on_fail,
                                           on_done=self.on_done)

    def on_records(self, records: List[Dict[str, Any]]) -> List[Job]:
        for record in records:
            self.listed[record["gid"]] = record
            if self.safety:
                self.safety.found.add(record)
        if self.safety:
            # Sent once the whole listing is in hand: which buckets changed is known then, and
            # the tasks are read in gid order, which the cursor follows.
            return []
        return self.send(records, ())

    def on_done(self) -> List[Job]:
        jobs: List[Job] = []
        if self.safety:
            self.on_read(self.safety.found.encode())
            records = sorted(self.listed.values(), key=lambda r: (len(r["gid"]), r["gid"]))
            jobs += self.send(records, self.safety.named(records))
            self.cursor.complete = True
        gone = [gid for gid in self.then_read if gid not in self.listed]
        return jobs + self.capture.read_by_gid(self.partition, gone, left=self.left)

    def send(self, records: List[Dict[str, Any]], named: Container[str]) -> List[Job]:
        if self.cursor is None:
            found = self.capture.family.found
            return [job for record in records
                    for job in found(self.partition, record, "tasks", self.subtasks, self.shift, named)]
        return [job for record in records if not self.cursor.skips(record["gid"])
                for job in self.capture.in_unit(self.partition, self.cursor, record, _Found(self, record, named))]


class _Found:
    """Sends one task of a full read (in `unit`) and returns the jobs that read below it."""

    def __init__(self, walk: ProjectWalk, record: Dict[str, Any], named: Container[str]):
        self.walk, self.record, self.named = walk, record, named

    def __call__(self, unit: str) -> List[Job]:
        walk = self.walk
        return walk.capture.family.found(unit, self.record, "tasks", walk.subtasks, walk.shift, self.named)
