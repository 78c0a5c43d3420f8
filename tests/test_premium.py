"""Premium and Enterprise+ reads at the floor, end to end: search says which tasks have
attachments (and finds subtasks), nothing is lost to its index's lag, and an Enterprise+
workspace read with a service account costs the same quiet run whatever its number of projects."""
from __future__ import annotations

from typing import Any, Dict

import pytest

from fake_asana import FakeAsana
from tests.tapkit import assert_valid_singer, catalog_for, config_for, expected_records, run_tap

EVERY = ["tasks", "subtasks", "stories", "attachments", "sections", "projects", "project_memberships",
         "status_updates"]
def routes_of(fake: FakeAsana) -> Dict[str, int]:
    return {route: sum(counts.values()) for route, counts in fake.stats()["by_route"].items()}


def org_of(fake: FakeAsana) -> str:
    return next(w["gid"] for w in fake.export()["workspaces"] if w["is_organization"])


def test_attachments_are_asked_only_of_the_tasks_search_says_have_some(tmp_path):
    with FakeAsana(preset="tiny", seed=41, plan="premium") as fake:
        run = run_tap(tmp_path, config_for(fake), catalog_for(EVERY))
        export, routes = fake.export(), routes_of(fake)
    assert run.returncode == 0, run.stderr
    assert_valid_singer(run)
    expected = expected_records(export, {s: "2020-01-01T00:00:00Z" for s in ("tasks", "subtasks", "stories",
                                                                              "attachments")})
    assert {r["gid"] for r in run.records("attachments")} == set(expected["attachments"])
    with_files = {a["parent"]["gid"] for a in export["attachments"]}
    # one listing per task or subtask with attachments and per project: not per task
    assert routes["GET /attachments"] == len(with_files | {p["gid"] for p in export["projects"]})
    assert routes["GET /attachments"] < len(export["tasks"])
    assert "GET /tasks/{gid}/subtasks" not in routes  # search finds the subtasks, at every depth
    assert {r["gid"] for r in run.records("subtasks")} == set(expected["subtasks"])
    assert "search named" in run.stderr and "changed tasks with attachments" in run.stderr


def test_an_attachment_or_a_subtask_added_during_a_full_read_or_within_the_search_lag_comes_next_run(tmp_path):
    with FakeAsana(preset="tiny", seed=42, plan="premium", search_lag_s=30) as fake:
        export = fake.export()
        tasks = [t for t in export["tasks"] if not t["parent"] and t["projects"]]
        # just before the run: the index does not show it yet (30 s lag)
        before = fake.mutate("add_attachment", gids=[tasks[0]["gid"]])["attachments"][0]
        # while the first run reads: after a few of its requests
        fake.mutate("add_attachment", gids=[tasks[1]["gid"]], after_requests=12)
        fake.mutate("add_subtasks", gids=[tasks[2]["gid"]], after_requests=15)
        first = run_tap(tmp_path / "one", config_for(fake), catalog_for(EVERY))
        assert first.returncode == 0, first.stderr
        during = [m for m in fake.mutations()["applied"] if m["op"] in ("add_attachment", "add_subtasks")][1:]
        assert len(during) == 2
        fake.mutate("advance_clock", seconds=60)  # past the index's lag
        second = run_tap(tmp_path / "two", config_for(fake), catalog_for(EVERY), state=first.final_state)
        assert second.returncode == 0, second.stderr
    got = {r["gid"] for run in (first, second) for r in run.records("attachments")}
    assert before["gid"] in got and during[0]["gids"][0] in got
    assert during[1]["gids"][0] in {r["gid"] for run in (first, second) for r in run.records("subtasks")}
    assert before["gid"] not in {r["gid"] for r in first.records("attachments")}  # the lag hid it at first


@pytest.mark.parametrize("plan", ["premium", "enterprise"])
def test_a_projects_own_attachment_comes_through_its_events(tmp_path, plan):
    with FakeAsana(preset="tiny", seed=43, plan=plan) as fake:
        config = config_for(fake, access_token=fake.options.service_account_token) if plan == "enterprise" \
            else config_for(fake)
        first = run_tap(tmp_path / "one", config, catalog_for(EVERY))
        assert first.returncode == 0, first.stderr
        project = next(p for p in fake.export()["projects"] if p["workspace"]["gid"] == org_of(fake)
                       and not p["archived"])
        added = fake.mutate("add_attachment", project=project["gid"])["gids"][0]
        fake.reset_stats()
        second = run_tap(tmp_path / "two", config, catalog_for(EVERY), state=first.final_state)
        routes = routes_of(fake)
    assert second.returncode == 0, second.stderr
    assert [r["gid"] for r in second.records("attachments")] == [added]
    assert routes["GET /attachments"] == 1  # that project's, no other


def quiet_run(tmp_path, projects: int) -> Dict[str, int]:
    """Requests of a run with no change on an Enterprise+ organization with `projects` projects."""
    with FakeAsana(preset="tiny", seed=44, plan="enterprise", projects=projects) as fake:
        config = config_for(fake, access_token=fake.options.service_account_token, workspace_gids=[org_of(fake)])
        first = run_tap(tmp_path / f"first-{projects}", config, catalog_for(EVERY))
        assert first.returncode == 0, first.stderr
        assert "GET /events" not in routes_of(fake)  # the workspace's events in place of each project's
        fake.reset_stats()
        quiet = run_tap(tmp_path / f"quiet-{projects}", config, catalog_for(EVERY), state=first.final_state)
        assert quiet.returncode == 0, quiet.stderr
        return routes_of(fake)


#: What is read per project or task when it changed: nothing of it in a quiet run.
PER_PROJECT = ("GET /events", "GET /tasks", "GET /projects/{gid}/sections", "GET /memberships", "GET /attachments",
               "GET /tasks/{gid}", "GET /tasks/{gid}/stories", "GET /tasks/{gid}/subtasks")


def test_an_enterprise_workspace_read_whole_costs_the_same_quiet_run_for_4_or_60_projects(tmp_path):
    few, many = quiet_run(tmp_path, 4), quiet_run(tmp_path, 60)
    for routes in (few, many):
        assert not set(routes) & set(PER_PROJECT), routes
        # one request for the workspace's events, one search: at most 2 for the workspace; the rest
        # are the listings of workspace-level streams, read whole every run
        assert routes["GET /workspaces/{gid}/events"] == 1 and routes["GET /workspaces/{gid}/tasks/search"] == 1
    # the same requests, but for the portfolios' status updates (a listing per portfolio that has
    # one: the two datasets' portfolios differ)
    assert without(few, "GET /status_updates") == without(many, "GET /status_updates"), (few, many)


def without(routes: Dict[str, int], route: str) -> Dict[str, int]:
    return {r: n for r, n in routes.items() if r != route}


@pytest.mark.parametrize("plan, says", [
    ("free", "changes found by each project's events; subtasks listed per parent task; attachments listed per task"),
    ("premium", "changes found by search and each project's events; subtasks found by search; attachments listed "
                "only for the tasks a has_attachment search names"),
    ("enterprise", "changes found by search and the workspace's events (Enterprise+); subtasks found by search; "
                   "attachments listed only for the tasks a has_attachment search names"),
])
def test_the_summary_says_how_each_workspace_was_read(tmp_path, plan, says):
    with FakeAsana(preset="tiny", seed=43, plan=plan) as fake:
        token = fake.options.service_account_token
        config = config_for(fake, **({"access_token": token} if plan == "enterprise" else {}))
        first = run_tap(tmp_path / "one", config, catalog_for(EVERY))
        again = run_tap(tmp_path / "two", config, catalog_for(EVERY), state=first.final_state)
        org = org_of(fake)
    for run in (first, again):  # the second from what the state remembers of the plan
        assert run.returncode == 0, run.stderr
        assert f"INFO Workspace {org}: {says}\n" in run.stderr
