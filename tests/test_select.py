"""Catalog selection: streams, columns, and the opt_fields they turn into."""
from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from fake_asana import FakeAsana
from tap_asana.discover import discover, load_schemas
from tap_asana.selection import CatalogError, apply_patterns, select
from tap_asana.streams import STREAMS, Tasks
from tests.tapkit import assert_valid_singer, catalog_for, config_for, run_tap


def test_selected_streams_come_in_sync_order_with_all_columns_by_default():
    chosen = select(catalog_for(["stories", "tasks"]))
    assert list(chosen) == ["tasks", "stories"]
    assert "custom_fields" in chosen["tasks"].columns and "notes" in chosen["tasks"].columns


def test_deselected_columns_leave_the_record_and_opt_fields_but_keys_stay():
    chosen = select(catalog_for(["tasks"], deselect={"tasks": ["notes", "custom_fields", "gid", "modified_at"]}))
    columns = chosen["tasks"].columns
    assert "notes" not in columns and "custom_fields" not in columns
    assert "gid" in columns and "modified_at" in columns  # automatic
    fields = Tasks.opt_fields(chosen["tasks"].paths).split(",")
    assert "notes" not in fields and not any(f.startswith("custom_fields") for f in fields)
    assert "assignee.name" in fields and "modified_at" in fields and "num_subtasks" in fields
    assert "is_rendered_as_separator" in fields  # the sic column asks for Asana's spelling


def test_custom_field_leaves_become_dotted_opt_fields():
    fields = Tasks.opt_fields(select(catalog_for(["tasks"]))["tasks"].paths).split(",")
    assert {"custom_fields.enum_options.color", "custom_fields.enum_value.name",
            "custom_fields.people_value.name", "custom_fields.date_value.date_time"} <= set(fields)


def test_legacy_schema_level_selection_is_honoured():
    catalog = catalog_for([])
    for entry in catalog["streams"]:
        if entry["stream"] == "tags":
            entry["schema"]["selected"] = True
    assert list(select(catalog)) == ["tags"]


@pytest.mark.parametrize("catalog, words", [
    ({"streams": [{"tap_stream_id": "invoices"}]}, "invoices"),
    ({"nope": []}, "streams"),
    (catalog_for([]), "selects no stream"),
])
def test_unusable_catalogs(catalog, words):
    with pytest.raises(CatalogError, match=words):
        select(catalog)


# --- the schema sent is always the tap's own ---------------------------------------------------
OFFICIAL = Path(__file__).parent / "fixtures" / "official_tap_catalog.json"
OURS = load_schemas()


def official_catalog() -> dict:
    """A hand-made catalog shaped like singer-io's tap-asana's: same ten streams, every one
    selected, other schemas (projects.current_status a string, stories.new_approval_status a
    boolean, references as strings, most of our columns missing)."""
    return json.loads(OFFICIAL.read_text(encoding="utf-8"))


def test_a_foreign_catalog_gets_the_taps_schema_and_one_warning_naming_the_columns(caplog):
    caplog.set_level(logging.WARNING, logger="tap_asana")
    chosen = select(official_catalog())
    assert list(chosen) == list(STREAMS)[:10]  # singer-io's ten, the first ten of ours
    for name, sel in chosen.items():
        assert sel.columns == list(OURS[name]["properties"])  # unlisted columns: selected by default
        assert sel.schema == OURS[name]
    assert chosen["projects"].schema["properties"]["current_status"]["type"] == ["null", "object"]
    assert chosen["stories"].schema["properties"]["new_approval_status"]["type"] == ["null", "string"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "projects.current_status" in warnings[0] and "stories.new_approval_status" in warnings[0]
    assert "projects.gid," not in warnings[0] + ","  # identical columns are not named


def test_the_schema_is_cut_to_the_selected_columns_and_keys_are_always_in():
    catalog = catalog_for(["tasks", "stories", "tags"], deselect={"tasks": ["notes"]})
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if entry["stream"] == "tasks" and meta["breadcrumb"][1:] in (["gid"], ["modified_at"]):
                meta["metadata"] = {"inclusion": "available", "selected": False}  # hand-edited: no automatic
            if entry["stream"] == "stories" and meta["breadcrumb"][1:] == ["created_at"]:
                meta["metadata"] = {"inclusion": "unsupported"}
        if entry["stream"] == "tags":
            del entry["schema"]
    chosen = select(catalog)
    tasks = chosen["tasks"]
    assert "gid" in tasks.columns and "modified_at" in tasks.columns and "notes" not in tasks.columns
    assert list(tasks.schema["properties"]) == tasks.columns
    assert {"gid", "created_at"} <= set(chosen["stories"].columns)
    assert chosen["tags"].columns == list(OURS["tags"]["properties"])  # no schema: the tap's columns


def test_a_catalog_from_this_tap_gives_no_warning(caplog):
    caplog.set_level(logging.WARNING, logger="tap_asana")
    select(catalog_for())
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_foreign_catalog_syncs_with_the_taps_schema_and_valid_records(tmp_path):
    catalog = official_catalog()
    for entry in catalog["streams"]:
        if entry["stream"] == "workspaces":  # gid deselected by hand, without inclusion: automatic
            entry["metadata"][1]["metadata"] = {"inclusion": "available", "selected": False}
        if entry["stream"] == "tags":
            del entry["schema"]
    with FakeAsana(preset="tiny", seed=3) as fake:
        run = run_tap(tmp_path, config_for(fake), catalog)
    assert run.returncode == 0, run.stderr
    assert_valid_singer(run)
    sent = {m["stream"]: m["schema"] for m in run.messages if m["type"] == "SCHEMA"}
    assert sent == {name: OURS[name] for name in list(STREAMS)[:10]}
    assert run.records("workspaces") and all(r["gid"] for r in run.records("workspaces"))
    assert run.records("tags") and all(r["gid"] and "created_at" in r for r in run.records("tags"))
    statuses = [p["current_status"] for p in run.records("projects") if p["current_status"]]
    assert statuses and all(isinstance(s, dict) for s in statuses)
    assert len([line for line in run.stderr.splitlines() if "schemas are not tap-asana's" in line]) == 1


# --- malformed catalogs: one CatalogError naming the stream and what to do -------------------------
def _with(change) -> dict:
    catalog = catalog_for(["tasks"])
    change(next(e for e in catalog["streams"] if e["stream"] == "tasks"), catalog)
    return catalog


MALFORMED = {
    "metadata a dict": (lambda e, c: e.update(metadata={"selected": True}), "'tasks': \"metadata\" must be a list"),
    "properties a list": (lambda e, c: e["schema"].update(properties=["gid", "name"]), "'tasks': \"schema.properties\""),
    "schema a string": (lambda e, c: e.update(schema="tasks.json"), "'tasks': \"schema\" must be"),
    "entry not an object": (lambda e, c: c["streams"].append("tasks"), f"stream #{len(STREAMS) + 1} is a string"),
    "breadcrumb a string": (lambda e, c: e["metadata"][0].update(breadcrumb=""), "'tasks': a metadata item"),
    "metadata item a list": (lambda e, c: e["metadata"].append([]), "'tasks': a metadata item"),
    "selected a string": (lambda e, c: e["metadata"][0]["metadata"].update(selected="yes"),
                          "'tasks': \"selected\" of the stream must be true or false"),
    "column selected a number": (lambda e, c: e["metadata"][1]["metadata"].update(selected=1),
                                 "must be true or false"),
    "stream listed twice": (lambda e, c: c["streams"].append(dict(e)), "lists stream 'tasks' twice"),
    "no stream id": (lambda e, c: c["streams"].append({"schema": {}}), "stream None"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_catalogs_give_one_clear_error(case):
    change, words = MALFORMED[case]
    with pytest.raises(CatalogError) as info:
        select(_with(change))
    assert words in str(info.value)
    assert "\n" not in str(info.value)


# --- selecting by pattern ------------------------------------------------------------------------
def test_patterns_select_streams_and_columns_and_deselect_wins():
    catalog = apply_patterns(discover(), ["tasks", "stories.*"], ["tasks.notes"])
    chosen = select(catalog)
    assert list(chosen) == ["tasks", "stories"]
    assert "notes" not in chosen["tasks"].columns and "html_notes" in chosen["tasks"].columns
    assert chosen["stories"].columns == list(OURS["stories"]["properties"])


def test_a_stream_reached_only_by_column_patterns_sends_those_columns_and_its_keys():
    chosen = select(apply_patterns(discover(), ["tasks.name", "tasks.assignee"]))
    assert chosen["tasks"].columns == ["gid", "name", "assignee", "modified_at", "_sdc_deleted_at"]


def test_select_all_then_deselect_a_stream():
    chosen = select(apply_patterns(discover(), ["*"], ["stor*"]))
    assert list(chosen) == [n for n in STREAMS if n != "stories"]


def test_patterns_apply_to_a_foreign_catalog_without_column_metadata():
    chosen = select(apply_patterns(official_catalog(), [], ["tasks", "projects.current_status"]))
    assert "tasks" not in chosen and "current_status" not in chosen["projects"].columns


@pytest.mark.parametrize("flag, pattern, says", [
    ("select", "taks", "matches no stream or column. Streams: workspaces"),
    ("deselect", "tasks.nots", "matches no column of tasks. Its columns: gid"),
    ("select", "*.nope", "matches no column of any stream"),
    ("select", "ta*s.nope", "matches no column of tasks, tags"),
])
def test_a_pattern_matching_nothing_is_an_error(flag, pattern, says):
    with pytest.raises(CatalogError, match=f"--{flag} '{re.escape(pattern)}' {re.escape(says)}"):
        apply_patterns(discover(), **{flag: [pattern]})
