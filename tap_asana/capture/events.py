"""Finding a project's changes through its events (asana-api.md 2.14): one request per project
when nothing changed.

The events since the sync token the previous run took name the tasks and subtasks that
changed (events bubble up from subtasks and stories); each is read again by its gid. The
project is read in full instead when it has no usable token (first run, a 412, a bookmark
older than the token) or its last full read is a day old. Either way the token kept for the
next run was taken before any of the project's tasks was read.

Asana delivers events at most once, so a full read sends what changed since the project's
last full read, not only since the bookmarks (a change whose event never came is caught by
the next full read), and what the events read before it name, whatever their ``modified_at``
(a task added to the project keeps its own). When the project cannot be read, the last run's
token is kept, so the next run reads what this one missed.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Dict, List, Mapping, Optional

from tap_asana import state as st
from tap_asana.capture.walk import ProjectWalk
from tap_asana.client import Skip
from tap_asana.scheduler import Job
from tap_asana.streams import TaskById

LOGGER = logging.getLogger("tap_asana")


class ProjectEvents:
    def __init__(self, capture: Any, partition: str, project: str):
        self.capture, self.partition, self.project = capture, partition, project
        state, since = capture.state, capture.family_bounds()
        self.token = st.sync_token(state, project, since) if capture.all_bookmarked() else None
        self.due = st.full_read_due(state, project, capture.FULL_READ_EVERY)
        last_full = st.last_read_in_full(state, project)
        self.shift = max([s - (last_full - capture.LOOKBACK) for s in since] + [dt.timedelta()]) \
            if last_full else dt.timedelta()
        self.changed: Dict[str, None] = {}  # task gids, in the order events named them

    def job(self) -> Job:
        return self.capture.reader.events(self.partition, self.project, self.token,
                                          self.on_events, self.on_done, self.on_events_failed)

    def on_events(self, events: List[Dict[str, Any]]) -> List[Job]:
        for event in events:
            gid = task_named(event)
            if gid:
                self.changed[gid] = None
        return []

    def on_events_failed(self, error: Skip) -> List[Job]:
        return self._keep_last_token(error, "events")

    def on_tasks_failed(self, error: Skip) -> List[Job]:
        return self._keep_last_token(error, "tasks")

    def _keep_last_token(self, error: Skip, what: str) -> List[Job]:
        LOGGER.warning("Skipped the tasks of project %s: Asana answered %s on its %s (%s)",
                       self.project, error.status, what, error)
        self.capture.reader.incomplete.add("tasks")
        self.capture.keep_token(self.project, None, False)
        return []

    def on_done(self, listing: Any) -> List[Job]:
        full = listing.expired or self.due
        self.capture.keep_token(self.project, listing.sync, full)
        if full:
            if listing.expired and self.token:
                LOGGER.info("Sync token of project %s expired: reading the whole project", self.project)
            elif not listing.expired:
                LOGGER.info("Project %s was last read in full a day ago: reading the whole project", self.project)
            return [ProjectWalk(self.capture, self.partition, self.project, walk=True, shift=self.shift,
                                named=set(self.changed), on_fail=self.on_tasks_failed).job()]
        return [TaskByEvent(self.capture, self.partition, gid).job() for gid in self.capture.first_time(self.changed)]


class TaskByEvent:
    """A task or subtask an event named, read again whole and sent whatever its time."""

    def __init__(self, capture: Any, partition: str, gid: str):
        self.capture, self.partition, self.gid = capture, partition, gid

    def job(self) -> Job:
        return self.capture.reader.record(self.partition, TaskById, {"gid": self.gid}, self.capture.family.fields,
                                          self.on_record, self.on_fail)

    def on_record(self, task: Dict[str, Any]) -> List[Job]:
        return self.capture.family.found_alone(self.partition, task, self.capture.LOOKBACK, named=(self.gid,))

    def on_fail(self, error: Skip) -> List[Job]:  # deleted since the event, or out of reach
        LOGGER.debug("Task %s named by an event answered %s", self.gid, error.status)
        return []


def task_named(event: Mapping[str, Any]) -> Optional[str]:
    """The task or subtask an event says changed: the event's task, or a story's task."""
    resource, parent = event.get("resource") or {}, event.get("parent") or {}
    if resource.get("resource_type") == "task":
        return resource.get("gid")
    if resource.get("resource_type") == "story" and parent.get("resource_type") == "task":
        return parent.get("gid")
    return None
