"""What full reads send: start_date holds in every kind of read, and a project's safety read
(the daily net for events Asana lost) sends only what changed since the last one. End to end:
the real CLI against the fake Asana."""
from __future__ import annotations

import datetime as dt

import pytest

from fake_asana import FakeAsana
from tap_asana.client import format_asana_time, parse_asana_time
from tests.tapkit import a_day_later, assert_valid_singer, catalog_for, config_for, expected_records, run_tap

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


@pytest.mark.parametrize("plan", ["free", "premium", "enterprise"])
def test_a_quiet_days_safety_reads_send_no_task_that_did_not_change(tmp_path, plan):
    # data three days old: nothing changed in the day the state is moved back
    with FakeAsana(preset="tiny", seed=8, plan={"premium": "mixed"}.get(plan, plan), now=days_ago(3)) as fake:
        extra = {"access_token": fake.options.service_account_token} if plan == "enterprise" else {}
        catalog = catalog_for(["tasks", "subtasks", "stories"])
        first = run_tap(tmp_path / "one", config_for(fake, **extra), catalog)
        assert first.returncode == 0, first.stderr
        fake.reset_stats()
        later = run_tap(tmp_path / "two", config_for(fake, **extra), catalog, state=a_day_later(first.final_state))
        routes = {r: sum(c.values()) for r, c in fake.stats()["by_route"].items()}
    assert later.returncode == 0, later.stderr
    assert "was last read in full a day ago" in later.stderr
    assert project_listings(fake) >= 1  # the projects' tasks were listed again: the safety reads ran
    assert later.records("tasks") == [] and later.records("subtasks") == [] and later.records("stories") == []
    assert "GET /tasks/{gid}/stories" not in routes  # nothing changed: no task is opened for its stories


def test_safety_reads_can_be_turned_off(tmp_path):
    with FakeAsana(preset="tiny", seed=8, now=days_ago(3)) as fake:
        catalog = catalog_for(["tasks"])
        first = run_tap(tmp_path / "one", config_for(fake), catalog)
        fake.reset_stats()
        later = run_tap(tmp_path / "two", config_for(fake, safety_read_hours=0), catalog,
                        state=a_day_later(first.final_state))
        listings = project_listings(fake)
    assert later.returncode == 0, later.stderr
    assert listings == 0 and "read in full a day ago" not in later.stderr


def project_listings(fake: FakeAsana) -> int:
    return sum(1 for line in fake.requests() if "/tasks?" in line and "project=" in line)


def days_ago(days: int) -> str:
    return format_asana_time(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days))
