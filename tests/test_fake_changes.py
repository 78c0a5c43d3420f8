"""The fake Asana's change capture side, over real HTTP: subtask changes that do or do not
bubble up, a task leaving a project, section events, tasks in no project and the listings
that reach them, deletes, what the export tells an oracle, and a clock a test can move."""
from __future__ import annotations

import datetime as dt
from email.utils import parsedate_to_datetime
from typing import Any, Dict, List, Set

import pytest
import requests

from fake_asana import FakeAsana
from fake_asana.__main__ import parser
from tests.test_fake_asana import NOW, call, chain_of, error_of, events, fresh_sync, new_events, ok


def control_mutate(fake: FakeAsana, **body: Any) -> requests.Response:
    return requests.post(fake.url + "/_control/mutate", json=body, timeout=10)


def tokens_for(fake: FakeAsana, gids) -> Dict[str, str]:
    return {gid: fresh_sync(events(fake, gid)) for gid in gids}


def seen(fake: FakeAsana, tokens: Dict[str, str]) -> Dict[str, List[tuple]]:
    """(resource gid, action) of the new events in each watched stream; tokens move on."""
    out = {}
    for gid, token in tokens.items():
        body = new_events(fake, gid, token)
        tokens[gid] = body["sync"]
        out[gid] = [(e["resource"]["gid"], e["action"]) for e in body["data"]]
    return out


def paged(fake: FakeAsana, path: str, **params: Any) -> List[Dict[str, Any]]:
    """Every record of a listing, walked two at a time."""
    out, offset = [], None
    while True:
        body = ok(fake, path, limit=2, **params, **({"offset": offset} if offset else {}))
        out += body["data"]
        if not body["next_page"]:
            return out
        offset = body["next_page"]["offset"]


def live_projects(data) -> List[str]:
    return [p["gid"] for p in data["projects"] if not p["archived"]]


# --- subtask field changes with and without bubbling ---------------------------------------------
def test_without_bubbling_a_subtask_field_change_stays_in_its_own_stream_but_stories_still_bubble():
    with FakeAsana(preset="tiny", seed=3, now=NOW, bubble_subtask_changes=False) as fake:
        assert fake.config()["options"]["bubble_subtask_changes"] is False
        data = fake.export()
        deep, parent, top = chain_of(data, 2)
        home = top["projects"][0]["gid"]
        watched = tokens_for(fake, [home, top["gid"], parent["gid"], deep["gid"]])
        fake.mutate("modify_tasks", gids=[deep["gid"]])
        got = seen(fake, watched)
        assert got[deep["gid"]] == [(deep["gid"], "changed")]
        assert got[home] == got[top["gid"]] == got[parent["gid"]] == []
        story = fake.mutate("add_stories", gids=[deep["gid"]])["gids"][0]  # documented to bubble
        child = fake.mutate("add_subtasks", gids=[deep["gid"]])["gids"][0]  # kept bubbling (see mutate.py)
        fake.mutate("modify_tasks", gids=[top["gid"]])  # a top-level task's change reaches its project
        got = seen(fake, watched)
        assert got[home] == got[top["gid"]] == [(story, "added"), (child, "added"), (top["gid"], "changed")]
        assert got[parent["gid"]] == got[deep["gid"]] == [(story, "added"), (child, "added")]
        fake.mutate("delete_tasks", gids=[child])
        assert seen(fake, watched)[home] == [(child, "deleted")]


def test_bubbling_is_on_by_default_and_the_cli_can_turn_it_off():
    with FakeAsana(preset="tiny", seed=3, now=NOW) as fake:
        assert requests.get(fake.url + "/_control/config", timeout=10).json()["options"][
            "bubble_subtask_changes"] is True
        deep, _, top = chain_of(fake.export(), 2)
        watched = tokens_for(fake, [top["projects"][0]["gid"]])
        fake.mutate("modify_tasks", gids=[deep["gid"]])
        assert seen(fake, watched)[top["projects"][0]["gid"]] == [(deep["gid"], "changed")]
    assert vars(parser().parse_args([]))["bubble_subtask_changes"] is True
    flags = vars(parser().parse_args(["--no-bubble-subtask-changes", "--free-workspaces"]))
    assert flags["bubble_subtask_changes"] is False and flags["free_workspaces"] is True
    with pytest.raises(TypeError):
        FakeAsana(bubble_subtask_changes_please=False)


# --- a task leaves a project ----------------------------------------------------------------------
def test_remove_from_project_keeps_modified_at_updates_every_view_and_tells_task_and_project():
    with FakeAsana(preset="tiny", seed=4, now=NOW) as fake:
        data = fake.export()
        task = next(t for t in data["tasks"] if not t["parent"] and len(t["projects"]) == 1 and t["assignee"]
                    and t["memberships"][0]["section"])
        first = task["projects"][0]["gid"]
        section = task["memberships"][0]["section"]["gid"]
        second = next(p for p in live_projects(data) if p != first
                      and next(q for q in data["projects"] if q["gid"] == p)["workspace"] == task["workspace"])
        fake.mutate("add_to_project", gids=[task["gid"]], project=second)
        watched = tokens_for(fake, [first, second, task["gid"]])
        removed = fake.mutate("remove_from_project", gids=[task["gid"]], project=first)["tasks"]
        assert removed == [{"gid": task["gid"], "project": first, "modified_at": task["modified_at"],
                            "projects": [second]}]
        full = ok(fake, f"/tasks/{task['gid']}", opt_fields="modified_at,projects,memberships.project,custom_fields")
        assert full["data"]["modified_at"] == task["modified_at"]  # a container change is no modification
        assert [p["gid"] for p in full["data"]["projects"]] == [second]
        assert [m["project"]["gid"] for m in full["data"]["memberships"]] == [second]
        fields_of_second = {s["custom_field"]["gid"] for s in ok(fake, f"/projects/{second}/custom_field_settings",
                                                                 opt_fields="custom_field")["data"]}
        assert {f["gid"] for f in full["data"]["custom_fields"]} == fields_of_second
        assert task["gid"] not in {t["gid"] for t in paged(fake, "/tasks", project=first)}
        assert task["gid"] not in {t["gid"] for t in paged(fake, f"/sections/{section}/tasks")}
        got = new_events(fake, first, watched[first])["data"]
        assert [(e["resource"]["gid"], e["action"], e["parent"]) for e in got] == [
            (task["gid"], "removed", {"gid": first, "resource_type": "project",
                                      "name": next(p["name"] for p in data["projects"] if p["gid"] == first)})]
        assert "change" not in got[0]
        assert seen(fake, {task["gid"]: watched[task["gid"]]})[task["gid"]] == [(task["gid"], "removed")]
        assert seen(fake, {second: watched[second]})[second] == []  # the project it stays in is not told
        # Its last project too: Asana allows a task in no project; its assignee still reaches it.
        fake.mutate("remove_from_project", gids=[task["gid"]], project=second)
        export = fake.export()
        assert task["gid"] in export["meta"]["orphans"]
        listed = paged(fake, "/tasks", assignee=task["assignee"]["gid"], workspace=task["workspace"]["gid"])
        assert task["gid"] in {t["gid"] for t in listed}
        skipped = fake.mutate("remove_from_project", gids=[task["gid"]], project=first)
        assert skipped["gids"] == []  # not in that project (any more): nothing to do


# --- sections ---------------------------------------------------------------------------------------
def test_section_ops_log_section_events_in_the_project_and_move_tasks_out_of_a_deleted_section():
    with FakeAsana(preset="tiny", seed=1, now=NOW) as fake:
        data = fake.export()
        assert all("modified_at" not in s for s in data["sections"])  # Asana's sections have none
        counts: Dict[str, int] = {}
        for t in data["tasks"]:
            for m in t["memberships"]:
                if m["section"]:
                    counts[m["section"]["gid"]] = counts.get(m["section"]["gid"], 0) + 1
        doomed = max((s for s in data["sections"] if s["project"]["gid"] in live_projects(data)),
                     key=lambda s: counts.get(s["gid"], 0))
        project = doomed["project"]["gid"]
        assert counts[doomed["gid"]] >= 1
        watched = tokens_for(fake, [project])
        added = fake.mutate("add_section", project=project, name="Icebox")
        new = added["gids"][0]
        assert added["project"] == project
        renamed = fake.mutate("rename_section", gids=[new])["names"][0]
        assert renamed.startswith("Icebox (renamed ")
        sections = ok(fake, f"/projects/{project}/sections", opt_fields="name,created_at")["data"]
        assert sections[-1]["gid"] == new and sections[-1]["name"] == renamed
        assert "modified_at" not in ok(fake, f"/sections/{new}")["data"]
        movers = {t["gid"] for t in paged(fake, f"/sections/{doomed['gid']}/tasks")}
        before = {t["gid"]: t["modified_at"] for t in data["tasks"] if t["gid"] in movers}
        result = fake.mutate("delete_section", gids=[doomed["gid"]])
        first_left = next(s["gid"] for s in sections if s["gid"] != doomed["gid"])
        assert result["gids"] == [doomed["gid"]] and {m["gid"] for m in result["moved"]} == movers
        assert call(fake, f"/sections/{doomed['gid']}").status_code == 404
        assert doomed["gid"] not in {s["gid"] for s in ok(fake, f"/projects/{project}/sections")["data"]}
        assert movers <= {t["gid"] for t in paged(fake, f"/sections/{first_left}/tasks")}
        for gid in movers:
            task = ok(fake, f"/tasks/{gid}", opt_fields="modified_at,memberships.project,memberships.section")["data"]
            assert task["modified_at"] == before[gid]
            assert (project, first_left) in {(m["project"]["gid"], m["section"]["gid"]) for m in task["memberships"]}
        got = new_events(fake, project, watched[project])["data"]
        assert [(e["resource"]["gid"], e["type"], e["action"]) for e in got[:3]] == [
            (new, "section", "added"), (new, "section", "changed"), (doomed["gid"], "section", "deleted")]
        assert got[0]["parent"]["gid"] == project and got[0]["resource"]["name"] == "Icebox"
        assert got[1]["change"] == {"field": "name", "action": "changed", "new_value": renamed}
        assert "parent" not in got[2] and got[2]["resource"]["name"] == doomed["name"]
        assert sorted((e["resource"]["gid"], e["action"], e["parent"]["gid"]) for e in got[3:]) == sorted(
            (g, "added", first_left) for g in movers)


def test_the_last_section_of_a_project_is_not_deleted_and_my_tasks_sections_are_refused():
    with FakeAsana(preset="tiny", seed=1, now=NOW, sections_per_project=1) as fake:
        data = fake.export()
        only = next(s for s in data["sections"] if s["project"]["gid"] in live_projects(data))
        assert fake.mutate("delete_section", gids=[only["gid"]])["gids"] == []
        assert call(fake, f"/sections/{only['gid']}").status_code == 200
        assert fake.mutate("delete_section", count=3)["gids"] == []  # nothing deletable to draw
        mine = next(t["assignee_section"]["gid"] for t in data["tasks"] if t["assignee_section"])
        refused = control_mutate(fake, op="rename_section", gids=[mine])
        assert refused.status_code == 400 and "not a project section" in refused.json()["error"]


# --- tasks in no project ----------------------------------------------------------------------------
def orphans_by_workspace(data) -> Dict[str, List[Dict[str, Any]]]:
    tasks = {t["gid"]: t for t in data["tasks"]}
    out: Dict[str, List[Dict[str, Any]]] = {}
    for gid in data["meta"]["orphans"]:
        out.setdefault(tasks[gid]["workspace"]["gid"], []).append(tasks[gid])
    return out


@pytest.mark.parametrize("preset", ["tiny", "demo"])
def test_every_workspace_has_orphans_assigned_to_me_to_others_and_to_nobody_and_one_with_subtasks(preset):
    with FakeAsana(preset=preset, seed=2, now=NOW) as fake:
        data = fake.export()
    tasks = {t["gid"]: t for t in data["tasks"]}
    me = data["meta"]["me"]
    assert set(data["meta"]["orphans"]) == {g for g, t in tasks.items() if not t["parent"] and not t["projects"]}
    below = {g for g, t in tasks.items() if t["parent"] and t["parent"]["gid"] in data["meta"]["orphans"]}
    assert below and below <= set(data["meta"]["orphan_subtasks"])
    by_workspace = orphans_by_workspace(data)
    assert set(by_workspace) == {w["gid"] for w in data["workspaces"]}
    for workspace, orphans in by_workspace.items():
        assignees = [t["assignee"]["gid"] if t["assignee"] else None for t in orphans]
        assert me in assignees and None in assignees and set(assignees) - {me, None}, workspace
        assert any(tasks[g]["parent"]["gid"] in {t["gid"] for t in orphans} for g in below
                   if tasks[g]["workspace"]["gid"] == workspace)
        unassigned = next(t for t in orphans if not t["assignee"])
        assert unassigned["assignee_section"] is None and "assignee_status" not in unassigned  # left out
    assert data["meta"]["deleted"] == {} and data["meta"]["options"]["bubble_subtask_changes"] is True


def org_gid(data) -> str:
    return next(w["gid"] for w in data["workspaces"] if w["is_organization"])


def assigned_in(data, user: str, workspace: str) -> Set[str]:
    return {t["gid"] for t in data["tasks"] if t["workspace"]["gid"] == workspace
            and t["assignee"] and t["assignee"]["gid"] == user}


def test_assignee_and_user_task_list_listings_return_exactly_the_assigned_tasks_with_modified_since():
    with FakeAsana(preset="tiny", seed=2, now=NOW) as fake:
        data = fake.export()
        me = data["meta"]["me"]
        tasks = {t["gid"]: t for t in data["tasks"]}
        for workspace in data["workspaces"]:
            ws = workspace["gid"]
            other = next(t["assignee"]["gid"] for t in orphans_by_workspace(data)[ws]
                         if t["assignee"] and t["assignee"]["gid"] != me)
            for user, name in ((me, "me"), (me, me), (other, other)):
                want = assigned_in(data, user, ws)
                assert any(g in data["meta"]["orphans"] for g in want)  # tasks in no project ...
                assert user != me or any(tasks[g]["parent"] for g in want)
                assert any(tasks[g]["projects"] for g in want) or ws != org_gid(data)
                listed = paged(fake, "/tasks", assignee=name, workspace=ws, opt_fields="modified_at")
                assert sorted(t["gid"] for t in listed) == sorted(want)  # ... subtasks, no repeats
                utl = ok(fake, f"/users/{name}/user_task_list", workspace=ws)["data"]
                assert utl["owner"]["gid"] == user and utl["workspace"]["gid"] == ws
                via_list = paged(fake, f"/user_task_lists/{utl['gid']}/tasks")
                assert sorted(t["gid"] for t in via_list) == sorted(want)
                bound = sorted(t["modified_at"] for t in listed)[len(listed) // 2]
                since = paged(fake, "/tasks", assignee=name, workspace=ws, modified_since=bound)
                assert sorted(t["gid"] for t in since) == sorted(t["gid"] for t in listed
                                                                 if t["modified_at"] >= bound)  # inclusive
                assert bound in {t["modified_at"] for t in listed if t["gid"] in {s["gid"] for s in since}}
                refused = call(fake, f"/user_task_lists/{utl['gid']}/tasks", modified_since=bound)
                assert refused.status_code == 400  # getTasksForUserTaskList defines no modified_since
                assert error_of(refused).startswith("modified_since: Not a parameter of getTasksForUserTaskList")
        unassigned = {t["gid"] for t in data["tasks"] if not t["assignee"]}
        assert unassigned & set(data["meta"]["orphans"])  # no assignee listing reaches these


def test_orphan_mutations_stay_out_of_every_project_stream():
    with FakeAsana(preset="tiny", seed=2, now=NOW) as fake:
        data = fake.export()
        tasks = {t["gid"]: t for t in data["tasks"]}
        parent = next(tasks[g]["parent"]["gid"] for g in data["meta"]["orphan_subtasks"])
        child = next(g for g in data["meta"]["orphan_subtasks"] if tasks[g]["parent"]["gid"] == parent)
        projects = tokens_for(fake, [p["gid"] for p in data["projects"]])
        own = tokens_for(fake, [parent, child])
        changed = fake.mutate("modify_tasks", orphans=True, count=2)
        assert set(changed["gids"]) <= set(data["meta"]["orphans"]) and len(changed["gids"]) == 2
        renamed_child = fake.mutate("modify_tasks", gids=[child])["gids"]
        story = fake.mutate("add_stories", gids=[child])["gids"][0]
        drawn_story = fake.mutate("add_stories", orphans=True)
        assert drawn_story["task_gids"][0] in set(data["meta"]["orphans"]) | set(data["meta"]["orphan_subtasks"])
        new = fake.mutate("add_orphan_tasks", count=2, assignee=None)
        got = seen(fake, own)
        assert got[child] == [(child, "changed"), (story, "added")]
        assert got[parent][-2:] == [(renamed_child[0], "changed"), (story, "added")]  # bubbled to the parent
        deleted = fake.mutate("delete_tasks", gids=[child])["gids"]
        assert seen(fake, {parent: own[parent]})[parent] == [(g, "deleted") for g in deleted]
        fake.mutate("delete_tasks", orphans=True, count=1)
        assert all(v == [] for v in seen(fake, projects).values())  # none of it reached a project
        export = fake.export()
        assert set(new["gids"]) <= set(export["meta"]["orphans"])
        assert all(not t["assignee"] and not t["projects"] for t in export["tasks"] if t["gid"] in new["gids"])


def test_add_orphan_tasks_for_me_another_user_or_nobody_and_the_listings_see_them():
    with FakeAsana(preset="tiny", seed=2, now=NOW) as fake:
        data = fake.export()
        me = data["meta"]["me"]
        personal = next(w["gid"] for w in data["workspaces"] if not w["is_organization"])
        other = next(u["gid"] for u in data["users"] if u["gid"] != me
                     and personal in {w["gid"] for w in u["workspaces"]})
        outsider = next((u["gid"] for u in data["users"] if personal not in {w["gid"] for w in u["workspaces"]}), None)
        before = {t["gid"] for t in paged(fake, "/tasks", assignee="me", workspace=personal)}
        mine = fake.mutate("add_orphan_tasks", count=2, workspace=personal)  # "me" by default
        theirs = fake.mutate("add_orphan_tasks", workspace=personal, assignee=other)
        nobody = fake.mutate("add_orphan_tasks", workspace=personal, assignee=None)
        assert [t["assignee"] for t in mine["tasks"] + theirs["tasks"] + nobody["tasks"]] == [me, me, other, None]
        stamp = mine["tasks"][0]["modified_at"]
        assert {t["gid"] for t in paged(fake, "/tasks", assignee="me", workspace=personal)} == \
            before | set(mine["gids"])
        recent = paged(fake, "/tasks", assignee="me", workspace=personal, modified_since=stamp)
        assert {t["gid"] for t in recent} == set(mine["gids"])
        assert theirs["gids"][0] in {t["gid"] for t in paged(fake, "/tasks", assignee=other, workspace=personal)}
        full = ok(fake, f"/tasks/{nobody['gids'][0]}")["data"]
        assert full["assignee"] is None and full["projects"] == [] and full["workspace"]["gid"] == personal
        own = tokens_for(fake, [nobody["gids"][0]])
        fake.mutate("modify_tasks", gids=nobody["gids"])
        assert seen(fake, own)[nobody["gids"][0]] == [(nobody["gids"][0], "changed")]
        if outsider:
            refused = control_mutate(fake, op="add_orphan_tasks", workspace=personal, assignee=outsider)
            assert refused.status_code == 400 and "not in workspace" in refused.json()["error"]
        assert control_mutate(fake, op="add_orphan_tasks", assignee="123").status_code == 400


# --- deletes ------------------------------------------------------------------------------------------
def test_deleted_tasks_answer_404_their_events_reach_the_projects_with_no_parent_and_the_export_keeps_them():
    with FakeAsana(preset="tiny", seed=3, now=NOW) as fake:
        data = fake.export()
        deep, parent, top = chain_of(data, 2)
        home = top["projects"][0]["gid"]
        watched = tokens_for(fake, [home, top["gid"]])
        gone = fake.mutate("delete_tasks", gids=[parent["gid"]])["gids"]
        assert gone[0] == parent["gid"] and deep["gid"] in gone
        got = new_events(fake, home, watched[home])["data"]
        assert [(e["resource"]["gid"], e["action"]) for e in got] == [(g, "deleted") for g in gone]
        assert not any("parent" in e for e in got)  # no parent: left out (the contract allows no null)
        for gid in gone:
            answer = call(fake, f"/tasks/{gid}")
            assert answer.status_code == 404 and error_of(answer) == f"task: Not a recognized ID: {gid}"
            assert events(fake, gid).status_code == 404  # its stream is gone with it
        assert not {s["gid"] for s in ok(fake, f"/tasks/{top['gid']}/subtasks")["data"]} & set(gone)
        export = fake.export()
        assert export["meta"]["deleted"] == {g: got[0]["created_at"] for g in gone}
        assert not {t["gid"] for t in export["tasks"]} & set(gone)


# --- the clock ------------------------------------------------------------------------------------------
def date_of(response: requests.Response) -> dt.datetime:
    return parsedate_to_datetime(response.headers["Date"])


def test_advance_clock_moves_the_date_header_new_stamps_and_every_lifetime():
    with FakeAsana(preset="tiny", seed=1, now=NOW) as fake:
        data = fake.export()
        project = next(p for p in live_projects(data)
                       if sum(1 for t in data["tasks"] if project_of(t) == p) > 2)
        first = call(fake, "/users/me")
        old_token = fresh_sync(events(fake, project))
        page = ok(fake, "/tasks", project=project, limit=1)
        oauth = requests.post(fake.token_url, data={"grant_type": "refresh_token", **fake.oauth}, timeout=10)
        access = oauth.json()["access_token"]
        assert call(fake, "/users/me", token=access).status_code == 200
        moved = control_mutate(fake, op="advance_clock", hours=23)
        assert moved.status_code == 200 and moved.json()["offset_s"] == 23 * 3600
        later = call(fake, "/users/me")
        assert dt.timedelta(hours=23) <= date_of(later) - date_of(first) < dt.timedelta(hours=23, minutes=5)
        assert fake.config()["clock_offset_s"] == 23 * 3600
        assert fake.config()["clock"] > fmt_now_plus(hours=22)
        assert new_events(fake, project, old_token)["data"] == []  # 23 h old: still inside sync_ttl
        expired = call(fake, "/tasks", project=project, limit=1, offset=page["next_page"]["offset"])
        assert expired.status_code == 400 and error_of(expired) == "offset: Your pagination token has expired."
        refused = call(fake, "/users/me", token=access)
        assert refused.status_code == 401 and "expired" in error_of(refused)
        task = next(t for t in data["tasks"] if project_of(t) == project)
        changed = fake.mutate("modify_tasks", gids=[task["gid"]])["tasks"][0]
        assert changed["modified_at"] >= fmt_now_plus(hours=22)  # stamped by the moved clock
        young_token = new_events(fake, project, old_token)["sync"]
        fake.mutate("advance_clock", seconds=2 * 3600)
        fresh_sync(events(fake, project, old_token))  # 25 h old now: 412
        assert [e["resource"]["gid"] for e in new_events(fake, project, young_token)["data"]] == []
        assert fake.config()["clock_offset_s"] == 25 * 3600
        for bad in ({"hours": -1}, {"seconds": "soon"}, {"hours": True}):
            assert control_mutate(fake, op="advance_clock", **bad).status_code == 400
        assert fake.config()["clock_offset_s"] == 25 * 3600


def project_of(task: Dict[str, Any]) -> str:
    return task["projects"][0]["gid"] if task["projects"] and not task["parent"] else ""


def fmt_now_plus(hours: float) -> str:
    stamp = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=hours)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


# --- search: has_attachment and the index's lag ------------------------------------------------------
def searched(fake: FakeAsana, workspace: str, **params: Any) -> Dict[str, str]:
    """gid -> name of the tasks a search finds (at most 100)."""
    body = ok(fake, f"/workspaces/{workspace}/tasks/search", limit=100, opt_fields="name", **params)
    assert set(body) == {"data"}
    return {t["gid"]: t["name"] for t in body["data"]}


def test_search_has_attachment_finds_the_tasks_with_one():
    with FakeAsana(preset="tiny", seed=2, now=NOW) as fake:
        data = fake.export()
        org = org_gid(data)
        attached = {a["parent"]["gid"] for a in data["attachments"] if a["parent"]["resource_type"] == "task"}
        in_org = {t["gid"] for t in data["tasks"] if t["workspace"]["gid"] == org}
        assert len(in_org) < 100 and attached & in_org and in_org - attached
        assert set(searched(fake, org, has_attachment="true")) == attached & in_org
        assert set(searched(fake, org, has_attachment="false")) == in_org - attached
        assert set(searched(fake, org, has_attachment="true", is_subtask="true")) == {
            g for g in attached & in_org if next(t for t in data["tasks"] if t["gid"] == g)["parent"]}
        bad = call(fake, f"/workspaces/{org}/tasks/search", has_attachment="maybe")
        assert bad.status_code == 400 and error_of(bad) == "has_attachment: Not a boolean: maybe"
        task = next(g for g in sorted(in_org - attached) if g in {t["gid"] for t in data["tasks"]
                                                                     if t["projects"] and not t["parent"]})
        fake.mutate("add_attachment", gids=[task])
        assert task in searched(fake, org, has_attachment="true")  # no lag: found at once


def test_search_sees_tasks_as_they_were_search_lag_s_ago():
    with pytest.raises(ValueError):
        FakeAsana(preset="tiny", seed=2, now=NOW, search_lag_s=-1)
    with FakeAsana(preset="tiny", seed=2, now=NOW, search_lag_s=30) as fake:
        data = fake.export()
        org = org_gid(data)
        attached = {a["parent"]["gid"] for a in data["attachments"]}
        plain = [t for t in data["tasks"] if t["workspace"]["gid"] == org and t["projects"] and not t["parent"]
                 and t["gid"] not in attached]
        bare, renamed = plain[0], plain[1]
        fake.mutate("add_attachment", gids=[bare["gid"]])
        new_name = fake.mutate("modify_tasks", gids=[renamed["gid"]])["tasks"][0]["name"]
        born = fake.mutate("add_orphan_tasks", workspace=org)["tasks"][0]
        # within the lag: the attachment is not seen, the old name is, the new task is not
        assert bare["gid"] not in searched(fake, org, has_attachment="true")
        assert bare["gid"] in searched(fake, org, has_attachment="false")
        # matched as it was, shown as it is
        assert searched(fake, org, text=renamed["name"]).get(renamed["gid"]) == new_name
        assert renamed["gid"] not in searched(fake, org, text=new_name)
        mine = {"assignee.any": "me", "is_subtask": "false"}
        assert born["gid"] not in searched(fake, org, **mine)
        assert renamed["gid"] not in searched(fake, org, **{"modified_at.after": renamed["modified_at"]})
        fake.mutate("advance_clock", seconds=31)
        # past the lag: search has caught up
        assert bare["gid"] in searched(fake, org, has_attachment="true")
        assert renamed["gid"] in searched(fake, org, text=new_name)
        assert born["gid"] in searched(fake, org, **mine)
        assert renamed["gid"] in searched(fake, org, **{"modified_at.after": renamed["modified_at"]})
        deleted = fake.mutate("delete_tasks", gids=[bare["gid"]])["gids"]
        assert not set(deleted) & set(searched(fake, org, has_attachment="true"))  # gone at once: nothing to show
