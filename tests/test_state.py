"""State is data changed only by pure functions."""
from __future__ import annotations

import copy

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
])
def test_validate_rejects_bad_shapes(bad, words):
    with pytest.raises(st.StateError, match=words):
        st.validate(bad)


def test_validate_accepts_what_finish_run_writes():
    s = st.finish_run(st.begin_run({}, START, ["tasks"]), [("tasks", "modified_at")])
    assert st.validate(s) == s
