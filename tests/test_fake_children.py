"""The fake Asana's resources that hang below tasks, projects and workspaces, over real HTTP: attachments, memberships, status
updates, goals and time tracking entries (shapes, pagination, opt_fields, 402/403/404,
filters), the ops that add them, and the export."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import jsonschema
import pytest
import requests

from fake_asana import FakeAsana
from fake_asana.render import COMPACT

NOW = "2025-06-01T12:00:00Z"
PREMIUM_ONLY = "This feature is only available to premium organizations and workspaces."


def call(fake: FakeAsana, path: str, **params: Any) -> requests.Response:
    return requests.get(fake.api_url + path, params=params, headers={"Authorization": f"Bearer {fake.pat}"},
                        timeout=10)


def ok(fake: FakeAsana, path: str, **params: Any) -> Dict[str, Any]:
    response = call(fake, path, **params)
    assert response.status_code == 200, response.text
    return response.json()


def walk(fake: FakeAsana, path: str, limit: int = 1, **params: Any) -> List[Dict[str, Any]]:
    """Every page of a listing, following next_page.offset."""
    out: List[Dict[str, Any]] = []
    offset: Optional[str] = None
    for _ in range(1000):
        query = dict(params, limit=limit, **({"offset": offset} if offset else {}))
        body = ok(fake, path, **query)
        assert len(body["data"]) <= limit
        out.extend(body["data"])
        if body["next_page"] is None:
            return out
        offset = body["next_page"]["offset"]
    raise AssertionError("pagination did not end")


def status_and_message(response: requests.Response) -> tuple:
    return response.status_code, response.json()["errors"][0]["message"]


@pytest.fixture
def live():
    """A fresh server for tests that change data."""
    with FakeAsana(preset="tiny", seed=3, now=NOW) as server:
        yield server


def org_of(data) -> str:
    return next(w["gid"] for w in data["workspaces"] if w["is_organization"])


def personal_of(data) -> str:
    return next(w["gid"] for w in data["workspaces"] if not w["is_organization"])


def most(items, key) -> str:
    counts: Dict[str, int] = {}
    for item in items:
        counts[key(item)] = counts.get(key(item), 0) + 1
    return max(counts, key=counts.get)


def events_token(fake: FakeAsana, resource: str) -> str:
    response = call(fake, "/events", resource=resource)
    assert response.status_code == 412
    return response.json()["sync"]


def events_since(fake: FakeAsana, resource: str, token: str) -> List[Dict[str, Any]]:
    return ok(fake, "/events", resource=resource, sync=token)["data"]


# --- generated data ----------------------------------------------------------------------------------
def test_every_new_resource_is_generated_and_exported(data):
    for key in ("attachments", "project_memberships", "team_memberships", "portfolio_memberships",
                "status_updates", "goals", "time_tracking_entries"):
        assert data[key], key
        assert len({r["gid"] for r in data[key]}) == len(data[key])
        assert [r["gid"] for r in data[key]] == sorted(r["gid"] for r in data[key])
    parents = {a["parent"]["resource_type"] for a in data["attachments"]}
    assert parents == {"task", "project"}
    hosts = {a["host"] for a in data["attachments"]}
    assert "asana" in hosts and len(hosts) > 1
    assert all(("size" in a) == (a["host"] == "asana") for a in data["attachments"])
    # A team can be a project member; a membership names its member, not a `user` (the contract has none).
    members = {m["member"]["resource_type"] for m in data["project_memberships"]}
    assert members == {"user", "team"}
    assert not any({"user", "project", "write_access"} & set(m) for m in data["project_memberships"])
    levels = {g["is_workspace_level"] for g in data["goals"]}
    assert levels == {True, False}


def test_same_seed_same_new_resources():
    with FakeAsana(preset="tiny", seed=5, now=NOW) as one, FakeAsana(preset="tiny", seed=5, now=NOW) as two:
        first, second = one.export(), two.export()
    for key in ("attachments", "status_updates", "goals", "time_tracking_entries", "project_memberships"):
        assert first[key] == second[key]


def test_project_current_status_update_is_its_newest_status_update(data):
    updates = {u["gid"]: u for u in data["status_updates"]}
    for project in data["projects"]:
        current = project["current_status_update"]
        mine = [u for u in data["status_updates"] if u["parent"]["gid"] == project["gid"]]
        if current is None:
            assert not mine
            continue
        assert set(current) == {"gid", "resource_type", "title", "resource_subtype"}
        assert current["gid"] in updates
        assert updates[current["gid"]]["created_at"] == max(u["created_at"] for u in mine)
        assert current["resource_subtype"] == "project_status_update"


def test_time_entries_can_be_entered_for_days_before_they_were_logged(data):
    entries = data["time_tracking_entries"]
    assert any(e["entered_on"] < e["created_at"][:10] for e in entries)
    tasks = {t["gid"]: t for t in data["tasks"]}
    free = set(data["meta"]["free_workspaces"])
    for entry in entries:
        assert tasks[entry["task"]["gid"]]["workspace"]["gid"] not in free
    minutes: Dict[str, int] = {}
    for entry in entries:
        minutes[entry["task"]["gid"]] = minutes.get(entry["task"]["gid"], 0) + entry["duration_minutes"]
    for gid, total in minutes.items():
        assert tasks[gid]["actual_time_minutes"] == total


def test_task_attachments_come_with_an_attachment_added_story_no_later_than_the_task(data):
    stories = [s for s in data["stories"] if s["resource_subtype"] == "attachment_added"]
    tasks = {t["gid"]: t for t in data["tasks"]}
    on_tasks = [a for a in data["attachments"] if a["parent"]["resource_type"] == "task"]
    assert len(stories) == len(on_tasks)
    for attachment in on_tasks:
        assert attachment["created_at"] <= tasks[attachment["parent"]["gid"]]["modified_at"]


# --- shapes, pagination, opt_fields -------------------------------------------------------------------
def test_collections_return_compact_records(fake, data):
    task_attachment = next(a for a in data["attachments"] if a["parent"]["resource_type"] == "task")
    entry = data["time_tracking_entries"][0]
    listings = {
        "attachment": ("/attachments", {"parent": task_attachment["parent"]["gid"]}),
        "membership": ("/memberships", {"parent": data["project_memberships"][0]["parent"]["gid"]}),
        "team_membership": ("/team_memberships", {"team": data["teams"][0]["gid"]}),
        "portfolio_membership": ("/portfolio_memberships", {"portfolio": data["portfolios"][0]["gid"]}),
        "status_update": ("/status_updates", {"parent": data["status_updates"][0]["parent"]["gid"]}),
        "goal": ("/goals", {"workspace": org_of(data)}),
        "time_tracking_entry": (f"/tasks/{entry['task']['gid']}/time_tracking_entries", {}),
    }
    for resource_type, (path, params) in listings.items():
        records = ok(fake, path, **params)["data"]
        assert records, path
        assert all(r["resource_type"] == resource_type for r in records)
        # Keys are the compact shape (a null reference still has its key).
        assert all(set(r) <= set(COMPACT[resource_type]) and {"gid", "resource_type"} <= set(r)
                   for r in records), path
        assert any(set(r) == set(COMPACT[resource_type]) for r in records), path


def test_single_gets_return_full_records(fake, data):
    attachment = data["attachments"][0]
    full = ok(fake, f"/attachments/{attachment['gid']}")["data"]
    assert full == attachment
    for path, record in ((f"/goals/{data['goals'][0]['gid']}", data["goals"][0]),
                         (f"/status_updates/{data['status_updates'][0]['gid']}", data["status_updates"][0]),
                         (f"/time_tracking_entries/{data['time_tracking_entries'][0]['gid']}",
                          data["time_tracking_entries"][0]),
                         (f"/memberships/{data['project_memberships'][0]['gid']}", data["project_memberships"][0]),
                         (f"/team_memberships/{data['team_memberships'][0]['gid']}", data["team_memberships"][0])):
        assert ok(fake, path)["data"] == record


def test_pagination_walks_every_record_once(fake, data):
    project = most(data["project_memberships"], lambda m: m["parent"]["gid"])
    pages = walk(fake, "/memberships", parent=project)
    assert [m["gid"] for m in pages] == [m["gid"] for m in data["project_memberships"]
                                         if m["parent"]["gid"] == project]
    assert len(pages) > 1
    org = org_of(data)
    entries = walk(fake, "/time_tracking_entries", limit=2, workspace=org, entered_on_start_date="2000-01-01")
    assert [e["gid"] for e in entries] == [e["gid"] for e in data["time_tracking_entries"]]
    goals = walk(fake, "/goals", limit=2, workspace=org)
    assert [g["gid"] for g in goals] == [g["gid"] for g in data["goals"]]
    team = data["teams"][0]["gid"]
    assert walk(fake, f"/teams/{team}/team_memberships") == ok(fake, "/team_memberships", team=team)["data"]


def test_opt_fields_give_exactly_the_fields_asked_for(fake, data):
    attachment = next(a for a in data["attachments"] if a["parent"]["resource_type"] == "task")
    records = ok(fake, "/attachments", parent=attachment["parent"]["gid"],
                 opt_fields="name,created_at,download_url,parent.name,size,host")["data"]
    wanted = {"gid", "name", "created_at", "download_url", "parent", "host"}
    assert all(wanted <= set(r) <= wanted | {"size"} for r in records)
    assert all(set(r["parent"]) == {"gid", "name"} for r in records)
    entry = data["time_tracking_entries"][0]
    rows = ok(fake, f"/tasks/{entry['task']['gid']}/time_tracking_entries",
              opt_fields="entered_on,created_at,task.name,categories.name,approval_status")["data"]
    assert rows and all(set(r) == {"gid", "entered_on", "created_at", "task", "categories", "approval_status"}
                        for r in rows)
    goal = ok(fake, "/goals", workspace=org_of(data), opt_fields="time_period.display_name,metric.unit")["data"][0]
    assert set(goal) == {"gid", "time_period", "metric"} and set(goal["metric"]) == {"gid", "unit"}


# --- who may see what ---------------------------------------------------------------------------------
def test_free_workspace_answers_402_where_the_feature_is_paid(data):
    with FakeAsana(preset="tiny", seed=1, now=NOW, free_workspaces=True) as free:
        org = org_of(data)
        entry = data["time_tracking_entries"][0]
        portfolio = data["portfolios"][0]["gid"]
        for path, params in (("/goals", {"workspace": org}),
                             (f"/workspaces/{org}/custom_fields", {}),
                             (f"/tasks/{entry['task']['gid']}/time_tracking_entries", {}),
                             ("/time_tracking_entries", {"task": entry["task"]["gid"]}),
                             ("/time_tracking_entries", {"workspace": org, "entered_on_end_date": "2030-01-01"}),
                             ("/portfolio_memberships", {"portfolio": portfolio}),
                             (f"/portfolios/{portfolio}/portfolio_memberships", {}),
                             ("/memberships", {"parent": portfolio}),
                             ("/status_updates", {"parent": portfolio}),
                             (f"/goals/{data['goals'][0]['gid']}", {})):
            assert status_and_message(call(free, path, **params)) == (402, PREMIUM_ONLY), path
        # What free workspaces have: attachments, project memberships and status updates.
        task_attachment = next(a for a in data["attachments"] if a["parent"]["resource_type"] == "task")
        assert ok(free, "/attachments", parent=task_attachment["parent"]["gid"])["data"]
        project_update = next(u for u in data["status_updates"] if u["parent"]["resource_type"] == "project")
        assert ok(free, "/status_updates", parent=project_update["parent"]["gid"])["data"]
        assert ok(free, "/memberships", parent=data["project_memberships"][0]["parent"]["gid"])["data"]
        assert ok(free, "/team_memberships", team=data["teams"][0]["gid"])["data"]


def test_the_plain_workspace_is_free_without_the_option(fake, data):
    personal = personal_of(data)
    assert status_and_message(call(fake, "/goals", workspace=personal)) == (402, PREMIUM_ONLY)
    plain_task = next(t for t in data["tasks"] if t["workspace"]["gid"] == personal)
    assert call(fake, f"/tasks/{plain_task['gid']}/time_tracking_entries").status_code == 402
    plain_project = next(p for p in data["projects"] if p["workspace"]["gid"] == personal)
    assert call(fake, "/memberships", parent=plain_project["gid"]).status_code == 200


def test_forbidden_vanished_unknown_and_missing_parents():
    with FakeAsana(preset="tiny", seed=1, now=NOW, forbidden_projects=1, vanished_tasks=1) as fake:
        data = fake.export()
        forbidden = data["meta"]["forbidden_projects"][0]
        for path in ("/memberships", "/status_updates", "/attachments"):
            assert status_and_message(call(fake, path, parent=forbidden)) == (403, "Forbidden"), path
        vanished = data["meta"]["vanished_tasks"][0]
        assert call(fake, "/attachments", parent=vanished).status_code == 404
        assert call(fake, f"/tasks/{vanished}/time_tracking_entries").status_code == 404
        assert status_and_message(call(fake, "/attachments", parent="999")) == (
            404, "parent: Not a recognized ID: 999")
        assert status_and_message(call(fake, "/attachments", parent="abc")) == (400, "parent: Not a Long")
        for path in ("/attachments", "/memberships", "/status_updates"):
            assert status_and_message(call(fake, path)) == (400, "parent: Missing input"), path
        assert call(fake, "/goals").status_code == 400
        assert call(fake, "/time_tracking_entries").status_code == 400
        assert call(fake, f"/attachments/{data['tasks'][0]['gid']}").status_code == 404  # a task, not an attachment
        assert call(fake, "/team_memberships").status_code == 400


# --- filters ------------------------------------------------------------------------------------------
def test_status_updates_created_since_is_inclusive(fake, data):
    project = most([u for u in data["status_updates"] if u["parent"]["resource_type"] == "project"],
                   lambda u: u["parent"]["gid"])
    mine = [u for u in data["status_updates"] if u["parent"]["gid"] == project]
    assert len(mine) > 1
    cut = sorted(u["created_at"] for u in mine)[1]
    got = ok(fake, "/status_updates", parent=project, created_since=cut, opt_fields="created_at")["data"]
    assert sorted(u["created_at"] for u in got) == sorted(u["created_at"] for u in mine if u["created_at"] >= cut)
    assert call(fake, "/status_updates", parent=project, created_since="yesterday").status_code == 400


def test_time_tracking_entry_filters(fake, data):
    org, entries = org_of(data), data["time_tracking_entries"]
    days = sorted({e["entered_on"] for e in entries})
    low, high = days[len(days) // 4], days[3 * len(days) // 4]
    got = ok(fake, "/time_tracking_entries", workspace=org, entered_on_start_date=low,
             entered_on_end_date=high, opt_fields="entered_on")["data"]
    assert sorted(e["gid"] for e in got) == sorted(e["gid"] for e in entries if low <= e["entered_on"] <= high)
    assert {e["entered_on"] for e in got} >= {low, high}  # both bounds inclusive
    response = call(fake, "/time_tracking_entries", workspace=org)
    assert response.status_code == 400 and "entered_on_start_date" in response.json()["errors"][0]["message"]
    assert call(fake, "/time_tracking_entries", workspace=org, entered_on_start_date="1 May").status_code == 400
    task = most(entries, lambda e: e["task"]["gid"])
    by_task = ok(fake, "/time_tracking_entries", task=task)["data"]
    assert by_task == ok(fake, f"/tasks/{task}/time_tracking_entries")["data"]
    project = most([e for e in entries if e.get("attributable_to")], lambda e: e["attributable_to"]["gid"])
    attributed = ok(fake, "/time_tracking_entries", attributable_to=project)["data"]
    assert sorted(e["gid"] for e in attributed) == sorted(
        e["gid"] for e in entries if e.get("attributable_to") and e["attributable_to"]["gid"] == project)
    user = most(entries, lambda e: e["created_by"]["gid"])
    assert len(ok(fake, "/time_tracking_entries", user=user)["data"]) == sum(
        e["created_by"]["gid"] == user for e in entries)


def test_goal_filters(fake, data):
    org = org_of(data)
    team_goal = next(g for g in data["goals"] if g["team"])
    team = team_goal["team"]["gid"]
    assert {g["gid"] for g in ok(fake, "/goals", team=team)["data"]} == {
        g["gid"] for g in data["goals"] if g["team"] and g["team"]["gid"] == team}
    level = ok(fake, "/goals", workspace=org, is_workspace_level="true")["data"]
    assert level and {g["gid"] for g in level} == {g["gid"] for g in data["goals"] if g["is_workspace_level"]}
    assert call(fake, "/goals", team=team, is_workspace_level="true").status_code == 400


def test_membership_filters(fake, data):
    membership = data["project_memberships"][0]
    got = ok(fake, "/memberships", parent=membership["parent"]["gid"], member=membership["member"]["gid"])["data"]
    assert [m["gid"] for m in got] == [membership["gid"]]
    team_membership = data["team_memberships"][0]
    mine = ok(fake, "/team_memberships", user=team_membership["user"]["gid"], workspace=org_of(data))["data"]
    assert team_membership["gid"] in {m["gid"] for m in mine}
    assert all(m["user"]["gid"] == team_membership["user"]["gid"] for m in mine)
    portfolio_membership = data["portfolio_memberships"][0]
    by_user = ok(fake, "/portfolio_memberships", workspace=org_of(data), user=portfolio_membership["user"]["gid"])
    assert portfolio_membership["gid"] in {m["gid"] for m in by_user["data"]}


# --- ops ----------------------------------------------------------------------------------------------
def test_add_attachment_adds_a_story_bumps_the_task_and_logs_events(live):
    data = live.export()
    task = next(t for t in data["tasks"] if t["projects"] and not t["parent"]
                and t["projects"][0]["gid"] not in data["meta"]["forbidden_projects"])
    project = task["projects"][0]["gid"]
    token = events_token(live, project)
    result = live.mutate("add_attachment", gids=[task["gid"]], name="plan.pdf")
    attachment = result["attachments"][0]
    assert attachment["task_modified_at"] == attachment["created_at"] > task["modified_at"]
    listed = ok(live, "/attachments", parent=task["gid"], opt_fields="name,created_at")["data"]
    assert {"gid": attachment["gid"], "name": "plan.pdf", "created_at": attachment["created_at"]} in listed
    stories = ok(live, f"/tasks/{task['gid']}/stories")["data"]
    assert any(s["gid"] == attachment["story"] and s["resource_subtype"] == "attachment_added"
               and s["text"] == "attached plan.pdf" for s in stories)
    assert ok(live, f"/tasks/{task['gid']}")["data"]["modified_at"] == attachment["created_at"]
    kinds = {(e["resource"]["resource_type"], e["action"]) for e in events_since(live, project, token)}
    assert kinds == {("attachment", "added"), ("story", "added")}


def test_add_attachment_to_a_project_logs_it_added_in_the_projects_stream(live):
    data = live.export()
    project, other = [p for p in data["projects"] if not p["archived"]][:2]
    tokens = {p["gid"]: events_token(live, p["gid"]) for p in (project, other)}
    result = live.mutate("add_attachment", project=project["gid"], name="brief.pdf")
    attachment = result["attachments"][0]
    assert result["task_gids"] == [] and attachment["parent"] == project["gid"]
    got = events_since(live, project["gid"], tokens[project["gid"]])
    assert [(e["resource"], e["action"], e["parent"], e["created_at"]) for e in got] == [
        ({"gid": attachment["gid"], "resource_type": "attachment", "name": "brief.pdf"}, "added",
         {"gid": project["gid"], "resource_type": "project", "name": project["name"]}, attachment["created_at"])]
    assert events_since(live, other["gid"], tokens[other["gid"]]) == []
    listed = ok(live, "/attachments", parent=project["gid"], opt_fields="name")["data"]
    assert {"gid": attachment["gid"], "name": "brief.pdf"} in listed
    assert ok(live, f"/projects/{project['gid']}")["data"]["modified_at"] == project["modified_at"]


def test_add_time_tracking_entry_for_a_past_day_does_not_bump_unless_asked(live):
    data = live.export()
    result = live.mutate("add_time_tracking_entry", days_back=40, duration_minutes=75)
    entry = result["entries"][0]
    task_before = next(t for t in data["tasks"] if t["gid"] == entry["task"])
    task_after = ok(live, f"/tasks/{entry['task']}")["data"]
    assert task_after["modified_at"] == task_before["modified_at"]
    assert task_after["actual_time_minutes"] == (task_before["actual_time_minutes"] or 0) + 75
    created = dt.date.fromisoformat(entry["created_at"][:10])
    assert dt.date.fromisoformat(entry["entered_on"]) == created - dt.timedelta(days=40)
    org = org_of(data)
    # A window of recent days misses it; only a window reaching back to its day finds it.
    recent = ok(live, "/time_tracking_entries", workspace=org,
                entered_on_start_date=str(created - dt.timedelta(days=7)))["data"]
    assert entry["gid"] not in {e["gid"] for e in recent}
    wide = walk(live, "/time_tracking_entries", limit=100, workspace=org,
                entered_on_start_date=entry["entered_on"])
    assert entry["gid"] in {e["gid"] for e in wide}
    assert entry["gid"] in {e["gid"] for e in ok(live, f"/tasks/{entry['task']}/time_tracking_entries")["data"]}
    bumped = live.mutate("add_time_tracking_entry", gids=[entry["task"]], entered_on="2024-01-02", bump=True)
    later = bumped["entries"][0]
    assert later["entered_on"] == "2024-01-02"
    assert later["task_modified_at"] == later["created_at"] > task_after["modified_at"]
    with pytest.raises(ValueError):
        live.mutate("add_time_tracking_entry", entered_on="02/01/2024")


def test_set_custom_field_value_bumps_the_task_and_adds_a_story(live):
    data = live.export()
    task = next(t for t in data["tasks"] if any(v["name"] == "Priority" for v in t["custom_fields"])
                and t["projects"])
    result = live.mutate("set_custom_field_value", gids=[task["gid"]], field="Priority", value="High")
    value = result["values"][0]
    assert value["display_value"] == "High"
    after = ok(live, f"/tasks/{task['gid']}", opt_fields="modified_at,custom_fields.name,custom_fields.enum_value.name,"
                                                         "custom_fields.display_value")["data"]
    priority = next(v for v in after["custom_fields"] if v["name"] == "Priority")
    assert priority["enum_value"]["name"] == "High" and priority["display_value"] == "High"
    assert after["modified_at"] == value["task_modified_at"] > task["modified_at"]
    story = ok(live, f"/stories/{value['story']}")["data"]
    assert story["resource_subtype"] == "enum_custom_field_changed" and story["new_enum_value"]["name"] == "High"
    cleared = live.mutate("set_custom_field_value", gids=[task["gid"]], field="Priority", value=None)
    assert cleared["values"][0]["display_value"] is None
    for field, value, shown in (("Estimate (h)", 2.25, "2.2"), ("Ticket ID", "OPS-1", "OPS-1"),
                                ("Target date", "2025-03-04", "2025-03-04"),
                                ("Platforms", ["iOS", "Web"], "iOS, Web")):
        holder = next((t for t in data["tasks"] if any(v["name"] == field for v in t["custom_fields"])
                       and t["projects"]), None)
        if holder is not None:
            got = live.mutate("set_custom_field_value", gids=[holder["gid"]], field=field, value=value)
            assert got["values"][0]["display_value"] == shown, field
    with pytest.raises(ValueError):
        live.mutate("set_custom_field_value", gids=[task["gid"]], field="Priority", value="Urgent!")
    with pytest.raises(ValueError):
        live.mutate("set_custom_field_value", gids=[task["gid"]], field="No such field")


def test_add_status_update_becomes_current_and_leaves_modified_at(live):
    data = live.export()
    project = next(p for p in data["projects"] if not p["archived"])
    token = events_token(live, project["gid"])
    result = live.mutate("add_status_update", parent=project["gid"], status_type="at_risk", title="Slipping")
    gid, created = result["gids"][0], result["created_at"]
    listed = ok(live, "/status_updates", parent=project["gid"], created_since=created,
                opt_fields="title,status_type,created_at")["data"]
    assert listed == [{"gid": gid, "title": "Slipping", "status_type": "at_risk", "created_at": created}]
    after = ok(live, f"/projects/{project['gid']}")["data"]
    assert after["current_status_update"] == {"gid": gid, "resource_type": "status_update", "title": "Slipping",
                                              "resource_subtype": "project_status_update"}
    assert after["modified_at"] == project["modified_at"]
    assert [(e["resource"]["gid"], e["action"]) for e in events_since(live, project["gid"], token)] == [(gid, "added")]
    portfolio = data["portfolios"][0]["gid"]
    on_portfolio = live.mutate("add_status_update", parent=portfolio)["gids"][0]
    assert on_portfolio in {u["gid"] for u in ok(live, "/status_updates", parent=portfolio)["data"]}


def test_add_goal_and_members(live):
    data = live.export()
    org = org_of(data)
    goal = live.mutate("add_goal", name="Win the quarter")["gids"][0]
    assert {"gid": goal, "name": "Win the quarter"} in ok(live, "/goals", workspace=org, opt_fields="name")["data"]
    team = data["teams"][0]["gid"]
    team_goal = live.mutate("add_goal", team=team)["gids"][0]
    assert team_goal in {g["gid"] for g in ok(live, "/goals", team=team)["data"]}

    project = next(p for p in data["projects"] if not p["archived"] and p["workspace"]["gid"] == org)
    token = events_token(live, project["gid"])
    added = live.mutate("add_project_member", project=project["gid"], access_level="commenter")
    memberships = ok(live, "/memberships", parent=project["gid"], opt_fields="member,access_level")
    assert {"gid": added["gids"][0], "access_level": "commenter",
            "member": {"gid": added["user"], "resource_type": "user",
                       "name": next(u["name"] for u in data["users"] if u["gid"] == added["user"])}} \
        in memberships["data"]
    after = ok(live, f"/projects/{project['gid']}")["data"]
    assert added["user"] in {m["gid"] for m in after["members"]}
    assert after["modified_at"] == project["modified_at"]
    change = events_since(live, project["gid"], token)[0]["change"]
    assert change["field"] == "members" and change["added_value"]["gid"] == added["user"]

    joined = live.mutate("add_team_member", team=team)
    assert joined["gids"][0] in {m["gid"] for m in ok(live, f"/teams/{team}/team_memberships")["data"]}
    assert joined["user"] in {u["gid"] for u in ok(live, f"/teams/{team}/users")["data"]}

    portfolio = data["portfolios"][0]["gid"]
    member = live.mutate("add_portfolio_member", portfolio=portfolio)
    assert member["gids"][0] in {m["gid"] for m in ok(live, "/portfolio_memberships", portfolio=portfolio)["data"]}
    with pytest.raises(ValueError):
        live.mutate("add_project_member", project=project["gid"], user="not-a-user")


def test_children_of_a_deleted_task_leave_the_export_and_the_listings(live):
    data = live.export()
    entry = next(e for e in data["time_tracking_entries"]
                 if not next(t for t in data["tasks"] if t["gid"] == e["task"]["gid"])["parent"])
    task = entry["task"]["gid"]
    live.mutate("delete_tasks", gids=[task])
    after = live.export()
    assert task not in {e["task"]["gid"] for e in after["time_tracking_entries"]}
    assert task not in {a["parent"]["gid"] for a in after["attachments"]}
    everything = walk(live, "/time_tracking_entries", limit=100, workspace=org_of(data),
                      entered_on_start_date="2000-01-01")
    assert entry["gid"] not in {e["gid"] for e in everything}
    assert call(live, f"/time_tracking_entries/{entry['gid']}").status_code == 404


# --- the new streams' schemas fit the fake's records ----------------------------------------------------------
SCHEMAS = Path(__file__).resolve().parents[1] / "tap_asana" / "schemas"
PENDING = {"attachments": "attachments", "project_memberships": "project_memberships",
           "team_memberships": "team_memberships", "portfolio_memberships": "portfolio_memberships",
           "status_updates": "status_updates", "goals": "goals", "time_tracking_entries": "time_tracking_entries",
           "custom_fields": "custom_fields"}


def resolved(node: Any) -> Any:
    """The schema with every `{"$ref": "shared/x.json"}` replaced by the file (as discover.py does)."""
    if isinstance(node, list):
        return [resolved(item) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return resolved(json.loads((SCHEMAS / node["$ref"]).read_text()))
    return {key: resolved(value) for key, value in node.items()}


REF = resolved({"$ref": "shared/ref.json"})


def pending_schema(name: str) -> Dict[str, Any]:
    return resolved(json.loads((SCHEMAS / f"{name}.json").read_text()))


def undeclared(record: Any, schema: Dict[str, Any], path: str = "") -> List[str]:
    """Keys of `record` (at any depth) that the schema does not declare. References are
    `{gid, name, resource_type}` by design: a compact task's `resource_subtype` is left out."""
    if schema == REF:
        return []
    if isinstance(record, list):
        return [p for item in record for p in undeclared(item, schema.get("items", {}), path + "[]")]
    if not isinstance(record, dict) or "properties" not in schema:
        return []
    out = []
    for key, value in record.items():
        if key not in schema["properties"]:
            out.append(path + key)
        else:
            out.extend(undeclared(value, schema["properties"][key], path + key + "."))
    return out


def value_rows(task: Dict[str, Any]) -> List[Dict[str, Any]]:
    """task_custom_field_values rows as the issue defines them, from a task's custom_fields."""
    keys = ("name", "resource_subtype", "display_value", "text_value", "number_value", "date_value",
            "enum_value", "multi_enum_values", "people_value", "enabled")
    return [dict({k: value.get(k) for k in keys}, task_gid=task["gid"], custom_field_gid=value["gid"],
                 modified_at=task["modified_at"]) for value in task["custom_fields"]]


def test_the_pending_schemas_declare_every_field_the_fake_serves(data):
    for key, name in PENDING.items():
        schema = pending_schema(name)
        jsonschema.Draft4Validator.check_schema(schema)
        validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
        for record in data[key]:
            validator.validate(record)
            assert undeclared(record, schema) == [], (name, record["gid"])
    rows = [row for task in data["tasks"] for row in value_rows(task)]
    assert {row["resource_subtype"] for row in rows} == {"text", "number", "enum", "multi_enum", "date", "people"}
    schema = pending_schema("task_custom_field_values")
    assert set(schema["properties"]) == {"task_gid", "custom_field_gid", "name", "resource_subtype",
                                         "display_value", "text_value", "number_value", "date_value", "enum_value",
                                         "multi_enum_values", "people_value", "enabled", "modified_at"}
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    for row in rows:
        validator.validate(row)
        assert undeclared(row, schema) == []
