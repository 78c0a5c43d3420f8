"""What a project holds besides its tasks and sections: its memberships, its status updates
and its own attachments (a project's "Key resources"), read at most once a run per project,
and only when they may have changed.

None bumps the project's ``modified_at`` (Asana's ``ProjectResponse.modified_at`` does not
reflect associations), but all show in the project's events: a status update or an attachment
is ``added`` there, and a member added is a ``changed`` project whose change is its
``members``. So a run that reads the project's events lists them only when an event says so,
or when it reads the project in full (first run, a 412, the daily read: the net for a lost
event, a removed member). A run without the task family reads no events, and lists them for
every project.

``project_memberships`` is full table: a run that did not list it for every project it read
sends no ACTIVATE_VERSION for it (rows not seen are not rows deleted). ``status_updates`` is
incremental on ``created_at`` (``created_since``, filtered by Asana); ``attachments`` on
``created_at`` too (filtered by the tap: ``getAttachmentsForObject`` has no time filter).
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List

from tap_asana.capture.family import NO_SHIFT
from tap_asana.client import format_asana_time
from tap_asana.scheduler import Job
from tap_asana.streams import Attachments, ProjectMemberships, StatusUpdates

#: The streams read here, per project.
PROJECT_CHILDREN = (ProjectMemberships.name, StatusUpdates.name, Attachments.name)


class ProjectChildren:
    def __init__(self, capture: Any, partition: str, project: str):
        self.capture, self.partition, self.project = capture, partition, project

    def jobs(self, full: bool, members: bool = False, status_updates: bool = False, attachments: bool = False,
             shift: dt.timedelta = NO_SHIFT) -> List[Job]:
        """The listings due: all of them on a `full` read, else those whose events said `members`,
        `status_updates` or `attachments` changed; the incremental ones from their bookmark less `shift`."""
        sink, reader, jobs = self.capture.sink, self.capture.reader, []
        if sink.wants(ProjectMemberships.name):
            if full or members:
                jobs.append(reader.listing(self.partition, ProjectMemberships, {"gid": self.project},
                                           _Send(sink, ProjectMemberships.name, NO_SHIFT)))
            else:
                reader.incomplete.add(ProjectMemberships.name)  # not listed: no ACTIVATE_VERSION this run
        if sink.wants(StatusUpdates.name) and (status_updates or full and self.project not in
                                                  self.capture.no_status_updates):
            since = format_asana_time(sink.since[StatusUpdates.name] - shift)
            jobs.append(reader.listing(self.partition, StatusUpdates, {"gid": self.project, "since": since},
                                       _Send(sink, StatusUpdates.name, shift)))
        if sink.wants(Attachments.name) and (full or attachments):
            jobs.append(reader.listing(self.partition, Attachments, {"gid": self.project},
                                       _Send(sink, Attachments.name, shift)))
        return jobs


class _Send:
    """Handles a page of records sent as they are (an incremental one from its bound less `shift`)."""

    def __init__(self, sink: Any, name: str, shift: dt.timedelta):
        self.sink, self.name, self.shift = sink, name, shift

    def __call__(self, records: List[Dict[str, Any]]) -> List[Job]:
        for record in records:
            self.sink.emit(self.name, record, self.shift)
        return []
