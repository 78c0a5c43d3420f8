"""What the state remembers of each workspace's plan."""
from __future__ import annotations

import copy
import datetime as dt
from typing import Any, Dict, Mapping, Optional

from tap_asana.config import parse_datetime
from tap_asana.state.runs import format_time, run_started_at


def has_search(state: Mapping[str, Any], workspace: str, every: dt.timedelta) -> Optional[bool]:
    """Whether the workspace has search, as last checked, if that was less than `every` ago."""
    plan = state.get("plans", {}).get(workspace)
    if not isinstance(plan, dict) or not isinstance(plan.get("search"), bool) or "checked" not in plan:
        return None
    try:
        checked = parse_datetime(plan["checked"])
    except (KeyError, TypeError, ValueError):
        return None
    return plan["search"] if parse_datetime(run_started_at(state)) - checked < every else None


def has_workspace_events(state: Mapping[str, Any], workspace: str, every: dt.timedelta) -> Optional[bool]:
    """Whether the workspace's events could be read (Enterprise+, ``getWorkspaceEvents``), as last
    checked, if that was less than `every` ago."""
    plan = state.get("plans", {}).get(workspace)
    if not isinstance(plan, dict) or not isinstance(plan.get("workspace_events"), bool):
        return None
    try:
        checked = parse_datetime(plan["events_checked"])
    except (KeyError, TypeError, ValueError):
        return None
    return plan["workspace_events"] if parse_datetime(run_started_at(state)) - checked < every else None


def remember_plans(state: Mapping[str, Any], plans: Mapping[str, bool],
                   owed: Mapping[str, Optional[dt.datetime]] = {},
                   events: Mapping[str, bool] = {}) -> Dict[str, Any]:
    """Record which workspaces this run found to have search (`plans`) and workspace events
    (`events`), and the workspaces whose tasks in no project this run could not read in full:
    `owed` maps each to the time the next run must read them from (None: read in full, nothing
    owed any more)."""
    new = copy.deepcopy(dict(state))
    started = run_started_at(new)
    for workspace, search in plans.items():
        entry = new.setdefault("plans", {}).setdefault(workspace, {})
        entry.update(search=search, checked=started)
    for workspace, readable in events.items():
        new.setdefault("plans", {}).setdefault(workspace, {}).update(workspace_events=readable,
                                                                     events_checked=started)
    for workspace, since in owed.items():
        entry = new.setdefault("plans", {}).setdefault(workspace, {})
        if since is None:
            entry.pop("owed_since", None)
        else:  # the earliest of what is owed already and what this run missed
            old = owed_since(state, workspace)
            entry["owed_since"] = format_time(min(since, old) if old else since)
        if not entry:
            del new["plans"][workspace]
    return new


def owed_since(state: Mapping[str, Any], workspace: str) -> Optional[dt.datetime]:
    """Where the workspace's search (or users' task listings) must start from, if an earlier
    run could not finish it (else the bookmarks say)."""
    plan = state.get("plans", {}).get(workspace)
    try:
        return parse_datetime(plan["owed_since"]) if isinstance(plan, dict) and plan.get("owed_since") else None
    except (TypeError, ValueError):
        return None
