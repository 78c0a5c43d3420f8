"""The nine streams of memberships, status updates, attachments, goals, custom field values and
time tracking, end to end: the real `tap-asana` entry point against the fake
Asana, on a premium organization beside a free workspace, and on free workspaces only.
Records are compared with the fake's own copy of the data (`tests/tapkit.py`'s oracle)."""
from __future__ import annotations

from typing import Any, Dict
from urllib.parse import parse_qs, urlparse

import pytest

from fake_asana import FakeAsana
from tap_asana.capture.events import what_changed
from tap_asana.streams import STREAMS
from tests.test_e2e import strip_nulls
from tests.tapkit import (START_DATE, assert_valid_singer, catalog_for, config_for, expected_records, record_key,
                          run_tap, expected_row, schemas, value_rows)

SCHEMAS = schemas()
NEW = ("custom_fields", "task_custom_field_values", "attachments", "project_memberships", "team_memberships",
       "portfolio_memberships", "status_updates", "goals", "time_tracking_entries")
HOSTED = [name for name in STREAMS if name not in NEW]
INCREMENTAL = {name: START_DATE for name, s in STREAMS.items() if s.replication_key}
#: the routes only the new streams use
NEW_ROUTES = ("GET /workspaces/{gid}/custom_fields", "GET /attachments", "GET /memberships", "GET /team_memberships",
              "GET /portfolio_memberships", "GET /status_updates", "GET /goals", "GET /time_tracking_entries")
PAID = ("custom_fields", "goals", "time_tracking_entries", "portfolio_memberships")




def assert_equal_to_server(run, expected, streams) -> None:
    """Each stream's records are the oracle's, each once, field for field."""
    got = run.by_stream()
    for stream in streams:
        keys = [record_key(stream, r) for r in got.get(stream, [])]
        assert len(keys) == len(set(keys)), f"{stream}: duplicated records"
        assert set(keys) == set(expected[stream]), (
            f"{stream}: missing {sorted(set(expected[stream]) - set(keys))[:3]}, "
            f"extra {sorted(set(keys) - set(expected[stream]))[:3]}")
        for record, key in zip(got.get(stream, []), keys):
            assert strip_nulls(record) == strip_nulls(expected_row(stream, expected[stream][key])), \
                f"{stream} {key} differs from the server's copy"


def routes_of(fake) -> Dict[str, int]:
    return {route: sum(counts.values()) for route, counts in fake.stats()["by_route"].items()}


def free_of(export) -> set:
    return set(export["meta"]["free_workspaces"])


def activated(run) -> set:
    return {m["stream"] for m in run.messages if m["type"] == "ACTIVATE_VERSION"}


# --- a full run ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def premium(tmp_path_factory):
    """A premium organization and a free workspace: a full run of every stream."""
    with FakeAsana(preset="tiny", seed=17) as fake:
        run = run_tap(tmp_path_factory.mktemp("premium"), config_for(fake), catalog_for())
        yield fake, run, fake.export(), routes_of(fake)


def test_a_full_run_sends_the_nine_streams_as_the_server_holds_them(premium):
    _, run, export, _ = premium
    assert run.returncode == 0, run.stderr
    assert_valid_singer(run)
    expected = expected_records(export, INCREMENTAL, free_workspaces=free_of(export))
    for stream in NEW:
        assert expected[stream], f"the tiny dataset has {stream} to send"
    assert_equal_to_server(run, expected, NEW)
    assert {"custom_fields", "project_memberships", "team_memberships", "portfolio_memberships", "goals"} \
        <= activated(run)


def test_custom_field_values_are_a_row_per_task_and_field_with_the_issues_columns(premium):
    _, run, export, _ = premium
    rows = run.records("task_custom_field_values")
    assert set(rows[0]) == {"task_gid", "custom_field_gid", "name", "resource_subtype", "display_value", "text_value",
                            "number_value", "date_value", "enum_value", "multi_enum_values", "people_value",
                            "enabled", "modified_at"}
    assert {r["resource_subtype"] for r in rows} >= {"text", "number", "enum", "date"}
    sent = {t["gid"] for t in run.records("tasks") + run.records("subtasks")}
    assert {r["task_gid"] for r in rows} == {g for g in sent if any(t["gid"] == g and t["custom_fields"]
                                                                     for t in export["tasks"])}
    priority = [r for r in rows if r["name"] == "Priority" and r["enum_value"]]
    assert priority and all(r["display_value"] == r["enum_value"]["name"] for r in priority)


def test_paid_streams_on_the_free_workspace_are_skipped_at_info(premium):
    fake, run, export, routes = premium
    free = free_of(export)
    lines = run.stderr.splitlines()
    for stream in ("custom_fields", "goals", "time_tracking_entries"):
        skipped = [line for line in lines if f"Skipped {stream} " in line and "402" in line]
        assert len(skipped) == len(free) and all(line.startswith("INFO ") for line in skipped), skipped
    assert not any("WARNING" in line and any(s in line for s in PAID) for line in lines)


def test_a_full_run_lists_each_project_team_and_portfolio_once_and_each_task_sent_once(premium):
    _, run, export, routes = premium
    readable = len(export["projects"])
    assert routes["GET /memberships"] == readable
    assert routes["GET /team_memberships"] == len(export["teams"])
    paid_portfolios = [p for p in export["portfolios"] if p["workspace"]["gid"] not in free_of(export)]
    assert routes["GET /portfolio_memberships"] == len(paid_portfolios)
    # a parent without a current status update has none: not asked
    with_status = [p for p in export["projects"] + paid_portfolios if p.get("current_status_update")]
    assert routes["GET /status_updates"] == len(with_status) < readable + len(paid_portfolios)
    # attachments: once per project; on the free workspace once per task or subtask sent (a first run's
    # bound is start_date); on the premium one only for those search says have attachments
    free = free_of(export)
    tasks = {t["gid"]: t for t in export["tasks"]}
    sent = {r["gid"] for r in run.records("tasks") + run.records("subtasks")}
    with_files = {a["parent"]["gid"] for a in export["attachments"] if a["parent"]["resource_type"] == "task"}
    asked = [g for g in sent if tasks[g]["workspace"]["gid"] in free or g in with_files]
    assert routes["GET /attachments"] == len(asked) + readable < len(sent) + readable
    assert routes["GET /workspaces/{gid}/tasks/search"] >= 2  # the changed tasks, then those with attachments
    # teams' users come from the team memberships read anyway
    assert "GET /teams/{gid}/users" not in routes and all(t["users"] for t in run.records("teams"))
    of_projects = {a["gid"] for a in export["attachments"] if a["parent"]["resource_type"] == "project"}
    assert of_projects <= {a["gid"] for a in run.records("attachments")}


# --- incremental runs -------------------------------------------------------------------------------------
def changes(fake, export) -> Dict[str, Any]:
    """One change of each kind the new streams see."""
    org = next(w["gid"] for w in export["workspaces"] if w["is_organization"])
    projects = [p for p in export["projects"] if p["workspace"]["gid"] == org and not p["archived"]]
    task = next(t for t in export["tasks"] if any(v["name"] == "Priority" for v in t["custom_fields"])
                and t["projects"] and not t["parent"])
    quiet = next(t for t in export["tasks"] if t["workspace"]["gid"] == org and t["gid"] != task["gid"]
                 and t["projects"])
    return {
        "attachment": fake.mutate("add_attachment", gids=[task["gid"]]),
        "value": fake.mutate("set_custom_field_value", gids=[task["gid"]], field="Priority", value="High"),
        "status": fake.mutate("add_status_update", parent=projects[0]["gid"]),
        "member": fake.mutate("add_project_member", project=projects[-1]["gid"]),
        "portfolio_status": fake.mutate("add_status_update", parent=export["portfolios"][0]["gid"]),
        "team_member": fake.mutate("add_team_member"),
        "portfolio_member": fake.mutate("add_portfolio_member"),
        "goal": fake.mutate("add_goal"),
        # logged today for a month ago, on a task nothing else changes: no bump, no event
        "entry": fake.mutate("add_time_tracking_entry", gids=[quiet["gid"]], days_back=30),
    }


def test_a_quiet_run_costs_a_request_per_project_and_an_incremental_run_sends_each_change_once(tmp_path):
    with FakeAsana(preset="tiny", seed=19, latency_ms=1) as fake:
        catalog, export = catalog_for(), fake.export()
        first = run_tap(tmp_path / "one", config_for(fake), catalog)
        assert first.returncode == 0, first.stderr
        # a run with no change (the generated data is an hour old: out of every look-back)
        fake.reset_stats()
        quiet = run_tap(tmp_path / "quiet", config_for(fake), catalog, state=first.final_state)
        assert quiet.returncode == 0, quiet.stderr
        routes = routes_of(fake)
        for route in ("GET /attachments", "GET /memberships"):
            assert route not in routes, route
        paid_portfolios = [p for p in export["portfolios"] if p["workspace"]["gid"] not in free_of(export)]
        # portfolios have no events: one listing each that has a status update
        assert routes.get("GET /status_updates", 0) == len([p for p in paid_portfolios
                                                           if p.get("current_status_update")])
        for stream in ("attachments", "status_updates", "time_tracking_entries", "task_custom_field_values",
                       "project_memberships"):
            assert not quiet.records(stream), stream
        assert "project_memberships" not in activated(quiet)  # not listed this run: rows not seen are not deleted
        projects, users = len(export["projects"]), len(export["users"])
        # a request per project, and per workspace a constant (and, on the free one, a listing per user)
        assert fake.stats()["total"] <= projects + users + 12 * len(export["workspaces"]), routes

        made = changes(fake, export)
        fake.reset_stats()
        second = run_tap(tmp_path / "two", config_for(fake), catalog, state=quiet.final_state)
        assert second.returncode == 0, second.stderr
        assert_valid_singer(second)
        now = fake.export()
        got = second.by_stream()
        gids = {stream: [record_key(stream, r) for r in got.get(stream, [])] for stream in NEW}
        for stream, keys in gids.items():
            assert len(keys) == len(set(keys)), f"{stream}: duplicated records"
        assert gids["attachments"] == made["attachment"]["gids"]
        assert set(gids["status_updates"]) == set(made["status"]["gids"]) | set(made["portfolio_status"]["gids"])
        assert set(gids["time_tracking_entries"]) == set(made["entry"]["gids"])
        # the project whose events named a new member is listed again; the others are not, so no ACTIVATE_VERSION
        member_project = made["member"]["project"]
        assert set(gids["project_memberships"]) == {m["gid"] for m in now["project_memberships"]
                                                    if m["parent"]["gid"] == member_project}
        assert made["member"]["gids"][0] in gids["project_memberships"]
        assert "project_memberships" not in activated(second)
        # full-table streams read every run: whole, with ACTIVATE_VERSION
        assert set(gids["team_memberships"]) == {m["gid"] for m in now["team_memberships"]}
        assert made["team_member"]["gids"][0] in gids["team_memberships"]
        assert made["portfolio_member"]["gids"][0] in gids["portfolio_memberships"]
        assert made["goal"]["gids"][0] in gids["goals"]
        assert {"team_memberships", "portfolio_memberships", "goals", "custom_fields"} <= activated(second)
        # the changed task's value rows, with the new value; rows only for tasks sent
        task = made["value"]["gids"][0]
        rows = [r for r in got["task_custom_field_values"] if r["task_gid"] == task]
        want = [r for t in now["tasks"] if t["gid"] == task for r in value_rows(t)]
        assert {r["custom_field_gid"] for r in rows} == {r["custom_field_gid"] for r in want}
        assert next(r for r in rows if r["name"] == "Priority")["display_value"] == "High"
        sent = {r["gid"] for r in got.get("tasks", []) + got.get("subtasks", [])}
        assert {r["task_gid"] for r in got["task_custom_field_values"]} <= sent


def test_free_workspaces_read_project_children_through_events_and_skip_paid_streams_once_known(tmp_path, caplog):
    with FakeAsana(preset="tiny", seed=29, free_workspaces=True, latency_ms=1) as fake:
        catalog, export = catalog_for(), fake.export()
        first = run_tap(tmp_path / "one", config_for(fake), catalog)
        assert first.returncode == 0, first.stderr
        expected = expected_records(export, INCREMENTAL, free_workspaces=free_of(export))
        assert_equal_to_server(first, expected, NEW)
        for stream in PAID:
            assert not first.records(stream)
        assert not [line for line in first.stderr.splitlines() if "WARNING" in line
                    and any(s in line for s in PAID)]
        project = next(p["gid"] for p in export["projects"] if not p["archived"])
        status = fake.mutate("add_status_update", parent=project)
        member = fake.mutate("add_project_member", project=project)
        task = next(t for t in export["tasks"] if t["projects"] and not t["parent"])
        attachment = fake.mutate("add_attachment", gids=[task["gid"]])
        fake.reset_stats()
        second = run_tap(tmp_path / "two", config_for(fake), catalog, state=first.final_state)
        assert second.returncode == 0, second.stderr
        routes = routes_of(fake)
        for route in ("GET /workspaces/{gid}/custom_fields", "GET /goals", "GET /time_tracking_entries"):
            assert route not in routes, route  # the plan is known: no 402 asked for
        assert [r["gid"] for r in second.records("status_updates")] == status["gids"]
        assert routes["GET /status_updates"] == 1 and routes["GET /memberships"] == 1
        assert member["gids"][0] in {r["gid"] for r in second.records("project_memberships")}
        assert [r["gid"] for r in second.records("attachments")] == attachment["gids"]
        assert routes["GET /attachments"] == 1


# --- selection -----------------------------------------------------------------------------------------
def test_deselected_new_streams_cost_no_request_and_tasks_ask_no_custom_fields_for_them(tmp_path):
    with FakeAsana(preset="tiny", seed=7) as fake:
        catalog = catalog_for(HOSTED, deselect={"tasks": ["custom_fields"], "subtasks": ["custom_fields"]})
        run = run_tap(tmp_path, config_for(fake), catalog)
        assert run.returncode == 0, run.stderr
        routes = routes_of(fake)
        assert not [r for r in routes if r in NEW_ROUTES], routes
        assert not set(run.by_stream()) & set(NEW)
        task_fields = [parse_qs(urlparse(line.split(" ", 1)[1]).query).get("opt_fields", [""])[0]
                       for line in fake.requests() if line.startswith("GET /api/1.0/tasks")]
        assert task_fields and not any("custom_fields" in f for f in task_fields)


def test_custom_field_values_alone_read_tasks_for_their_custom_fields_and_send_no_task(tmp_path):
    with FakeAsana(preset="tiny", seed=7) as fake:
        run = run_tap(tmp_path, config_for(fake), catalog_for(["task_custom_field_values"]))
        assert run.returncode == 0, run.stderr
        export = fake.export()
        assert set(run.by_stream()) == {"task_custom_field_values"}
        expected = expected_records(export, INCREMENTAL, free_workspaces=free_of(export))
        assert_equal_to_server(run, expected, ["task_custom_field_values"])
        listings = [line for line in fake.requests() if line.startswith("GET /api/1.0/tasks?project=")]
        assert listings and all("custom_fields.enum_value" in line.replace("%2C", ",") for line in listings)


def test_team_memberships_alone_list_teams_for_their_gid_only(tmp_path):
    with FakeAsana(preset="tiny", seed=7) as fake:
        run = run_tap(tmp_path, config_for(fake), catalog_for(["team_memberships"]))
        assert run.returncode == 0, run.stderr
        export = fake.export()
        assert set(run.by_stream()) == {"team_memberships"}
        assert {r["gid"] for r in run.records("team_memberships")} == {m["gid"] for m in export["team_memberships"]}
        teams = [line for line in fake.requests() if "/teams?" in line]
        assert teams and all(parse_qs(urlparse(line.split(" ", 1)[1]).query)["opt_fields"] == ["name"]
                             for line in teams)
        assert "GET /teams/{gid}/users" not in routes_of(fake)  # the teams' users column is not filled


def test_time_tracking_read_per_changed_task_would_miss_an_entry_for_a_past_day(tmp_path):
    """Why entries are read workspace-wide: logging time neither bumps the task nor names it in
    any event, and an entry may be entered for any past day."""
    with FakeAsana(preset="tiny", seed=7) as fake:
        catalog = catalog_for(["tasks", "time_tracking_entries"])
        first = run_tap(tmp_path / "one", config_for(fake), catalog)
        assert first.returncode == 0, first.stderr
        export = fake.export()
        quiet = next(t for t in export["tasks"] if t["projects"] and t["workspace"]["gid"] not in free_of(export))
        entry = fake.mutate("add_time_tracking_entry", gids=[quiet["gid"]], days_back=90)
        assert entry["entries"][0]["task_modified_at"] == quiet["modified_at"]  # the task did not move
        fake.reset_stats()
        second = run_tap(tmp_path / "two", config_for(fake), catalog, state=first.final_state)
        assert second.returncode == 0, second.stderr
        assert quiet["gid"] not in {r["gid"] for r in second.records("tasks")}  # a per-task read would not look
        assert [r["gid"] for r in second.records("time_tracking_entries")] == entry["gids"]
        paid = len(export["workspaces"]) - len(free_of(export))
        assert routes_of(fake)["GET /time_tracking_entries"] == paid  # one page a workspace on the tiny data


# --- events ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("event, kind", [
    ({"resource": {"gid": "9", "resource_type": "status_update"}, "parent": {"gid": "1", "resource_type": "project"},
      "action": "added"}, "status update"),
    ({"resource": {"gid": "1", "resource_type": "project"}, "action": "changed",
      "change": {"field": "members", "action": "added"}}, "members"),
    ({"resource": {"gid": "1", "resource_type": "project"}, "action": "changed",
      "change": {"field": "archived", "action": "changed"}}, ""),
])
def test_what_a_project_event_says_of_its_members_and_status_updates(event, kind):
    assert what_changed(event)[0] == kind


# --- the finders' new parts, through a fake sink and reader (no HTTP) -------------------------------------
class FakeReader:
    """Records the listings asked for; `selected` as the run's."""

    def __init__(self, selected):
        self.selected, self.incomplete, self.listings = selected, set(), []

    def listing(self, partition, stream, context, on_records, **kwargs):
        self.listings.append((stream.name, dict(context), on_records))
        return (stream.name, context)


class FakeSink:
    def __init__(self, wanted, since):
        self.wanted, self.since, self.sent = set(wanted), since, []

    def wants(self, name):
        return name in self.wanted

    def emit(self, name, record, shift=None, named=False):
        self.sent.append((name, record, named))
        return True


class FakeCapture:
    def __init__(self, wanted):
        import datetime as dt
        self.sink = FakeSink(wanted, {"status_updates": dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)})
        self.reader = FakeReader({name: None for name in wanted})
        self.no_status_updates: set = set()


@pytest.mark.parametrize("full, members, status, listed, incomplete", [
    (True, False, False, ["project_memberships", "status_updates"], set()),
    (False, False, False, [], {"project_memberships"}),
    (False, True, False, ["project_memberships"], set()),
    (False, False, True, ["status_updates"], {"project_memberships"}),
])
def test_project_children_are_listed_on_a_full_read_or_when_events_name_them(full, members, status, listed,
                                                                            incomplete):
    from tap_asana.capture.children import ProjectChildren
    capture = FakeCapture(["project_memberships", "status_updates"])
    ProjectChildren(capture, "project:1:events", "1").jobs(full, members, status)
    assert [name for name, _, _ in capture.reader.listings] == listed
    assert capture.reader.incomplete == incomplete
    for name, context, _ in capture.reader.listings:
        if name == "status_updates":
            assert context == {"gid": "1", "since": "2025-01-01T00:00:00.000Z"}


def test_a_task_found_sends_a_value_row_per_custom_field_once_a_run():
    import datetime as dt
    from tap_asana.capture.family import TaskFamily
    since = {n: dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc) for n in ("task_custom_field_values", "stories",
                                                                          "attachments")}
    sink = FakeSink(["task_custom_field_values"], since)
    reader = FakeReader({"task_custom_field_values": type("S", (), {"paths": ["task_gid", "name"]})()})
    family = TaskFamily(reader, sink)
    assert "custom_fields.name" in family.fields
    task = {"gid": "7", "modified_at": "2025-02-01T00:00:00.000Z", "num_subtasks": 0,
            "custom_fields": [{"gid": "c1", "name": "Priority", "display_value": "High"},
                              {"gid": "c2", "name": "Estimate", "display_value": "3"}]}
    family.found("p", task, "tasks", walk=True)
    family.found("p", task, "subtasks", walk=True)  # met again (a subtask in a project too): no second row
    rows = [record for name, record, _ in sink.sent if name == "task_custom_field_values"]
    assert [(r["task_gid"], r["custom_field_gid"], r["modified_at"]) for r in rows] == [
        ("7", "c1", "2025-02-01T00:00:00.000Z"), ("7", "c2", "2025-02-01T00:00:00.000Z")]
    assert not reader.listings  # no request for them, and subtasks are not opened for a task without any
