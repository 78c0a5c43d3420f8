"""Every kind of change reaches the target, on a premium and on a free workspace: edits, new
stories, deletes, moves into and out of projects, tasks in no project, section changes, subtask
changes whether or not Asana bubbles them up, expired sync tokens; and a run with no change
costs what the README says. End to end: the real CLI against the fake Asana."""
from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any, Dict, Iterator, List, Set, Tuple

import pytest

from fake_asana import FakeAsana
from tap_asana.client import parse_asana_time
from tests.tapkit import a_day_later, assert_valid_singer, catalog_for, config_for, run_tap

FAMILY = ["projects", "sections", "tasks", "subtasks", "stories"]
#: premium: a premium organization (beside a free workspace); free: every workspace free;
#: enterprise: an Enterprise+ organization read with a service account (its events read whole)
PLANS = ["premium", "free", "enterprise"]


def config_of(fake: FakeAsana, **extra: Any) -> Dict[str, Any]:
    """The tap's config for the fake's plan: a service account's token on Enterprise+."""
    if fake.options.plan == "enterprise":
        extra.setdefault("access_token", fake.options.service_account_token)
    return config_for(fake, **extra)


@contextlib.contextmanager
def synced(tmp_path, plan: str, seed: int, **options: Any) -> Iterator[Tuple[FakeAsana, Any, str]]:
    """A fake Asana after a first run of the task family; yields the fake, that run and the
    gid of the workspace under test (the organization: premium, Enterprise+, or free)."""
    fake_plan = {"premium": "mixed"}.get(plan, plan)
    with FakeAsana(preset="tiny", seed=seed, plan=fake_plan, **options) as fake:
        first = run_tap(tmp_path / "first", config_of(fake), catalog_for(FAMILY))
        assert first.returncode == 0, first.stderr
        org = next(w["gid"] for w in fake.export()["workspaces"] if w["is_organization"])
        yield fake, first, org


def routes_of(fake) -> Dict[str, int]:
    return {route: sum(counts.values()) for route, counts in fake.stats()["by_route"].items()}


def in_workspace(export, workspace: str) -> List[Dict[str, Any]]:
    return [t for t in export["tasks"] if t["workspace"]["gid"] == workspace]


def top_level(export, workspace: str, projects: int = 1) -> List[Dict[str, Any]]:
    """Top-level tasks of the workspace in exactly `projects` live projects."""
    live = {p["gid"] for p in export["projects"] if not p["archived"]}
    return [t for t in in_workspace(export, workspace) if not t["parent"] and len(t["projects"]) == projects
            and {p["gid"] for p in t["projects"]} <= live]


def deepest(export, workspace: str, unassigned: bool = True) -> Dict[str, Any]:
    """A subtask two or more levels down under a task in a project (unassigned: no user's task
    listing shows it, so only the project can tell of it)."""
    tasks = {t["gid"]: t for t in export["tasks"]}

    def chain(t):
        return [t] + (chain(tasks[t["parent"]["gid"]]) if t.get("parent") else [])
    subs = [t for t in in_workspace(export, workspace) if len(chain(t)) >= 3 and chain(t)[-1]["projects"]
            and not (unassigned and t.get("assignee"))]
    assert subs, "the dataset nests unassigned subtasks"
    return sorted(subs, key=lambda t: (-len(chain(t)), t["gid"]))[0]


def sent(run, stream: str) -> Dict[str, Dict[str, Any]]:
    """The live records a run sent, by gid (the last one if several)."""
    return {r["gid"]: r for r in run.records(stream) if not r.get("_sdc_deleted_at")}


def deleted(run, stream: str) -> Dict[str, str]:
    return {r["gid"]: r["_sdc_deleted_at"] for r in run.records(stream) if r.get("_sdc_deleted_at")}


@pytest.mark.parametrize("plan", PLANS)
def test_edits_deletes_moves_tasks_in_no_project_and_sections_all_come_through(tmp_path, plan):
    with synced(tmp_path, plan, seed=31) as (fake, first, ws):
        export = fake.export()
        one, two, three = top_level(export, ws)[:3]
        project_of_two = two["projects"][0]["gid"]
        other = next(p["gid"] for p in export["projects"] if p["workspace"]["gid"] == ws and not p["archived"]
                     and p["gid"] != one["projects"][0]["gid"])
        doomed_parent = next(t for t in top_level(export, ws)[3:] if t["num_subtasks"])
        doomed_sub = deepest(export, ws)
        edited = fake.mutate("modify_tasks", gids=[three["gid"]])["tasks"][0]
        story = fake.mutate("add_stories", gids=[three["gid"]])
        fake.mutate("add_to_project", gids=[one["gid"]], project=other)
        fake.mutate("remove_from_project", gids=[two["gid"]], project=project_of_two)
        gone = fake.mutate("delete_tasks", gids=[doomed_parent["gid"], doomed_sub["gid"]])["gids"]
        orphan = fake.mutate("add_orphan_tasks", workspace=ws, assignee="me")["gids"][0]
        section = next(s for s in export["sections"] if s["project"]["gid"] == one["projects"][0]["gid"])
        renamed = fake.mutate("rename_section", gids=[section["gid"]])
        fake.reset_stats()
        second = run_tap(tmp_path / "second", config_of(fake), catalog_for(FAMILY), state=first.final_state)
        assert second.returncode == 0, second.stderr
        assert_valid_singer(second)
        tasks = sent(second, "tasks")
        # an edit and a new story
        assert tasks[three["gid"]]["name"] == edited["name"]
        assert set(story["gids"]) <= {r["gid"] for r in second.records("stories")}
        # a move in, a move out (modified_at unchanged): sent with the projects the task has now
        assert {p["gid"] for p in tasks[one["gid"]]["projects"]} == {one["projects"][0]["gid"], other}
        assert {p["gid"] for p in tasks[two["gid"]]["projects"]} == set()
        # deletes, with the time of Asana's deleted event, in both streams that may hold them
        when = fake.export()["meta"]["deleted"]
        assert set(gone) >= {doomed_parent["gid"], doomed_sub["gid"]}
        for stream in ("tasks", "subtasks"):
            assert deleted(second, stream) == {g: when[g] for g in gone}, stream
        assert not set(gone) & (set(tasks) | set(sent(second, "subtasks")))
        # a task in no project, assigned
        assert orphan in tasks and tasks[orphan]["projects"] == []
        # a renamed section: that project's sections listed again, no others
        assert sent(second, "sections")[section["gid"]]["name"] == renamed["names"][0]
        if plan == "enterprise":  # the workspace's event names the section, not its project: read by gid
            assert routes_of(fake).get("GET /sections/{gid}") == 1 and "GET /projects/{gid}/sections" not in routes_of(fake)
        else:
            assert routes_of(fake).get("GET /projects/{gid}/sections") == 1
        # a full-table stream not read whole this run tells targets to drop nothing
        assert "sections" not in {m["stream"] for m in second.messages if m["type"] == "ACTIVATE_VERSION"}

        # Nothing changed: no listing of tasks or sections, a request per project and a constant
        # per workspace (free: a listing per user for tasks in no project)
        fake.reset_stats()
        quiet = run_tap(tmp_path / "quiet", config_of(fake), catalog_for(FAMILY), state=second.final_state)
        assert quiet.returncode == 0, quiet.stderr
        routes, export = routes_of(fake), fake.export()
        # Search looks 5 minutes back (its index lags): what changed just before the last run may
        # come again, with its stories (allowed: bookmarks are inclusive). Nothing else is read.
        again = {r["gid"] for r in quiet.records("tasks") + quiet.records("subtasks")}
        bound = parse_asana_time(second.final_state["bookmarks"]["tasks"]["modified_at"]) - dt.timedelta(minutes=5)
        assert all(parse_asana_time(t["modified_at"]) >= bound for t in export["tasks"] if t["gid"] in again)
        assert routes.get("GET /tasks/{gid}/stories", 0) <= len(again)
        assert not any(r.startswith(("GET /tasks/{gid}/subtasks", "GET /projects/{gid}/sections")) or r == "GET /tasks/{gid}"
                       for r in routes), routes
        if plan == "enterprise":  # the organization's events whole; the other workspace's per project, not
            # asked for its whole events again (it answered 402 a run ago: remembered for a day)
            others = [p for p in export["projects"] if p["workspace"]["gid"] != ws]
            assert routes["GET /workspaces/{gid}/events"] == 1 and routes.get("GET /events", 0) == len(others)
        else:
            assert routes["GET /events"] == len(export["projects"])
        users = len({u["gid"] for u in export["users"]})
        assert fake.stats()["total"] <= len(export["projects"]) + users + 6 * len(export["workspaces"]), routes
        assert not [r for r in quiet.records("tasks") if r["gid"] in (one["gid"], two["gid"])]  # moves: not again


@pytest.mark.parametrize("plan", PLANS)
def test_a_subtask_change_asana_does_not_bubble_up_comes_through_search_or_the_daily_full_read(tmp_path, plan):
    with synced(tmp_path, plan, seed=32, bubble_subtask_changes=False) as (fake, first, ws):
        sub = deepest(fake.export(), ws)
        changed = fake.mutate("modify_tasks", gids=[sub["gid"]])["tasks"][0]
        second = run_tap(tmp_path / "second", config_of(fake), catalog_for(FAMILY), state=first.final_state)
        assert second.returncode == 0, second.stderr
        if plan != "free":  # search finds every modified subtask, bubbling or not
            assert sent(second, "subtasks")[sub["gid"]]["name"] == changed["name"]
            return
        # free: nothing tells of it until the project's daily full read (the README's bound)
        assert sub["gid"] not in sent(second, "subtasks")
        third = run_tap(tmp_path / "third", config_of(fake), catalog_for(FAMILY), state=a_day_later(second.final_state))
        assert third.returncode == 0, third.stderr
        assert "last read in full a day ago" in third.stderr
        assert sent(third, "subtasks")[sub["gid"]]["name"] == changed["name"]


@pytest.mark.parametrize("plan", PLANS)
def test_an_expired_sync_token_reads_the_project_in_full_and_sends_what_changed_since_its_last_full_read(tmp_path,
                                                                                                       plan):
    with synced(tmp_path, plan, seed=33) as (fake, first, ws):
        export = fake.export()
        project = next(p for p in export["projects"] if p["workspace"]["gid"] == ws and not p["archived"]
                       and len(top_in(export, p["gid"])) >= 3)
        members = top_in(export, project["gid"])
        edited = fake.mutate("modify_tasks", gids=[members[0]], lose_events=True)["tasks"][0]
        # the stream whose token expires: the project's own, or on Enterprise+ the workspace's
        stream = ws if plan == "enterprise" else project["gid"]
        fake.mutate("expire_sync_tokens", gids=[stream])
        fake.reset_stats()
        second = run_tap(tmp_path / "second", config_of(fake), catalog_for(FAMILY), state=first.final_state)
        assert second.returncode == 0, second.stderr
        kind = "workspace" if plan == "enterprise" else "project"
        assert f"Sync token of {kind} {stream} expired" in second.stderr
        assert routes_of(fake)["GET /tasks"] >= 1  # the project's tasks listed again
        assert sent(second, "tasks")[edited["gid"]]["name"] == edited["name"]  # its event was lost
        assert not set(members[1:]) & set(sent(second, "tasks"))  # what did not change is not sent again
        tokens = second.final_state["sync_tokens"]
        assert tokens[stream]["sync"] != first.final_state["sync_tokens"][stream]["sync"]
        if plan == "enterprise":
            assert project["gid"] not in tokens  # no project has a token of its own
        read = second.final_state["projects"][project["gid"]]
        assert read["read_in_full"] == second.final_state["bookmarks"]["tasks"]["modified_at"] and read["fingerprint"]


def top_in(export, project: str) -> List[str]:
    """The top-level tasks of a project, in gid order."""
    return sorted(t["gid"] for t in export["tasks"] if not t["parent"] and project in {p["gid"] for p in t["projects"]})


@pytest.mark.parametrize("plan", PLANS)
def test_tasks_in_no_project_are_tasks(tmp_path, plan):
    with synced(tmp_path, plan, seed=34) as (fake, first, ws):
        export = fake.export()
        orphans = {g for g in export["meta"]["orphans"] if g in {t["gid"] for t in in_workspace(export, ws)}}
        unassigned = {t["gid"] for t in in_workspace(export, ws) if t["gid"] in orphans and not t["assignee"]}
        assert orphans and unassigned
        got = sent(first, "tasks")
        # a free workspace has no search: a task in no project that nobody is assigned reaches no API call
        assert orphans - unassigned <= set(got)
        assert bool(unassigned & set(got)) == (plan != "free")
        assigned = sorted(orphans - unassigned)[0]
        changed = fake.mutate("modify_tasks", gids=[assigned])["tasks"][0]
        fake.reset_stats()
        second = run_tap(tmp_path / "second", config_of(fake), catalog_for(FAMILY), state=first.final_state)
        assert second.returncode == 0, second.stderr
        assert sent(second, "tasks")[assigned]["name"] == changed["name"]


def test_a_free_workspace_is_not_asked_for_search_again_until_a_day_has_passed(tmp_path):
    with synced(tmp_path, "free", seed=35) as (fake, first, _):
        assert first.final_state["plans"] and not any(p["search"] for p in first.final_state["plans"].values())
        fake.reset_stats()
        second = run_tap(tmp_path / "second", config_of(fake), catalog_for(FAMILY), state=first.final_state)
        assert second.returncode == 0, second.stderr
        assert "GET /workspaces/{gid}/tasks/search" not in routes_of(fake)
        fake.reset_stats()
        third = run_tap(tmp_path / "third", config_of(fake), catalog_for(FAMILY), state=a_day_later(second.final_state))
        assert third.returncode == 0, third.stderr
        assert routes_of(fake)["GET /workspaces/{gid}/tasks/search"] == len(fake.export()["workspaces"])


def test_two_shards_run_at_once_send_exactly_what_one_unsharded_run_sends(tmp_path):
    import subprocess
    from tests.tapkit import TAP_ENV, TapRun, tap_command

    with FakeAsana(preset="tiny", seed=36) as fake:
        catalog = catalog_for()
        whole = run_tap(tmp_path / "whole", config_for(fake), catalog)
        assert whole.returncode == 0, whole.stderr
        projects = sorted(p["gid"] for p in fake.export()["projects"])
        halves = [projects[: len(projects) // 2], projects[len(projects) // 2:]]
        procs = [subprocess.Popen(tap_command(tmp_path / f"shard{i}", config_for(fake, project_gids=half), catalog),
                                  cwd=tmp_path / f"shard{i}", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=TAP_ENV) for i, half in enumerate(halves)]
        outputs = [p.communicate(timeout=120) for p in procs]  # both read at once: neither pipe fills
        shards = [TapRun(subprocess.CompletedProcess(p.args, p.returncode, *out)) for p, out in zip(procs, outputs)]
        assert all(s.returncode == 0 for s in shards), [s.stderr for s in shards]
        below = {"sections", "tasks", "subtasks", "stories"}

        def keys(run, streams) -> Set[tuple]:
            return {(m["stream"], m["record"]["gid"]) for m in run.messages
                    if m["type"] == "RECORD" and m["stream"] in streams}
        # What hangs below projects: split between the shards with no overlap, together all of it
        # but the tasks in no project (those belong to no project shard: the README says so).
        export = fake.export()
        orphans = set(export["meta"]["orphans"]) | set(export["meta"]["orphan_subtasks"])
        orphans |= {s["gid"] for s in export["stories"] if s["target"]["gid"] in orphans}
        want = {k for k in keys(whole, below) if k[1] not in orphans}
        got = [keys(s, below) for s in shards]
        assert not got[0] & got[1]
        assert got[0] | got[1] == want
        assert keys(shards[0], {"projects"}) | keys(shards[1], {"projects"}) == keys(whole, {"projects"})


def test_a_free_only_account_keeps_to_a_free_plans_budget_unless_told_otherwise(tmp_path):
    with FakeAsana(preset="tiny", seed=37, free_workspaces=True, projects=1, users=3) as fake:
        config = {k: v for k, v in config_for(fake).items() if k != "requests_per_minute"}
        run = run_tap(tmp_path / "one", config, catalog_for(["tasks"]))
        assert run.returncode == 0, run.stderr
        assert "Keeping to 150 requests a minute from now on (was 1500)" in run.stderr
        told = run_tap(tmp_path / "two", config_for(fake), catalog_for(["tasks"]))
        assert "Keeping to 150" not in told.stderr


def test_deletes_are_sent_once_with_the_deleted_events_time(tmp_path):
    with synced(tmp_path, "free", seed=38) as (fake, first, _):
        export = fake.export()
        task = next(t for t in export["tasks"] if not t["parent"] and t["projects"] and len(t["projects"]) > 1) \
            if any(len(t["projects"]) > 1 for t in export["tasks"]) else None
        if task is None:
            pytest.skip("no task in two projects in this dataset")
        fake.mutate("delete_tasks", gids=[task["gid"]])
        second = run_tap(tmp_path / "second", config_of(fake), catalog_for(FAMILY), state=first.final_state)
        assert second.returncode == 0, second.stderr
        # named by the deleted events of both its projects, sent once per stream
        marks = [r for r in second.records("tasks") if r["gid"] == task["gid"]]
        assert len(marks) == 1 and marks[0]["_sdc_deleted_at"] == fake.export()["meta"]["deleted"][task["gid"]]
        assert parse_asana_time(marks[0]["_sdc_deleted_at"]) <= dt.datetime.now(dt.timezone.utc)
