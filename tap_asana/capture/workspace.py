"""How a workspace's projects are read, once what the run needs to know of the workspace is
known: its plan (search answers, or 402: free) and whether its events can be read whole
(``getWorkspaceEvents``, Enterprise+). Both are asked at once, or taken from the state, which
remembers each for a day; the projects listing starts once both are in, and each project's
jobs follow the mode: its own events, the workspace's, or (a failed search) a walk.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from tap_asana import state as st
from tap_asana.capture.no_project import NoProjectTasks
from tap_asana.capture.workspace_events import WorkspaceEvents
from tap_asana.scheduler import Job
from tap_asana.streams import Attachments, Projects, StatusUpdates

#: How a project's tasks are reached, which names its partition: its own events, the workspace's
#: events (Enterprise+), or walked (a failed search)
BY_EVENTS, BY_WORKSPACE_EVENTS, WALKED = "events", "workspace", "walk"


class WorkspaceStart:
    def __init__(self, capture: Any, workspace: str, organization: bool = True):
        self.capture, self.workspace, self.organization = capture, workspace, organization
        self.search: Optional[bool] = None  # the plan: whether search answers
        self.events: Optional[WorkspaceEvents] = None  # the workspace's events, if they are read
        self.whole: Optional[bool] = None  # whether they are (None: not known yet)
        self.started = False

    def jobs(self) -> List[Job]:
        """The requests that tell what is not known from the state yet."""
        known = st.has_workspace_events(self.capture.state, self.workspace, self.capture.PLAN_CHECK_EVERY)
        if known is False or not self.organization:  # service accounts, and Enterprise+, are organizations
            return self.events_known(whole=False)
        self.events = WorkspaceEvents(self.capture, self.workspace, self)
        return [self.events.job()]

    def events_known(self, whole: bool) -> List[Job]:
        self.whole = whole
        return self.ready()

    def plan_known(self, search: bool) -> List[Job]:
        self.search = search
        return self.ready()

    def ready(self) -> List[Job]:
        if self.started or self.search is None or self.whole is None:
            return []
        self.started = True
        self.capture.reader.reporter.note(self.mode())
        jobs = self.capture.projects(self.workspace, BY_WORKSPACE_EVENTS if self.whole else BY_EVENTS)
        return jobs if self.search else jobs + NoProjectTasks(self.capture, self.workspace).jobs()

    def mode(self) -> str:
        """The summary's line on how this run reads the workspace's changes, subtasks and attachments."""
        family, capture = self.capture.family, self.capture
        found = "the workspace's events (Enterprise+)" if self.whole else "each project's events"
        said = [f"Workspace {self.workspace}: changes found by " + ("search and " if self.search else "") + found]
        if capture.opens_subtasks():
            said.append("subtasks " + ("found by search" if self.workspace in family.search_owned
                                       else "listed per parent task"))
        if capture.sink.wants(Attachments.name):
            said.append("attachments listed " + ("only for the tasks a has_attachment search names"
                                                 if self.workspace in family.attachments_searched else "per task"))
        return "; ".join(said)

    def project_jobs(self, partition: str, project: str) -> List[Job]:
        return self.events.project_jobs(partition, project)


class ProjectsListing:
    """The workspace's projects, each sent (unless `emit` is false: a walk after a failed search)
    and read as `how` says."""

    def __init__(self, capture: Any, workspace: str, how: str, emit: bool):
        self.capture, self.workspace, self.how = capture, workspace, how
        self.partition = st.workspace_partition("projects", workspace)
        self.emit = emit and capture.sink.wants("projects") and not st.is_done(capture.state, self.partition)

    def job(self) -> Job:
        fields = None if self.capture.sink.wants("projects") else ["name"]
        return self.capture.reader.listing(self.partition, Projects, {"workspace": self.workspace},
                                           self.on_records, fields=fields)

    def on_records(self, records: List[Dict[str, Any]]) -> List[Job]:
        jobs: List[Job] = []
        shard = self.capture.shard
        for project in records:
            if shard and project["gid"] not in shard:
                continue
            if self.emit:
                self.capture.sink.emit("projects", project)
            if project.get(StatusUpdates.none_unless_parent_has) is None:
                self.capture.no_status_updates.add(project["gid"])
            if not st.is_done(self.capture.state, st.project_partition(project["gid"], self.how)):
                jobs += self.capture.project_jobs(project["gid"], self.workspace, self.how)
        return jobs
