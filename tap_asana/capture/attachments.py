"""Which tasks have attachments, on a premium workspace: one search for them (``has_attachment``)
in place of an attachments listing per task, most of which would come back empty.

The search looks for tasks and subtasks, at any depth and wherever they are, modified since the
attachments bookmark (a look-back before it: the index lags writes); attaching a file adds a
story, which bumps the task (Asana's ``TaskResponse.modified_at``), so a task with a new
attachment is among them. Each one it names has its attachments listed. It costs a request per
100 such tasks: at most that much more than a listing per changed task (a task with attachments
is a changed task), and far less as soon as a few changed tasks have none; nothing when the
workspace's search found no task changed: it starts only once that search found one. A task that gains an attachment while the run goes on is modified
after the run's start, and the next run's search names it. Like the workspace search, it keeps
a cursor, so a stopped run resumes it where it got to.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List

from tap_asana import state as st
from tap_asana.capture.cursors import TimeCursor
from tap_asana.capture.family import NO_SHIFT
from tap_asana.client import Skip, format_asana_time
from tap_asana.scheduler import Job
from tap_asana.streams import AttachmentSearch, Attachments

LOGGER = logging.getLogger("tap_asana")


class TasksWithAttachments:
    def __init__(self, capture: Any, workspace: str):
        self.capture, self.workspace = capture, workspace
        self.partition = st.attachments_partition(workspace)
        bookmarked = st.bookmark(capture.state, Attachments.name, Attachments.replication_key) is not None
        self.shift = capture.LOOKBACK if bookmarked else NO_SHIFT
        owed = st.owed_since(capture.state, workspace)  # a run before could not read from there
        since = min(capture.sink.since[Attachments.name], owed or capture.sink.since[Attachments.name]) - self.shift
        self.cursor = capture.cursor_of(self.partition, lambda resume: TimeCursor(resume or format_asana_time(since)))
        self.named = 0

    @staticmethod
    def due(capture: Any, workspace: str, found_changes: bool) -> bool:
        """Whether to read it: search says which tasks have attachments here, and the workspace's
        search found a changed task or a stopped run had started it (it resumes whatever this
        run's search finds)."""
        partition = st.attachments_partition(workspace)
        if workspace not in capture.family.attachments_searched or st.is_done(capture.state, partition):
            return False
        return found_changes or st.cursor(capture.state, partition) is not None

    def job(self) -> Job:
        return self.capture.reader.listing(self.partition, AttachmentSearch, {"workspace": self.workspace},
                                           self.on_records, fields=[], search_after=self.cursor.after,
                                           on_done=self.on_done, on_fail=self.on_fail)

    def on_records(self, records: List[Dict[str, Any]]) -> List[Job]:
        self.named += len(records)
        jobs: List[Job] = []
        for record in records:
            jobs += self.capture.in_unit(self.partition, self.cursor, record, _Attachments(self, record["gid"]))
        if records and records[-1].get("modified_at"):
            self.cursor.paged(records[-1]["modified_at"])
        return jobs

    def on_done(self) -> List[Job]:
        self.capture.reader.reporter.note(
            f"Attachments of workspace {self.workspace}: search named {self.named} changed "
            f"task{'' if self.named == 1 else 's'} with attachments, each listed (not every changed task)")
        return []

    def on_fail(self, error: Skip) -> List[Job]:
        # Asked per task from now on; the tasks already passed over are read again by the next run.
        LOGGER.warning("The search for tasks with attachments failed on workspace %s (%s): the next run asks "
                       "again from %s", self.workspace, error, self.cursor.value())
        self.capture.family.attachments_searched.discard(self.workspace)
        self.capture.settled(self.workspace, False, st.parse_datetime(self.cursor.value()))
        return []


class _Attachments:
    """Lists one task's attachments (in `unit`)."""

    def __init__(self, finder: TasksWithAttachments, gid: str):
        self.finder, self.gid = finder, gid

    def __call__(self, unit: str) -> List[Job]:
        return self.finder.capture.family.read_below(unit, self.gid, Attachments, self.finder.shift)
