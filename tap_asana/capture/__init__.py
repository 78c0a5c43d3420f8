"""Change capture: how a workspace's projects, sections, tasks, subtasks and stories are found.

The run (``sync.py``) calls three methods: ``workspace(gid)`` for the jobs that read what hangs
below a workspace, ``partition_done(partition, state)`` when a partition is finished (a
project's next sync token goes into the state then), and ``close(state)`` once the run has
finished. What is found goes to the run through its ``Sink``.

How a workspace's tasks are reached ("how", part of a project partition's name):
  "search": an incremental run on a premium workspace asks search for every task and subtask
            modified since the bookmarks (``search.py``);
  "walk":   every task of every project is listed and opened (``walk.py``): a premium
            workspace's first run, or its fallback when search fails; with only ``tasks``
            selected a plain ``modified_since`` listing, whatever the workspace;
  "events": a workspace without search (free plans): each project's events name what changed
            (``events.py``), and the project is walked when they cannot.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict, Iterable, List, Mapping, Optional

from tap_asana import state as st
from tap_asana.capture.events import ProjectEvents
from tap_asana.capture.family import TaskFamily
from tap_asana.capture.search import SearchProbe, WorkspaceSearch
from tap_asana.capture.sink import Sink
from tap_asana.capture.walk import ProjectWalk
from tap_asana.reader import Reader
from tap_asana.scheduler import Job
from tap_asana.streams import STREAMS, Projects, Sections, Tasks

def _descends(stream: type, ancestor: type) -> bool:
    """Whether `ancestor` is on `stream`'s chain of declared parents."""
    parent = stream.parent
    while parent is not None:
        if parent is ancestor:
            return True
        parent = parent.parent
    return False


#: The task family: tasks and the streams declared below them (subtasks, stories).
FAMILY = tuple(name for name, s in STREAMS.items() if s is Tasks or _descends(s, Tasks))


class Capture:
    #: Asana's search index lags writes by 10-60 s, more during incidents (asana-api.md 2.6), and
    #: events arrive within about a minute (2.14): what search or events name is looked for
    #: this far before its bookmark.
    LOOKBACK = dt.timedelta(minutes=5)
    #: Asana delivers events at most once (asana-api.md 2.14): a project read through its events is
    #: read in full again once a day, whatever its sync token says.
    FULL_READ_EVERY = dt.timedelta(hours=24)

    def __init__(self, reader: Reader, sink: Sink, state: Mapping[str, Any]):
        """`state` is the run's state as begun (``state.begin_run``): the last finished run's
        tokens and bookmarks, and the partitions an interrupted run already finished."""
        self.reader, self.sink, self.state = reader, sink, state
        self.family = TaskFamily(reader, sink)
        self.wanted = [n for n in FAMILY if sink.wants(n)]
        self.read_by_id: set = set()  # tasks an event named, read once even if several projects name them
        # project -> (sync token for the next run, or None to keep the last run's; read in full),
        # moved into the state when the project's partition is done
        self.next_sync: Dict[str, tuple] = {}
        self.tokens_taken = False

    # --- what the run calls ---------------------------------------------------------------------
    def wants_projects(self) -> bool:
        return any(self.sink.wants(s.name) for s in STREAMS.values() if _descends(s, Projects) or s is Projects)

    def workspace(self, gid: str) -> List[Job]:
        if not self.wants_projects():
            return []
        if self.all_bookmarked():
            return [WorkspaceSearch(self, gid).job()]
        if self.walk_wanted():
            return [SearchProbe(self, gid).job()]
        return self.projects(gid, "walk")

    def partition_done(self, partition: str, state: Mapping[str, Any]) -> Dict[str, Any]:
        project = st.project_of(partition)
        if project in self.next_sync:
            return st.keep_sync_token(state, project, *self.next_sync.pop(project))
        return dict(state)

    def close(self, state: Mapping[str, Any]) -> Dict[str, Any]:
        """A run that reads subtasks or stories takes a token for every project it reads through
        events (or carries its old one over): those replace the old tokens, even on a resumed run
        whose projects were all done before the interruption. A run with `tasks` alone uses no
        token and leaves them; one that could not list some projects keeps the rest."""
        if not self.walk_wanted():
            return dict(state)
        return st.adopt_tokens(state, keep_old="projects" in self.reader.incomplete)

    # --- what the finders share ----------------------------------------------------------------
    def walk_wanted(self) -> bool:
        """Whether finding changed tasks needs more than a modified_since listing."""
        return bool({"subtasks", "stories"} & set(self.wanted))

    def all_bookmarked(self) -> bool:
        return bool(self.wanted) and all(st.bookmark(self.state, n, STREAMS[n].replication_key) for n in self.wanted)

    def family_bounds(self) -> List[dt.datetime]:
        return [self.sink.since[n] for n in self.wanted]

    def family_since(self) -> dt.datetime:
        return min(self.family_bounds())

    def keep_token(self, project: str, token: Optional[str], read_in_full: bool) -> None:
        self.next_sync[project] = (token, read_in_full)

    def first_time(self, gids: Iterable[str]) -> List[str]:
        """Those of `gids` not read by gid yet this run (now marked read)."""
        fresh = [gid for gid in gids if gid not in self.read_by_id]
        self.read_by_id.update(fresh)
        return fresh

    def projects(self, workspace: str, how: str) -> List[Job]:
        """The workspace's projects listing, then each project's jobs."""
        return [_ProjectsListing(self, workspace, how).job()]

    def project_jobs(self, project: str, how: str) -> List[Job]:
        partition, jobs = st.project_partition(project, how), []
        if self.sink.wants("sections"):
            jobs.append(self.reader.listing(partition, Sections, {"gid": project}, _Send(self.sink, "sections")))
        if how == "events" and self.walk_wanted():
            jobs.append(ProjectEvents(self, partition, project).job())
        elif how != "search" and self.wanted:
            jobs.append(ProjectWalk(self, partition, project, walk=self.walk_wanted()).job())
        return jobs


class _Send:
    """Handles a page of records that are sent as they are."""

    def __init__(self, sink: Sink, name: str):
        self.sink, self.name = sink, name

    def __call__(self, records: List[Dict[str, Any]]) -> List[Job]:
        for record in records:
            self.sink.emit(self.name, record)
        return []


class _ProjectsListing:
    def __init__(self, capture: Capture, workspace: str, how: str):
        self.capture, self.workspace, self.how = capture, workspace, how
        self.partition = st.workspace_partition("projects", workspace)
        self.emit = capture.sink.wants("projects") and not st.is_done(capture.state, self.partition)

    def job(self) -> Job:
        fields = None if self.capture.sink.wants("projects") else ["name"]
        return self.capture.reader.listing(self.partition, Projects, {"workspace": self.workspace},
                                           self.on_records, fields=fields)

    def on_records(self, records: List[Dict[str, Any]]) -> List[Job]:
        jobs: List[Job] = []
        for project in records:
            if self.emit:
                self.capture.sink.emit("projects", project)
            if not st.is_done(self.capture.state, st.project_partition(project["gid"], self.how)):
                jobs += self.capture.project_jobs(project["gid"], self.how)
        return jobs
