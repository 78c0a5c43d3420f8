"""Change capture: how a workspace's projects, sections, tasks, subtasks, stories (and what else
hangs below projects and tasks) are found.

The run (``sync.py``) calls three methods: ``workspace_page(gids, organizations)`` for the jobs that read
what hangs below a page of workspaces, ``partition_done(partition, state)`` when a partition is finished (a
project's next sync token goes into the state then), and ``close(state)`` once the run has
finished. What is found goes to the run through its ``Sink`` (``sink.py``).

Per workspace, when the task family (tasks, subtasks, stories) is selected, ``workspace.py`` starts
its projects once the workspace's plan and event mode are known:

- ``search.py``: on a premium workspace, one search finds every task and subtask modified
  since the bookmarks, in projects or not; its first answer (or 402) tells the plan, which
  the state remembers for a day, so a free workspace is not asked again every run. On a first
  run it also gives each project's fingerprint, so no project's tasks are listed;
- ``attachments.py``: on a premium workspace, a ``has_attachment`` search names the changed tasks
  that have attachments, so only those are asked for them;
- ``workspace_events.py``: on Enterprise+ with a service account, one event stream per
  organization (``getWorkspaceEvents``) replaces the projects' own; a 402/403/404 falls back;
- ``events.py``: otherwise each project's events since the last run's sync token name
  what search cannot see (moves, deletes, section changes) and, on a free plan, what changed;
  a project with no usable token, or whose safety read is due, is read in full (``walk.py``:
  only tasks whose fingerprint bucket changed are sent, ``fingerprint.py``);
- ``no_project.py``: on a free workspace, the users' tasks in no project.

``family.py`` says what happens to a task once found (sent with its custom field value rows,
its stories, attachments and subtasks read); ``children.py`` what else is read per project
(memberships, status updates, the project's own attachments) and when; ``cursors.py`` where a
stopped listing resumes. A project partition is named by how its tasks are reached (``events``,
or ``walk`` when a failed search leaves the project to be walked), so one finished one way is
not taken as finished another way.
"""
from __future__ import annotations

import datetime as dt
import zlib
from typing import Any, Callable, Container, Dict, Iterable, List, Mapping, Optional

from tap_asana import state as st
from tap_asana.capture.children import PROJECT_CHILDREN, ProjectChildren
from tap_asana.capture.events import ProjectEvents, TaskByEvent
from tap_asana.capture.family import BELOW_SUBTASKS, TaskFamily
from tap_asana.capture.search import WorkspaceSearch
from tap_asana.capture.sink import SendPage, Sink
from tap_asana.capture.walk import ProjectWalk
from tap_asana.capture.workspace import BY_EVENTS, BY_WORKSPACE_EVENTS, WALKED, ProjectsListing, WorkspaceStart
from tap_asana.client import FREE_PLAN_PER_MINUTE, AsanaClient
from tap_asana.config import Config
from tap_asana.reader import Reader
from tap_asana.scheduler import Job
from tap_asana.streams import STREAMS, Attachments, Projects, Sections, Tasks


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
#: The task streams a deleted task may have been sent to.
DELETABLE_TASKS = tuple(name for name in FAMILY if STREAMS[name].sends_deletes)
#: Everything read below a workspace's projects listing.
BELOW_WORKSPACE = tuple(name for name, s in STREAMS.items() if s is Projects or _descends(s, Projects))


class Capture:
    #: Asana's search index lags writes by 10-60 s, more during incidents (Asana's docs on searchTasksForWorkspace), and
    #: events arrive within about a minute (2.14): what search or events name is looked for
    #: this far before its bookmark.
    LOOKBACK = dt.timedelta(minutes=5)
    #: How long a workspace's plan (search or not) is trusted before it is checked again.
    PLAN_CHECK_EVERY = dt.timedelta(hours=24)

    def __init__(self, reader: Reader, sink: Sink, state: Mapping[str, Any], config: Config,
                 client: AsanaClient):
        """`state` is the run's state as begun (``state.begin_run``): the last finished run's
        tokens, plans and bookmarks, and the partitions an interrupted run already finished."""
        self.reader, self.sink, self.state, self.config, self.client = reader, sink, state, config, client
        # A shard of projects (`project_gids`) reads only them: no search (it would find the
        # whole workspace's tasks) and no tasks in no project (they belong to no shard).
        self.shard = set(config.project_gids)
        self.started_at = st.run_started_at(state)
        self.family = TaskFamily(reader, sink)
        self.wanted = [n for n in FAMILY if sink.wants(n)]
        self.read_by_id: set = set()  # tasks read by gid (or found by search) this run
        # project -> (sync token for the next run, or None to keep the last run's; covers), and
        # project -> (what its full read found, or None to keep the last run's; phase): moved into
        # the state when the project's partition is done
        self.next_sync: Dict[str, tuple] = {}
        self.next_read: Dict[str, tuple] = {}
        #: Asana delivers events at most once: a project read through its events is read in full
        #: again this often, whatever its sync token says (never if zero)
        self.full_read_every = dt.timedelta(hours=config.safety_read_hours)
        self.cursors: Dict[str, Any] = {}  # partition read unit by unit -> its cursor (cursors.py)
        self.searches: Dict[str, WorkspaceSearch] = {}  # workspace -> its search this run
        self.no_status_updates: set = set()  # projects without a current status update: none to list
        # partition -> what to keep of projects' full reads once it is done (the search that read them)
        self.reads_after: Dict[str, Dict[str, tuple]] = {}
        self.has_search: Dict[str, bool] = {}  # workspace -> plan found this run
        self.events_plan: Dict[str, bool] = {}  # workspace -> whether its events could be read whole
        self.starts: Dict[str, WorkspaceStart] = {}  # workspace -> what the run knows of it, and when
        self.workspaces: set = set()
        self.free: set = set()  # workspaces found (or known) to have no search
        # workspace -> where a later run must read its tasks in no project from (a search or a
        # user's listing failed: the bookmarks move on), or None once read in full this run
        self.owed: Dict[str, Optional[dt.datetime]] = {}

    # --- what the run calls ---------------------------------------------------------------------
    def workspace_page(self, gids: List[str], organizations: Optional[Container[str]] = None) -> List[Job]:
        """The jobs below a page of workspaces (`organizations`: those of them that are, all if None)."""
        self.workspaces.update(gids)
        return [job for gid in gids for job in self.workspace(gid, organizations is None or gid in organizations)]

    def workspace(self, gid: str, organization: bool = True) -> List[Job]:
        if not any(self.sink.wants(n) for n in BELOW_WORKSPACE):
            return []
        if not self.wanted or self.shard:
            # Without the task family nothing below projects is found by events: no search, no
            # workspace events. A shard of projects reads only them: no search (it would find the
            # whole workspace's tasks), no workspace events (they tell of every project).
            return self.projects(gid, BY_EVENTS)
        start = self.starts[gid] = WorkspaceStart(self, gid, organization)
        jobs = start.jobs()
        if st.has_search(self.state, gid, self.PLAN_CHECK_EVERY) is False:
            return jobs + self.plan_known(gid, search=False, found_now=False)
        self.searches[gid] = WorkspaceSearch(self, gid)
        return jobs + [self.searches[gid].job()]

    def partition_done(self, partition: str, state: Mapping[str, Any]) -> Dict[str, Any]:
        project, resource = st.project_of(partition), st.events_resource_of(partition)
        state = dict(state)
        for read, (found, phase) in self.reads_after.pop(partition, {}).items():
            state = st.keep_project(state, read, found, phase)
        if resource in self.next_sync:
            state = st.keep_sync_token(state, resource, *self.next_sync.pop(resource))
        if project in self.next_read:
            state = st.keep_project(state, project, *self.next_read.pop(project))
        return state

    def close(self, state: Mapping[str, Any]) -> Dict[str, Any]:
        """A run that reads the task family takes a token for every project it reads (or
        carries its old one over): those replace the old tokens, even on a resumed run whose
        projects were all done before the interruption. A run without the family uses no
        token and leaves them; one that could not list some projects keeps the rest."""
        state = st.remember_plans(state, self.has_search, self.owed, self.events_plan)
        if not self.wanted:
            return state
        return st.adopt_tokens(state, keep_old="projects" in self.reader.incomplete)

    # --- what the finders share ----------------------------------------------------------------
    def plan_known(self, workspace: str, search: bool, found_now: bool = True) -> List[Job]:
        """Start reading the workspace's projects (and, without search, its tasks in no project)."""
        if found_now:
            self.has_search[workspace] = search
        if search and not self.shard:
            self.family.search_owned.add(workspace)
            if self.sink.wants(Attachments.name):
                self.family.attachments_searched.add(workspace)
        if not search:
            self.free.add(workspace)
            # Asana's budget is the domain's: 150 a minute on a free one (developers.asana.com/docs/rate-limits). Lowered
            # only when every workspace is free, so a personal free workspace next to a paid
            # organization does not slow the organization's reads.
            if self.free >= self.workspaces and "requests_per_minute" not in self.config.explicit:
                self.client.limit_rate(FREE_PLAN_PER_MINUTE)
        return self.starts[workspace].plan_known(search)

    def search_failed(self, workspace: str) -> List[Job]:
        """Search failed halfway: walk every project for what changed since the bookmarks
        (a first run walks them anyway); what lies below the tasks is read by whatever finds them."""
        self.family.search_owned.discard(workspace)
        self.family.attachments_searched.discard(workspace)
        return self.projects(workspace, WALKED, emit=False) if self.all_bookmarked() else []

    def project_streams(self) -> List[str]:
        """The streams read below a project this run: what its sync token covers."""
        return list(dict.fromkeys(self.wanted + [n for n in ("sections",) + PROJECT_CHILDREN if self.sink.wants(n)]))

    def must_walk_subtasks(self, workspace: str) -> bool:
        """Whether a full read opens every task for its subtasks: when subtasks (or what lies
        below them) are wanted and no search finds them (search from start_date on a first run,
        from the bookmarks after, finds every subtask that changed, at any depth)."""
        return self.opens_subtasks() and workspace not in self.family.search_owned

    def opens_subtasks(self) -> bool:
        """Whether a stream with records for subtasks (subtasks, stories, ...) is wanted."""
        return bool(set(BELOW_SUBTASKS) & set(self.wanted))

    def all_bookmarked(self) -> bool:
        return bool(self.wanted) and all(st.bookmark(self.state, n, STREAMS[n].replication_key) for n in self.wanted)

    def family_bounds(self) -> List[dt.datetime]:
        return [self.sink.since[n] for n in self.wanted]

    def family_since(self) -> dt.datetime:
        return min(self.family_bounds())

    def workspace_since(self, workspace: str) -> dt.datetime:
        """Where the workspace's search or users' task listings start: the bookmarks, or earlier
        if a run before could not finish them."""
        owed = st.owed_since(self.state, workspace)
        return min(self.family_since(), owed) if owed else self.family_since()

    def settled(self, workspace: str, complete: bool, since: dt.datetime) -> None:
        """The workspace's search or users' task listings are over: read in full from `since`,
        or not (`complete` false), when the next run must start from `since` again."""
        if complete and self.owed.get(workspace, None) is None:
            self.owed[workspace] = None
        elif not complete:
            self.owed[workspace] = since

    def keep_token(self, resource: str, token: Optional[str], covers: List[str]) -> None:
        """Hold a project's token for the next run (None: keep the last run's)."""
        self.next_sync[resource] = (token, covers)

    def keep_read(self, project: str, fingerprint: Optional[str], first: bool = False) -> None:
        """Hold what the project's full read found (None: it was not read in full; keep the
        last run's). A project's `first` full read is dated a share of a day earlier, drawn
        from its gid, so that projects first read together are not all due for their daily
        full read in the same run."""
        self.next_read[project] = (fingerprint, self.phase(project) if first else dt.timedelta())

    def keep_read_after(self, partition: str, project: str, fingerprint: Optional[str],
                        phase: dt.timedelta = dt.timedelta()) -> None:
        """What a project's full read found (None: its last one carries over), kept when `partition`
        is done (the workspace's search that found it; the projects listing of a project not read)."""
        self.reads_after.setdefault(partition, {})[project] = (fingerprint, phase)

    def phase(self, project: str) -> dt.timedelta:
        """How much earlier a project's first full read is dated, drawn from its gid."""
        return self.full_read_every * (zlib.crc32(project.encode()) % 1000 / 1000)

    # --- units and cursors: a stopped run resumes where it got to --------------------------------
    def cursor_of(self, partition: str, make: Callable[[Optional[str]], Any]) -> Any:
        """The cursor of a partition read unit by unit, made on first use from where an
        interrupted run left it (None: from the start)."""
        if partition not in self.cursors:
            self.cursors[partition] = make(st.cursor(self.state, partition))
        return self.cursors[partition]

    def in_unit(self, partition: str, cursor: Any, task: Dict[str, Any],
                read: Callable[[str], List[Job]]) -> List[Job]:
        """A task of a partition read unit by unit: `read(unit)` sends it and returns the jobs
        that read below it, in a unit of its own, which the cursor follows."""
        jobs = read(st.unit_partition(partition, task["gid"]))
        cursor.found(task, bool(jobs))
        return jobs

    def unit_done(self, unit: str) -> None:
        owner, task = st.unit_of(unit)
        if owner in self.cursors:
            self.cursors[owner].done(task)

    def cursor_values(self) -> Dict[str, str]:
        """The cursors of the partitions read unit by unit, as they stand."""
        values = {p: c.value() for p, c in self.cursors.items()}
        return {p: v for p, v in values.items() if v is not None}

    def first_time(self, gids: Iterable[str]) -> List[str]:
        """Those of `gids` not read by gid (or found by search) yet this run; now marked read."""
        fresh = [gid for gid in gids if gid not in self.read_by_id]
        self.read_by_id.update(fresh)
        return fresh

    def read_by_gid(self, partition: str, gids: Iterable[str], shift: Optional[dt.timedelta] = None,
                    left: Container[str] = ()) -> List[Job]:
        """Read again, whole, the tasks events named that this run has not read by gid yet
        (`left`: those removed from the project)."""
        shift = self.LOOKBACK if shift is None else shift
        return [TaskByEvent(self, partition, gid, shift, gid in left).job() for gid in self.first_time(gids)]

    def deleted(self, gid: str, at: str) -> None:
        """A task or subtask is gone: a delete record in each stream it may have been sent to
        (once Asana has deleted it, nothing tells which)."""
        self.read_by_id.add(gid)  # another project's events naming it need not read it
        for name in DELETABLE_TASKS:
            self.sink.delete(name, gid, at)

    def projects(self, workspace: str, how: str, emit: bool = True) -> List[Job]:
        """The workspace's projects listing, then each project's jobs."""
        return [ProjectsListing(self, workspace, how, emit).job()]

    def project_jobs(self, project: str, workspace: str, how: str) -> List[Job]:
        partition = st.project_partition(project, how)
        if how == WALKED:
            return [ProjectWalk(self, partition, project, subtasks=self.opens_subtasks()).job()]
        if how == BY_WORKSPACE_EVENTS:
            return self.starts[workspace].project_jobs(partition, project)
        if self.wanted:
            return [ProjectEvents(self, partition, project, workspace).job()]
        # Without the task family no events are read: what hangs below the project is read whole.
        jobs = [self.sections(partition, project)] if self.sink.wants("sections") else []
        return jobs + ProjectChildren(self, partition, project).jobs(full=True)

    def sections(self, partition: str, project: str) -> Job:
        return self.reader.listing(partition, Sections, {"gid": project}, SendPage(self.sink, "sections"))
