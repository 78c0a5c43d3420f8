"""The change-capture finders on their own, without HTTP: each job's handler is fed the answer
a request would have brought, and what the finder sends goes to a fake sink. The end-to-end
and fault suites are the net around these."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any, Dict, List, Tuple

from tap_asana import state as st
from tap_asana.capture import Capture
from tap_asana.capture.events import ProjectEvents, TaskByEvent, what_changed
from tap_asana.capture.fingerprint import bucket, of as fingerprint_of
from tap_asana.capture.search import WorkspaceSearch
from tap_asana.client import AsanaClient, Skip
from tap_asana.config import validate_config
from tap_asana.progress import Reporter
from tap_asana.reader import Reader
from tap_asana.selection import select
from tests.tapkit import catalog_for

START = "2026-05-01T10:00:00.000Z"
EARLIER = "2026-05-01T09:00:00.000Z"
NOW = dt.datetime(2026, 5, 1, 10, 30, tzinfo=dt.timezone.utc)


class FakeSink:
    """Records what the finders send, applying the run's rules that matter here."""

    def __init__(self, streams: List[str], since: dt.datetime):
        self.streams = streams
        self.since = {n: since for n in ("tasks", "subtasks", "stories")}
        self.sent: List[Tuple[str, str, bool]] = []  # (stream, gid, named)
        self.deleted: List[Tuple[str, str, str]] = []

    def wants(self, stream: str) -> bool:
        return stream in self.streams

    def emit(self, stream: str, record: Dict[str, Any], shift: dt.timedelta = dt.timedelta(),
             named: bool = False) -> bool:
        if stream not in self.streams:
            return False
        when = record.get("modified_at") or record.get("created_at")
        if not named and when and st.parse_datetime(when) < self.since.get(stream, self.since["tasks"]) - shift:
            return False  # older than the bookmark less the look-back: the run would not send it
        self.sent.append((stream, record["gid"], named))
        return True

    def delete(self, stream: str, gid: str, at: str) -> None:
        if stream in self.streams:
            self.deleted.append((stream, gid, at))


def capture_for(streams: List[str], state: Dict[str, Any], **config: Any) -> Tuple[Capture, FakeSink]:
    cfg = validate_config({"access_token": "t", "start_date": "2026-01-01T00:00:00Z", **config}, NOW)
    selected = select(catalog_for(streams))
    client = AsanaClient(cfg)  # never asked anything: no job is fetched here
    sink = FakeSink(streams, st.parse_datetime(EARLIER))
    begun = st.begin_run(state, START, sorted(streams))
    return Capture(Reader(client, selected, Reporter()), sink, begun, cfg, client), sink


def task(gid: str, modified: str = "2020-01-01T00:00:00.000Z", **fields: Any) -> Dict[str, Any]:
    return {"gid": gid, "modified_at": modified, "num_subtasks": 0, "parent": None, "projects": [], **fields}


def event(kind: str, gid: str, action: str = "changed", parent: Any = None, at: str = START) -> Dict[str, Any]:
    return {"resource": {"gid": gid, "resource_type": kind}, "action": action, "parent": parent, "created_at": at}


FAMILY = ["sections", "tasks", "subtasks", "stories"]
BOOKMARKED = {"bookmarks": {n: {k: EARLIER} for n, k in (("tasks", "modified_at"), ("subtasks", "modified_at"),
                                                         ("stories", "created_at"))},
              "sync_tokens": {"p1": {"sync": "tok", "since": EARLIER, "covers": FAMILY}},
              "projects": {"p1": {"read_in_full": EARLIER}}}


def Fingerprint_of(tasks: List[Dict[str, Any]]) -> str:
    return fingerprint_of(tasks).encode()


def finder_of(job) -> Any:
    """The object whose method handles a job's answer (a TaskByEvent, a ProjectWalk, ...)."""
    reader_job = job.then.__self__
    handler = getattr(reader_job, "on_record", None) or getattr(reader_job, "on_records")
    return getattr(handler, "__self__", handler)


def test_what_an_event_says_changed():
    assert what_changed(event("task", "1")) == ("task", "1")
    assert what_changed(event("task", "1", "removed", {"gid": "p", "resource_type": "project"})) == ("task", "1")
    assert what_changed(event("task", "1", "deleted")) == ("task deleted", "1")
    assert what_changed(event("story", "9", "added", {"gid": "5", "resource_type": "task"})) == ("task", "5")
    assert what_changed(event("section", "3")) == ("section", "3")
    assert what_changed(event("section", "3", "deleted")) == ("section deleted", "3")
    assert what_changed(event("project", "p1")) == ("", None)


def test_a_projects_events_name_tasks_to_read_deletes_to_send_and_sections_to_list():
    capture, sink = capture_for(FAMILY, BOOKMARKED)
    finder = ProjectEvents(capture, st.project_partition("p1", "events"), "p1", "w1")
    assert finder.token == "tok" and not finder.read.due
    finder.on_events([event("task", "1"), event("story", "9", "added", {"gid": "2", "resource_type": "task"}),
                      event("task", "3"), event("task", "3", "deleted", at="2026-05-01T09:30:00.000Z"),
                      event("section", "s1")])
    jobs = finder.on_done(SimpleNamespace(sync="tok2", expired=False))
    # tasks 1 and 2 read by gid (3 was deleted after its change: the last word wins); sections listed
    assert sorted(finder_of(j).gid for j in jobs if isinstance(finder_of(j), TaskByEvent)) == ["1", "2"]
    assert sum(1 for j in jobs if not isinstance(finder_of(j), TaskByEvent)) == 1
    assert sink.deleted == [("tasks", "3", "2026-05-01T09:30:00.000Z"), ("subtasks", "3", "2026-05-01T09:30:00.000Z")]
    token, covers = capture.next_sync["p1"]
    assert (token, sorted(covers)) == ("tok2", sorted(FAMILY))
    assert capture.next_read["p1"][0] is None  # not read in full: the last full read carries over
    assert "sections" not in capture.reader.incomplete


def test_a_project_whose_events_name_no_section_is_not_listed_and_its_stream_gets_no_activate_version():
    capture, _ = capture_for(FAMILY, BOOKMARKED)
    finder = ProjectEvents(capture, st.project_partition("p1", "events"), "p1", "w1")
    assert finder.on_done(SimpleNamespace(sync="tok2", expired=False)) == []
    assert "sections" in capture.reader.incomplete


def test_an_expired_token_reads_a_project_never_read_in_full_sending_every_task_whatever_its_time():
    capture, sink = capture_for(FAMILY, dict(BOOKMARKED, projects={}))
    finder = ProjectEvents(capture, st.project_partition("p1", "events"), "p1", "w1")
    jobs = finder.on_done(SimpleNamespace(sync="fresh", expired=True))
    walk = next(finder_of(j) for j in jobs if type(finder_of(j)).__name__ == "ProjectWalk")
    token, covers = capture.next_sync["p1"]
    assert (token, sorted(covers)) == ("fresh", sorted(FAMILY))
    walk.on_records([task("older", "2019-01-01T00:00:00.000Z"), task("old", projects=[{"gid": "p1"}])])
    assert sink.sent == []  # sent once the whole listing is in hand, in gid order
    walk.on_done()
    assert [(s, g) for s, g, named in sink.sent if named] == [("tasks", "old"), ("tasks", "older")]
    fingerprint, _phase = capture.next_read["p1"]
    assert fingerprint and fingerprint == Fingerprint_of([task("old", projects=[{"gid": "p1"}]),
                                                          task("older", "2019-01-01T00:00:00.000Z")])


def test_a_later_full_read_sends_only_the_buckets_that_moved_and_what_changed_since_the_last_one():
    listed = [task(str(1000 + i), memberships=[{"project": {"gid": "p1"}, "section": {"gid": "s1"}}])
              for i in range(40)]
    last = Fingerprint_of(listed)
    state = dict(BOOKMARKED, projects={"p1": {"read_in_full": EARLIER, "fingerprint": last}})
    capture, sink = capture_for(FAMILY, state)
    finder = ProjectEvents(capture, st.project_partition("p1", "events"), "p1", "w1")
    walk = next(finder_of(j) for j in finder.on_done(SimpleNamespace(sync="fresh", expired=True))
                if type(finder_of(j)).__name__ == "ProjectWalk")
    quiet = [dict(t) for t in listed]
    assert walk.on_records(quiet) == [] and sink.sent == []  # nothing is sent before the listing is whole
    walk.on_done()
    assert sink.sent == []  # a quiet project sends nothing
    capture, sink = capture_for(FAMILY, state)
    finder = ProjectEvents(capture, st.project_partition("p1", "events"), "p1", "w1")
    walk = next(finder_of(j) for j in finder.on_done(SimpleNamespace(sync="fresh", expired=True))
                if type(finder_of(j)).__name__ == "ProjectWalk")
    moved = [dict(t) for t in listed]
    moved[3] = dict(moved[3], memberships=[{"project": {"gid": "p1"}, "section": {"gid": "s2"}}])
    walk.on_records(moved)
    walk.on_done()
    named = {g for _, g, is_named in sink.sent if is_named}
    assert "1003" in named and len(named) < len(listed)  # its bucket, not the whole project
    assert all(bucket(g) == bucket("1003") for g in named)


def test_a_task_read_by_gid_that_is_gone_is_sent_as_deleted():
    capture, sink = capture_for(FAMILY, BOOKMARKED)
    TaskByEvent(capture, "p", "7", capture.LOOKBACK).on_fail(Skip("Not found", 404, "/tasks/7"))
    TaskByEvent(capture, "p", "8", capture.LOOKBACK).on_fail(Skip("Forbidden", 403, "/tasks/8"))
    assert sink.deleted == [("tasks", "7", START), ("subtasks", "7", START)]


def test_a_task_found_alone_goes_to_the_streams_its_place_says():
    capture, sink = capture_for(FAMILY, BOOKMARKED)
    family = capture.family
    family.found_alone("p", task("orphan"), dt.timedelta(), named=("orphan",))
    family.found_alone("p", task("sub", parent={"gid": "orphan"}), dt.timedelta(), named=("sub",))
    family.found_alone("p", task("both", parent={"gid": "x"}, projects=[{"gid": "p1"}]), dt.timedelta(),
                       named=("both",))
    assert [(s, g) for s, g, _ in sink.sent] == [("tasks", "orphan"), ("subtasks", "sub"),
                                                 ("subtasks", "both"), ("tasks", "both")]


def started(capture: Capture, workspace: str, workspace_events: bool = False) -> List[Any]:
    """A workspace's first jobs, and what its events probe answered (402 unless `workspace_events`)."""
    jobs = capture.workspace_page([workspace])
    probe = capture.starts[workspace].events
    assert [j.partition for j in jobs][:1] == [st.workspace_events_partition(workspace)] and probe
    if workspace_events:
        return probe.on_done(SimpleNamespace(sync="ws-token", expired=True))
    return probe.on_fail(Skip("Payment Required", 402, f"/workspaces/{workspace}/events"))


def test_search_answering_402_makes_the_workspace_free_and_reads_its_tasks_in_no_project():
    capture, _ = capture_for(FAMILY, BOOKMARKED)
    capture.workspaces.update({"w1", "w2"})
    assert started(capture, "w1") == []  # the plan is not known yet
    jobs = capture.searches["w1"].on_fail(Skip("Payment Required", 402, "/workspaces/w1/tasks/search"))
    assert capture.has_search == {"w1": False} and capture.events_plan == {"w1": False}
    assert sorted(j.partition for j in jobs) == [st.workspace_partition("projects", "w1"), st.no_project_partition("w1")]
    assert capture.client.limiter.per_minute == 1500  # w2 may be paid: the budget stays


def test_workspace_events_that_answer_make_each_project_read_only_what_they_name():
    capture, sink = capture_for(FAMILY, BOOKMARKED)
    jobs = started(capture, "w1", workspace_events=True)
    assert jobs == []  # the plan is not known yet
    jobs = capture.searches["w1"].on_records([])  # search answers: premium
    assert [j.partition for j in jobs] == [st.workspace_partition("projects", "w1")]
    assert capture.next_sync["w1"] == ("ws-token", capture.project_streams())
    # a 412 (no usable token): every project is read in full; no project reads events of its own
    project_jobs = capture.project_jobs("p1", "w1", "workspace")
    assert project_jobs and not any(j.partition.endswith(":events") for j in project_jobs)
    assert all(j.partition == st.project_partition("p1", "workspace") for j in project_jobs)


def test_a_workspace_known_free_is_not_searched_and_one_searched_is_remembered():
    remembered = st.remember_plans(st.begin_run(BOOKMARKED, EARLIER, FAMILY), {"w1": False})
    capture, _ = capture_for(FAMILY, st.finish_run(remembered, []))
    assert [j.partition for j in started(capture, "w1")] == [
        st.workspace_partition("projects", "w1"), st.no_project_partition("w1")]
    assert capture.client.limiter.per_minute == 150  # every workspace is free: a free plan's budget
    again, _ = capture_for(FAMILY, BOOKMARKED)
    assert [j.partition for j in again.workspace_page(["w1"])] == [st.workspace_events_partition("w1"),
                                                                    st.search_partition("w1")]
    # a workspace that is no organization cannot be Enterprise+: its events are not asked for
    plain, _ = capture_for(FAMILY, BOOKMARKED)
    assert [j.partition for j in plain.workspace_page(["w1"], organizations=set())] == [st.search_partition("w1")]
    # a workspace whose events did not answer is not asked again for a day
    told = st.remember_plans(st.begin_run(BOOKMARKED, EARLIER, FAMILY), {"w1": True}, events={"w1": False})
    third, _ = capture_for(FAMILY, st.finish_run(told, []))
    assert [j.partition for j in third.workspace_page(["w1"])] == [st.search_partition("w1")]


def test_a_project_shard_reads_no_search_and_no_tasks_in_no_project():
    capture, _ = capture_for(FAMILY, BOOKMARKED, project_gids=["11"])
    assert [j.partition for j in capture.workspace_page(["w1"])] == [st.workspace_partition("projects", "w1")]
    assert capture.must_walk_subtasks("w1")  # no search to find changed subtasks


def test_a_full_read_also_reads_by_gid_a_task_the_events_named_that_left_the_project():
    capture, sink = capture_for(FAMILY, BOOKMARKED)
    finder = ProjectEvents(capture, st.project_partition("p1", "events"), "p1", "w1")
    finder.on_events([event("task", "gone-from-p1", "removed", {"gid": "p1", "resource_type": "project"}),
                      event("task", "still-in-p1")])
    walk = next(finder_of(j) for j in finder.on_done(SimpleNamespace(sync="fresh", expired=True))
                if type(finder_of(j)).__name__ == "ProjectWalk")
    walk.on_records([task("still-in-p1", projects=[{"gid": "p1"}])])
    assert [finder_of(j).gid for j in walk.on_done()] == ["gone-from-p1"]


def test_tasks_named_by_events_of_a_kept_token_look_for_stories_back_to_its_start():
    # The last run could not read p1's events: its token (taken at KEPT) was kept; the
    # bookmarks moved on. A story added in between must still be listed.
    kept = "2026-05-01T06:00:00.000Z"
    state = dict(BOOKMARKED, sync_tokens={"p1": dict(BOOKMARKED["sync_tokens"]["p1"], since=kept)})
    state["bookmarks"] = {n: {k: kept} for n, k in (("tasks", "modified_at"), ("subtasks", "modified_at"),
                                                    ("stories", "created_at"))}
    capture, sink = capture_for(FAMILY, state)
    sink.since = {n: st.parse_datetime(EARLIER) for n in sink.since}  # what the bookmarks would say now
    finder = ProjectEvents(capture, st.project_partition("p1", "events"), "p1", "w1")
    assert finder.token == "tok"
    read = finder_of(finder.on_done(SimpleNamespace(sync="t2", expired=False))[0]) if finder.notes.tasks else None
    assert read is None
    finder.on_events([event("story", "s", "added", {"gid": "5", "resource_type": "task"})])
    read = next(finder_of(j) for j in finder.on_done(SimpleNamespace(sync="t2", expired=False)))
    assert read.shift >= st.parse_datetime(EARLIER) - st.parse_datetime(kept)
    jobs = read.on_record(task("5", modified="2026-05-01T07:00:00.000Z", projects=[{"gid": "p1"}]))
    assert any(j.then.__self__.name == "stories" for j in jobs)  # its stories are listed


def test_projects_first_read_together_fall_due_for_their_daily_full_read_at_different_times():
    capture, _ = capture_for(FAMILY, BOOKMARKED)
    for gid in ("1201", "1202", "1203", "1204"):
        capture.keep_read(gid, "fp", first=True)
    phases = {capture.next_read[g][1] for g in ("1201", "1202", "1203", "1204")}
    assert len(phases) == 4 and all(dt.timedelta() <= p < capture.full_read_every for p in phases)
    capture.keep_read("1201", "fp")  # a later full read keeps the project's own rhythm
    assert capture.next_read["1201"][1] == dt.timedelta()


def test_a_search_that_fails_leaves_its_window_owed_to_the_next_run():
    capture, _ = capture_for(FAMILY, BOOKMARKED)
    started(capture, "w1")
    capture.searches["w1"].on_fail(Skip("Forbidden", 403, "/workspaces/w1/tasks/search"))
    state = st.finish_run(capture.close(capture.state), [])
    assert st.owed_since(state, "w1") == st.parse_datetime(EARLIER)
    # the next run searches from there, not from its (later) bookmarks, and a full search settles it
    later = dict(state, bookmarks={n: {k: START} for n, k in (("tasks", "modified_at"), ("subtasks", "modified_at"),
                                                              ("stories", "created_at"))})
    again, sink = capture_for(FAMILY, later)
    sink.since = {n: st.parse_datetime(START) for n in sink.since}
    retry = WorkspaceSearch(again, "w1")
    retry.job()
    assert retry.since == st.parse_datetime(EARLIER)
    retry.on_done()
    assert st.owed_since(st.finish_run(again.close(again.state), []), "w1") is None


def test_a_subtask_removed_from_the_project_it_was_also_in_is_sent_again_as_a_task_in_none():
    capture, sink = capture_for(FAMILY, BOOKMARKED)
    finder = ProjectEvents(capture, st.project_partition("p1", "events"), "p1", "w1")
    finder.on_events([event("task", "sub", "removed", {"gid": "p1", "resource_type": "project"}),
                      event("task", "other")])
    reads = {finder_of(j).gid: finder_of(j) for j in finder.on_done(SimpleNamespace(sync="t2", expired=False))
             if isinstance(finder_of(j), TaskByEvent)}
    assert reads["sub"].left_project and not reads["other"].left_project
    reads["sub"].on_record(task("sub", parent={"gid": "top"}, projects=[]))
    reads["other"].on_record(task("other", parent={"gid": "top"}, projects=[]))
    assert [(s, g) for s, g, _ in sink.sent] == [("subtasks", "sub"), ("tasks", "sub"), ("subtasks", "other")]
