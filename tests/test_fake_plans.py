"""The fake Asana's plans (mixed, premium, free, enterprise), its service account, and the
Enterprise+ workspace events (`GET /workspaces/{gid}/events`, `getWorkspaceEvents`)."""
from __future__ import annotations

from typing import Any, Dict, Optional

import pytest
import requests

from fake_asana import FakeAsana
from tests.test_fake_asana import NOW, call, error_of, fresh_sync, ok, org_of

PREMIUM_ONLY = "This feature is only available to premium organizations and workspaces."


def personal_of(data) -> str:
    return next(w["gid"] for w in data["workspaces"] if not w["is_organization"])


def workspace_events(fake: FakeAsana, workspace: str, sync: Optional[str] = None,
                     token: Optional[str] = None) -> requests.Response:
    params = {"sync": sync} if sync else {}
    return call(fake, f"/workspaces/{workspace}/events", token=token or fake.service_account_token, **params)


def events_of(fake: FakeAsana, workspace: str, sync: str) -> Dict[str, Any]:
    response = workspace_events(fake, workspace, sync)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"data", "sync", "has_more"}
    return body


# --- plans ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("plan, free, enterprise", [
    ("mixed", {"personal"}, set()), ("premium", set(), set()), ("free", {"personal", "org"}, set()),
    ("enterprise", set(), {"org"})])
def test_a_plan_decides_what_answers_402_and_changes_no_data(plan, free, enterprise):
    with FakeAsana(preset="tiny", seed=1, now=NOW) as mixed:
        baseline = mixed.export()
    with FakeAsana(preset="tiny", seed=1, now=NOW, plan=plan) as fake:
        data = fake.export()
        names = {"org": org_of(data), "personal": personal_of(data)}
        assert {k: v for k, v in data.items() if k != "meta"} == {k: v for k, v in baseline.items() if k != "meta"}
        assert data["meta"]["free_workspaces"] == sorted(names[n] for n in free)
        assert data["meta"]["enterprise_workspaces"] == sorted(names[n] for n in enterprise)
        assert fake.config()["options"]["plan"] == plan
        for name, gid in names.items():
            searched = call(fake, f"/workspaces/{gid}/tasks/search")
            portfolios = call(fake, "/portfolios", workspace=gid)
            want = 402 if name in free else 200
            assert (searched.status_code, portfolios.status_code) == (want, want), (name, plan)
            if want == 402:
                assert error_of(searched) == PREMIUM_ONLY


def test_free_workspaces_is_plan_free_and_a_plan_is_checked():
    with FakeAsana(preset="tiny", seed=1, now=NOW, free_workspaces=True) as fake:
        assert fake.config()["options"]["plan"] == "free"
        assert len(fake.export()["meta"]["free_workspaces"]) == 2
    for bad in ({"plan": "gold"}, {"plan": "premium", "free_workspaces": True},
                {"service_account_token": "fake-pat-0123456789"}):
        with pytest.raises(ValueError):
            FakeAsana(preset="tiny", seed=1, now=NOW, **bad)


# --- the service account ----------------------------------------------------------------------------------
def test_the_service_account_sees_what_me_sees_and_every_portfolio_of_the_workspace():
    with FakeAsana(preset="tiny", seed=1, now=NOW) as fake:
        data = fake.export()
        org, me = org_of(data), data["meta"]["me"]
        assert call(fake, "/users/me", token=fake.service_account_token).json()["data"]["gid"] == me
        theirs = fake.mutate("add_portfolio", name="Someone else's")
        assert theirs["owner"] != me
        mine = {p["gid"] for p in data["portfolios"]}

        def listed(token: str, **params: Any) -> set:
            response = call(fake, "/portfolios", token=token, workspace=org, **params)
            assert response.status_code == 200, response.text
            return {p["gid"] for p in response.json()["data"]}
        assert listed(fake.pat) == mine  # a user lists only the portfolios they own
        assert listed(fake.service_account_token) == mine | set(theirs["gids"])  # a service account: all
        assert listed(fake.service_account_token, owner=theirs["owner"]) == set(theirs["gids"])
        assert listed(fake.pat, owner=theirs["owner"]) == set(theirs["gids"])
        memberships = ok(fake, "/portfolio_memberships", portfolio=theirs["gids"][0])["data"]
        assert [m["user"]["gid"] for m in memberships] == [theirs["owner"]]
        assert call(fake, "/users/me", token="fake-service-account-wrong").status_code == 401


# --- workspace events ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def enterprise():
    with FakeAsana(preset="tiny", seed=2, now=NOW, plan="enterprise") as fake:
        yield fake


def test_workspace_events_need_the_service_account_and_enterprise(enterprise):
    data = enterprise.export()
    org, personal = org_of(data), personal_of(data)
    refused = workspace_events(enterprise, org, token=enterprise.pat)
    assert refused.status_code == 402 and error_of(refused) == PREMIUM_ONLY
    assert workspace_events(enterprise, personal).status_code == 402  # not the Enterprise+ organization
    missing = workspace_events(enterprise, "1234567890123456")
    assert missing.status_code == 404 and error_of(missing) == "workspace: Not a recognized ID: 1234567890123456"
    first = workspace_events(enterprise, org)
    assert first.status_code == 412 and first.json()["sync"]
    # the contract: getWorkspaceEvents takes no opt_fields
    extra = call(enterprise, f"/workspaces/{org}/events", token=enterprise.service_account_token, opt_fields="type")
    assert extra.status_code == 400 and error_of(extra).startswith("opt_fields: Not a parameter of getWorkspaceEvents")
    for plan in ("mixed", "premium"):
        with FakeAsana(preset="tiny", seed=2, now=NOW, plan=plan) as fake:
            assert workspace_events(fake, org).status_code == 402


def org_things(data) -> Dict[str, Any]:
    org = org_of(data)
    projects = [p for p in data["projects"] if p["workspace"]["gid"] == org and not p["archived"]]
    tasks = [t for t in data["tasks"] if t["workspace"]["gid"] == org and t["projects"] and not t["parent"]
             and len(t["projects"]) == 1]
    return {"org": org, "projects": projects, "tasks": tasks}


def test_workspace_events_are_every_event_of_the_workspace_once():
    with FakeAsana(preset="tiny", seed=2, now=NOW, plan="enterprise") as fake:
        data = fake.export()
        things = org_things(data)
        org, project, other = things["org"], things["projects"][0]["gid"], things["projects"][1]["gid"]
        one, two, three, four = [t["gid"] for t in things["tasks"][:4]]
        token = fresh_sync(workspace_events(fake, org))
        plain = next(t["gid"] for t in data["tasks"] if t["workspace"]["gid"] == personal_of(data)
                     and t["projects"] and not t["parent"])
        fake.mutate("modify_tasks", gids=[plain])  # the other workspace's: not in this stream
        for op, kwargs in (("modify_tasks", {"gids": [one]}), ("add_tasks", {"project": project}),
                           ("remove_from_project", {"gids": [two]}), ("delete_tasks", {"gids": [three]}),
                           ("add_stories", {"gids": [four]}), ("archive_project", {"gids": [other]}),
                           ("add_project_member", {"project": project}),
                           ("add_status_update", {"parent": project}), ("add_attachment", {"project": project}),
                           ("add_attachment", {"gids": [four]})):
            fake.mutate(op, **kwargs)
        section = fake.mutate("add_section", project=project)["gids"][0]
        fake.mutate("rename_section", gids=[section])
        fake.mutate("delete_section", gids=[section])
        body = events_of(fake, org, token)
        assert body["has_more"] is False
        kinds = {(e["type"], e["action"]) for e in body["data"]}
        assert kinds == {("task", "changed"), ("task", "added"), ("task", "removed"), ("task", "deleted"),
                         ("story", "added"), ("section", "added"), ("section", "changed"), ("section", "deleted"),
                         ("project", "changed"), ("status_update", "added"), ("attachment", "added")}
        assert plain not in {e["resource"]["gid"] for e in body["data"]}
        assert [e["created_at"] for e in body["data"]] == sorted(e["created_at"] for e in body["data"])
        assert events_of(fake, org, token)["data"] == body["data"]  # the same token, the same events
        assert events_of(fake, org, body["sync"])["data"] == []  # each once


def test_workspace_events_come_1000_at_a_time_and_tokens_expire_as_on_events():
    with FakeAsana(preset="tiny", seed=2, now=NOW, plan="enterprise", sync_ttl=3600) as fake:
        things = org_things(fake.export())
        org, project = things["org"], things["projects"][0]["gid"]
        token = fresh_sync(workspace_events(fake, org))
        added = fake.mutate("add_tasks", count=1100, project=project)["gids"]
        first = events_of(fake, org, token)
        assert len(first["data"]) == 1000 and first["has_more"] is True
        second = events_of(fake, org, first["sync"])
        assert len(second["data"]) == 100 and second["has_more"] is False
        assert [e["resource"]["gid"] for e in first["data"] + second["data"]] == added
        payload, signature = second["sync"].split(".")
        fresh_sync(workspace_events(fake, org, payload + "." + signature[:-4] + "AAAA"))  # forged
        fake.mutate("expire_sync_tokens", gids=[project])  # another resource's tokens only
        assert events_of(fake, org, second["sync"])["data"] == []
        fake.mutate("expire_sync_tokens", gids=[org])
        renewed = fresh_sync(workspace_events(fake, org, second["sync"]))
        assert events_of(fake, org, renewed)["data"] == []
        fake.mutate("advance_clock", hours=2)  # older than sync_ttl
        fresh_sync(workspace_events(fake, org, renewed))


def test_the_cli_tells_the_service_account_token():
    from fake_asana.__main__ import parser
    args = vars(parser().parse_args(["--plan", "enterprise", "--service-account-token", "sa-1"]))
    assert args["plan"] == "enterprise" and args["service_account_token"] == "sa-1"
    with FakeAsana(preset="tiny", seed=1, now=NOW, service_account_token="sa-1") as fake:
        assert fake.service_account_token == "sa-1"
        assert call(fake, "/users/me", token="sa-1").status_code == 200
