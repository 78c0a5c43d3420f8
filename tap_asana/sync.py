"""The only code that writes Singer messages: walks Asana from workspaces down to
subtasks and stories, applies the catalog's selection (see ``selection.py``) and checkpoints STATE
whenever a partition (a workspace listing, or one project with its tasks,
subtasks, stories and sections) is finished.
"""
from __future__ import annotations

import datetime as dt
import logging
import sys
import time
from collections import Counter
from typing import IO, Any, Callable, Container, Dict, Iterable, List, Mapping, Optional

from tap_asana import state as st
from tap_asana.client import AsanaClient, Fatal, Skip, format_asana_time, parse_asana_time
from tap_asana.config import Config
from tap_asana.scheduler import Job, Scheduler, StopFlag, Stopped
from tap_asana.selection import Selection
from tap_asana.writer import Writer
from tap_asana.streams import (INCREMENTAL, STREAMS, PortfolioItems, Portfolios, ProjectEvents, Projects, Sections,
                               Stories, Subtasks, TaskById, TaskSearch, Tags, Tasks, TeamMembers, Teams, Users,
                               Workspaces)

LOGGER = logging.getLogger("tap_asana")

#: Asana's search index lags writes by 10-60 s, more during incidents (asana-api.md 2.6), and
#: events arrive within about a minute (2.14): what search or events name is looked for
#: this far before its bookmark.
SEARCH_LOOKBACK = dt.timedelta(minutes=5)
#: Asana delivers events at most once (asana-api.md 2.14): a project read through its events is
#: read in full again once a day, whatever its sync token says.
EVENTS_FULL_READ_EVERY = dt.timedelta(hours=24)
#: The start of a run is taken a little before Asana's clock read at the first answer.
CLOCK_MARGIN = dt.timedelta(seconds=1)


class Run:
    """One sync: the context every handler needs, passed explicitly."""

    def __init__(self, client: AsanaClient, config: Config, selected: Dict[str, Selection],
                 state: Dict[str, Any], writer: Writer, stop: StopFlag):
        self.client, self.config, self.selected, self.writer = client, config, selected, writer
        self.state = state
        self.since = {name: st.bookmark(state, name, s.stream.replication_key) or config.start_date
                      for name, s in selected.items() if s.stream.replication_method == INCREMENTAL}
        # Only these can meet the same record twice in a run (multi-homed tasks, users of
        # several workspaces); every other record has a single parent.
        self.seen: Dict[str, set] = {name: set() for name in ("workspaces", "users", "tasks", "subtasks")}
        self.records: Counter = Counter()
        self.pages: Counter = Counter()
        self.opt_fields: Dict[tuple, str] = {}
        self.incomplete: set = set()  # streams with a listing skipped on 403/404
        self.active: Dict[str, List[float]] = {}
        # Tasks and subtasks share columns: one field list serves both (and search).
        self.task_fields = list(TaskSearch.walk_fields) + sorted(
            {p for n in ("tasks", "subtasks") if n in selected for p in selected[n].paths})
        # task gid -> the widest look-back its subtasks / its stories were listed with this run:
        # a parent reaching it again with a wider one lists them again (and sends only the rest)
        self.walked: Dict[str, dt.timedelta] = {}
        self.stories_read: Dict[str, dt.timedelta] = {}
        self.tasks_by_id: set = set()  # tasks an event named, read once even if several projects name them
        # project -> (sync token for the next run, or None to keep the last run's; read in full),
        # moved into the state when the project's partition is done
        self.next_sync: Dict[str, tuple] = {}
        self.stop = stop
        self.scheduler = Scheduler(config.max_workers, self._partition_done, stop)
        self.version = 0

    # --- the run ------------------------------------------------------------------------------
    def run(self) -> Dict[str, Any]:
        self.stop.armed = True  # from here on a signal is handled between two messages
        for name, sel in self.selected.items():
            schema = dict(sel.schema, properties={c: sel.schema["properties"][c] for c in sel.columns})
            self.writer.write({"type": "SCHEMA", "stream": name, "schema": schema,
                               "key_properties": list(sel.stream.key_properties),
                               "bookmark_properties": [sel.stream.replication_key] if sel.stream.replication_key else []})
        self.scheduler.add(self._pages("workspaces", Workspaces, {}, self._on_workspaces))
        self.scheduler.run()
        # A run that reads subtasks or stories takes a token for every project it reads through
        # events (or carries its old one over): those replace the old tokens, even on a resumed
        # run whose projects were all done before the interruption. A run with `tasks` alone
        # uses no token and leaves them; one that could not list some projects keeps the rest.
        self.state = st.finish_run(self.state, [(n, STREAMS[n].replication_key) for n in self.since],
                                   tokens_read=self._walk_wanted(), keep_old_tokens="projects" in self.incomplete)
        for name, sel in self.selected.items():
            # A stream with an unread part must not tell targets to drop rows it did not see.
            if sel.stream.replication_method != INCREMENTAL and name not in self.incomplete:
                self.writer.write({"type": "ACTIVATE_VERSION", "stream": name, "version": self.version})
        self.writer.state(self.state)
        return self.state

    def begin(self) -> None:
        """Fix the run's start on Asana's clock (or resume an unfinished run's)."""
        me = self.client.get("/users/me", {"opt_fields": "name"})
        LOGGER.info("Authenticated to Asana as user %s", me["data"].get("gid"))
        clock = self.client.server_started_at or dt.datetime.now(dt.timezone.utc)
        self.state = st.begin_run(self.state, format_asana_time(clock - CLOCK_MARGIN), sorted(self.selected))
        started_at = st.run_started_at(self.state)
        self.version = int(parse_asana_time(started_at).timestamp() * 1000)
        if self.state["progress"]["done"]:
            LOGGER.info("Resuming the run started at %s: %d partitions already done",
                        started_at, len(self.state["progress"]["done"]))

    # --- emitting -----------------------------------------------------------------------------
    def _emit(self, name: str, record: Dict[str, Any], since_shift: dt.timedelta = dt.timedelta(),
              named: bool = False) -> bool:
        """Write a record unless it is unselected, already sent this run, or older than its
        stream's bookmark less `since_shift` (a record an event `named` is sent whatever
        its time: moving a task into a project does not change its `modified_at`)."""
        sel = self.selected.get(name)
        seen = self.seen.get(name)
        if sel is None or (seen is not None and record.get("gid") in seen):
            return False
        key = sel.stream.replication_key
        if not named and name in self.since and record.get(key) \
                and parse_asana_time(record[key]) < self.since[name] - since_shift:
            return False  # not marked seen: another parent may reach it with a wider window
        if seen is not None:
            seen.add(record.get("gid"))
        sel.stream.rename(record)
        message = {"type": "RECORD", "stream": name, "record": {c: record.get(c) for c in sel.columns}}
        if sel.stream.replication_method != INCREMENTAL:
            message["version"] = self.version
        self.writer.write(message)
        self.records[name] += 1
        return True

    def _partition_done(self, partition: str) -> Iterable[Job]:
        if partition == "workspaces":
            return ()
        kind, _, rest = partition.partition(":")
        project = rest.split(":")[0]
        if kind == "project" and project in self.next_sync:
            self.state = st.keep_sync_token(self.state, project, *self.next_sync.pop(project))
        self.state = st.mark_done(self.state, partition, _stream_of(min(
            self.scheduler.open, key=self.scheduler.rank.get, default=None)))
        self.writer.state(self.state)
        return ()

    # --- jobs -----------------------------------------------------------------------------------
    def _pages(self, partition: str, stream: type, context: Mapping[str, str],
               on_records: Callable[[List[Dict[str, Any]]], Iterable[Job]],
               fields: Optional[List[str]] = None, params: Optional[Dict[str, str]] = None,
               on_done: Callable[[], Iterable[Job]] = lambda: (), search_after: Optional[str] = None,
               on_fail: Optional[Callable[[Skip], Iterable[Job]]] = None) -> Job:
        """A job reading one listing page by page; ``on_done`` runs once it is read or skipped.
        A 402/403/404 on the first page skips the listing; on a later page it would leave the
        listing half read, so it is fatal (unless ``on_fail`` says what to do instead)."""
        path, query = stream.request(context)
        query.update(params or {})
        sel = self.selected.get(stream.name)
        paths = tuple(sel.paths if sel and fields is None else fields or ["name"])
        if (stream, paths) not in self.opt_fields:  # thousands of listings share a few field lists
            self.opt_fields[(stream, paths)] = stream.opt_fields(paths)
        query["opt_fields"] = self.opt_fields[(stream, paths)]
        pages = (self.client.search(path, query, "modified_at", search_after) if search_after
                 else self.client.listing(path, query, stream.paginated))

        read = [0]

        def fetch() -> Any:
            try:
                return pages.fetch_next()
            except Skip as exc:
                return exc

        def then(result: Any) -> List[Job]:
            self.pages[stream.name] += 1
            span = self.active.setdefault(stream.name, [time.monotonic(), 0.0])
            span[1] = time.monotonic()
            read[0] += 1
            if isinstance(result, Skip):
                if on_fail is not None:
                    return list(on_fail(result))
                if read[0] > 1:
                    raise Fatal(f"{path} answered {result.status} halfway through its pages ({result})")
                LOGGER.warning("Skipped %s at %s: Asana answered %s (%s)", stream.name, path, result.status, result)
                if result.status != 402:  # 402: the plan has no such data, nothing was missed
                    self.incomplete.add(stream.name)
                jobs = list(on_done())
            else:
                jobs = list(on_records(result) or ())
                jobs += [Job(partition, fetch, then)] if not pages.done else list(on_done())
            return jobs

        return Job(partition, fetch, then)

    def _on_workspaces(self, workspaces: List[Dict[str, Any]]) -> List[Job]:
        jobs: List[Job] = []
        wanted = set(self.selected)
        for ws in workspaces:
            self._emit("workspaces", ws)
            gid, ctx = ws["gid"], {"workspace": ws["gid"]}
            handlers = {
                Users: self._emit_all("users"),
                Tags: self._emit_all("tags"),
                Portfolios: self._with_children(f"portfolios:{gid}", PortfolioItems, "portfolio_items", "portfolios"),
                Teams: self._with_children(f"teams:{gid}", TeamMembers, "users", "teams"),
            }
            for stream, handler in handlers.items():
                if stream is Teams and not ws.get("is_organization"):
                    continue  # teams exist only in organizations
                if stream.name in wanted and not st.is_done(self.state, f"{stream.name}:{gid}"):
                    jobs.append(self._pages(f"{stream.name}:{gid}", stream, ctx, handler))
            if wanted & {"projects", "sections", "tasks", "subtasks", "stories"}:
                if self._search_wanted():
                    jobs.append(self._task_search(gid))
                elif self._walk_wanted():
                    jobs.append(self._search_probe(gid))
                else:
                    jobs.append(self._projects_job(gid, "walk"))
        return jobs

    def _emit_all(self, name: str) -> Callable[[List[Dict[str, Any]]], List[Job]]:
        def handle(records: List[Dict[str, Any]]) -> List[Job]:
            for record in records:
                self._emit(name, record)
            return []
        return handle

    def _with_children(self, partition: str, child: type, column: str, parent_name: str) -> Callable:
        """Emit each parent record once a child listing has filled one of its columns."""
        def handle(records: List[Dict[str, Any]]) -> List[Job]:
            jobs = []
            for record in records:
                record[column] = []
                jobs.append(self._pages(partition, child, {"gid": record["gid"]}, record[column].extend,
                                        fields=self.selected[parent_name].fields(column) or ["name"],
                                        on_done=lambda r=record: self._emit_all(parent_name)([r])))
            return jobs
        return handle

    # --- projects and what hangs below them -------------------------------------------------------
    # How a workspace's tasks are reached:
    #   "search": an incremental run on a premium workspace asks the search API for every task and
    #             subtask modified since the bookmarks: one request per workspace when nothing changed;
    #   "walk":   every task of every project is listed and every task with subtasks opened, since a
    #             subtask's change does not bump its parent (asana-api.md 2.5): a premium workspace's
    #             first run, or its fallback when search fails. With only `tasks` selected the walk
    #             is a plain listing with modified_since, whatever the workspace;
    #   "events": a workspace without search (free plans): each project's events since the sync
    #             token the previous run took name the tasks and subtasks that changed, one request
    #             per project when nothing did; the project is walked instead when it has no usable
    #             token (first run, a 412, a bookmark older than the token) or its last walk is a
    #             day old.
    FAMILY = ("tasks", "subtasks", "stories")

    def _search_wanted(self) -> bool:
        names = [n for n in self.FAMILY if n in self.selected]
        return bool(names) and all(st.bookmark(self.state, n, STREAMS[n].replication_key) for n in names)

    def _walk_wanted(self) -> bool:
        """Whether finding changed tasks needs more than a modified_since listing."""
        return bool({"subtasks", "stories"} & set(self.selected))

    def _search_probe(self, workspace: str) -> Job:
        """On a first run, one search request tells a premium workspace (walk) from a free one
        (events: walk now, and keep sync tokens so the next run reads only what changed)."""
        path, query = TaskSearch.request({"workspace": workspace})

        def fetch() -> Any:
            try:
                return self.client.get(path, dict(query, limit=1, opt_fields="name"))
            except Skip as exc:
                return exc

        def then(result: Any) -> List[Job]:
            free = isinstance(result, Skip) and result.status == 402
            return [self._projects_job(workspace, "events" if free else "walk")]
        return Job("workspaces", fetch, then)

    def _task_search(self, workspace: str) -> Job:
        partition = f"search:{workspace}"
        after = min(self.since[n] for n in self.FAMILY if n in self.since) - SEARCH_LOOKBACK
        decided: List[bool] = []

        def on_records(records: List[Dict[str, Any]]) -> List[Job]:
            jobs = [] if decided else [self._projects_job(workspace, "search")]
            decided.append(True)
            for record in records:
                # A walk meets a subtask added to a project in both streams; so does search.
                if record.get("parent"):
                    jobs += self._on_task(partition, record, "subtasks", walk=False, shift=SEARCH_LOOKBACK)
                if record.get("projects"):  # a top-level task in no project is not a tasks record
                    jobs += self._on_task(partition, record, "tasks", walk=False, shift=SEARCH_LOOKBACK)
            return jobs

        def on_fail(error: Skip) -> List[Job]:
            # Partitions are named by mode: a project done by search is not done for the others.
            if error.status == 402:
                LOGGER.info("Workspace %s has no search (not premium): reading its projects' events", workspace)
                return [self._projects_job(workspace, "events" if self._walk_wanted() else "walk")]
            LOGGER.warning("Search failed on workspace %s (%s): walking its projects' tasks instead", workspace, error)
            return [self._projects_job(workspace, "walk")]

        # Not skipped on resume even if done: its outcome decides how tasks are reached.
        return self._pages(partition, TaskSearch, {"workspace": workspace}, on_records,
                           fields=self.task_fields, on_fail=on_fail, search_after=format_asana_time(after))

    def _projects_job(self, workspace: str, mode: str) -> Job:
        partition = f"projects:{workspace}"
        emit = "projects" in self.selected and not st.is_done(self.state, partition)

        def on_records(records: List[Dict[str, Any]]) -> List[Job]:
            jobs: List[Job] = []
            for project in records:
                if emit:
                    self._emit("projects", project)
                if not st.is_done(self.state, f"project:{project['gid']}:{mode}"):
                    jobs += self._project_jobs(project["gid"], mode)
            return jobs

        fields = None if "projects" in self.selected else ["name"]
        return self._pages(partition, Projects, {"workspace": workspace}, on_records, fields=fields)

    def _project_jobs(self, project: str, mode: str) -> List[Job]:
        # The mode is part of the name: a project done by search (sections only) is not done for a walk.
        partition, ctx = f"project:{project}:{mode}", {"gid": project}
        jobs = []
        if "sections" in self.selected:
            jobs.append(self._pages(partition, Sections, ctx, self._emit_all("sections")))
        family = [n for n in self.FAMILY if n in self.selected]
        if mode == "events" and self._walk_wanted():
            jobs.append(self._events_job(partition, project))
        elif mode != "search" and family:
            jobs.append(self._tasks_job(partition, project, walk=self._walk_wanted()))
        return jobs

    def _tasks_job(self, partition: str, project: str, walk: bool, shift: dt.timedelta = dt.timedelta(),
                   named: Container[str] = (), on_fail: Optional[Callable[[Skip], Iterable[Job]]] = None) -> Job:
        family = [n for n in self.FAMILY if n in self.selected]
        params = {} if walk else {"modified_since": format_asana_time(min(self.since[n] for n in family))}
        return self._pages(partition, Tasks, {"gid": project}, lambda records: [
            job for record in records for job in self._on_task(partition, record, "tasks", walk, shift, named)],
            fields=self.task_fields, params=params, on_fail=on_fail)

    def _events_job(self, partition: str, project: str) -> Job:
        """Read the project's events since its sync token, then the tasks they name; or walk
        the project when it has no usable token (the 412 hands over a fresh one) or its last
        walk is a day old. Either way the token to keep was taken before any of the project's
        tasks was read.

        Asana delivers events at most once, so a walk sends what changed since the project's
        last walk, not only since the bookmarks (a change whose event never came is caught by
        the next walk), and what the events read before it name, whatever their `modified_at`
        (a task added to the project keeps its own). When the project cannot be read, the last
        run's token is kept, so the next run reads what this one missed."""
        family = [n for n in self.FAMILY if n in self.selected]
        token = st.sync_token(self.state, project, [self.since[n] for n in family]) \
            if all(st.bookmark(self.state, n, STREAMS[n].replication_key) for n in family) else None
        due = st.full_read_due(self.state, project, EVENTS_FULL_READ_EVERY)
        last_walk = st.last_read_in_full(self.state, project)
        shift = max([self.since[n] - (last_walk - SEARCH_LOOKBACK) for n in family] + [dt.timedelta()]) \
            if last_walk else dt.timedelta()
        events = self.client.events(project, token)
        changed: Dict[str, None] = {}  # task gids, in the order events named them

        def fetch() -> Any:
            try:
                return events.fetch_next()
            except Skip as exc:
                return exc

        def keep_last_token(error: Skip, what: str) -> List[Job]:
            LOGGER.warning("Skipped the tasks of project %s: Asana answered %s on its %s (%s)",
                           project, error.status, what, error)
            self.incomplete.add("tasks")
            self.next_sync[project] = (None, False)
            return []

        def then(result: Any) -> List[Job]:
            self.pages["events"] += 1
            if isinstance(result, Skip):
                return keep_last_token(result, "events")
            for event in result:
                gid = _task_named(event)
                if gid:
                    changed[gid] = None
            if not events.done:
                return [Job(partition, fetch, then)]
            self.next_sync[project] = (events.sync, events.expired or due)
            if events.expired or due:
                if events.expired and token:
                    LOGGER.info("Sync token of project %s expired: reading the whole project", project)
                elif not events.expired:
                    LOGGER.info("Project %s was last read in full a day ago: reading the whole project", project)
                return [self._tasks_job(partition, project, walk=True, shift=shift, named=set(changed),
                                        on_fail=lambda error: keep_last_token(error, "tasks"))]
            fresh = [gid for gid in changed if gid not in self.tasks_by_id]
            self.tasks_by_id.update(fresh)
            return [self._task_by_id(partition, gid) for gid in fresh]

        return Job(partition, fetch, then)

    def _task_by_id(self, partition: str, gid: str) -> Job:
        key = (TaskById, tuple(self.task_fields))
        if key not in self.opt_fields:
            self.opt_fields[key] = TaskById.opt_fields(self.task_fields)
        path, query = TaskById.request({"gid": gid})
        query["opt_fields"] = self.opt_fields[key]

        def fetch() -> Any:
            try:
                return self.client.get(path, query)
            except Skip as exc:
                return exc

        def then(result: Any) -> List[Job]:
            if isinstance(result, Skip):  # deleted since the event, or out of reach: nothing to send
                LOGGER.debug("Task %s named by an event answered %s", gid, result.status)
                return []
            task, jobs = result["data"], []
            if task.get("parent"):
                jobs += self._on_task(partition, task, "subtasks", walk=False, shift=SEARCH_LOOKBACK, named=(gid,))
            if task.get("projects"):
                jobs += self._on_task(partition, task, "tasks", walk=False, shift=SEARCH_LOOKBACK, named=(gid,))
            return jobs

        return Job(partition, fetch, then)

    def _on_task(self, partition: str, task: Dict[str, Any], name: str, walk: bool,
                 shift: dt.timedelta = dt.timedelta(), named: Container[str] = ()) -> List[Job]:
        """Emit a task or subtask met through any parent (whatever its time if an event
        `named` it), then read its stories and (in a walk) its subtasks. Each listing is made
        once a run per task, again only if another parent brings a wider look-back `shift`."""
        gid, jobs = task["gid"], []
        self._emit(name, task, shift, gid in named)
        modified = parse_asana_time(task["modified_at"]) if task.get("modified_at") else None
        if "stories" in self.selected and (modified is None or modified >= self.since["stories"] - shift):
            before = self.stories_read.get(gid)
            if before is None or shift > before:
                self.stories_read[gid] = shift
                jobs.append(self._pages(partition, Stories, {"gid": gid}, self._emit_stories(shift, before)))
        if walk and task.get("num_subtasks"):
            before = self.walked.get(gid)
            if before is None or shift > before:
                self.walked[gid] = shift
                jobs.append(self._pages(partition, Subtasks, {"gid": gid}, lambda records: [
                    job for r in records for job in self._on_task(partition, r, "subtasks", True, shift, named)],
                    fields=self.task_fields))
        return jobs

    def _emit_stories(self, shift: dt.timedelta, sent: Optional[dt.timedelta]) -> Callable:
        """Stories created since the bookmark less `shift`, but not those a listing with the
        look-back `sent` already sent this run."""
        bound = self.since["stories"] - sent if sent is not None else None

        def handle(records: List[Dict[str, Any]]) -> List[Job]:
            for record in records:
                if bound is None or (record.get("created_at") and parse_asana_time(record["created_at"]) < bound):
                    self._emit("stories", record, shift)
            return []
        return handle

    # --- reporting --------------------------------------------------------------------------------
    def log_summary(self, seconds: float) -> None:
        for name in self.selected:
            first, last = self.active.get(name, (0.0, 0.0))
            LOGGER.info("Extracted %s: %d records, %d pages, %.1fs", name, self.records[name],
                        self.pages[name], last - first)
        for route, count in sorted(self.client.requests.items()):
            LOGGER.info("Requests %s: %d", route, count)
        LOGGER.info("Sync finished in %.1fs: %d records, %d requests", seconds,
                    sum(self.records.values()), sum(self.client.requests.values()))


def _task_named(event: Mapping[str, Any]) -> Optional[str]:
    """The task or subtask an event says changed: the event's task, or a story's task."""
    resource, parent = event.get("resource") or {}, event.get("parent") or {}
    if resource.get("resource_type") == "task":
        return resource.get("gid")
    if resource.get("resource_type") == "story" and parent.get("resource_type") == "task":
        return parent.get("gid")
    return None


def _stream_of(partition: Optional[str]) -> Optional[str]:
    if partition is None:
        return None
    kind = partition.split(":", 1)[0]
    return {"project": "tasks", "search": "subtasks"}.get(kind, kind)


def sync(client: AsanaClient, config: Config, selected: Dict[str, Selection], state: Dict[str, Any],
         out: IO[str] = sys.stdout, stop: Optional[StopFlag] = None) -> Dict[str, Any]:
    """Sync the selected streams; returns the final state. Raises Stopped after writing
    a STATE that is safe to resume from when `stop` is set."""
    started = time.monotonic()
    run = Run(client, config, selected, state, Writer(out), stop or StopFlag())
    try:
        run.begin()
        return run.run()
    except Stopped:
        if "progress" in run.state:
            run.writer.state(run.state)
        raise
    finally:
        run.log_summary(time.monotonic() - started)
