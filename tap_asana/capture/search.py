"""Finding a premium workspace's changed tasks and subtasks through search (searchTasksForWorkspace):
one request per workspace when nothing changed, whatever changed below (subtasks included,
bubbling or not) and wherever (tasks in no project included). Search has no ``next_page``;
the client pages by moving ``modified_at.after`` forward. Its index lags writes by 10-60 s,
so it looks ``LOOKBACK`` before the bookmarks. On a first run it looks from ``start_date``:
the project walks find the tasks of projects, search alone the tasks in no project.

Its first answer also tells the plan: a 402 means no search (free), and the workspace's
tasks in no project are then read through its users (``no_project.py``).
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional

from tap_asana import state as st
from tap_asana.capture import fingerprint
from tap_asana.capture.attachments import TasksWithAttachments
from tap_asana.capture.cursors import TimeCursor
from tap_asana.capture.family import NO_SHIFT, FoundAlone
from tap_asana.client import Skip, format_asana_time
from tap_asana.scheduler import Job
from tap_asana.streams import TaskSearch

LOGGER = logging.getLogger("tap_asana")


class WorkspaceSearch:
    def __init__(self, capture: Any, workspace: str):
        self.capture, self.workspace = capture, workspace
        self.partition = st.search_partition(workspace)
        self.answered = False
        self.attachments_read = False  # whether the search for tasks with attachments has started
        # A search from start_date (a first run's, not resumed) holds every task of every project:
        # their fingerprints then need no listing of the projects' tasks (``fingerprint_of``).
        self.whole = not capture.all_bookmarked() and st.cursor(capture.state, self.partition) is None
        self.fingerprints: Dict[str, fingerprint.Fingerprint] = {}
        self.listed = False  # the search has handed over its last page
        self.waiting: List[str] = []  # projects whose fingerprint is kept once the search is whole

    def job(self) -> Job:
        if st.is_done(self.capture.state, self.partition):
            # Resuming after the search was read: one request tells the plan again.
            path, query = TaskSearch.request({"workspace": self.workspace})
            return self.capture.reader.request(st.WORKSPACES_PARTITION, TaskSearch.name, path,
                                               dict(query, limit=1, opt_fields="name"), self.on_records_again,
                                               self.on_fail)
        self.since = self.capture.workspace_since(self.workspace)
        after = format_asana_time(self.since - self.capture.LOOKBACK)
        # a search stopped part-way resumes from its cursor (cursors.py)
        self.cursor = self.capture.cursor_of(self.partition, lambda resume: TimeCursor(resume or after))
        return self.capture.reader.listing(self.partition, TaskSearch, {"workspace": self.workspace},
                                           self.on_records, fields=self.capture.family.fields,
                                           on_fail=self.on_fail, search_after=self.cursor.after,
                                           on_done=self.on_done)

    def on_done(self) -> List[Job]:
        self.capture.settled(self.workspace, True, self.since)
        self.listed = True
        for project in self.waiting:  # first full reads: dated a share of a day earlier, as walked ones
            self.capture.keep_read_after(self.partition, project, self.fingerprint(project), self.capture.phase(project))
        return []

    def fingerprint_of(self, project: str) -> Optional[bool]:
        """A project's first full read on this workspace, through this search instead of a listing
        of its tasks: None if the search cannot tell (it is not whole), else True, and the project's
        fingerprint is kept now (the search is over) or once it is."""
        if not self.whole or not self.answered:
            return None
        if self.listed:
            self.capture.keep_read(project, self.fingerprint(project), first=True)
        else:
            self.waiting.append(project)
        return True

    def fingerprint(self, project: str) -> str:
        return self.fingerprints.get(project, fingerprint.Fingerprint()).encode()

    def on_records(self, records: List[Dict[str, Any]]) -> List[Job]:
        jobs = [] if self.answered else self.capture.plan_known(self.workspace, search=True)
        self.answered = True
        self.capture.first_time(r["gid"] for r in records)  # events naming them need not read them again
        # Search's index lags writes: look 5 minutes before the bookmarks. A first run reads from
        # start_date, where no lag matters, and so lists a task's stories once, not again when a
        # project's full read (which has no look-back) meets the same task.
        shift = self.capture.LOOKBACK if self.capture.all_bookmarked() else NO_SHIFT
        for record in records if self.whole else ():
            for membership in record.get("memberships") or ():
                project = (membership.get("project") or {}).get("gid")
                if project:
                    self.fingerprints.setdefault(project, fingerprint.Fingerprint()).add(record)
        for record in records:
            jobs += self.capture.in_unit(self.partition, self.cursor, record, FoundAlone(self.capture.family, record, shift, below=True))
        if records and records[-1].get("modified_at"):  # answers come oldest first: the next page starts there
            self.cursor.paged(records[-1]["modified_at"])
        return jobs + self.attachments(bool(records))

    def attachments(self, found_changes: bool) -> List[Job]:
        """The search for which changed tasks have attachments, once it is due (attachments.py)."""
        if self.attachments_read or not TasksWithAttachments.due(self.capture, self.workspace, found_changes):
            return []
        self.attachments_read = True
        return [TasksWithAttachments(self.capture, self.workspace).job()]

    def on_records_again(self, _records: Any) -> List[Job]:
        self.answered = True
        return self.capture.plan_known(self.workspace, search=True) + self.attachments(False)

    def on_fail(self, error: Skip) -> List[Job]:
        if error.status == 402 and not self.answered:
            LOGGER.info("Workspace %s has no search (not premium): its projects' events tell what changed",
                        self.workspace)
            return self.capture.plan_known(self.workspace, search=False)
        self.whole = False  # the projects waiting for their fingerprint are read in full next run
        LOGGER.warning("Search failed on workspace %s (%s): walking its projects' tasks instead; its tasks in "
                       "no project changed since %s are read by the next run's search", self.workspace, error,
                       format_asana_time(self.since))
        self.capture.settled(self.workspace, False, self.since)
        jobs = [] if self.answered else self.capture.plan_known(self.workspace, search=True)
        self.answered = True
        return jobs + self.capture.search_failed(self.workspace)
