"""State is data changed only by pure functions."""
from __future__ import annotations

import copy
import datetime as dt

import pytest

from tap_asana import state as st

START = "2026-05-01T10:00:00.000Z"


def test_begin_mark_finish_moves_bookmarks_to_the_run_start():
    original = {"bookmarks": {"tasks": {"modified_at": "2026-01-01T00:00:00.000Z"}}}
    frozen = copy.deepcopy(original)
    s = st.begin_run(original, START, ["tasks"])
    s = st.mark_done(s, "project:1", "tasks")
    assert st.is_done(s, "project:1") and not st.is_done(s, "project:2")
    assert s["bookmarks"]["tasks"]["modified_at"] == "2026-01-01T00:00:00.000Z"  # not before the run ends
    s = st.finish_run(s, [("tasks", "modified_at"), ("stories", "created_at")])
    assert s == {"bookmarks": {"tasks": {"modified_at": START}, "stories": {"created_at": START}},
                 "currently_syncing": None}
    assert original == frozen  # pure: the input is never changed


def test_resuming_keeps_the_interrupted_runs_start_and_done_partitions():
    s = st.mark_done(st.begin_run({}, START, ["tasks"]), "project:1", "tasks")
    resumed = st.begin_run(s, "2026-05-02T00:00:00.000Z", ["tasks"])
    assert st.run_started_at(resumed) == START
    assert st.is_done(resumed, "project:1")


def test_a_resume_with_other_streams_starts_afresh():
    s = st.mark_done(st.begin_run({}, START, ["tasks"]), "project:1", "tasks")
    other = st.begin_run(s, "2026-05-02T00:00:00.000Z", ["stories", "tasks"])
    assert st.run_started_at(other) == "2026-05-02T00:00:00.000Z"
    assert not st.is_done(other, "project:1")


def test_bookmark_reads_datetimes():
    s = {"bookmarks": {"tags": {"created_at": "2026-01-01T00:00:00Z"}}}
    assert st.bookmark(s, "tags", "created_at").year == 2026
    assert st.bookmark(s, "tasks", "modified_at") is None


@pytest.mark.parametrize("bad, words", [
    ([], "JSON object"),
    ({"bookmarks": []}, "bookmarks"),
    ({"bookmarks": {"tasks": "2026"}}, "tasks"),
    ({"bookmarks": {"tasks": {"modified_at": 5}}}, "tasks.modified_at"),
    ({"bookmarks": {"tasks": {"modified_at": "yesterday"}}}, "not an ISO 8601"),
    ({"progress": {"done": []}}, "progress"),
    ({"currently_syncing": 3}, "currently_syncing"),
    ({"sync_tokens": []}, "sync_tokens"),
    ({"sync_tokens": {"7": "abc"}}, "sync_tokens"),
    ({"sync_tokens": {"7": {"sync": "abc", "since": "never"}}}, "sync_tokens.7.since"),
    ({"sync_tokens": {"7": {"sync": "abc"}}}, "sync_tokens"),
    ({"projects": {"7": {"fingerprint": "x"}}}, "read_in_full"),
    ({"projects": {"7": {"read_in_full": START, "fingerprint": 5}}}, "projects"),
    ({"progress": {"started_at": START, "done": [], "sync_tokens": {"7": {"sync": 1, "since": START}}}},
     "progress.sync_tokens"),
    ({"progress": {"started_at": START, "done": [], "cursors": {"search:1": 5}}}, "progress.cursors"),
])
def test_validate_rejects_bad_shapes(bad, words):
    with pytest.raises(st.StateError, match=words):
        st.validate(bad)


def test_validate_accepts_what_finish_run_writes():
    s = st.finish_run(st.begin_run({}, START, ["tasks"]), [("tasks", "modified_at")])
    assert st.validate(s) == s


DAY = dt.timedelta(hours=24)
APRIL = "2026-04-01T00:00:00.000Z"


COVERS = ["stories", "subtasks", "tasks"]


def test_sync_tokens_and_full_reads_wait_for_the_run_to_finish_then_replace_the_old_ones():
    old = {"bookmarks": {}, "sync_tokens": {"1": {"sync": "old-1", "since": APRIL}, "2": {"sync": "old-2", "since": APRIL}},
           "projects": {"1": {"read_in_full": APRIL, "fingerprint": "fp-1"},
                        "2": {"read_in_full": APRIL, "fingerprint": "fp-2"}}}
    s = st.keep_sync_token(st.begin_run(old, START, ["tasks"]), "1", "new-1")
    s = st.keep_project(s, "1", None)
    assert s["sync_tokens"] == old["sync_tokens"] and s["projects"] == old["projects"]  # an interrupted run changes none
    resumed = st.begin_run(s, "2026-05-02T00:00:00.000Z", ["tasks"])
    done = st.finish_run(st.adopt_tokens(resumed), [("tasks", "modified_at")])
    # project 2 was not read this run; project 1's last full read carries over
    assert done["sync_tokens"] == {"1": {"sync": "new-1", "since": START, "covers": COVERS}}
    assert done["projects"] == {"1": old["projects"]["1"]}
    assert st.validate(done) == done
    walked = st.keep_project(st.begin_run(old, START, ["tasks"]), "1", "fp-new")
    assert walked["progress"]["projects"]["1"] == {"read_in_full": START, "fingerprint": "fp-new"}
    assert st.fingerprint(st.finish_run(st.adopt_tokens(walked), []), "1") == "fp-new"


def test_an_earlier_versions_state_keeps_each_projects_last_full_read():
    old = {"sync_tokens": {"1": {"sync": "tok", "since": APRIL, "read_in_full": START, "covers": COVERS}},
           "progress": {"started_at": START, "done": [], "sync_tokens": {"2": {"sync": "t2", "since": START,
                                                                              "read_in_full": APRIL}}}}
    upgraded = st.validate(old)
    assert upgraded["sync_tokens"]["1"] == {"sync": "tok", "since": APRIL, "covers": COVERS}
    assert upgraded["projects"] == {"1": {"read_in_full": START}}
    assert upgraded["progress"]["projects"] == {"2": {"read_in_full": APRIL}}
    assert st.last_read_in_full(upgraded, "1") == st.parse_datetime(START) and st.fingerprint(upgraded, "1") is None
    assert "read_in_full" in old["sync_tokens"]["1"]  # pure


def test_a_run_that_read_no_tasks_keeps_the_tokens_and_one_with_none_left_drops_the_key():
    old = {"sync_tokens": {"1": {"sync": "old-1", "since": START}}, "projects": {"1": {"read_in_full": START}}}
    kept = st.finish_run(st.begin_run(old, START, ["users"]), [])
    assert kept["sync_tokens"] == old["sync_tokens"] and kept["projects"] == old["projects"]
    emptied = st.finish_run(st.adopt_tokens(st.begin_run(old, START, ["tasks"])), [])
    assert "sync_tokens" not in emptied and "projects" not in emptied


def test_a_sync_token_serves_only_bookmarks_no_older_than_the_run_that_took_it():
    s = st.begin_run({"sync_tokens": {"1": {"sync": "tok", "since": START}}}, "2026-05-01T11:00:00.000Z", ["tasks"])
    at, later, earlier = (st.parse_datetime(t) for t in (START, "2026-05-02T00:00:00Z", "2026-04-30T00:00:00Z"))
    assert st.sync_token(s, "1", [at, later]) == "tok"
    assert st.sync_token(s, "1", [at, earlier]) is None  # a stream left out of that run: not covered
    assert st.sync_token(s, "2", [at]) is None


def test_a_project_is_read_in_full_again_once_a_day_or_never_when_asked():
    state = {"projects": {"1": {"read_in_full": START}}}
    assert not st.full_read_due(st.begin_run(state, "2026-05-02T09:59:59.000Z", ["tasks"]), "1", DAY)
    assert st.full_read_due(st.begin_run(state, "2026-05-02T10:00:00.000Z", ["tasks"]), "1", DAY)
    assert st.full_read_due(st.begin_run(state, "2026-05-02T09:00:00.000Z", ["tasks"]), "2", DAY)  # never read
    never = dt.timedelta()
    assert not st.full_read_due(st.begin_run(state, "2027-01-01T00:00:00.000Z", ["tasks"]), "1", never)
    assert st.full_read_due(st.begin_run(state, "2027-01-01T00:00:00.000Z", ["tasks"]), "2", never)  # new project


def test_a_project_that_could_not_be_read_keeps_the_last_runs_token_and_full_read():
    state = {"sync_tokens": {"1": {"sync": "old-1", "since": APRIL}},
             "projects": {"1": {"read_in_full": APRIL, "fingerprint": "fp"}}}
    s = st.keep_project(st.keep_sync_token(st.begin_run(state, START, ["tasks"]), "1", None), "1", None)
    s = st.keep_project(st.keep_sync_token(s, "2", None), "2", None)  # never read before: nothing to carry
    done = st.finish_run(st.adopt_tokens(s), [("tasks", "modified_at")])
    assert done["sync_tokens"] == state["sync_tokens"] and done["projects"] == state["projects"]
    assert st.last_read_in_full(done, "1") == st.parse_datetime(APRIL) and st.last_read_in_full(done, "2") is None


def test_a_run_that_could_not_list_every_project_keeps_the_old_tokens_of_those_it_did_not_reach():
    old = {"sync_tokens": {"1": {"sync": "old-1", "since": APRIL}, "2": {"sync": "old-2", "since": APRIL}},
           "projects": {"1": {"read_in_full": APRIL}, "2": {"read_in_full": APRIL}}}
    s = st.keep_project(st.keep_sync_token(st.begin_run(old, START, ["tasks"]), "1", "new-1"), "1", None)
    kept = st.finish_run(st.adopt_tokens(s, keep_old=True), [])
    assert kept["sync_tokens"] == {"1": {"sync": "new-1", "since": START, "covers": COVERS},
                                   "2": old["sync_tokens"]["2"]}
    assert kept["projects"] == old["projects"]
    assert set(st.finish_run(st.adopt_tokens(s), [])["sync_tokens"]) == {"1"}


def test_partition_names_are_built_and_parsed_by_the_state_module():
    project = st.project_partition("42", "events")
    assert st.project_of(project) == "42" and st.stream_of(project) == "tasks"
    assert st.project_of(st.workspace_partition("users", "42")) is None
    assert st.stream_of(st.workspace_partition("users", "42")) == "users"
    assert st.stream_of(st.search_partition("7")) == "subtasks" and st.stream_of(None) is None
    s = st.mark_done(st.begin_run({}, START, ["tasks"]), project, "tasks")
    s = st.mark_done(s, st.project_partition("43", "walk"), "tasks")
    assert st.done_projects(s) == ["42", "43"]


def test_a_sync_token_serves_only_the_streams_it_was_taken_for():
    s = st.keep_sync_token(st.begin_run({}, START, ["tasks"]), "1", "tok", covers=["tasks"])
    s = st.begin_run(st.finish_run(st.adopt_tokens(s), []), "2026-05-02T00:00:00.000Z", ["sections", "tasks"])
    at = st.parse_datetime(START)
    assert st.sync_token(s, "1", [at], ["tasks"]) == "tok"
    assert st.sync_token(s, "1", [at], ["sections", "tasks"]) is None  # sections were not read with it
    old = st.begin_run({"sync_tokens": {"1": {"sync": "t", "since": START}}}, START, ["tasks"])
    assert st.sync_token(old, "1", [at], ["stories", "subtasks", "tasks"]) == "t"  # written before "covers"


def test_a_workspaces_plan_is_remembered_for_a_day():
    s = st.remember_plans(st.begin_run({}, START, ["tasks"]), {"1": False, "2": True})
    s = st.finish_run(s, [])
    assert st.has_search(st.begin_run(s, "2026-05-02T09:59:00.000Z", ["tasks"]), "1", DAY) is False
    assert st.has_search(st.begin_run(s, "2026-05-02T09:59:00.000Z", ["tasks"]), "2", DAY) is True
    assert st.has_search(st.begin_run(s, "2026-05-02T10:00:00.000Z", ["tasks"]), "1", DAY) is None  # due again
    assert st.has_search(st.begin_run(s, START, ["tasks"]), "3", DAY) is None


KEYS = {"tasks": "modified_at", "tags": "created_at", "stories": "created_at", "users": None}


def test_adopt_unwraps_singer_and_meltano_shapes_and_leaves_its_own_alone():
    own = {"bookmarks": {"tasks": {"modified_at": START}}}
    assert st.adopt(own, KEYS) == (own, [])
    assert st.adopt({"type": "STATE", "value": own}, KEYS) == (own, [])  # what the README says to keep: no note
    for wrapped in ({"singer_state": own}, {"completed": {"singer_state": own}, "partial": {}}):
        state, notes = st.adopt(wrapped, KEYS)
        assert state == own and [level for level, _ in notes] == ["INFO"]
    partial = {"completed": {"singer_state": {"bookmarks": {}}}, "partial": {"singer_state": own}}
    assert st.adopt(partial, KEYS)[0] == own


def test_adopt_reads_the_official_taps_state_and_names_each_bookmark_it_drops():
    official = {"bookmarks": {"currently_sync_stream": "tasks", "tasks": {"modified_at": "2026-01-01T00:00:00.000000"},
                              "stories": {"modified_at": "2026-01-01T00:00:00.000000"},
                              "users": {"modified_at": "2026-01-01T00:00:00.000000"}}}
    state, notes = st.adopt(official, KEYS)
    assert state == {"bookmarks": {"tasks": {"modified_at": "2026-01-01T00:00:00.000000"}}}
    assert len(notes) == 3 and any("stories.modified_at" in n and "start_date" in n for _, n in notes)
    assert {level for level, _ in notes} == {"WARNING"}
    assert any("users.modified_at is not used: users is read in full" in n for _, n in notes)
    _, notes = st.adopt({"bookmarks": {"foo": {"updated_at": "2026-01-01T00:00:00Z"}}}, KEYS)
    assert notes == [("WARNING", "bookmark foo.updated_at is not used: tap-asana has no stream foo")]
    assert st.validate(state) == state
    assert st.bookmark(state, "tasks", "modified_at") == dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def test_adopt_moves_bookmarks_before_2000_to_2000():
    state, notes = st.adopt({"bookmarks": {"tasks": {"modified_at": "0001-01-01T00:00:00Z"}}}, KEYS)
    assert state["bookmarks"]["tasks"]["modified_at"] == "2000-01-01T00:00:00.000Z" and len(notes) == 1


def test_validate_refuses_times_in_the_future_beyond_five_minutes():
    now = dt.datetime(2026, 5, 1, 10, 0, tzinfo=dt.timezone.utc)
    near = {"bookmarks": {"tasks": {"modified_at": "2026-05-01T10:04:00Z"}}}
    assert st.validate(near, now) == near  # clocks a little apart
    for far in ({"bookmarks": {"tasks": {"modified_at": "2026-05-01T10:06:00Z"}}},
                {"progress": {"started_at": "2026-05-02T00:00:00Z", "done": []}},
                {"projects": {"1": {"read_in_full": "2027-01-01T00:00:00Z"}}},
                {"sync_tokens": {"1": {"sync": "t", "since": "2027-01-01T00:00:00Z"}}}):
        with pytest.raises(st.StateError, match="in the future"):
            st.validate(far, now)


def test_a_first_full_read_can_be_dated_earlier_to_spread_the_daily_reads():
    s = st.keep_project(st.begin_run({}, START, ["tasks"]), "1", "fp", phase=dt.timedelta(hours=5, milliseconds=7))
    s = st.keep_sync_token(s, "1", "t")
    assert s["progress"]["projects"]["1"]["read_in_full"] == "2026-05-01T04:59:59.993Z"
    assert s["progress"]["sync_tokens"]["1"]["since"] == START  # what the token covers does not move


def test_a_workspace_owes_its_tasks_in_no_project_from_the_earliest_time_a_run_could_not_read():
    s = st.remember_plans(st.begin_run({}, START, ["tasks"]), {"1": True}, {"1": st.parse_datetime(APRIL)})
    s = st.finish_run(s, [])
    assert st.owed_since(s, "1") == st.parse_datetime(APRIL) and st.owed_since(s, "2") is None
    later = st.remember_plans(st.begin_run(s, "2026-05-02T00:00:00.000Z", ["tasks"]), {},
                              {"1": st.parse_datetime(START)})
    assert st.owed_since(later, "1") == st.parse_datetime(APRIL)  # still the earlier
    paid = st.remember_plans(st.begin_run(s, "2026-05-02T00:00:00.000Z", ["tasks"]), {}, {"1": None})
    assert st.owed_since(paid, "1") is None and paid["plans"]["1"]["search"] is True
