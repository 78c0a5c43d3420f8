"""What happens to a task or subtask once a finder has found it, whatever found it: it is
sent, with a ``task_custom_field_values`` row per custom field (no request: they come with
the task), its stories and attachments are read if it changed since their bookmarks (both
bump the task: Asana's ``TaskResponse.modified_at`` counts a story created), and (when the
finder walks) its subtasks are listed, down to every depth. In a premium workspace whose
search runs well, search reads below every task it finds changed (and finds changed subtasks
itself): a task another finder meets there (a project's full read, an event) is only sent.

Each listing is made once a run per task, and again only when another parent brings a wider
look-back (``shift``): a task in two projects is met twice, and the second may come from a
project read in full, which looks further back than the first.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Container, Dict, List, Mapping, Optional, Sequence

from tap_asana.capture.sink import Sink
from tap_asana.client import parse_asana_time
from tap_asana.reader import Reader
from tap_asana.scheduler import Job
from tap_asana.streams import STREAMS, Attachments, Stories, Subtasks, Tasks, TaskCustomFieldValues, TaskSearch

NO_SHIFT = dt.timedelta()
#: The streams with records for subtasks as for tasks: any of them selected opens subtasks.
BELOW_SUBTASKS = tuple(name for name, s in STREAMS.items() if s.parent is Tasks)
#: The listings made per task found, if it changed since the stream's bookmark.
PER_TASK = (Stories, Attachments)
VALUES = TaskCustomFieldValues.name


class Everything:
    """The `named` of a full read: every task it lists is sent, whatever its time."""

    def __contains__(self, _gid: object) -> bool:
        return True


EVERYTHING = Everything()


def family_fields(selected: Mapping[str, Sequence[str]]) -> List[str]:
    """The field paths every read of a task or subtask asks for, from the selected leaf paths of
    each stream (`selected`: stream -> paths): tasks and subtasks share columns, so one list serves
    both (and search, and reads by gid); value rows are made from the task's custom_fields."""
    paths = {p for name in ("tasks", "subtasks") for p in selected.get(name, ())}
    if VALUES in selected:
        paths.update(TaskCustomFieldValues.task_fields(selected[VALUES]))
    return list(TaskSearch.walk_fields) + sorted(paths)


class TaskFamily:
    def __init__(self, reader: Reader, sink: Sink):
        self.reader, self.sink = reader, sink
        self.fields = family_fields({name: sel.paths for name, sel in reader.selected.items()})
        # task gid -> the widest look-back its subtasks / its stories (attachments) were listed with this run
        self.walked: Dict[str, dt.timedelta] = {}
        self.children_read: Dict[str, Dict[str, dt.timedelta]] = {s.name: {} for s in PER_TASK}
        self.values_sent: set = set()  # tasks whose custom field value rows were sent this run
        self.opens = any(sink.wants(n) for n in BELOW_SUBTASKS)  # whether subtasks are worth listing
        #: workspaces whose search reads what lies below their changed tasks this run: a task
        #: another finder meets there is only sent (search met it too, if it changed)
        self.search_owned: set = set()
        #: workspaces where search says which tasks have attachments: no task is asked for its
        #: attachments unless search named it (capture/attachments.py)
        self.attachments_searched: set = set()

    def found(self, partition: str, task: Dict[str, Any], name: str, walk: bool,
              shift: dt.timedelta = NO_SHIFT, named: Container[str] = (), below: Optional[bool] = None) -> List[Job]:
        """Send a task as a record of stream `name` (whatever its time if it is `named`), then
        read its stories and attachments and, if `walk`, its subtasks; `below` False: only send
        it, True: read below it whoever else does (search itself), None: unless search does."""
        gid, jobs = task["gid"], []
        self.sink.emit(name, task, shift, gid in named)
        if self.sink.wants(VALUES) and gid not in self.values_sent:
            if any([self.sink.emit(VALUES, row, shift, gid in named) for row in TaskCustomFieldValues.rows(task)]):
                self.values_sent.add(gid)
        if below is None:
            # search reads below every task it finds changed, and finds changed subtasks itself
            below = (task.get("workspace") or {}).get("gid") not in self.search_owned
        if not below:
            return jobs
        modified = parse_asana_time(task["modified_at"]) if task.get("modified_at") else None
        searched = (task.get("workspace") or {}).get("gid") in self.attachments_searched
        for child in PER_TASK:
            if child is Attachments and searched:
                continue  # search says which tasks have attachments (capture/attachments.py)
            if self.sink.wants(child.name) and (modified is None or modified >= self.sink.since[child.name] - shift):
                jobs += self.read_below(partition, gid, child, shift)
        if walk and self.opens and task.get("num_subtasks"):
            before = self.walked.get(gid)
            if before is None or shift > before:
                self.walked[gid] = shift
                jobs.append(self.reader.listing(partition, Subtasks, {"gid": gid},
                                                _SubtasksOf(self, partition, shift, named), fields=self.fields))
        return jobs

    def read_below(self, partition: str, gid: str, child: type, shift: dt.timedelta) -> List[Job]:
        """List a task's stories (or attachments), once a run, or again with a wider look-back."""
        read = self.children_read[child.name]
        before = read.get(gid)
        if before is not None and shift <= before:
            return []
        read[gid] = shift
        return [self.reader.listing(partition, child, {"gid": gid}, _CreatedOf(self.sink, child.name, shift, before))]

    def found_alone(self, partition: str, task: Dict[str, Any], shift: dt.timedelta,
                    named: Container[str] = (), walk: bool = False, below: Optional[bool] = None) -> List[Job]:
        """A task met without its parent (search, an event, a user's tasks): a subtask if it
        has a parent, a task if it is in a project or has no parent (a task in no project is
        one of the account's tasks; a subtask added to a project is both)."""
        jobs: List[Job] = []
        if task.get("parent"):
            jobs += self.found(partition, task, "subtasks", walk, shift, named, below)
        if task.get("projects") or not task.get("parent"):
            jobs += self.found(partition, task, "tasks", walk and not task.get("parent"), shift, named, below)
        return jobs


class FoundAlone:
    """Sends a task met without its parent (``TaskFamily.found_alone``) in the partition (or
    unit) it is called with, and returns the jobs that read below it."""

    def __init__(self, family: TaskFamily, task: Dict[str, Any], shift: dt.timedelta, walk: bool = False,
                 below: Optional[bool] = None):
        self.family, self.task, self.shift, self.walk, self.below = family, task, shift, walk, below

    def __call__(self, partition: str) -> List[Job]:
        return self.family.found_alone(partition, self.task, self.shift, walk=self.walk, below=self.below)


class _SubtasksOf:
    """Handles a page of one task's subtasks."""

    def __init__(self, family: TaskFamily, partition: str, shift: dt.timedelta, named: Container[str]):
        self.family, self.partition, self.shift, self.named = family, partition, shift, named

    def __call__(self, records: List[Dict[str, Any]]) -> List[Job]:
        return [job for r in records
                for job in self.family.found(self.partition, r, "subtasks", True, self.shift, self.named)]


class _CreatedOf:
    """Handles a page of one task's stories (or attachments): those created since the bookmark
    less `shift`, but not those a listing with the look-back `sent` already sent this run."""

    def __init__(self, sink: Sink, name: str, shift: dt.timedelta, sent: Optional[dt.timedelta]):
        self.sink, self.name, self.shift = sink, name, shift
        self.bound = sink.since[name] - sent if sent is not None else None

    def __call__(self, records: List[Dict[str, Any]]) -> List[Job]:
        for record in records:
            if self.bound is None or (record.get("created_at") and parse_asana_time(record["created_at"]) < self.bound):
                self.sink.emit(self.name, record, self.shift)
        return []
