"""The tap held to Asana's own contract (tap_asana/contract.json, derived from Asana's OpenAPI
description by scripts/contract.py): every stream covers its resource's fields with agreeing
types and asks for nothing the contract lacks (what `make contract-check` prints); the columns
Asana does not return are declared, described and never asked for."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tap_asana import contract as asana
from tap_asana.discover import UNRETURNED, discover, load_schemas
from tap_asana.streams import DELETED_AT, STREAMS, TaskCustomFieldValues, Teams, leaf_paths

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import contract_check  # noqa: E402

ROUTED = [name for name, s in STREAMS.items() if s.path]


@pytest.fixture(scope="module")
def contract() -> asana.Contract:
    return asana.load()


@pytest.mark.parametrize("name", list(STREAMS))
def test_every_stream_covers_its_resource_asks_only_for_defined_fields_and_agrees_on_types(name):
    report = contract_check.check(name)
    assert not report.uncovered, f"{name}: contract fields without a column: {report.uncovered}"
    assert not report.lacking, f"{name}: requested fields the contract does not define: {report.lacking}"
    assert not report.mismatches, f"{name}: columns typed unlike the contract: {report.mismatches}"


def test_the_check_catches_a_column_off_the_contract(contract):
    schemas = load_schemas()
    schemas["tags"]["properties"]["colour"] = {"type": ["null", "string"]}
    schemas["tags"]["properties"]["created_at"] = {"type": ["null", "integer"]}
    del schemas["tags"]["properties"]["notes"]
    report = contract_check.check("tags", contract, schemas)
    assert report.uncovered == ["notes"]
    assert any(m.startswith("colour:") for m in report.mismatches)
    assert any(m.startswith("created_at:") for m in report.mismatches)
    assert "/tags: colour" in report.lacking


@pytest.mark.parametrize("name", ROUTED)
def test_unreturned_columns_are_exactly_the_columns_the_contract_does_not_define(name, contract):
    stream = STREAMS[name]
    resource = contract_check.resource_of(stream, contract)
    own = {DELETED_AT, *stream.renames} | ({stream.column_from[0]} if stream.column_from else set())
    columns = set(load_schemas()[name]["properties"]) - own
    undefined = {c for c in columns if c not in contract.fields(resource)}
    assert undefined == set(stream.unreturned)


def test_unreturned_columns_stay_available_say_so_and_are_never_requested():
    entries = {e["stream"]: e for e in discover()["streams"]}
    declared = {name: s.unreturned for name, s in STREAMS.items() if s.unreturned}
    assert set(declared) == {"projects", "portfolios", "project_memberships", "portfolio_memberships"}
    assert "is_template" in declared["projects"] and "team" in declared["portfolios"]
    for name, columns in declared.items():
        schema = entries[name]["schema"]["properties"]
        crumbs = {tuple(m["breadcrumb"]): m["metadata"] for m in entries[name]["metadata"]}
        props = schema
        paths = [p for col in props for p in (leaf_paths(props[col], col) or [col])]
        asked = STREAMS[name].opt_fields(paths).split(",")
        for column in columns:
            assert schema[column]["description"] == UNRETURNED.format(stream=name)
            assert crumbs[("properties", column)]["inclusion"] == "available"
            assert not [f for f in asked if f.split(".")[0] == column], (name, column)


def test_teams_users_come_from_their_own_listing_not_from_the_teams_route():
    props = load_schemas()["teams"]["properties"]
    paths = [p for col in props for p in (leaf_paths(props[col], col) or [col])]
    assert any(p.startswith("users.") for p in paths)
    assert not [f for f in Teams.opt_fields(paths).split(",") if f.startswith("users")]


def test_the_value_rows_columns_are_fields_of_a_custom_field_value(contract):
    report = contract_check.check(TaskCustomFieldValues.name, contract)
    assert report.resource == "CustomFieldResponse" and not report.mismatches


def test_requestable_follows_references_unions_and_the_fields_every_object_has(contract):
    assert contract.requestable("/tasks", "assignee.name")
    assert contract.requestable("/tasks", "assignee.email")  # beyond the route's enum: a field of the user
    assert contract.requestable("/tasks/{gid}", "custom_fields.enum_options.color")
    assert contract.requestable("/projects/{gid}/tasks", "memberships.section.gid")
    assert not contract.requestable("/tasks", "name.gid")  # a string has no fields
    assert not contract.requestable("/portfolios", "team")
    assert not contract.requestable("/workspaces/{workspace}/teams", "users")
    assert contract.requestable("/memberships", "access_level", "ProjectMembershipCompactResponse")
    assert not contract.requestable("/memberships", "write_access", "ProjectMembershipCompactResponse")
    assert contract.route("/events")["query"]["resource"]["required"] is True
    assert contract.describe("TaskResponse", "modified_at") == "a string (date-time)"
    assert contract.describe("TaskResponse", "assignee") == "an object, or null"


def test_the_contract_file_says_where_it_comes_from_and_covers_every_route_the_tap_reads(contract):
    source = contract.source
    assert source["repository"] == "https://github.com/Asana/openapi" and source["file"] == "defs/asana_oas.yaml"
    assert re.fullmatch(r"[0-9a-f]{7,40}", source["commit"]) and source["license"].startswith("Apache")
    for stream in STREAMS.values():
        if stream.path:
            assert contract.route(stream.path), stream.path
    assert contract.route("/workspaces/{gid}/events")["operation"] == "getWorkspaceEvents"
    assert contract.route("/workspaces/{gid}/tasks/search")["query"]["limit"]["described"] is True
