"""Finding a project's changes through its events (asana-api.md 2.14), on every plan: one
request per project when nothing changed.

The events since the sync token the previous run took name what changed below the project:
tasks and subtasks changed, added to or removed from it (a move keeps ``modified_at``), new
stories on any of them (these bubble up from subtasks), deleted tasks and subtasks, and
sections added, renamed or deleted. A named task is read again by its gid and sent whatever
its time; a deleted one is sent as a delete record; the sections are listed again only when
one of them changed.

The project is read in full instead when it has no usable token (first run, a 412, a token
taken for other streams or older than a bookmark) or its last full read is a day old. Either
way the token kept for the next run was taken before any of the project's tasks was read.

Asana delivers events at most once, so the daily full read (the safety read) is the net: it
sends every task and subtask changed since the last full read, and those its fingerprint says
moved (``walk.py``); stories keep their ``created_at`` rule, looking back to the project's
last full read. When the project cannot be read, the last run's token is kept, so the next
run reads what this one missed.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Dict, List, Mapping, Optional, Tuple

from tap_asana import state as st
from tap_asana.capture.children import ProjectChildren
from tap_asana.capture.walk import ProjectWalk, SafetyRead
from tap_asana.client import Skip
from tap_asana.scheduler import Job
from tap_asana.streams import TaskById

LOGGER = logging.getLogger("tap_asana")


class ProjectEvents:
    def __init__(self, capture: Any, partition: str, project: str, workspace: str):
        self.capture, self.partition, self.project, self.workspace = capture, partition, project, workspace
        state, since = capture.state, capture.family_bounds()
        self.covers = capture.project_streams()
        self.token = st.sync_token(state, project, since, self.covers) if capture.all_bookmarked() else None
        self.due = st.full_read_due(state, project, capture.full_read_every)
        last_full = st.last_read_in_full(state, project)
        self.known = last_full is not None
        self.last_fingerprint = st.fingerprint(state, project)
        # how far before the bookmarks a full read looks (stories): to the project's last full read
        self.shift = _reach(since, last_full - capture.LOOKBACK) if last_full else dt.timedelta()
        # and what the events name: to the token's start, older than the bookmarks when the run
        # that should have read these events could not (its token was kept), less the events' lag
        taken = st.token_taken(state, project) if self.token else None
        self.named_shift = max(capture.LOOKBACK, _reach(since, taken - capture.LOOKBACK) if taken else capture.LOOKBACK)
        # task gid -> when an event said it was deleted (None: changed, added, removed), last word wins
        self.tasks: Dict[str, Optional[str]] = {}
        self.left: set = set()  # tasks removed from the project: their `tasks` row must say so
        self.sections_changed = False
        self.members_changed = self.status_updates_added = self.attachments_added = False

    def job(self) -> Job:
        return self.capture.reader.events(self.partition, self.project, self.token,
                                          self.on_events, self.on_done, self.on_events_failed)

    def on_events(self, events: List[Dict[str, Any]]) -> List[Job]:
        for event in events:
            kind, gid = what_changed(event)
            if kind == "task":
                self.tasks.pop(gid, None)  # keep the order of the last word
                self.tasks[gid] = None
                if event.get("action") == "removed" and (event.get("parent") or {}).get("resource_type") == "project":
                    self.left.add(gid)
            elif kind == "task deleted":
                self.tasks.pop(gid, None)
                self.tasks[gid] = event.get("created_at") or self.capture.started_at
            elif kind == "section deleted":
                self.capture.sink.delete("sections", gid, event.get("created_at") or self.capture.started_at)
                self.sections_changed = True
            elif kind == "section":
                self.sections_changed = True
            elif kind == "members":
                self.members_changed = True
            elif kind == "status update":
                self.status_updates_added = True
            elif kind == "project attachment":
                self.attachments_added = True
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
        full = listing.expired or self.due
        self.capture.keep_token(self.project, listing.sync, self.covers)
        if not full:
            self.capture.keep_read(self.project, None)
        jobs = self._sections(full) + ProjectChildren(self.capture, self.partition, self.project).jobs(
            full, self.members_changed, self.status_updates_added, self.attachments_added,
            self.shift if full else self.capture.LOOKBACK)
        for gid, deleted_at in self.tasks.items():
            if deleted_at is not None:
                self.capture.deleted(gid, deleted_at)
        if full:
            if listing.expired and self.token:
                LOGGER.info("Sync token of project %s expired: reading the whole project", self.project)
            elif not listing.expired:
                LOGGER.info("Project %s was last read in full a day ago: reading the whole project", self.project)
            subtasks = self.capture.must_walk_subtasks(self.workspace)
            return jobs + [ProjectWalk(self.capture, self.partition, self.project, subtasks, self.shift,
                                       SafetyRead(self.last_fingerprint), self.on_tasks_failed,
                                       then_read=self.changed(), left=self.left, on_read=self.read).job()]
        return jobs + self.capture.read_by_gid(self.partition, self.changed(), self.named_shift, self.left)

    def read(self, fingerprint: str) -> None:
        """The project's full read is whole: what it found is kept for the next one."""
        self.capture.keep_read(self.project, fingerprint, first=not self.known)

    def changed(self) -> List[str]:
        """The tasks the events named, but for those they say were deleted."""
        return [gid for gid, deleted_at in self.tasks.items() if deleted_at is None]

    def _sections(self, full: bool) -> List[Job]:
        if not self.capture.sink.wants("sections"):
            return []
        if full or self.sections_changed:
            return [self.capture.sections(self.partition, self.project)]
        self.capture.reader.incomplete.add("sections")  # not listed: no ACTIVATE_VERSION this run
        return []


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
    ("section deleted", gid), ("members", gid) when the project's members changed,
    ("status update", gid) for a status update, ("project attachment", gid) for a file attached to the
    project itself, or ("", None) for what the tap does not follow (a file attached to a task adds a
    story to it, which names the task)."""
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

