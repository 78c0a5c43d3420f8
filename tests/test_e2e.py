"""End to end: the real `tap-asana` entry point against the fake Asana over real HTTP."""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from typing import Any, Dict
from urllib.parse import parse_qs, urlparse

import pytest

from fake_asana import FakeAsana
from tap_asana import state as st
from tap_asana.capture.fingerprint import bucket
from tap_asana.client import format_asana_time, parse_asana_time
from tests.tapkit import (START_DATE, assert_valid_singer, catalog_for, config_for, expected_records, record_key,
                          run_tap, expected_row, schemas)

SCHEMAS = schemas()


def strip_nulls(value: Any, top: bool = True) -> Any:
    """Nested keys that are null and absent compare equal."""
    if isinstance(value, list):
        return [strip_nulls(v, False) for v in value]
    if isinstance(value, dict):
        return {k: strip_nulls(v, False) for k, v in value.items() if top or v is not None}
    return value


def assert_matches_server(run, expected: Dict[str, Dict[str, Dict[str, Any]]], streams=None) -> None:
    got = run.by_stream()
    for stream in streams or expected:
        records = got.get(stream, [])
        gids = [record_key(stream, r) for r in records]
        assert len(gids) == len(set(gids)), f"{stream}: duplicated records"
        assert set(gids) == set(expected[stream]), (
            f"{stream}: missing {sorted(set(expected[stream]) - set(gids))[:5]}, "
            f"extra {sorted(set(gids) - set(expected[stream]))[:5]}")
        for record, gid in zip(records, gids):
            want = strip_nulls(expected_row(stream, expected[stream][gid]))
            assert strip_nulls(record) == want, f"{stream} {gid} differs from the server's copy"


@pytest.fixture(scope="module")
def fake():
    with FakeAsana(preset="tiny", seed=7) as server:
        yield server


@pytest.fixture(scope="module")
def full_run(fake, tmp_path_factory):
    fake.reset_stats()
    run = run_tap(tmp_path_factory.mktemp("full"), config_for(fake), catalog_for())
    return run, fake.export(), fake.stats()


def test_full_sync_equals_the_servers_data(full_run):
    run, export, _ = full_run
    assert run.returncode == 0, run.stderr
    assert_matches_server(run, expected_records(export, {s: START_DATE for s in
                                                         ("projects", "tasks", "subtasks", "stories", "tags")},
                                                free_workspaces=free_workspaces(export)))


def test_full_sync_output_is_valid_singer(full_run):
    run, _, _ = full_run
    assert_valid_singer(run)
    assert run.final_state["currently_syncing"] is None
    assert "progress" not in run.final_state
    assert set(run.final_state["bookmarks"]) == {"projects", "tasks", "subtasks", "stories", "tags",
                                                 "task_custom_field_values", "attachments", "status_updates",
                                                 "time_tracking_entries"}
    versions = [m for m in run.messages if m["type"] == "ACTIVATE_VERSION"]
    assert {m["stream"] for m in versions} == {"workspaces", "users", "teams", "sections", "portfolios",
                                               "custom_fields", "project_memberships", "team_memberships",
                                               "portfolio_memberships", "goals"}


def test_every_listing_happens_once_per_run(full_run):
    _, export, stats = full_run
    routes = stats["by_route"]
    assert sum(routes["GET /workspaces"].values()) == 1
    assert sum(routes["GET /projects"].values()) == len(export["workspaces"])  # tiny: one page each


def test_free_workspace_portfolios_are_skipped_quietly(full_run):
    run, export, _ = full_run
    free = free_workspaces(export)
    assert free, "the tiny dataset has a free workspace"
    lines = [line for line in run.stderr.splitlines() if "portfolios" in line and "402" in line]
    assert lines and all(line.startswith("INFO") for line in lines)  # a paid-only stream: nothing was missed


def free_workspaces(export) -> set:
    return {w["gid"] for w in export["workspaces"] if not w.get("is_organization")}


def test_incremental_after_mutations_returns_exactly_the_changes(tmp_path):
    with FakeAsana(preset="tiny", seed=11) as fake:
        catalog = catalog_for()
        first = run_tap(tmp_path / "one", config_for(fake), catalog)
        assert first.returncode == 0, first.stderr
        changed = fake.mutate("modify_tasks", count=3)
        changed_sub = fake.mutate("modify_tasks", count=2, subtasks=True)
        stories = fake.mutate("add_stories", count=4)
        new_sub = fake.mutate("add_subtasks", count=2)
        fake.reset_stats()
        second = run_tap(tmp_path / "two", config_for(fake), catalog, state=first.final_state)
        assert second.returncode == 0, second.stderr
        assert_valid_singer(second)
        got = second.by_stream()
        assert {r["gid"] for r in got.get("tasks", [])} == set(changed["gids"]) | top_level(fake, stories["task_gids"])
        assert {r["gid"] for r in got.get("subtasks", [])} == (
            set(changed_sub["gids"]) | set(new_sub["gids"]) | sub_level(fake, stories["task_gids"]))
        assert {r["gid"] for r in got.get("stories", [])} == set(stories["gids"])
        assert "projects" not in got and "tags" not in got  # nothing of theirs changed
        # no-change run afterwards: no request per task
        fake.reset_stats()
        third = run_tap(tmp_path / "three", config_for(fake), catalog, state=second.final_state)
        assert third.returncode == 0
        # Search looks 5 minutes back for its index lag: only the recent changes may come again.
        recent = set(changed["gids"]) | set(changed_sub["gids"]) | set(new_sub["gids"]) | set(stories["task_gids"])
        for stream in ("tasks", "subtasks"):
            assert {r["gid"] for r in third.records(stream)} <= recent
        assert {r["gid"] for r in third.records("stories")} <= set(stories["gids"]) | all_story_gids_of(fake, recent)
        routes = fake.stats()["by_route"]
        assert "GET /tasks/{gid}/subtasks" not in routes  # no walk on an incremental premium run
        assert sum(routes.get("GET /tasks/{gid}/stories", {}).values()) <= len(recent)
        export = fake.export()
        # a recent task found again has its stories and its attachments listed again
        assert fake.stats()["total"] <= len(export["projects"]) + 10 * len(export["workspaces"]) + 10 + 2 * len(recent)


def all_story_gids_of(fake, task_gids) -> set:
    return {s["gid"] for s in fake.export()["stories"] if s["target"]["gid"] in task_gids}


def top_level(fake, gids) -> set:
    tasks = {t["gid"]: t for t in fake.export()["tasks"]}
    return {g for g in gids if not tasks[g].get("parent")}


def sub_level(fake, gids) -> set:
    tasks = {t["gid"]: t for t in fake.export()["tasks"]}
    return {g for g in gids if tasks[g].get("parent")}


def test_a_change_made_during_the_sync_comes_through_next_run(tmp_path):
    with FakeAsana(preset="tiny", seed=3, latency_ms=5) as fake:
        catalog = catalog_for(["tasks", "subtasks", "stories"])
        # Halfway through the first run, change tasks (maybe in projects already read).
        fake.mutate("modify_tasks", count=5, after_requests=15)
        fake.mutate("modify_tasks", count=2, subtasks=True, after_requests=20)
        fake.mutate("add_stories", count=3, after_requests=25)
        fake.mutate("add_subtasks", count=2, after_requests=30)
        fake.reset_stats()
        first = run_tap(tmp_path / "one", config_for(fake), catalog)
        assert first.returncode == 0, first.stderr
        assert fake.stats()["total"] > 40, "the mutations must land while the first run is going on"
        export = fake.export()
        second = run_tap(tmp_path / "two", config_for(fake), catalog, state=first.final_state)
        assert second.returncode == 0, second.stderr
        # Together the two runs hold every record in its latest version.
        latest = {}
        for run in (first, second):
            for stream in ("tasks", "subtasks", "stories"):
                for record in run.records(stream):
                    latest[(stream, record["gid"])] = record
        want = expected_records(export, {s: START_DATE for s in ("tasks", "subtasks", "stories")},
                                free_workspaces=free_workspaces(export))
        for stream in ("tasks", "subtasks", "stories"):
            for gid, record in want[stream].items():
                assert (stream, gid) in latest, f"{stream} {gid} lost"
                if stream != "stories":
                    assert latest[(stream, gid)]["modified_at"] == record["modified_at"], f"{stream} {gid} stale"


def test_oauth_with_an_access_token_expiring_mid_run(tmp_path):
    with FakeAsana(preset="tiny", seed=5, token_ttl=1.0, latency_ms=20) as fake:
        run = run_tap(tmp_path, config_for(fake, oauth=True), catalog_for())
        assert run.returncode == 0, run.stderr
        assert sum(fake.stats()["by_route"]["POST /-/oauth_token"].values()) >= 2
        assert_matches_server(run, expected_records(fake.export(), {s: START_DATE for s in
                                                                    ("projects", "tasks", "subtasks", "stories", "tags")},
                                                    free_workspaces=free_workspaces(fake.export())))
        for secret in fake.oauth.values():
            assert secret not in run.stderr and secret not in run.stdout


def test_column_selection_shrinks_opt_fields_and_deselected_parent_is_walked(tmp_path):
    with FakeAsana(preset="tiny", seed=7) as fake:
        catalog = catalog_for(["stories"], deselect={"stories": ["html_text", "previews", "likes"]})
        run = run_tap(tmp_path, config_for(fake), catalog)
        assert run.returncode == 0, run.stderr
        assert set(run.by_stream()) == {"stories"}  # tasks walked, not emitted
        stories = run.records("stories")
        assert stories and all("html_text" not in r and "likes" not in r for r in stories)
        assert all("text" in r for r in stories)
        urls = fake.requests()
        story_fields = fields_of(urls, "/stories")
        assert story_fields and "html_text" not in story_fields and "likes.user.name" not in story_fields
        assert "text" in story_fields
        task_fields = fields_of(urls, "/tasks?")
        assert task_fields <= {"memberships.project", "memberships.section", "modified_at", "num_subtasks", "parent",
                               "projects", "workspace"}, task_fields


def fields_of(urls, marker: str) -> set:
    fields = set()
    for url in urls:
        if marker in url:
            fields |= set(parse_qs(urlparse(url).query).get("opt_fields", [""])[0].split(","))
    return fields - {""}


def test_forbidden_project_is_skipped_with_a_warning(tmp_path):
    with FakeAsana(preset="tiny", seed=7, forbidden_projects=1) as fake:
        run = run_tap(tmp_path, config_for(fake), catalog_for(["tasks", "sections"]))
        assert run.returncode == 0, run.stderr
        warnings = [l for l in run.stderr.splitlines() if l.startswith("WARNING") and "403" in l]
        assert warnings
        forbidden = {p["gid"] for p in fake.export()["projects"] if p["gid"] in " ".join(warnings)}
        assert len(forbidden) == 1
        assert_matches_server(run, expected_records(fake.export(), {"tasks": START_DATE},
                                                    forbidden_projects=forbidden,
                                                    free_workspaces=free_workspaces(fake.export())),
                              ["tasks", "sections"])


@pytest.fixture
def fake_asana_options():
    return {"preset": "tiny", "seed": 31, "latency_ms": 3}


def test_a_concurrent_run_emits_exactly_what_a_single_worker_run_emits(fake_asana, tmp_path):
    def content(run):
        return {(s, record_key(s, r)): json.dumps(r, sort_keys=True) for s, rs in run.by_stream().items() for r in rs}

    single = run_tap(tmp_path / "one", config_for(fake_asana, max_workers=1), catalog_for())
    assert fake_asana.stats()["max_in_flight"] == 1
    many = run_tap(tmp_path / "many", config_for(fake_asana, max_workers=16), catalog_for())
    assert single.returncode == 0 and many.returncode == 0, many.stderr
    assert fake_asana.stats()["max_in_flight"] > 1  # the workers really overlapped
    assert content(single) == content(many) and len(content(many)) > 100


def test_no_state_comes_before_the_records_it_covers(full_run):
    run, export, _ = full_run
    home = {t["gid"]: {p["gid"] for p in t.get("projects") or []} for t in export["tasks"]}
    done: set = set()
    checked = 0
    for message in run.messages:
        if message["type"] == "STATE" and message["value"].get("progress"):
            done = set(st.done_projects(message["value"]))
        elif message["type"] == "RECORD" and message["stream"] == "tasks":
            projects = home[message["record"]["gid"]]
            assert not (projects and projects <= done), f"task {message['record']['gid']} after its projects' STATE"
            checked += 1
    assert checked and done  # partitions were checkpointed, and records were checked against them


def deepest_subtasks(export, count: int, unassigned: bool = False) -> list:
    """Subtasks at least two levels below a top-level task in a project, deepest first
    (`unassigned`: only those no user's task listing shows)."""
    tasks = {t["gid"]: t for t in export["tasks"]}

    def depth(task) -> int:
        return 0 if not task.get("parent") else 1 + depth(tasks[task["parent"]["gid"]])

    def root(task):
        return task if not task.get("parent") else root(tasks[task["parent"]["gid"]])
    subs = sorted((t for t in export["tasks"] if t.get("parent") and root(t).get("projects")
                   and not (unassigned and t.get("assignee"))), key=lambda t: (-depth(t), t["gid"]))
    assert subs and depth(subs[0]) >= 2, "the dataset nests subtasks"
    return [t["gid"] for t in subs[:count]]


def routes_of(fake) -> Dict[str, int]:
    return {route: sum(counts.values()) for route, counts in fake.stats()["by_route"].items()}


def project_listings(fake) -> int:
    """How many task listings of a project (`GET /tasks?project=`) the fake answered since its
    stats were last reset."""
    lines = fake.requests()[-fake.stats()["total"]:] if fake.stats()["total"] else []
    return sum(1 for line in lines if line.startswith("GET /api/1.0/tasks?") and "project=" in line)


def split_deletes(records) -> tuple:
    """(gids sent live, gids sent as deleted)."""
    live = {r["gid"] for r in records if not r.get("_sdc_deleted_at")}
    return live, {r["gid"] for r in records if r.get("_sdc_deleted_at")}


def within_lookback(export, state, gids) -> set:
    """Those of `gids` modified in the look-back window before the state's bookmarks: a run may
    send them again (bookmarks are inclusive and search, events and listings look 5 minutes back)."""
    bound = parse_asana_time(state["bookmarks"]["tasks"]["modified_at"]) - dt.timedelta(minutes=5)
    times = {t["gid"]: parse_asana_time(t["modified_at"]) for t in export["tasks"]}
    return {g for g in gids if g in times and times[g] >= bound}


def test_free_workspaces_find_changes_through_project_events_at_no_cost_per_task(tmp_path):
    with FakeAsana(preset="tiny", seed=13, free_workspaces=True, latency_ms=2) as fake:
        catalog, export = catalog_for(), fake.export()
        projects = len(export["projects"])
        first = run_tap(tmp_path / "one", config_for(fake), catalog)
        assert first.returncode == 0, first.stderr
        tokens = first.final_state["sync_tokens"]
        assert set(tokens) == {p["gid"] for p in export["projects"]}  # one per project, taken on the first run
        assert routes_of(fake)["GET /events"] == projects  # each a 412 handing over a token

        deep = fake.mutate("modify_tasks", gids=deepest_subtasks(export, 2))
        top = fake.mutate("modify_tasks", count=2)
        stories = fake.mutate("add_stories", count=3)
        new_sub = fake.mutate("add_subtasks", count=1)
        gone = fake.mutate("delete_tasks", count=1)
        # ... and one change while the second run is going on: the third run must bring it
        late = {"gids": deepest_subtasks(export, 3)[2:]}
        fake.mutate("modify_tasks", gids=late["gids"], after_requests=8)
        fake.reset_stats()
        second = run_tap(tmp_path / "two", config_for(fake), catalog, state=first.final_state)
        assert second.returncode == 0, second.stderr
        assert_valid_singer(second)
        routes = routes_of(fake)
        assert "GET /tasks/{gid}/subtasks" not in routes and project_listings(fake) == 0, second.stderr  # no walk
        assert routes["GET /events"] == projects
        changed = (set(deep["gids"]) | set(top["gids"]) | set(stories["task_gids"]) | set(new_sub["gids"])) \
            - set(gone["gids"])
        got = second.by_stream()
        live, deleted = split_deletes(got.get("tasks", []) + got.get("subtasks", []))
        resent = within_lookback(fake.export(), first.final_state, live)
        assert changed <= live <= changed | set(late["gids"]) | resent
        assert split_deletes(got.get("subtasks", []))[0] >= set(deep["gids"]) | set(new_sub["gids"])
        assert {r["gid"] for r in got.get("stories", [])} == set(stories["gids"])
        assert deleted == set(gone["gids"]) and not live & deleted  # deletes are sent as deletes
        assert routes.get("GET /tasks/{gid}", 0) <= len(changed | set(late["gids"]))

        fake.reset_stats()
        third = run_tap(tmp_path / "three", config_for(fake), catalog, state=second.final_state)
        assert third.returncode == 0, third.stderr
        # The change made during the second run, in its latest version, came in the second or the third.
        now = {t["gid"]: t["modified_at"] for t in fake.export()["tasks"]}
        for gid in late["gids"]:
            assert now[gid] in {r["modified_at"] for r in second.records("subtasks") + third.records("subtasks")
                                if r["gid"] == gid}
        fake.reset_stats()
        quiet = run_tap(tmp_path / "four", config_for(fake), catalog, state=third.final_state)
        assert quiet.returncode == 0
        routes = routes_of(fake)
        # nothing per task, but for a task changed in the second before the last run began (bookmarks
        # are inclusive and taken a second early): its stories may be listed again
        recent = within_lookback(fake.export(), third.final_state, {t["gid"] for t in fake.export()["tasks"]})
        per_task = sum(n for r, n in routes.items() if r.startswith("GET /tasks/"))
        assert per_task <= len(recent), sorted(routes.items())
        assert project_listings(fake) == 0 and "GET /projects/{gid}/sections" not in routes
        # a request per project, and per workspace a constant and one listing per user (tasks in no project)
        users = len(export["users"])
        assert fake.stats()["total"] <= projects + users + 10 * len(export["workspaces"]), routes

        # Tokens Asana no longer honours: 412, a fresh token, and the project is read in full.
        fake.mutate("expire_sync_tokens")
        again = fake.mutate("modify_tasks", gids=deepest_subtasks(export, 1))
        fake.reset_stats()
        fifth = run_tap(tmp_path / "five", config_for(fake), catalog, state=quiet.final_state)
        assert fifth.returncode == 0, fifth.stderr
        assert "GET /tasks/{gid}/subtasks" in routes_of(fake)
        assert set(again["gids"]) <= {r["gid"] for r in fifth.records("subtasks")}
        assert all(fifth.final_state["sync_tokens"][p]["sync"] != quiet.final_state["sync_tokens"][p]["sync"]
                   for p in tokens)
        assert "expired: reading the whole project" in fifth.stderr


@contextlib.contextmanager
def free_account_synced_once(tmp_path, seed: int):
    """A fake Asana whose workspaces are all free, after a first full run of every stream."""
    with FakeAsana(preset="tiny", seed=seed, free_workspaces=True, latency_ms=2) as fake:
        catalog, export = catalog_for(), fake.export()
        first = run_tap(tmp_path / "one", config_for(fake), catalog)
        assert first.returncode == 0, first.stderr
        yield fake, catalog, export, first


def single_project_task(export) -> Dict[str, Any]:
    return next(t for t in export["tasks"] if not t["parent"] and len(t["projects"]) == 1)


def projects_sent(run, task_gid: str) -> set:
    """The projects of the one `tasks` record a run sent for the task."""
    sent = [r for r in run.records("tasks") if r["gid"] == task_gid]
    assert len(sent) == 1, f"task {task_gid} sent {len(sent)} times"
    return {p["gid"] for p in sent[0]["projects"]}


def test_events_mode_sends_moved_tasks_and_a_full_read_recovers_a_change_whose_event_was_lost(tmp_path):
    with free_account_synced_once(tmp_path, 17) as (fake, catalog, export, first):

        # Moving a task into another project does not change its modified_at, but its events say so.
        task = single_project_task(export)
        moved = fake.mutate("add_to_project", gids=[task["gid"]])["tasks"][0]
        assert moved["modified_at"] == task["modified_at"] < first.final_state["bookmarks"]["tasks"]["modified_at"]
        # A change Asana never delivers as an event: no events-only run can see it.
        lost = fake.mutate("modify_tasks", gids=deepest_subtasks(export, 1, unassigned=True),
                           lose_events=True)["tasks"][0]
        time.sleep(2.1)  # a run starts a second before Asana's Date header, which has whole seconds
        second = run_tap(tmp_path / "two", config_for(fake), catalog, state=first.final_state)
        assert second.returncode == 0, second.stderr
        assert projects_sent(second, task["gid"]) == {task["projects"][0]["gid"], moved["project"]}
        assert lost["gid"] not in {r["gid"] for r in second.records("subtasks")}

        # The next full read (here forced by a 412) reads from the project's last full read, not
        # from the bookmark the second run moved past the lost change.
        fake.mutate("expire_sync_tokens")
        third = run_tap(tmp_path / "three", config_for(fake), catalog, state=second.final_state)
        assert third.returncode == 0, third.stderr
        assert lost["modified_at"] < second.final_state["bookmarks"]["subtasks"]["modified_at"]
        assert [r["name"] for r in third.records("subtasks") if r["gid"] == lost["gid"]] == [lost["name"]]
        for stream in ("tasks", "subtasks", "stories"):
            gids = [r["gid"] for r in third.records(stream)]
            assert len(gids) == len(set(gids)), f"{stream}: duplicated in one run"


def test_a_resumed_run_whose_projects_were_all_done_keeps_the_tokens_it_took(tmp_path):
    with free_account_synced_once(tmp_path, 13) as (fake, catalog, export, first):
        started = first.final_state["bookmarks"]["tasks"]["modified_at"]
        # told apart from the first run's tokens by their text
        taken = {p["gid"]: {"sync": first.final_state["sync_tokens"][p["gid"]]["sync"] + "-interrupted",
                            "since": started} for p in export["projects"]}
        read = {p: {"read_in_full": started, "fingerprint": "interrupted"} for p in taken}
        interrupted = dict(first.final_state, progress={
            "started_at": started, "streams": sorted(s["stream"] for s in catalog["streams"]),
            "done": [st.project_partition(p, "events") for p in taken], "sync_tokens": taken, "projects": read})
        fake.reset_stats()
        resumed = run_tap(tmp_path / "two", config_for(fake), catalog, state=interrupted)
        assert resumed.returncode == 0, resumed.stderr
        assert "GET /events" not in routes_of(fake)  # every project was done before the interruption
        assert resumed.final_state["sync_tokens"] == taken and resumed.final_state["projects"] == read


def test_a_task_filtered_out_by_one_projects_walk_is_still_sent_for_another_projects_event(tmp_path):
    with free_account_synced_once(tmp_path, 17) as (fake, catalog, export, first):
        task = single_project_task(export)
        home = task["projects"][0]["gid"]
        moved = fake.mutate("add_to_project", gids=[task["gid"]])["tasks"][0]
        # The home project is walked (its token is gone), where the task is older than every
        # bound; the other project's events name it.
        fake.mutate("expire_sync_tokens", gids=[home])
        # One worker fixes the order: the walk meets the task before the event names it.
        second = run_tap(tmp_path / "two", config_for(fake, max_workers=1), catalog, state=first.final_state)
        assert second.returncode == 0, second.stderr
        assert "Sync token of project %s expired" % home in second.stderr
        assert projects_sent(second, task["gid"]) == {home, moved["project"]}


def test_the_daily_full_read_sends_what_moved_and_a_tasks_only_runs_tokens_serve_tasks_only(tmp_path):
    with free_account_synced_once(tmp_path, 17) as (fake, catalog, export, first):
        task = single_project_task(export)
        target = next(p["gid"] for p in export["projects"] if p["workspace"]["gid"] == task["workspace"]["gid"]
                      and p["gid"] != task["projects"][0]["gid"] and not p["archived"])
        fake.mutate("add_to_project", gids=[task["gid"]], project=target)
        state = json.loads(json.dumps(first.final_state))
        entry = state["projects"][target]
        entry["read_in_full"] = format_asana_time(parse_asana_time(entry["read_in_full"]) - dt.timedelta(hours=25))
        fake.reset_stats()
        second = run_tap(tmp_path / "two", config_for(fake), catalog, state=state)
        assert second.returncode == 0, second.stderr
        assert target in projects_sent(second, task["gid"])
        assert f"Project {target} was last read in full a day ago" in second.stderr
        routes = routes_of(fake)
        assert project_listings(fake) == 1 and "GET /tasks/{gid}" not in routes  # that project alone, walked
        started = second.final_state["bookmarks"]["tasks"]["modified_at"]
        assert second.final_state["projects"][target]["read_in_full"] == started
        others = [p for p in state["projects"] if p != target]
        assert all(second.final_state["projects"][p] == state["projects"][p] for p in others)

        # The safety read sends what changed: the task that joined (its fingerprint bucket moved)
        # and what was modified since the project's last full read, not the other tasks.
        tasks = {t["gid"]: t for t in fake.export()["tasks"] if not t.get("parent")}
        in_target = {g for g, t in tasks.items() if target in {p["gid"] for p in t["projects"]}}
        again = {r["gid"] for r in second.records("tasks")} & in_target
        last_read = parse_asana_time(entry["read_in_full"]) - dt.timedelta(minutes=5)
        assert task["gid"] in again and len(again) < len(in_target)
        assert all(bucket(g) == bucket(task["gid"]) or parse_asana_time(tasks[g]["modified_at"]) >= last_read
                   for g in again)

        # A run of `tasks` alone reads the events too (deletes, moves) and takes tokens that cover
        # only tasks: a later run with subtasks and stories cannot use them and reads in full.
        tasks_only = run_tap(tmp_path / "three", config_for(fake), catalog_for(["tasks"]), state=second.final_state)
        assert tasks_only.returncode == 0, tasks_only.stderr
        assert {e["covers"] == ["tasks"] for e in tasks_only.final_state["sync_tokens"].values()} == {True}
        fake.reset_stats()
        everything = run_tap(tmp_path / "four", config_for(fake), catalog, state=tasks_only.final_state)
        assert everything.returncode == 0, everything.stderr
        assert project_listings(fake) == len(export["projects"])
