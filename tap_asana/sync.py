"""The only code that decides which Singer messages are written: SCHEMA for each selected
stream, RECORDs as the walk finds them, STATE whenever a partition (a workspace listing, or
one project with all below it) is finished, ACTIVATE_VERSION for full-table streams read
whole, and the run's summary.

The walk starts at the workspaces. Workspace-level streams (users, tags, teams, portfolios,
custom fields, goals, time tracking entries, and the listings made per team or portfolio) are
read here; how projects and the tasks below them are found (search, events, walking)
belongs to ``capture``, which hands what it finds back through ``Run.emit``.
"""
from __future__ import annotations

import datetime as dt
import logging
import sys
import time
from typing import IO, Any, Dict, Iterable, List, Optional

from tap_asana import access, state as st
from tap_asana.capture import Capture
from tap_asana.capture.sink import SendPage
from tap_asana.client import AsanaClient, format_asana_time, parse_asana_time
from tap_asana.config import Config
from tap_asana.conform import Conformer
from tap_asana.progress import Reporter
from tap_asana.reader import Reader, extracted_now
from tap_asana.scheduler import Job, Scheduler, StopFlag, Stopped
from tap_asana.selection import Selection
from tap_asana.streams import DELETED_AT, INCREMENTAL, PER_RECORD, STREAMS, Workspaces
from tap_asana.writer import Writer

LOGGER = logging.getLogger("tap_asana")

#: Seconds between two STATEs while units of a partition finish (a partition finishing writes one at once):
#: a stopped run redoes at most the units open then and the work of this long.
CHECKPOINT_EVERY = 1.0
#: The start of a run is taken a little before Asana's clock read at the first answer.
CLOCK_MARGIN = dt.timedelta(seconds=1)
#: Workspace-level streams read here (projects and below belong to capture).
WORKSPACE_STREAMS = [s for s in STREAMS.values() if s.parent is Workspaces and s.name != "projects"]
#: workspace-level stream -> the listings made for each of its records (teams' memberships, ...)
PER_RECORD_OF = {s: [c for c in PER_RECORD if c.parent is s] for s in WORKSPACE_STREAMS}


class Run:
    """One sync: the context every handler needs, passed explicitly."""

    def __init__(self, client: AsanaClient, config: Config, selected: Dict[str, Selection],
                 state: Dict[str, Any], writer: Writer, stop: StopFlag, reporter: Reporter):
        self.client, self.config, self.selected, self.writer = client, config, selected, writer
        self.state = state
        self.since = {name: st.bookmark(state, name, s.stream.replication_key) or config.start_date
                      for name, s in selected.items() if s.stream.replication_method == INCREMENTAL}
        # Only these can meet the same record twice in a run (multi-homed tasks, users of
        # several workspaces); every other record has a single parent.
        self.seen: Dict[str, set] = {name: set() for name in ("workspaces", "users", "tasks", "subtasks")}
        self.deleted: set = set()  # (stream, gid) sent as deleted this run
        self.reporter = reporter
        self.conform = Conformer()
        self.reader = Reader(client, selected, reporter)
        self.capture: Optional[Capture] = None
        self.stop = stop
        self.scheduler = Scheduler(config.max_workers, self._partition_done, stop, tick=reporter.tick,
                                   owner_of=lambda partition: (st.unit_of(partition) or (None,))[0])
        self.last_checkpoint = time.monotonic()
        self.version = 0

    # --- the run ------------------------------------------------------------------------------
    def begin(self) -> None:
        """Fix the run's start on Asana's clock (or resume an unfinished run's)."""
        me = self.client.get("/users/me", {"opt_fields": "name"})
        LOGGER.info("Authenticated to Asana as user %s", me["data"]["gid"])
        access.require_visible(self.client, self.config)  # a shard naming gids it cannot see stops here
        clock = self.client.run_start()
        self.state = st.begin_run(self.state, format_asana_time(clock - CLOCK_MARGIN), sorted(self.selected))
        started_at = st.run_started_at(self.state)
        self.version = int(parse_asana_time(started_at).timestamp() * 1000)
        self.capture = Capture(self.reader, self, self.state, self.config, self.client)
        if self.state["progress"]["done"]:
            LOGGER.info("Resuming the run started at %s: %d partitions already done",
                        started_at, len(self.state["progress"]["done"]))

    def run(self) -> Dict[str, Any]:
        assert self.capture is not None, "begin() first"
        self.stop.armed = True  # from here on a signal is handled between two messages
        for name, sel in self.selected.items():
            schema = dict(sel.schema, properties={c: sel.schema["properties"][c] for c in sel.columns})
            self.writer.write({"type": "SCHEMA", "stream": name, "schema": schema,
                               "key_properties": list(sel.stream.key_properties),
                               "bookmark_properties": [sel.stream.replication_key] if sel.stream.replication_key else []})
        self.scheduler.add(self.reader.listing(st.WORKSPACES_PARTITION, Workspaces, {}, self._on_workspaces))
        self.scheduler.run()
        self.state = self.capture.close(self.state)
        self.state = st.finish_run(self.state, [(n, STREAMS[n].replication_key) for n in self.since])
        for name, sel in self.selected.items():
            # A stream with an unread part must not tell targets to drop rows it did not see.
            if sel.stream.replication_method != INCREMENTAL and name not in self.reader.incomplete:
                self.writer.write({"type": "ACTIVATE_VERSION", "stream": name, "version": self.version})
        self.writer.state(self.state)
        return self.state

    # --- the sink capture writes to -------------------------------------------------------------
    def wants(self, name: str) -> bool:
        return name in self.selected

    def emit(self, name: str, record: Dict[str, Any], shift: dt.timedelta = dt.timedelta(),
             named: bool = False) -> bool:
        """Write a record unless it is unselected, already sent this run, older than start_date,
        or older than its stream's bookmark less `shift` (a record an event `named`, or a full
        read found changed, is sent whatever its time after start_date: moving a task into a
        project does not change its `modified_at`)."""
        sel = self.selected.get(name)
        seen = self.seen.get(name)
        if sel is None or (seen is not None and record.get("gid") in seen) or (name, record.get("gid")) in self.deleted:
            return False  # once sent as deleted, an older copy read earlier must not revive it
        record = self.conform.record(name, record)
        key = sel.stream.replication_key
        if name in self.since and record.get(key):
            when = parse_asana_time(record[key])
            if when < self.config.start_date or (not named and when < self.since[name] - shift):
                return False  # not marked seen: another parent may reach it with a wider window
        if seen is not None:
            seen.add(record.get("gid"))
        sel.stream.rename(record)
        message = {"type": "RECORD", "stream": name, "record": {c: record.get(c) for c in sel.columns},
                   "time_extracted": self._extracted_at()}
        if sel.stream.replication_method != INCREMENTAL:
            message["version"] = self.version
        self.writer.write(message)
        self.reporter.record(name)
        return True

    def delete(self, name: str, gid: str, at: str) -> None:
        """Write that a record was deleted in Asana at `at`: its key and DELETED_AT."""
        sel = self.selected.get(name)
        if sel is None or (name, gid) in self.deleted:
            return
        # Not kept from a record sent earlier this run: the delete comes after it, and targets
        # apply messages in order.
        self.deleted.add((name, gid))
        message = {"type": "RECORD", "stream": name, "record": {"gid": gid, DELETED_AT: at},
                   "time_extracted": self._extracted_at()}
        if sel.stream.replication_method != INCREMENTAL:
            message["version"] = self.version
        self.writer.write(message)
        self.reporter.record(name)

    def _extracted_at(self) -> str:
        """When the answer holding the record being written arrived (Singer's time_extracted)."""
        return self.reader.extracted_at or extracted_now()

    def _partition_done(self, partition: str) -> Iterable[Job]:
        if partition == st.WORKSPACES_PARTITION:
            return ()
        if st.unit_of(partition):  # one task of a partition read whole: its cursor moves
            self.capture.unit_done(partition)
            if time.monotonic() - self.last_checkpoint >= CHECKPOINT_EVERY:
                self.checkpoint()
            return ()
        self.state = self.capture.partition_done(partition, self.state)
        oldest_open = min(self.scheduler.open, key=self.scheduler.rank.get, default=None)
        self.state = st.mark_done(self.state, partition, st.stream_of(oldest_open))
        self.checkpoint()
        return ()

    def checkpoint(self) -> None:
        """A STATE that is safe to resume from: the partitions done and how far the others got."""
        if "progress" in self.state:
            self.state = st.set_cursors(self.state, self.capture.cursor_values() if self.capture else {})
        self.writer.state(self.state)
        self.last_checkpoint = time.monotonic()

    # --- workspaces and what hangs directly below them --------------------------------------------
    def _on_workspaces(self, page: List[Dict[str, Any]]) -> List[Job]:
        jobs: List[Job] = []
        shard = set(self.config.workspace_gids)
        workspaces = [ws for ws in page if not shard or ws["gid"] in shard]
        for ws in workspaces:
            self.emit("workspaces", ws)
            # A workspace known to have no search is on a free plan: paid streams would answer 402.
            free = st.has_search(self.state, ws["gid"], Capture.PLAN_CHECK_EVERY) is False
            for stream in WORKSPACE_STREAMS:
                partition = st.workspace_partition(stream.name, ws["gid"])
                # A stream not selected is still listed, for only what its children need, when they are.
                children = [c for c in PER_RECORD_OF[stream] if c.name in self.selected and not (c.paid and free)]
                if (stream.name not in self.selected and not children) or st.is_done(self.state, partition) \
                        or (stream.organizations_only and not ws.get("is_organization")) or (stream.paid and free):
                    continue
                jobs.append(self.reader.listing(partition, stream, {"workspace": ws["gid"]},
                                                _WorkspaceRecords(self, stream, partition, children),
                                                fields=None if stream.name in self.selected else ["name"]))
        organizations = {ws["gid"] for ws in workspaces if ws.get("is_organization")}
        return jobs + self.capture.workspace_page([ws["gid"] for ws in workspaces], organizations)


class _WorkspaceRecords:
    """Handles a page of a workspace-level stream: records are sent at once, or, for a stream
    with a column filled by another listing (teams' users, portfolios' items), once it is read;
    each record's `children` (selected streams listed per record, such as team_memberships) are
    listed in the same partition."""

    def __init__(self, run: Run, stream: type, partition: str, children: List[type]):
        self.run, self.stream, self.partition, self.children = run, stream, partition, children

    def __call__(self, records: List[Dict[str, Any]]) -> List[Job]:
        selected = self.stream.name in self.run.selected
        filling = self.stream.column_from if selected else None
        # A column another selected stream's listing holds anyway (teams' users: team_memberships)
        # is filled from it, not asked for again.
        also = self.stream.column_also_from if filling else None
        also = also if also and also[0] in self.children else None
        jobs: List[Job] = []
        for record in records:
            for child in self.children:
                if child.none_unless_parent_has and record.get(child.none_unless_parent_has) is None:
                    continue
                if also and child is also[0]:
                    record[filling[0]] = []
                    fill = _Filling(self.run, child.name, self.stream.name, record, filling[0], also[1])
                    jobs.append(self.child_listing(child, record["gid"], fill))
                else:
                    jobs.append(self.child_listing(child, record["gid"]))
        if not selected:
            return jobs
        if filling is None:
            for record in records:
                self.run.emit(self.stream.name, record)
            return jobs
        if also:
            return jobs
        column, child = filling
        fields = self.run.selected[self.stream.name].fields(column) or ["name"]
        for record in records:
            record[column] = []
            jobs.append(self.run.reader.listing(self.partition, child, {"gid": record["gid"]}, record[column].extend,
                                                fields=fields, on_done=_SendWhenFilled(self.run, self.stream.name, record)))
        return jobs

    def child_listing(self, child: type, gid: str, filling: Optional["_Filling"] = None) -> Job:
        context = {"gid": gid}
        if child.name in self.run.since:  # an incremental child asks Asana for what is new (created_since)
            context["since"] = format_asana_time(self.run.since[child.name])
        if filling is None:
            return self.run.reader.listing(self.partition, child, context, SendPage(self.run, child.name))
        column, field = self.stream.column_from[0], self.stream.column_also_from[1]
        fields = self.run.selected[child.name].paths + [f"{field}.{p}" for p in
                                                        self.run.selected[self.stream.name].fields(column)]
        return self.run.reader.listing(self.partition, child, context, filling, fields=sorted(set(fields)),
                                       on_done=filling.done)


class _Filling:
    """Handles a page of a child stream (team memberships) that also fills a column of its parent
    (the team's users: each membership's user), and sends the parent once the listing is read."""

    def __init__(self, run: Run, name: str, parent: str, record: Dict[str, Any], column: str, field: str):
        self.run, self.name, self.parent, self.record = run, name, parent, record
        self.column, self.field = column, field

    def __call__(self, records: List[Dict[str, Any]]) -> List[Job]:
        for record in records:
            self.run.emit(self.name, record)
            if record.get(self.field):
                self.record[self.column].append(record[self.field])
        return []

    def done(self) -> List[Job]:
        # in the order Asana lists a team's users (alphabetically)
        self.record[self.column].sort(key=lambda user: ((user.get("name") or "").lower(), user.get("gid") or ""))
        self.run.emit(self.parent, self.record)
        return []


class _SendWhenFilled:
    """Sends a record once the listing that fills one of its columns is read."""

    def __init__(self, run: Run, name: str, record: Dict[str, Any]):
        self.run, self.name, self.record = run, name, record

    def __call__(self) -> List[Job]:
        self.run.emit(self.name, self.record)
        return []


def sync(client: AsanaClient, config: Config, selected: Dict[str, Selection], state: Dict[str, Any],
         out: IO[str] = sys.stdout, stop: Optional[StopFlag] = None,
         reporter: Optional[Reporter] = None) -> Dict[str, Any]:
    """Sync the selected streams; returns the final state. Raises Stopped after writing
    a STATE that is safe to resume from when `stop` is set."""
    reporter = reporter or Reporter(streams=list(selected))
    run = Run(client, config, selected, state, Writer(out), stop or StopFlag(), reporter)
    ok = stopped = False
    try:
        run.begin()
        final = run.run()
        ok = True
        return final
    except Stopped:
        stopped = True
        if "progress" in run.state:
            run.checkpoint()
        raise
    finally:
        reporter.summary(ok, stopped=stopped)
