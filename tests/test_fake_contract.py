"""The fake Asana holds every request to Asana's contract (`tap_asana/contract.json`), more
strictly than Asana: a path that is no route, a parameter the route does not define, a
required one missing and an opt_fields path the route does not know answer 400, and are
recorded (`GET /_control/violations`) whether the fake is strict or not."""
from __future__ import annotations

from typing import Any, Dict, List, Sequence

import pytest
import requests

from fake_asana import FakeAsana
from fake_asana.__main__ import parser
from fake_asana.families import ROUTES as SERVED
from tests.contractkit import RESOURCES, ROUTES, Checker, documented, requests_for
from tests.test_fake_asana import NOW, busiest_project, call, error_of, ok, org_of


def violations(fake: FakeAsana) -> Dict[str, Any]:
    return requests.get(fake.url + "/_control/violations", timeout=10).json()


def refused(fake: FakeAsana, path: str, **params: Any) -> str:
    response = call(fake, path, **params)
    assert response.status_code == 400, response.text
    return error_of(response)


# --- the check ----------------------------------------------------------------------------------------
def test_a_path_that_is_no_route_is_400_naming_it_and_an_unserved_route_is_404(fake, data):
    assert refused(fake, "/tasks/123/nonsense") == (
        "/tasks/123/nonsense: Not a route of Asana's API (no GET path of its OpenAPI description matches)")
    assert refused(fake, "/").startswith("/: Not a route")
    unserved = call(fake, "/custom_types", project=busiest_project(data))  # getCustomTypes: Asana's, not the fake's
    assert unserved.status_code == 404 and error_of(unserved) == "No matching route for request"
    assert call(fake, "/tasks/123/nonsense", token=None).status_code == 401  # authentication comes first
    posted = requests.post(fake.api_url + "/tasks", headers={"Authorization": f"Bearer {fake.pat}"}, timeout=10)
    assert posted.status_code == 404  # the contract has GET routes only: another method is no route


def test_parameters_the_route_does_not_define_are_400(fake, data):
    org, project = org_of(data), busiest_project(data)
    assert refused(fake, "/tasks", project=project, tag="1") == "tag: Not a parameter of getTasks (GET /tasks)"
    # limit and offset only where the route lists them: Asana's member lists do not page
    assert refused(fake, f"/workspaces/{org}/users", limit=10).startswith(
        "limit: Not a parameter of getUsersForWorkspace")
    membership = data["project_memberships"][0]["gid"]
    assert refused(fake, f"/memberships/{membership}", opt_fields="parent").startswith(
        "opt_fields: Not a parameter of getMembership")
    assert refused(fake, f"/projects/{project}/tasks", modified_since=NOW).startswith(
        "modified_since: Not a parameter of getTasksForProject")
    # what the route lists is fine: search's limit is documented in its description, opt_pretty everywhere
    assert len(ok(fake, f"/workspaces/{org}/tasks/search", limit=3, opt_pretty="true")["data"]) == 3
    assert ok(fake, f"/memberships/{membership}", opt_pretty="true")["data"]["gid"] == membership


def test_a_required_parameter_missing_is_400(fake, data):
    assert refused(fake, "/attachments") == "parent: Missing input"
    assert refused(fake, "/status_updates", parent="") == "parent: Missing input"
    assert refused(fake, "/portfolios", owner="me") == "workspace: Missing input"
    # an unknown parameter is named first: it is often the misspelt required one
    assert refused(fake, "/attachments", parnet=busiest_project(data)).startswith("parnet: Not a parameter")


def test_opt_fields_paths_must_be_documented_or_fields_of_the_resource(fake, data):
    project = busiest_project(data)
    assert refused(fake, "/tasks", project=project, opt_fields="name,no_such_field") == (
        "opt_fields: no_such_field is not a field of TaskResponse (nor listed by getTasks)")
    assert refused(fake, "/tasks", project=project, opt_fields="assignee.name,assignee.shoe_size").startswith(
        "opt_fields: assignee.shoe_size is not a field of TaskResponse")
    assert refused(fake, "/tasks", project=project, opt_fields="name.gid").startswith(
        "opt_fields: name.gid is not")  # below a leaf there is nothing, not even gid
    # step by step through references (assignee -> UserResponse), lists of them, inline objects;
    # gid and resource_type below the top level; the this. prefix; a union's variants (goal)
    fields = ("this.name,assignee.email,assignee.workspaces.name,memberships.section.gid,external.data,"
              "custom_fields.enum_value.color,parent.resource_type")
    assert ok(fake, "/tasks", project=project, opt_fields=fields, limit=2)["data"]
    assert ok(fake, "/memberships", parent=project, opt_fields="parent.name,member,access_level,goal.name")["data"]
    assert refused(fake, "/memberships", parent=project, opt_fields="write_access").startswith(
        "opt_fields: write_access is not a field of MembershipResponse")


def test_violations_are_recorded_and_reset_with_the_stats(data):
    with FakeAsana(preset="tiny", seed=1, now=NOW) as fake:
        project = busiest_project(data)
        assert violations(fake) == {"violations": [], "total": 0, "strict_contract": True}
        call(fake, "/nowhere")
        call(fake, "/tasks", project=project, opt_fields="name,bogus", tag="7")
        call(fake, "/tasks", project=project, opt_fields="name")  # fine: nothing recorded
        got = violations(fake)
        assert got["total"] == 3 and got["violations"] == [
            {"method": "GET", "path": "/nowhere", "kind": "route", "name": "/nowhere",
             "message": "/nowhere: Not a route of Asana's API (no GET path of its OpenAPI description matches)"},
            {"method": "GET", "path": "/tasks", "kind": "parameter", "name": "tag",
             "message": "tag: Not a parameter of getTasks (GET /tasks)"},
            {"method": "GET", "path": "/tasks", "kind": "opt_field", "name": "bogus",
             "message": "opt_fields: bogus is not a field of TaskResponse (nor listed by getTasks)"}]
        assert fake.violations() == got
        requests.post(fake.url + "/_control/reset_stats", timeout=10)
        assert violations(fake)["violations"] == [] and violations(fake)["total"] == 0


def test_without_strict_contract_requests_are_served_as_asana_would_and_still_recorded(data):
    project = busiest_project(data)
    with FakeAsana(preset="tiny", seed=1, now=NOW, strict_contract=False) as fake:
        listed = ok(fake, "/tasks", project=project, opt_fields="name,bogus,assignee.shoe_size", tag="7")["data"]
        assert listed and all(set(t) == {"gid", "name"} for t in listed)  # unknown fields ignored
        # an undefined parameter is ignored, not obeyed: getTasksForProject has no modified_since
        every = ok(fake, f"/projects/{project}/tasks")["data"]
        assert ok(fake, f"/projects/{project}/tasks", modified_since="2100-01-01T00:00:00Z")["data"] == every
        lost = call(fake, "/nowhere")
        assert lost.status_code == 404 and error_of(lost) == "No matching route for request"
        assert call(fake, "/attachments").status_code == 400  # the handler still needs its parent
        got = violations(fake)
        assert got["strict_contract"] is False
        assert [(v["kind"], v["name"]) for v in got["violations"]] == [
            ("parameter", "tag"), ("opt_field", "bogus"), ("opt_field", "assignee.shoe_size"),
            ("parameter", "modified_since"), ("route", "/nowhere"), ("missing", "parent")]
        assert fake.config()["options"]["strict_contract"] is False


def test_the_cli_turns_the_check_off():
    assert vars(parser().parse_args([]))["strict_contract"] is True
    assert vars(parser().parse_args(["--no-strict-contract"]))["strict_contract"] is False


# --- the answers obey the contract ----------------------------------------------------------------------
def change_everything(fake: FakeAsana, data: Dict[str, Any]) -> None:
    """One of each mutation, so that records made while the server runs are checked too."""
    live = [p for p in data["projects"] if not p["archived"]]
    org = org_of(data)
    for op, kwargs in (("modify_tasks", {"count": 2}), ("add_stories", {"count": 2}), ("add_subtasks", {"count": 2}),
                       ("add_tasks", {"count": 2}), ("add_orphan_tasks", {"count": 1}), ("add_section", {}),
                       ("rename_section", {}), ("delete_section", {}), ("rename_tag", {}),
                       ("add_project", {"tasks": 2}), ("add_attachment", {"count": 2}),
                       ("add_attachment", {"project": live[0]["gid"]}), ("add_status_update", {}),
                       ("add_status_update", {"parent": data["portfolios"][0]["gid"]}),
                       ("add_status_update", {"parent": data["goals"][0]["gid"]}), ("add_goal", {"workspace": org}),
                       ("add_time_tracking_entry", {"bump": True}), ("add_to_project", {}),
                       ("remove_from_project", {}), ("archive_project", {"gids": [live[-1]["gid"]]}),
                       ("delete_tasks", {})):
        fake.mutate(op, **kwargs)
    for op in ("add_project_member", "add_team_member", "add_portfolio_member"):
        try:
            fake.mutate(op)
        except ValueError:  # every user is a member already
            pass
    for field in data["custom_fields"]:
        holder = next((t for t in data["tasks"] if t["projects"] and not t["parent"]
                       and any(v["gid"] == field["gid"] for v in t["custom_fields"])), None)
        if holder:
            fake.mutate("set_custom_field_value", gids=[holder["gid"]], field=field["gid"])


def ask(session: requests.Session, fake: FakeAsana, template: str, path: str, query: Dict[str, str],
        checker: Checker) -> List[int]:
    """The route with and without every documented opt_field (lists: two pages at most), each
    record checked against the route's resource; the statuses answered."""
    route = ROUTES[template]
    takes = route["query"]
    asks = [dict(query)] + ([dict(query, opt_fields=",".join(documented(template)))] if "opt_fields" in takes else [])
    statuses = []
    for params in asks:
        if route.get("list") and "limit" in takes:
            params["limit"] = "100" if "opt_fields" in params else "5"
        for _ in range(2):
            response = session.get(fake.api_url + path, params=params, timeout=10)
            statuses.append(response.status_code)
            if response.status_code != 200:
                break
            body = response.json()
            assert set(body) - {"data"} <= set(route.get("envelope") or {}), (template, sorted(body))
            for record in body["data"] if route.get("list") else [body["data"]]:
                checker.record(record, route["resource"], f"GET {template}")
            if not body.get("next_page"):
                break
            params = dict(params, offset=body["next_page"]["offset"])
    return statuses


def events_checked(session: requests.Session, fake: FakeAsana, tokens: Dict[str, str], checker: Checker,
                   workspaces: Sequence[str]) -> int:
    """The events since `tokens` (resource or workspace gid -> sync token), each checked."""
    seen = 0
    for resource, token in tokens.items():
        template, path, params, headers = "/events", "/events", {"resource": resource, "sync": token}, {}
        if resource in workspaces:
            template, path, params = "/workspaces/{gid}/events", f"/workspaces/{resource}/events", {"sync": token}
            headers = {"Authorization": f"Bearer {fake.service_account_token}"}
        response = session.get(fake.api_url + path, params=params, headers=headers, timeout=10)
        if response.status_code == 404:  # a task deleted meanwhile
            continue
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"data", "sync", "has_more"}
        for event in body["data"]:
            checker.record(event, ROUTES[template]["resource"], f"GET {template}")
            seen += 1
    return seen


def sync_token(session: requests.Session, fake: FakeAsana, gid: str, workspace: bool) -> str:
    if workspace:
        return session.get(fake.api_url + f"/workspaces/{gid}/events", timeout=10,
                           headers={"Authorization": f"Bearer {fake.service_account_token}"}).json()["sync"]
    return session.get(fake.api_url + "/events", params={"resource": gid}, timeout=10).json()["sync"]


@pytest.mark.parametrize("plan", ["enterprise", "free"], ids=["premium", "free"])
def test_every_record_every_route_serves_is_its_resource(plan):
    with FakeAsana(preset="tiny", seed=3, now=NOW, plan=plan) as fake, requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {fake.pat}"
        before = fake.export()
        watched = [p["gid"] for p in before["projects"]] + [t["gid"] for t in before["tasks"][:10]]
        tokens = {gid: sync_token(session, fake, gid, False) for gid in watched}
        tokens.update({gid: sync_token(session, fake, gid, True) for gid in before["meta"]["enterprise_workspaces"]})
        assert len(tokens) > len(watched) or plan == "free"
        change_everything(fake, before)
        data = fake.export()
        checker, answered = Checker(), {}
        for template, path, query in requests_for(data, [r.template for r in SERVED]):
            answered.setdefault(template, []).extend(ask(session, fake, template, path, query, checker))
        enterprise = before["meta"]["enterprise_workspaces"]
        assert events_checked(session, fake, tokens, checker, enterprise) > (60 if enterprise else 20)
        assert set(answered) | {"/events"} == {r.template for r in SERVED}
        assert all(set(codes) <= {200, 402} for codes in answered.values()), answered
        if plan == "enterprise":
            assert all(200 in codes for t, codes in answered.items() if t != "/workspaces/{gid}/events"), answered
        assert checker.checked > 1000
        assert not checker.problems, "\n".join(sorted(set(checker.problems))[:40])
        assert fake.violations()["total"] == 0


# --- every documented field has a plausible value -----------------------------------------------------
#: Export key -> resource, and the fields of the resource no generated record has (by design).
EXPORTED = {"workspaces": ("WorkspaceResponse", ()), "users": ("UserResponse", ()), "teams": ("TeamResponse", ()),
            "projects": ("ProjectResponse", ()), "sections": ("SectionResponse", ()), "tasks": ("TaskResponse", ()),
            "stories": ("StoryResponse", ("story",)), "tags": ("TagResponse", ()),
            "portfolios": ("PortfolioResponse", ()), "user_task_lists": ("UserTaskListResponse", ()),
            "attachments": ("AttachmentResponse", ()), "project_memberships": ("ProjectMembershipCompactResponse", ()),
            "team_memberships": ("TeamMembershipResponse", ()),
            "portfolio_memberships": ("DeprecatedPortfolioMembershipResponse", ()),
            "status_updates": ("StatusUpdateResponse", ()), "goals": ("GoalResponse", ()),
            "time_tracking_entries": ("TimeTrackingEntryBase", ())}


@pytest.fixture(scope="module")
def demo():
    with FakeAsana(preset="demo", seed=1, now=NOW) as server:
        yield server.export()


def test_every_field_the_contract_documents_is_generated(demo):
    for key, (resource, absent) in EXPORTED.items():
        present = set().union(*(set(r) for r in demo[key]))
        assert set(RESOURCES[resource]["fields"]) - present == set(absent), key


def test_teams_and_projects_have_their_settings(demo):
    for team in demo["teams"]:
        levels = [v for k, v in team.items() if k.endswith("_access_level")]
        assert len(levels) == 7 and set(levels) <= {"all_team_members", "only_team_admins", "no_restriction"}
        assert team["team_content_management_access_level"] in ("no_restriction", "only_team_admins")
        assert team["custom_field_settings"] == []
    assert {t["endorsed"] for t in demo["teams"]} == {True, False}
    assert "only_team_admins" in {v for t in demo["teams"] for k, v in t.items() if k.endswith("_access_level")}
    for setting in ("minimum_access_level_for_customization", "minimum_access_level_for_sharing"):
        assert {p[setting] for p in demo["projects"]} == {"admin", "editor"}


def test_users_profiles_are_usually_empty(demo):
    filled = [u for u in demo["users"] if u["custom_fields"]]
    assert 0 < len(filled) < len(demo["users"]) / 2
    office = next(f for f in demo["custom_fields"] if f["name"] == "Office")
    assert all([v["gid"] for v in u["custom_fields"]] == [office["gid"]] and v["enum_value"] for u in filled
               for v in u["custom_fields"])


def test_custom_tasks_have_a_custom_type_and_a_status_that_fits(demo):
    custom = [t for t in demo["tasks"] if t["resource_subtype"] == "custom"]
    assert custom and {t["custom_type"]["name"] for t in custom} == {"Bug", "Request"}
    assert all(t["custom_type"] is None and t["custom_type_status_option"] is None
               for t in demo["tasks"] if t["resource_subtype"] != "custom")
    statuses = {"Fixed", "Delivered"}
    assert all((t["custom_type_status_option"]["name"] in statuses) == t["completed"] for t in custom)
    assert all(t["workspace"]["gid"] == org_of(demo) for t in custom)


def test_reactions_and_portfolio_templates(demo):
    summaries = [s["reaction_summary"] for s in demo["stories"]]
    assert sum(1 for s in summaries if s) < len(summaries) / 4 and any(summaries)
    for item in (i for s in summaries + [u["reaction_summary"] for u in demo["status_updates"]] for i in s):
        assert set(item) == {"emoji_base", "variant", "count", "reacted"} and 1 <= item["count"] <= 12
        assert item["variant"].startswith(item["emoji_base"][0])
    templates = [t for p in demo["portfolios"] for t in p["project_templates"]]
    assert templates and all(t["resource_type"] == "project_template" for t in templates)
    assert any(not p["project_templates"] for p in demo["portfolios"])
    made_from = [p["created_from_template"] for p in demo["projects"] if p["created_from_template"]]
    assert made_from and all(t["resource_type"] == "project_template" for t in made_from)
