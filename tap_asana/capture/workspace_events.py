"""A whole workspace's changes through one event stream (``getWorkspaceEvents``): on an
Enterprise+ domain read with a service account, a run where nothing changed costs one request
for the workspace, however many projects it holds, in place of one per project.

The run tries it once per workspace; a 402, 403 or 404 (another plan, or a token that is no
service account) falls back to each project's own events (``events.py``), and the state
remembers the answer for a day so the probe is not made every run. The stream carries the same
events as the projects' (tasks changed, added, removed and deleted, new stories, sections,
members, status updates, attachments), so what they name is read the same way; a section event
that names no project has its section read by gid. A 412 (the first run, a token expired)
means every project of the workspace is read in full this run; so is a project new to the tap,
and any project whose daily full read is due. Projects found later need no token of their own.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Dict, List

from tap_asana import state as st
from tap_asana.capture.events import EventNotes, ProjectRead, apply_deletes, named_shift
from tap_asana.client import Skip
from tap_asana.scheduler import Job
from tap_asana.streams import SectionById

LOGGER = logging.getLogger("tap_asana")


class WorkspaceEvents:
    def __init__(self, capture: Any, workspace: str, start: Any):
        self.capture, self.workspace, self.start = capture, workspace, start
        # Read again on a resumed run, whatever the interrupted one did: what its events said of
        # the projects not read yet lies only there.
        self.partition = st.workspace_events_partition(workspace)
        self.covers = capture.project_streams()
        bounds = capture.family_bounds()
        usable = capture.all_bookmarked()
        self.token = st.sync_token(capture.state, workspace, bounds, self.covers) if usable else None
        self.named_shift = named_shift(capture, workspace, self.token)
        self.notes = EventNotes(capture.started_at)
        self.expired = False

    def job(self) -> Job:
        return self.capture.reader.events(self.partition, self.workspace, self.token, self.notes.note_page,
                                          self.on_done, self.on_fail, workspace=True)

    def on_fail(self, error: Skip) -> List[Job]:
        """402, 403 or 404 (the reader hands over no other answer here): another plan, or a token
        that is no service account."""
        LOGGER.info("Workspace %s's events are not readable here (Asana answered %s: Enterprise+ and a service "
                    "account only): each project's events are read", self.workspace, error.status)
        self.capture.events_plan[self.workspace] = False
        return self.start.events_known(whole=False)

    def on_done(self, listing: Any) -> List[Job]:
        self.capture.events_plan[self.workspace] = True
        self.expired = listing.expired
        if listing.expired and self.token:
            LOGGER.info("Sync token of workspace %s expired: reading each of its projects in full", self.workspace)
        self.capture.keep_token(self.workspace, listing.sync, self.covers)
        apply_deletes(self.capture, self.notes)
        jobs = self.capture.read_by_gid(self.partition, self.notes.changed(), self.named_shift, self.notes.left)
        if self.capture.sink.wants("sections"):
            for gid in sorted(self.notes.sections):
                self.capture.reader.incomplete.add("sections")  # read one by one: no ACTIVATE_VERSION
                jobs.append(self.capture.reader.record(self.partition, SectionById, {"gid": gid},
                                                       self.capture.reader.selected["sections"].paths,
                                                       self.on_section, self.on_section_failed))
        return jobs + self.start.events_known(whole=True)

    def on_section(self, section: Dict[str, Any]) -> List[Job]:
        self.capture.sink.emit("sections", section)
        return []

    def on_section_failed(self, error: Skip) -> List[Job]:
        LOGGER.debug("Section named by workspace %s's events answered %s: deleted since", self.workspace,
                     error.status)
        return []

    def project_jobs(self, partition: str, project: str) -> List[Job]:
        """What a run reads of one of the workspace's projects: in full if the events cannot tell
        (412), the project is new or its daily full read is due; else only what they named."""
        read = ProjectRead(self.capture, partition, project, self.workspace)
        jobs = read.jobs(self.expired or read.due, self.notes.below(project))
        if not jobs:  # nothing to read: its partition never opens, so what it keeps is kept with the listing's
            self.capture.keep_read_after(st.workspace_partition("projects", self.workspace), project,
                                         *self.capture.next_read.pop(project, (None, dt.timedelta())))
        return jobs
