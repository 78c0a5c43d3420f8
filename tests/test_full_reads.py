"""What full reads send: start_date holds in every kind of read, and a project's safety read
(the daily net for events Asana lost) sends only what changed since the last one. End to end:
the real CLI against the fake Asana."""
from __future__ import annotations

import datetime as dt

import pytest

from fake_asana import FakeAsana
from tap_asana.client import format_asana_time, parse_asana_time
from tests.tapkit import assert_valid_singer, catalog_for, config_for, expected_records, run_tap

PLANS = ["premium", "free"]


@pytest.mark.parametrize("plan", PLANS)
def test_start_date_holds_for_tasks_and_subtasks_on_a_first_run(tmp_path, plan):
    with FakeAsana(preset="tiny", seed=7, free_workspaces=plan == "free") as fake:
        export = fake.export()
        times = sorted(parse_asana_time(t["modified_at"]) for t in export["tasks"])
        start = times[len(times) // 2]  # half the tasks and subtasks lie before it
        run = run_tap(tmp_path, config_for(fake, start_date=format_asana_time(start)),
                      catalog_for(["tasks", "subtasks", "stories"]))
    assert run.returncode == 0, run.stderr
    assert_valid_singer(run)
    for stream in ("tasks", "subtasks"):
        sent = run.records(stream)
        assert sent and all(parse_asana_time(r["modified_at"]) >= start for r in sent), stream
    assert all(parse_asana_time(r["created_at"]) >= start for r in run.records("stories"))
    since = {s: format_asana_time(start) for s in ("tasks", "subtasks", "stories")}
    free = {w["gid"] for w in export["workspaces"]} if plan == "free" else \
        {w["gid"] for w in export["workspaces"] if not w["is_organization"]}
    expected = expected_records(export, since, free_workspaces=free)
    for stream in ("tasks", "subtasks"):
        assert {r["gid"] for r in run.records(stream)} == set(expected[stream]), stream
