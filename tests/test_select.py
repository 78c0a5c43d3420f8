"""Catalog selection: streams, columns, and the opt_fields they turn into."""
from __future__ import annotations

import pytest

from tap_asana.streams import Tasks
from tap_asana.selection import CatalogError, select
from tests.tapkit import catalog_for


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
