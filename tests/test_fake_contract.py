"""The fake Asana holds every request to Asana's contract (`tap_asana/contract.json`), more
strictly than Asana: a path that is no route, a parameter the route does not define, a
required one missing and an opt_fields path the route does not know answer 400, and are
recorded (`GET /_control/violations`) whether the fake is strict or not."""
from __future__ import annotations

from typing import Any, Dict

import pytest
import requests

from fake_asana import FakeAsana
from fake_asana.__main__ import parser
from tests.test_fake_asana import NOW, busiest_project, call, error_of, ok, org_of


@pytest.fixture(scope="module")
def fake():
    with FakeAsana(preset="tiny", seed=1, now=NOW) as server:
        yield server


@pytest.fixture(scope="module")
def data(fake):
    return fake.export()


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
    assert refused(fake, f"/workspaces/{org}/users", limit=10).startswith("limit: Not a parameter of getUsersForWorkspace")
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
