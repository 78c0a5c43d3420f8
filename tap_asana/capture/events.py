"""Finding a project's changes through events, on every plan: one request per project when
nothing changed (``getEvents``), or, on an Enterprise+ workspace read with a service account,
one request for the whole workspace (``getWorkspaceEvents``, ``workspace_events.py``).

The events since the sync token the previous run took name what changed: tasks and subtasks
changed, added to or removed from a project (a move keeps ``modified_at``), new stories on
any of them (these bubble up from subtasks), deleted tasks and subtasks, sections added,
renamed or deleted, and what else hangs below a project (members, status updates, its own
attachments). A named task is read again by its gid and sent whatever its time (after
start_date); a deleted one is sent as a delete record; the sections, members, status updates
or attachments of a project are listed again only when one of them changed.

A project is read in full instead (``ProjectRead``) when its events cannot tell (first run, a
412, a token taken for other streams or older than a bookmark) or its last full read is a day
old. Either way the token kept for the next run was taken before any of the project's tasks
was read. Asana delivers events at most once, so that daily full read (the safety read) is
the net: it sends every task and subtask changed since the last full read, and those its
fingerprint says moved (``walk.py``); stories keep their ``created_at`` rule, looking back to
the project's last full read. When a project cannot be read, the last run's token is kept,
so the next run reads what this one missed.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Dict, List, Mapping, Optional, Set, Tuple

from tap_asana import state as st
from tap_asana.capture.children import ProjectChildren
from tap_asana.capture.walk import ProjectWalk, SafetyRead
from tap_asana.client import Skip
from tap_asana.scheduler import Job
from tap_asana.streams import TaskById

LOGGER = logging.getLogger("tap_asana")
#: What an event can say changed below a project, apart from its tasks.
SECTIONS, MEMBERS, STATUS_UPDATES, ATTACHMENTS = "sections", "members", "status updates", "attachments"


class EventNotes:
    """What a run of events says changed. `project`: the project whose stream they come from
    (None: a workspace's stream, where an event names its project, or not at all)."""

    def __init__(self, started_at: str, project: Optional[str] = None):
        self.started_at, self.project = started_at, project
        # task gid -> when an event said it was deleted (None: changed, added, removed), last word wins
        self.tasks: Dict[str, Optional[str]] = {}
        self.left: Set[str] = set()  # tasks removed from a project: their `tasks` row must say so
        self.projects: Dict[str, Set[str]] = {}  # project -> what else changed below it
        self.sections: Set[str] = set()  # sections changed whose project no event names: read by gid
        self.sections_deleted: List[Tuple[str, str]] = []

    def note(self, events: List[Dict[str, Any]]) -> None:
        for event in events:
            kind, gid = what_changed(event)
            at = event.get("created_at") or self.started_at
            project = self.project or _parent_project(event)
            if kind == "task":
                self.tasks.pop(gid, None)  # keep the order of the last word
                self.tasks[gid] = None
                if event.get("action") == "removed" and _parent_project(event):
                    self.left.add(gid)
            elif kind == "task deleted":
                self.tasks.pop(gid, None)
                self.tasks[gid] = at
            elif kind == "section deleted":
                self.sections_deleted.append((gid, at))
                self._below(project, SECTIONS)
            elif kind == "section" and project:
                self._below(project, SECTIONS)
            elif kind == "section":
                self.sections.add(gid)
            elif kind == "members":
                owner = self.project or (gid if (event.get("resource") or {}).get("resource_type") == "project"
                                         else _parent_project(event))
                self._below(owner, MEMBERS)
            elif kind == "status update":
                self._below(project, STATUS_UPDATES)
            elif kind == "project attachment":
                self._below(project, ATTACHMENTS)

    def note_page(self, events: List[Dict[str, Any]]) -> List[Any]:
        """A page of events, as a listing's handler: noted, nothing to read yet."""
        self.note(events)
        return []

    def _below(self, project: Optional[str], what: str) -> None:
        if project:
            self.projects.setdefault(project, set()).add(what)

    def below(self, project: str) -> Set[str]:
        return self.projects.get(project, set())

    def changed(self) -> List[str]:
        """The tasks the events named, but for those they say were deleted."""
        return [gid for gid, deleted_at in self.tasks.items() if deleted_at is None]

    def deletes(self) -> List[Tuple[str, str]]:
        return [(gid, at) for gid, at in self.tasks.items() if at is not None]


def _parent_project(event: Mapping[str, Any]) -> Optional[str]:
    parent = event.get("parent") or {}
    return parent.get("gid") if parent.get("resource_type") == "project" else None


class ProjectRead:
    """What a run reads of one project besides the tasks events name: its sections, members,
    status updates and own attachments when they changed, and all of it, tasks included, on a
    full read (`full`: its events cannot tell, or its last full read is due)."""

    def __init__(self, capture: Any, partition: str, project: str, workspace: str):
        self.capture, self.partition, self.project, self.workspace = capture, partition, project, workspace
        state, since = capture.state, capture.family_bounds()
        self.due = st.full_read_due(state, project, capture.full_read_every)
        last_full = st.last_read_in_full(state, project)
        self.known = last_full is not None
        self.last_fingerprint = st.fingerprint(state, project)
        # how far before the bookmarks a full read looks (stories): to the project's last full read
        self.shift = _reach(since, last_full - capture.LOOKBACK) if last_full else dt.timedelta()

    def jobs(self, full: bool, below: Set[str], then_read: List[str] = (), left: Set[str] = frozenset(),
             on_fail: Any = None) -> List[Job]:
        if not full:
            self.capture.keep_read(self.project, None)
        jobs = self._sections(full or SECTIONS in below) + ProjectChildren(self.capture, self.partition, self.project).jobs(
            full, MEMBERS in below, STATUS_UPDATES in below, ATTACHMENTS in below,
            self.shift if full else self.capture.LOOKBACK)
        if not full:
            return jobs
        search = self.capture.searches.get(self.workspace)
        if not self.known and search is not None and search.fingerprint_of(self.project):
            return jobs  # a first run's search, from start_date, holds every task of the project
        subtasks = self.capture.must_walk_subtasks(self.workspace)
        return jobs + [ProjectWalk(self.capture, self.partition, self.project, subtasks, self.shift,
                                   SafetyRead(self.last_fingerprint), on_fail, then_read=then_read, left=left,
                                   on_read=self.read).job()]

    def read(self, fingerprint: str) -> None:
        """The project's full read is whole: what it found is kept for the next one."""
        self.capture.keep_read(self.project, fingerprint, first=not self.known)

    def _sections(self, listed: bool) -> List[Job]:
        if not self.capture.sink.wants("sections"):
            return []
        if listed:
            return [self.capture.sections(self.partition, self.project)]
        self.capture.reader.incomplete.add("sections")  # not listed: no ACTIVATE_VERSION this run
        return []


class ProjectEvents:
    """A project's own events (every plan but an Enterprise+ workspace read through its events)."""

    def __init__(self, capture: Any, partition: str, project: str, workspace: str):
        self.capture, self.partition, self.project, self.workspace = capture, partition, project, workspace
        state, since = capture.state, capture.family_bounds()
        self.covers = capture.project_streams()
        self.token = st.sync_token(state, project, since, self.covers) if capture.all_bookmarked() else None
        self.read = ProjectRead(capture, partition, project, workspace)
        self.named_shift = named_shift(capture, project, self.token)
        self.notes = EventNotes(capture.started_at, project)

    def job(self) -> Job:
        return self.capture.reader.events(self.partition, self.project, self.token,
                                          self.on_events, self.on_done, self.on_events_failed)

    def on_events(self, events: List[Dict[str, Any]]) -> List[Job]:
        self.notes.note(events)
        return []

    def on_events_failed(self, error: Skip) -> List[Job]:
        return self._keep_last_token(error, "events")

    def on_tasks_failed(self, error: Skip) -> List[Job]:
        return self._keep_last_token(error, "tasks")

    def _keep_last_token(self, error: Skip, what: str) -> List[Job]:
        LOGGER.warning("Skipped the tasks of project %s: Asana answered %s on its %s (%s)",
                       self.project, error.status, what, error)
        self.capture.reader.incomplete.update(self.covers)
        self.capture.keep_token(self.project, None, self.covers)
        self.capture.keep_read(self.project, None)
        return []

    def on_done(self, listing: Any) -> List[Job]:
        full = listing.expired or self.read.due
        self.capture.keep_token(self.project, listing.sync, self.covers)
        apply_deletes(self.capture, self.notes)
        if full:
            if listing.expired and self.token:
                LOGGER.info("Sync token of project %s expired: reading the whole project", self.project)
            elif not listing.expired:
                LOGGER.info("Project %s was last read in full a day ago: reading the whole project", self.project)
        jobs = self.read.jobs(full, self.notes.below(self.project), self.notes.changed(), self.notes.left,
                              self.on_tasks_failed)
        if full:
            return jobs
        return jobs + self.capture.read_by_gid(self.partition, self.notes.changed(), self.named_shift, self.notes.left)


def apply_deletes(capture: Any, notes: EventNotes) -> None:
    for gid, deleted_at in notes.deletes():
        capture.deleted(gid, deleted_at)
    for gid, deleted_at in notes.sections_deleted:
        capture.sink.delete("sections", gid, deleted_at)


def named_shift(capture: Any, resource: str, token: Optional[str]) -> dt.timedelta:
    """How far before the bookmarks what events name is looked for: to the token's start, older
    than the bookmarks when the run that should have read these events could not (its token was
    kept), less the events' lag."""
    taken = st.token_taken(capture.state, resource) if token else None
    reach = _reach(capture.family_bounds(), taken - capture.LOOKBACK) if taken else capture.LOOKBACK
    return max(capture.LOOKBACK, reach)


def _reach(bounds: List[dt.datetime], back_to: dt.datetime) -> dt.timedelta:
    """The widest look-back that takes each of `bounds` back to `back_to` (none below zero)."""
    return max([b - back_to for b in bounds] + [dt.timedelta()])


class TaskByEvent:
    """A task or subtask an event named, read again whole and sent whatever its time (its
    stories looked for `shift` before their bookmark). Gone (404) means deleted, or out of the
    token's reach: either way no longer in the account as the tap sees it, so it is sent as
    deleted; out of reach (403), the run goes on and says so."""

    def __init__(self, capture: Any, partition: str, gid: str, shift: dt.timedelta, left_project: bool = False):
        self.capture, self.partition, self.gid, self.shift = capture, partition, gid, shift
        self.left_project = left_project

    def job(self) -> Job:
        return self.capture.reader.record(self.partition, TaskById, {"gid": self.gid}, self.capture.family.fields,
                                          self.on_record, self.on_fail)

    def on_record(self, task: Dict[str, Any]) -> List[Job]:
        jobs = self.capture.family.found_alone(self.partition, task, self.shift, named=(self.gid,))
        if self.left_project and task.get("parent") and not task.get("projects"):
            # a subtask that was also in the project, and was a `tasks` row there: it is one no more
            jobs += self.capture.family.found(self.partition, task, "tasks", False, self.shift, (self.gid,))
        return jobs

    def on_fail(self, error: Skip) -> List[Job]:
        if error.status == 404:
            LOGGER.debug("Task %s named by an event is gone (404): sent as deleted", self.gid)
            self.capture.deleted(self.gid, self.capture.started_at)
        else:
            LOGGER.warning("Task %s named by an event answered %s (%s): not sent this run", self.gid,
                           error.status, error)
        return []


def what_changed(event: Mapping[str, Any]) -> Tuple[str, Optional[str]]:
    """What an event says changed below a project: ("task", gid) for a task or subtask to read
    again (its own event, or a story's on it), ("task deleted", gid), ("section", gid),
    ("section deleted", gid), ("members", gid) when a project's members changed,
    ("status update", gid) for a status update, ("project attachment", gid) for a file attached to
    a project itself, or ("", None) for what the tap does not follow (a file attached to a task
    adds a story to it, which names the task)."""
    resource, parent = event.get("resource") or {}, event.get("parent") or {}
    kind, gid, deleted = resource.get("resource_type"), resource.get("gid"), event.get("action") == "deleted"
    if kind == "task" and gid:
        return ("task deleted" if deleted else "task"), gid
    if kind == "story" and parent.get("resource_type") == "task" and parent.get("gid"):
        return "task", parent["gid"]
    if kind == "section" and gid:
        return ("section deleted" if deleted else "section"), gid
    if kind == "status_update" and gid:
        return "status update", gid
    if kind == "attachment" and parent.get("resource_type") == "project" and gid:
        return "project attachment", gid
    if (kind == "project" and (event.get("change") or {}).get("field") == "members") \
            or (kind in ("membership", "project_membership") and gid):
        return "members", gid
    return "", None
