"""The fake Asana itself, over real HTTP: envelope, shapes, pagination, filters, the
modified_at rules, auth, limits, faults, the Events API, mutations, determinism and the CLI."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import requests

from fake_asana import FakeAsana
from fake_asana.timefmt import fmt_datetime, parse_ms

ROOT = Path(__file__).resolve().parents[1]
NOW = "2025-06-01T12:00:00Z"
HELP = ("For more information on API status codes and how to handle them, read the docs on errors: "
        "https://developers.asana.com/docs/errors")


def call(fake: FakeAsana, path: str, token: Optional[str] = "pat", session: Any = requests, **params: Any):
    headers = {"Authorization": f"Bearer {fake.pat if token == 'pat' else token}"} if token else {}
    return session.get(fake.api_url + path, params=params, headers=headers, timeout=10)


def ok(fake: FakeAsana, path: str, **params: Any) -> Dict[str, Any]:
    response = call(fake, path, **params)
    assert response.status_code == 200, response.text
    return response.json()


def error_of(response: requests.Response) -> str:
    body = response.json()
    assert set(body) == {"errors"} and body["errors"][0]["help"] == HELP
    return body["errors"][0]["message"]


def org_of(data) -> str:
    return next(w["gid"] for w in data["workspaces"] if w["is_organization"])


def busiest_project(data) -> str:
    counts: Dict[str, int] = {}
    for task in data["tasks"]:
        for project in task["projects"]:
            counts[project["gid"]] = counts.get(project["gid"], 0) + 1
    return max(counts, key=counts.get)


# --- envelope and shapes ------------------------------------------------------------------------
def test_envelope_headers_and_compact_records(fake, data):
    response = call(fake, "/workspaces")
    assert response.headers["Content-Type"] == "application/json; charset=UTF-8"
    assert "GMT" in response.headers["Date"]
    body = response.json()
    assert set(body) == {"data"}  # no limit: no next_page key at all
    assert all(set(w) == {"gid", "resource_type", "name"} for w in body["data"])
    tasks = ok(fake, "/tasks", project=busiest_project(data))["data"]
    assert tasks and all(set(t) == {"gid", "resource_type", "name", "resource_subtype"} for t in tasks)
    story = ok(fake, f"/tasks/{tasks[0]['gid']}/stories")["data"]
    assert all(set(s) == {"gid", "resource_type", "created_at", "created_by", "resource_subtype", "text"}
               for s in story)


def test_single_get_is_full_without_opt_in_fields(fake, data):
    task = ok(fake, f"/tasks/{data['tasks'][0]['gid']}")["data"]
    assert {"notes", "modified_at", "memberships", "custom_fields", "likes", "workspace"} <= set(task)
    assert not {"html_notes", "created_by", "num_subtasks", "dependencies", "is_rendered_as_separator"} & set(task)
    assert set(task["workspace"]) == {"gid", "resource_type", "name"}


def test_opt_fields_exact_fields_and_dotted_paths(fake, data):
    users = {u["gid"]: u for u in data["users"]}
    project = busiest_project(data)
    fields = ("name,assignee,followers.email,memberships.section.name,projects.name,"
              "custom_fields.enum_options.color,html_notes")
    tasks = ok(fake, "/tasks", project=project, opt_fields=fields)["data"]
    assert tasks
    for task in tasks:
        assert set(task) == {"gid", "name", "assignee", "followers", "memberships", "projects", "custom_fields",
                             "html_notes"}
        if task["assignee"]:
            assert set(task["assignee"]) == {"gid", "resource_type", "name"}
        for follower in task["followers"]:
            assert follower == {"gid": follower["gid"], "email": users[follower["gid"]]["email"]}
        assert any(m["section"] and set(m["section"]) == {"gid", "name"} for m in task["memberships"])
        assert {"gid": project, "name": next(p["name"] for p in data["projects"] if p["gid"] == project)} \
            in task["projects"]
        for value in task["custom_fields"]:
            for option in value.get("enum_options", []):
                assert set(option) == {"gid", "color"}
    assert any(v.get("enum_options") for t in tasks for v in t["custom_fields"])


# --- pagination -------------------------------------------------------------------------------------
@pytest.mark.parametrize("limit", ["0", "101", "-3", "ten"])
def test_limit_out_of_bounds_is_400(fake, data, limit):
    response = call(fake, "/tags", workspace=org_of(data), limit=limit)
    assert response.status_code == 400
    assert error_of(response) == "limit: The value must be between 1 and 100"


def test_walking_pages_yields_every_record_once(fake, data):
    project = busiest_project(data)
    everything = [t["gid"] for t in ok(fake, "/tasks", project=project)["data"]]
    seen: List[str] = []
    body = ok(fake, "/tasks", project=project, limit=2, opt_fields="name")
    pages = 1
    while True:
        seen += [t["gid"] for t in body["data"]]
        if body["next_page"] is None:
            break
        next_page = body["next_page"]
        assert next_page["path"].startswith("/tasks?") and f"project={project}" in next_page["path"]
        assert next_page["uri"] == fake.api_url + next_page["path"]
        body = requests.get(next_page["uri"], headers={"Authorization": f"Bearer {fake.pat}"}, timeout=10).json()
        pages += 1
    assert seen == everything and len(set(seen)) == len(seen)
    assert pages == -(-len(everything) // 2)
    assert all(set(t) == {"gid", "name"} for t in body["data"])


def test_pages_are_stable_across_inserts():
    with FakeAsana(preset="tiny", seed=2, now=NOW) as fake:
        data = fake.export()
        project = busiest_project(data)
        before = [t["gid"] for t in ok(fake, "/tasks", project=project)["data"]]
        first = ok(fake, "/tasks", project=project, limit=2)
        added = fake.mutate("add_tasks", count=2, project=project)["gids"]
        rest: List[str] = []
        offset = first["next_page"]["offset"]
        while offset:
            body = ok(fake, "/tasks", project=project, limit=2, offset=offset)
            rest += [t["gid"] for t in body["data"]]
            offset = body["next_page"] and body["next_page"]["offset"]
        walked = [t["gid"] for t in first["data"]] + rest
        assert walked == before + added  # new gids sort last: nothing repeated, nothing skipped


def test_offsets_expire_and_forged_offsets_are_rejected():
    with FakeAsana(preset="tiny", seed=1, now=NOW, offset_ttl=2) as fake:
        workspace = org_of(fake.export())
        body = ok(fake, "/tags", workspace=workspace, limit=1)
        offset = body["next_page"]["offset"]
        assert call(fake, "/tags", workspace=workspace, limit=1, offset=offset).status_code == 200
        time.sleep(2.1)
        expired = call(fake, "/tags", workspace=workspace, limit=1, offset=offset)
        assert expired.status_code == 400 and error_of(expired) == "offset: Your pagination token has expired."
        forged = call(fake, "/tags", workspace=workspace, limit=1, offset=offset[:-4] + "AAAA")
        assert forged.status_code == 400 and error_of(forged) == "offset: Not a valid offset"


def test_expire_offset_every_n_expires_every_nth_offset_read_once_per_listing():
    with FakeAsana(preset="tiny", seed=1, now=NOW, expire_offset_every=3) as fake:
        workspace = org_of(fake.export())
        tags = ok(fake, "/tags", workspace=workspace, limit=1)["next_page"]["offset"]
        users = ok(fake, "/users", workspace=workspace, limit=1)["next_page"]["offset"]
        codes = [call(fake, "/tags", workspace=workspace, limit=1, offset=tags).status_code for _ in range(4)]
        assert codes == [200, 200, 400, 200]  # the third read expired
        codes = [call(fake, "/tags", workspace=workspace, limit=1, offset=tags).status_code for _ in range(3)]
        assert codes == [200, 200, 200]  # the sixth would, but this listing had its expiry
        codes = [call(fake, "/users", workspace=workspace, limit=1, offset=users).status_code for _ in range(2)]
        assert codes == [200, 400]  # the ninth read, another listing


def test_too_large_without_limit():
    with FakeAsana(preset="tiny", seed=1, now=NOW, max_unpaginated=3) as fake:
        project = busiest_project(fake.export())
        response = call(fake, "/tasks", project=project)
        assert response.status_code == 400
        assert error_of(response) == ("The result is too large. You should use pagination "
                                      "(may require specifying a workspace)!")
        assert call(fake, "/tasks", project=project, limit=100).status_code == 200


# --- filters --------------------------------------------------------------------------------------
def test_modified_since_forms_and_inclusive_bound(fake, data):
    project = busiest_project(data)
    tasks = sorted((t for t in data["tasks"] if any(p["gid"] == project for p in t["projects"])),
                   key=lambda t: t["modified_at"])
    pivot = tasks[len(tasks) // 2]["modified_at"]  # e.g. 2025-03-04T05:06:07.891Z
    want = {t["gid"] for t in tasks if t["modified_at"] >= pivot}
    forms = [pivot, pivot[:-1], pivot[:-1] + "000", pivot[:-1] + "+00:00"]  # Z, zone-less, 6 digits, offset
    for form in forms:
        got = {t["gid"] for t in ok(fake, "/tasks", project=project, modified_since=form)["data"]}
        assert got == want, form
    later = fmt_datetime(parse_ms(pivot) + 1)
    assert {t["gid"] for t in ok(fake, "/tasks", project=project, modified_since=later)["data"]} == \
        {t["gid"] for t in tasks if t["modified_at"] > pivot}
    bad = call(fake, "/tasks", project=project, modified_since="yesterday")
    assert bad.status_code == 400 and error_of(bad).startswith("modified_since:")
    incomplete = {t["gid"] for t in tasks if not t["completed"]}
    assert {t["gid"] for t in ok(fake, "/tasks", project=project, completed_since="now")["data"]} == incomplete


def test_task_listing_needs_exactly_one_container(fake, data):
    section = next(s["gid"] for s in data["sections"] if s["project"]["gid"] == busiest_project(data))
    for params in ({}, {"workspace": org_of(data)}, {"project": busiest_project(data), "section": section}):
        response = call(fake, "/tasks", **params)
        assert response.status_code == 400
        assert error_of(response) == ("Must specify exactly one of project, tag, section, user task list, "
                                      "or assignee + workspace")
    mine = ok(fake, "/tasks", assignee="me", workspace=org_of(data))["data"]
    me = data["meta"]["me"]
    assert {t["gid"] for t in mine} == {t["gid"] for t in data["tasks"] if t["assignee"]
                                        and t["assignee"]["gid"] == me and t["workspace"]["gid"] == org_of(data)}


def test_search_filters_sorting_and_no_next_page(fake, data):
    org = org_of(data)
    body = ok(fake, f"/workspaces/{org}/tasks/search", is_subtask="true", sort_by="modified_at",
              sort_ascending="true", opt_fields="modified_at,parent", limit=100)
    assert set(body) == {"data"}
    want = sorted((t for t in data["tasks"] if t["parent"] and t["workspace"]["gid"] == org),
                  key=lambda t: (t["modified_at"], t["gid"]))
    assert [t["gid"] for t in body["data"]] == [t["gid"] for t in want]
    pivot = want[1]["modified_at"]
    after = ok(fake, f"/workspaces/{org}/tasks/search", is_subtask="true", **{"modified_at.after": pivot})["data"]
    assert {t["gid"] for t in after} == {t["gid"] for t in want if t["modified_at"] > pivot}  # strict
    assert len(ok(fake, f"/workspaces/{org}/tasks/search")["data"]) == 20  # default page size
    assert call(fake, f"/workspaces/{org}/tasks/search", limit=101).status_code == 400


# --- Asana's modified_at rules ----------------------------------------------------------------------
def test_story_bumps_task_and_subtask_changes_do_not_bump_parent():
    with FakeAsana(preset="tiny", seed=3, now=NOW) as fake:
        data = fake.export()
        tasks = {t["gid"]: t for t in data["tasks"]}
        child = next(t for t in data["tasks"] if t["parent"])
        parent = tasks[child["parent"]["gid"]]
        changed = fake.mutate("modify_tasks", gids=[child["gid"]])
        assert changed["tasks"][0]["modified_at"] > child["modified_at"]
        assert ok(fake, f"/tasks/{parent['gid']}")["data"]["modified_at"] == parent["modified_at"]
        added = fake.mutate("add_subtasks", gids=[parent["gid"]])
        after = ok(fake, f"/tasks/{parent['gid']}", opt_fields="modified_at,num_subtasks")["data"]
        assert after == {"gid": parent["gid"], "modified_at": parent["modified_at"],
                         "num_subtasks": parent["num_subtasks"] + 1}
        new = ok(fake, f"/tasks/{added['gids'][0]}", opt_fields="created_at,modified_at,projects,parent")["data"]
        assert new["created_at"] == new["modified_at"] > parent["modified_at"] and new["projects"] == []
        assert new["parent"]["gid"] == parent["gid"]
        story = fake.mutate("add_stories", gids=[parent["gid"]])["stories"][0]
        bumped = ok(fake, f"/tasks/{parent['gid']}")["data"]["modified_at"]
        assert bumped == story["created_at"] > after["modified_at"]
        stories = ok(fake, f"/tasks/{parent['gid']}/stories")["data"]
        assert stories[-1]["gid"] == story["gid"]


# --- access ---------------------------------------------------------------------------------------
def test_401_without_or_with_a_wrong_token(fake):
    for token in (None, "nope"):
        response = call(fake, "/users/me", token=token)
        assert response.status_code == 401 and error_of(response) == "Not Authorized"


def test_402_on_premium_endpoints_of_free_workspaces(fake, data):
    free = next(w["gid"] for w in data["workspaces"] if not w["is_organization"])
    for path, params in ((f"/workspaces/{free}/tasks/search", {}), ("/portfolios", {"workspace": free, "owner": "me"}),
                         (f"/workspaces/{free}/custom_fields", {})):
        response = call(fake, path, **params)
        assert response.status_code == 402 and "is only available to premium" in error_of(response)
    assert ok(fake, "/portfolios", workspace=org_of(data), owner="me")["data"]
    with FakeAsana(preset="tiny", seed=1, now=NOW, free_workspaces=True) as everything_free:
        assert call(everything_free, "/portfolios", workspace=org_of(data), owner="me").status_code == 402


def test_errors_for_unknown_ids_paths_and_non_organizations(fake, data):
    missing = call(fake, "/tasks/1234567890123456")
    assert missing.status_code == 404 and error_of(missing) == "task: Not a recognized ID: 1234567890123456"
    unknown = call(fake, "/no/such/route")
    assert unknown.status_code == 400 and error_of(unknown).startswith("/no/such/route: Not a route of Asana's API")
    assert call(fake, "/projects").status_code == 400  # workspace or team required
    free = next(w["gid"] for w in data["workspaces"] if not w["is_organization"])
    assert call(fake, f"/workspaces/{free}/teams").status_code == 400
    teams = ok(fake, f"/workspaces/{org_of(data)}/teams")["data"]
    assert {t["gid"] for t in teams} == {t["gid"] for t in data["teams"]}
    legacy = call(fake, f"/organizations/{org_of(data)}/teams")  # not a route of Asana's contract
    assert legacy.status_code == 400 and f"/organizations/{org_of(data)}/teams" in error_of(legacy)
    unserved = call(fake, "/custom_types", project=busiest_project(data))  # Asana's, not served by the fake
    assert unserved.status_code == 404 and error_of(unserved) == "No matching route for request"
    project = busiest_project(data)
    extra = call(fake, f"/projects/{project}/sections", owner="me")  # a parameter the route does not define
    assert extra.status_code == 400 and error_of(extra).startswith("owner: Not a parameter of getSectionsForProject")


def test_forbidden_projects_and_vanished_tasks():
    with FakeAsana(preset="tiny", seed=4, now=NOW, forbidden_projects=1, vanished_tasks=2) as fake:
        data = fake.export()
        forbidden, = data["meta"]["forbidden_projects"]
        workspace = next(p["workspace"]["gid"] for p in data["projects"] if p["gid"] == forbidden)
        assert forbidden in {p["gid"] for p in ok(fake, "/projects", workspace=workspace)["data"]}
        assert ok(fake, f"/projects/{forbidden}")["data"]["gid"] == forbidden
        for path, params in (("/tasks", {"project": forbidden}), (f"/projects/{forbidden}/sections", {})):
            assert call(fake, path, **params).status_code == 403
        for gid in data["meta"]["vanished_tasks"]:
            task = next(t for t in data["tasks"] if t["gid"] == gid)
            listed = ok(fake, "/tasks", project=task["projects"][0]["gid"])["data"]
            assert gid in {t["gid"] for t in listed}
            for path in (f"/tasks/{gid}/stories", f"/tasks/{gid}/subtasks"):
                assert call(fake, path).status_code == 404


def test_oauth_refresh_token_works_then_expires():
    with FakeAsana(preset="tiny", seed=1, now=NOW, token_ttl=3) as fake:
        bad = requests.post(fake.token_url, data={**fake.oauth, "grant_type": "refresh_token",
                                                  "refresh_token": "wrong"}, timeout=10)
        assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"
        wrong_client = requests.post(fake.token_url, data={**fake.oauth, "grant_type": "refresh_token",
                                                           "client_secret": "x"}, timeout=10)
        assert wrong_client.status_code == 401 and "error" in wrong_client.json()
        response = requests.post(fake.token_url, data={**fake.oauth, "grant_type": "refresh_token"}, timeout=10)
        assert response.status_code == 200
        grant = response.json()
        assert grant["token_type"] == "bearer" and grant["expires_in"] == 3 and grant["data"]["gid"]
        assert call(fake, "/users/me", token=grant["access_token"]).json()["data"]["gid"] == grant["data"]["gid"]
        time.sleep(3.1)
        expired = call(fake, "/users/me", token=grant["access_token"])
        assert expired.status_code == 401 and error_of(expired).startswith("The bearer token has expired.")
        assert call(fake, "/users/me").status_code == 200  # the PAT never expires
        assert fake.stats()["by_route"]["POST /-/oauth_token"] == {"400": 1, "401": 1, "200": 1}
        assert not any(secret in line for line in fake.requests() for secret in fake.oauth.values())


# --- limits -----------------------------------------------------------------------------------------
def test_requests_per_minute_limit():
    with FakeAsana(preset="tiny", seed=1, now=NOW, rpm=5) as fake:
        codes = [call(fake, "/users/me") for _ in range(7)]
        assert [r.status_code for r in codes] == [200] * 5 + [429] * 2
        limited = codes[5]
        assert int(limited.headers["Retry-After"]) >= 1
        assert limited.json()["errors"][0]["message"] == (
            "You've made too many requests and hit a rate limit. Please retry after the given amount of time.")


def test_search_has_its_own_limit():
    with FakeAsana(preset="tiny", seed=1, now=NOW, search_rpm=2) as fake:
        org = org_of(fake.export())
        codes = [call(fake, f"/workspaces/{org}/tasks/search").status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert call(fake, "/users/me").status_code == 200


def test_concurrent_gets_beyond_the_limit_get_429():
    with FakeAsana(preset="tiny", seed=1, now=NOW, latency_ms=300, max_concurrent=2) as fake:
        results: List[requests.Response] = []
        threads = [threading.Thread(target=lambda: results.append(call(fake, "/users/me"))) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        codes = sorted(r.status_code for r in results)
        assert codes.count(200) >= 2 and codes.count(429) >= 1
        assert all(r.headers["Retry-After"] == "1" for r in results if r.status_code == 429)
        assert fake.stats()["max_in_flight"] >= 3


# --- faults -------------------------------------------------------------------------------------------
def outcomes(seed: int) -> List[str]:
    rates = dict(fault_500=0.15, fault_503=0.1, fault_429=0.1, fault_truncate=0.1, fault_drop=0.1)
    with FakeAsana(preset="tiny", seed=seed, now=NOW, **rates) as fake:
        session = requests.Session()
        seen = []
        for i in range(40):
            try:
                response = call(fake, "/workspaces" if i % 2 else "/users/me", session=session)
                seen.append(str(response.status_code))
            except requests.exceptions.ChunkedEncodingError:
                seen.append("truncate")
            except requests.exceptions.ConnectionError:
                seen.append("drop")
        faults = fake.stats()["faults"]
        assert faults["truncate"] == seen.count("truncate") and faults["drop"] == seen.count("drop")
        return seen


def test_faults_are_deterministic_per_seed_and_retries_draw_afresh():
    first, again, other = outcomes(8), outcomes(8), outcomes(9)
    assert first == again
    assert first != other
    assert {"500", "503", "429", "truncate", "drop", "200"} <= set(first) | set(other)
    assert len(set(first[0::2])) > 1  # one URL requested 20 times does not always get the same fate


def test_slow_fault_times_out_the_client_and_stop_is_prompt():
    fake = FakeAsana(preset="tiny", seed=1, now=NOW, fault_slow=1.0, slow_seconds=30).start()
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(fake.api_url + "/users/me", headers={"Authorization": f"Bearer {fake.pat}"}, timeout=0.3)
    started = time.monotonic()
    fake.stop()
    assert time.monotonic() - started < 3
    assert fake.stats()["faults"]["slow"] == 1


# --- the Events API -------------------------------------------------------------------------------
SYNC_INVALID = ("Sync token invalid or too old. If you are attempting to keep resources in sync, you must fetch "
                "the full dataset for this query now and use the new sync token for the next sync.")


def events(fake: FakeAsana, resource: str, sync: Optional[str] = None) -> requests.Response:
    return call(fake, "/events", resource=resource, **({"sync": sync} if sync is not None else {}))


def fresh_sync(response: requests.Response) -> str:
    """The token of a 412, after checking the 412 is Asana's."""
    assert response.status_code == 412, response.text
    body = response.json()
    assert set(body) == {"errors", "sync"} and body["errors"] == [{"message": SYNC_INVALID}]
    assert isinstance(body["sync"], str) and body["sync"]
    return body["sync"]


def new_events(fake: FakeAsana, resource: str, sync: str) -> Dict[str, Any]:
    response = events(fake, resource, sync)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"data", "sync", "has_more"}  # no next_page: the token is the cursor
    return body


def mutations(fake: FakeAsana, served: int) -> Dict[str, Any]:
    """/_control/mutations once `served` API requests have finished (the server counts a
    request, and applies what was waiting for it, just after the client has its answer)."""
    deadline = time.monotonic() + 5
    while True:
        state = requests.get(fake.url + "/_control/mutations", timeout=10).json()
        if state["served"] >= served or time.monotonic() > deadline:
            return state
        time.sleep(0.01)


def chain_of(data, depth: int) -> List[Dict[str, Any]]:
    """A task `depth` levels below a top-level task, then its ancestors up to that task."""
    tasks = {t["gid"]: t for t in data["tasks"]}

    def up(task: Dict[str, Any]) -> List[Dict[str, Any]]:
        return [task] + (up(tasks[task["parent"]["gid"]]) if task["parent"] else [])
    return next(c for c in map(up, data["tasks"]) if len(c) == depth + 1 and c[-1]["projects"])


def test_events_first_call_is_412_and_a_quiet_stream_is_empty(fake, data):
    project = busiest_project(data)
    token = fresh_sync(events(fake, project))
    for _ in range(2):  # the same token twice: the same answer
        body = new_events(fake, project, token)
        assert body["data"] == [] and body["has_more"] is False and body["sync"]
    assert fake.stats()["by_route"]["GET /events"]["412"] >= 1


def test_events_bubble_up_from_a_deep_subtask_to_its_tasks_and_project_only():
    with FakeAsana(preset="tiny", seed=3, now=NOW) as fake:
        data = fake.export()
        deep, *ancestors = chain_of(data, 3)
        top = ancestors[-1]
        home = top["projects"][0]["gid"]
        other = next(p["gid"] for p in data["projects"] if p["gid"] not in {q["gid"] for q in top["projects"]})
        bystander = next(t["gid"] for t in data["tasks"] if not t["parent"] and t["gid"] != top["gid"])
        watched = [home, other, bystander, deep["gid"]] + [a["gid"] for a in ancestors]
        tokens = {gid: fresh_sync(events(fake, gid)) for gid in watched}
        changed = fake.mutate("modify_tasks", gids=[deep["gid"]])["tasks"][0]
        me = next(u for u in data["users"] if u["gid"] == data["meta"]["me"])
        want = {"user": {"gid": me["gid"], "resource_type": "user", "name": me["name"]},
                "resource": {"gid": deep["gid"], "resource_type": "task", "name": changed["name"]},
                "type": "task", "action": "changed", "created_at": changed["modified_at"],  # no parent: left out
                "change": {"field": "name", "action": "changed", "new_value": changed["name"]}}
        for gid in [home, deep["gid"]] + [a["gid"] for a in ancestors]:
            assert new_events(fake, gid, tokens[gid])["data"] == [want], gid
        for gid in (other, bystander):
            assert new_events(fake, gid, tokens[gid])["data"] == [], gid


def test_events_new_story_is_added_with_its_task_as_parent_once_applied():
    with FakeAsana(preset="tiny", seed=3, now=NOW) as fake:
        data = fake.export()
        task, parent, top = chain_of(data, 2)
        project = top["projects"][0]["gid"]
        token = fresh_sync(events(fake, project))
        mutations(fake, served=1)
        assert fake.mutate("add_stories", gids=[task["gid"]], after_requests=1)["scheduled"] is True
        assert new_events(fake, project, token)["data"] == []  # the mutation waits for this request
        story = mutations(fake, served=2)["applied"][0]["stories"][0]
        first, again = new_events(fake, project, token), new_events(fake, project, token)
        assert first["data"] == again["data"] and len(first["data"]) == 1  # the same token, the same events
        event = first["data"][0]
        assert event["action"] == "added" and event["type"] == "story" and "change" not in event
        assert event["resource"]["gid"] == story["gid"] and event["resource"]["resource_type"] == "story"
        assert event["parent"] == {"gid": task["gid"], "resource_type": "task", "name": task["name"]}
        assert event["created_at"] == story["created_at"]
        assert new_events(fake, project, first["sync"])["data"] == []  # delivered once


def test_events_more_than_100_come_in_pages_without_repeats():
    with FakeAsana(preset="tiny", seed=2, now=NOW) as fake:
        data = fake.export()
        project, other = busiest_project(data), next(p["gid"] for p in data["projects"]
                                                       if p["gid"] != busiest_project(data))
        token = fresh_sync(events(fake, project))
        added = fake.mutate("add_tasks", count=60, project=project)["gids"]
        fake.mutate("add_tasks", count=20, project=other)  # interleaved, in another stream
        added += fake.mutate("add_tasks", count=70, project=project)["gids"]
        first = new_events(fake, project, token)
        assert len(first["data"]) == 100 and first["has_more"] is True
        second = new_events(fake, project, first["sync"])
        assert len(second["data"]) == 30 and second["has_more"] is False
        seen = [e["resource"]["gid"] for e in first["data"] + second["data"]]
        assert seen == added  # oldest first, nothing repeated, nothing skipped
        assert all(e["action"] == "added" and e["parent"]["gid"] == project for e in first["data"])
        assert new_events(fake, project, second["sync"])["data"] == []


def test_events_deletions_and_archiving():
    with FakeAsana(preset="tiny", seed=3, now=NOW) as fake:
        data = fake.export()
        _, _, top = chain_of(data, 2)
        project = top["projects"][0]["gid"]
        token = fresh_sync(events(fake, project))
        deleted = fake.mutate("delete_tasks", gids=[top["gid"]])["gids"]
        fake.mutate("archive_project", gids=[project])
        got = new_events(fake, project, token)["data"]
        assert [(e["resource"]["gid"], e["action"]) for e in got[:-1]] == [(g, "deleted") for g in deleted]
        assert len(deleted) >= 3 and got[0]["resource"]["name"] == top["name"]  # named as it was
        assert got[-1]["resource"]["gid"] == project and got[-1]["change"] == {
            "field": "archived", "action": "changed", "new_value": True}


def test_add_to_project_moves_no_modified_at_and_lose_events_logs_nothing():
    with FakeAsana(preset="tiny", seed=4, now=NOW) as fake:
        data = fake.export()
        task = next(t for t in data["tasks"] if not t["parent"] and len(t["projects"]) == 1)
        home = task["projects"][0]["gid"]
        workspace = task["workspace"]["gid"]
        target = next(p["gid"] for p in data["projects"] if p["workspace"]["gid"] == workspace
                      and p["gid"] != home and not p["archived"])
        home_token, target_token = fresh_sync(events(fake, home)), fresh_sync(events(fake, target))
        moved = fake.mutate("add_to_project", gids=[task["gid"]], project=target)["tasks"]
        assert moved == [{"gid": task["gid"], "project": target, "modified_at": task["modified_at"]}]
        full = ok(fake, f"/tasks/{task['gid']}", opt_fields="modified_at,projects")["data"]
        assert full["modified_at"] == task["modified_at"]  # a new container is not a modification
        assert {p["gid"] for p in full["projects"]} == {home, target}
        listed = ok(fake, "/tasks", project=target, limit=100)["data"]
        assert task["gid"] in {t["gid"] for t in listed}
        got = new_events(fake, target, target_token)
        assert [(e["resource"]["gid"], e["action"], e["parent"]["gid"]) for e in got["data"]] == [
            (task["gid"], "added", target)]
        target_token = got["sync"]
        assert new_events(fake, home, home_token)["data"] == []  # the task's other projects are not told
        renamed = fake.mutate("modify_tasks", gids=[task["gid"]], lose_events=True)["tasks"][0]
        assert renamed["modified_at"] > task["modified_at"]  # the change happened ...
        assert new_events(fake, home, home_token)["data"] == []  # ... and no event says so
        assert new_events(fake, target, target_token)["data"] == []


def test_events_stale_forged_and_foreign_tokens_get_412_with_a_fresh_token():
    with FakeAsana(preset="tiny", seed=1, now=NOW) as fake:
        data = fake.export()
        project, other = data["projects"][0]["gid"], data["projects"][1]["gid"]
        token = fresh_sync(events(fake, project))
        assert new_events(fake, project, token)["data"] == []
        payload, signature = token.split(".")
        for forged in (payload + "." + signature[:-4] + "AAAA", "de4774f6915eae04714ca93bb2f5ee81", token[:-1]):
            fresh_sync(events(fake, project, forged))
        fresh_sync(events(fake, other, token))  # another resource's token
        other_token = fresh_sync(events(fake, other))
        fake.mutate("expire_sync_tokens", gids=[other])  # that resource's tokens only
        fresh_sync(events(fake, other, other_token))
        assert new_events(fake, project, token)["data"] == []
        fake.mutate("expire_sync_tokens")
        renewed = fresh_sync(events(fake, project, token))
        assert renewed != token
        fake.mutate("add_tasks", count=1, project=project)  # logged after the fresh token: delivered
        assert len(new_events(fake, project, renewed)["data"]) == 1


def test_events_sync_ttl_expires_tokens():
    with pytest.raises(ValueError):
        FakeAsana(preset="tiny", seed=1, now=NOW, sync_ttl=0)
    with FakeAsana(preset="tiny", seed=1, now=NOW, sync_ttl=0.5) as fake:
        project = busiest_project(fake.export())
        token = fresh_sync(events(fake, project))
        assert new_events(fake, project, token)["has_more"] is False
        time.sleep(0.7)
        fresh_sync(events(fake, project, token))
        assert fake.config()["options"]["sync_ttl"] == 0.5


def test_events_bad_resources():
    with FakeAsana(preset="tiny", seed=4, now=NOW, forbidden_projects=1) as fake:
        data = fake.export()
        missing = call(fake, "/events")
        assert missing.status_code == 400 and error_of(missing) == "resource: Missing input"
        unknown = events(fake, "1234567890123456")
        assert unknown.status_code == 404 and error_of(unknown) == "resource: Not a recognized ID: 1234567890123456"
        assert events(fake, data["tags"][0]["gid"]).status_code == 404  # neither a task nor a project
        forbidden, = data["meta"]["forbidden_projects"]
        refused = events(fake, forbidden)
        assert refused.status_code == 403 and error_of(refused) == "Forbidden"


# --- mutations, control, determinism --------------------------------------------------------------------
def test_mutation_after_requests_applies_later():
    with FakeAsana(preset="tiny", seed=5, now=NOW) as fake:
        data = fake.export()
        task = next(t for t in data["tasks"] if t["projects"] and not t["parent"])
        scheduled = requests.post(fake.url + "/_control/mutate",
                                  json={"op": "modify_tasks", "gids": [task["gid"]], "after_requests": 3},
                                  timeout=10).json()
        assert scheduled["scheduled"] is True
        names = [ok(fake, f"/tasks/{task['gid']}", opt_fields="name")["data"]["name"] for _ in range(3)]
        assert names[:3] == [task["name"]] * 3  # applied once the third request has finished
        assert ok(fake, f"/tasks/{task['gid']}", opt_fields="name")["data"]["name"] != task["name"]
        applied = requests.get(fake.url + "/_control/mutations", timeout=10).json()["applied"]
        assert applied[0]["gids"] == [task["gid"]]
        assert requests.post(fake.url + "/_control/mutate", json={"op": "nope"}, timeout=10).status_code == 400


def test_same_seed_same_data_and_the_data_is_well_formed():
    with FakeAsana(preset="tiny", seed=6, now=NOW) as a, FakeAsana(preset="tiny", seed=6, now=NOW) as b, \
            FakeAsana(preset="tiny", seed=7, now=NOW) as c:
        first, second, other = a.export(), b.export(), c.export()
    assert first == second
    assert first["tasks"] != other["tasks"]
    gids = [r["gid"] for kind in ("workspaces", "users", "teams", "projects", "sections", "tasks", "stories", "tags",
                                  "portfolios", "custom_fields") for r in first[kind]]
    assert len(gids) == len(set(gids)) and all(len(g) == 16 and g.isdigit() for g in gids)
    tasks = {t["gid"]: t for t in first["tasks"]}
    newest = max(t["modified_at"] for t in tasks.values())
    assert newest <= "2025-06-01T11:00:00.000Z"
    for story in first["stories"]:
        target = tasks[story["target"]["gid"]]
        assert target["created_at"] <= story["created_at"] <= target["modified_at"]

    def depth(task: Dict[str, Any]) -> int:
        return 0 if not task["parent"] else 1 + depth(tasks[task["parent"]["gid"]])
    assert max(map(depth, tasks.values())) >= 3
    assert all(t["projects"] == [] for t in tasks.values() if t["parent"])
    assert any(not t["parent"] and not t["projects"] for t in tasks.values())  # only in My Tasks
    kinds = {v["resource_subtype"] for t in tasks.values() for v in t["custom_fields"]}
    assert kinds == {"text", "number", "enum", "multi_enum", "date", "people"}
    story_kinds = {s["resource_subtype"] for s in first["stories"]}
    assert {"comment_added", "assigned", "due_date_changed"} <= story_kinds and len(story_kinds) >= 10


def test_stats_by_route_and_the_request_log(fake, data):
    fake.reset_stats()
    task = data["tasks"][0]["gid"]
    ok(fake, f"/tasks/{task}/stories")
    ok(fake, f"/tasks/{task}/stories", limit=5)
    call(fake, "/users/me", token=None)
    requests.get(fake.url + "/_control/config", timeout=10)
    stats = requests.get(fake.url + "/_control/stats", timeout=10).json()
    assert stats["total"] == 3
    assert stats["by_route"] == {"GET /tasks/{gid}/stories": {"200": 2}, "GET /users/me": {"401": 1}}
    assert f"GET /api/1.0/tasks/{task}/stories?limit=5" in fake.requests()


def test_cli_prints_the_url_serves_and_exits_0_on_sigterm():
    proc = subprocess.Popen([sys.executable, "-m", "fake_asana", "--port", "0", "--preset", "tiny", "--seed", "1",
                             "--rpm", "100"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        url = proc.stdout.readline().strip()
        creds = json.loads(proc.stderr.readline())
        assert url.startswith("http://127.0.0.1:")
        me = requests.get(url + "/api/1.0/users/me", headers={"Authorization": f"Bearer {creds['access_token']}"},
                          timeout=10)
        assert me.status_code == 200
        assert creds["service_account_token"] and creds["service_account_token"] != creds["access_token"]
        assert requests.get(url + "/_control/config", timeout=10).json()["options"]["rpm"] == 100
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
