"""Custom types (`CustomTypeResponse`) and their status options: a task whose
`resource_subtype` is `custom` has a `custom_type` and is in one of its statuses
(`custom_type_status_option`); any other task has null in both. Custom types have no route
here; tasks show them compact. Made after everything else, from a stream of their own: a few
of the organization's open-ended tasks become custom tasks."""
from __future__ import annotations

from typing import List

from ...factory import Generation, Maker
from ...store import Record, Ref, Rel

#: (name, its statuses: (name, color, completion state)).
CUSTOM_TYPES = (
    ("Bug", (("Triage", "red", "incomplete"), ("Fixing", "yellow", "incomplete"), ("Fixed", "green", "complete"))),
    ("Request", (("New", "blue", "incomplete"), ("In review", "purple", "incomplete"),
                 ("Delivered", "green", "complete"))),
)
CUSTOM_TASK_SHARE = 0.06  # of the organization's plain tasks


def new_custom_type(make: Maker, name: str, statuses: tuple) -> Record:
    store = make.store
    options = [store.add({"gid": store.new_gid(), "resource_type": "custom_type_status_option", "name": option,
                          "color": color, "completion_state": state, "enabled": True})
               for option, color, state in statuses]
    return store.add({"gid": store.new_gid(), "resource_type": "custom_type", "name": name,
                      "status_options": [Ref(o["gid"]) for o in options]})


def generate(gen: Generation, org: str) -> List[Record]:
    """The organization's custom types, and the tasks that are of one (a status that fits
    whether the task is completed)."""
    store = gen.store
    kinds = [new_custom_type(gen.make, name, statuses) for name, statuses in CUSTOM_TYPES]
    for task in store.related_records(Rel.WORKSPACE_TASKS, org):
        plain = task["resource_subtype"] == "default_task" and not task["is_rendered_as_separator"]
        if not plain or gen.rng.random() >= CUSTOM_TASK_SHARE:
            continue
        kind = gen.rng.choice(kinds)
        fitting = [store.records[o.gid] for o in kind["status_options"]
                   if (store.records[o.gid]["completion_state"] == "complete") == task["completed"]]
        task.update(resource_subtype="custom", custom_type=Ref(kind["gid"]),
                    custom_type_status_option=Ref(gen.rng.choice(fitting)["gid"]))
    return kinds
