"""Event sync tokens (a project's, or an Enterprise+ workspace's) and what each project's last
full read found, held in the run's progress until it finishes."""
from __future__ import annotations

import copy
import datetime as dt
from typing import Any, Dict, Iterable, Mapping, Optional

from tap_asana.config import parse_datetime
from tap_asana.state.runs import format_time, run_started_at


# --- event tokens: a project's, or (Enterprise+ workspace events) a workspace's --------------------------
def _token_entry(state: Mapping[str, Any], resource: str) -> Optional[Dict[str, Any]]:
    """The resource's entry of the last finished run's `sync_tokens`."""
    return state.get("sync_tokens", {}).get(resource)


#: what a token entry written before ``covers`` existed was taken for
_OLD_COVERS = ("stories", "subtasks", "tasks")


def sync_token(state: Mapping[str, Any], resource: str, since: Iterable[dt.datetime],
               streams: Iterable[str] = ()) -> Optional[str]:
    """The resource's sync token, if it covers every change after each of `since`, to each
    of `streams`."""
    entry = _token_entry(state, resource)
    if not entry:
        return None
    taken_for = parse_datetime(entry["since"])
    covered = set(entry.get("covers", _OLD_COVERS))
    return entry["sync"] if all(s >= taken_for for s in since) and covered >= set(streams) else None


def token_taken(state: Mapping[str, Any], resource: str) -> Optional[dt.datetime]:
    """The start of the run that took the resource's sync token, if it has one."""
    entry = _token_entry(state, resource)
    return parse_datetime(entry["since"]) if entry else None


def keep_sync_token(state: Mapping[str, Any], resource: str, token: Optional[str],
                    covers: Iterable[str] = _OLD_COVERS) -> Dict[str, Any]:
    """Hold a resource's next sync token until the run finishes. Without a token (its events
    could not be read, or a 412 came without one) the last run's entry, if any, is carried
    over unchanged: its events, or the full reads they lead to, still cover what this run missed."""
    new = copy.deepcopy(dict(state))
    progress = new["progress"]
    tokens = progress.setdefault("sync_tokens", {})
    if token is not None:
        tokens[resource] = {"sync": token, "since": progress["started_at"], "covers": sorted(covers)}
    elif _token_entry(new, resource):
        tokens[resource] = _token_entry(new, resource)
    return new


# --- projects' full reads: the daily net for events Asana lost ------------------------------------------------
def _project_entry(state: Mapping[str, Any], project: str) -> Optional[Dict[str, Any]]:
    """The project's entry of the last finished run's `projects`."""
    return state.get("projects", {}).get(project)


def full_read_due(state: Mapping[str, Any], project: str, every: dt.timedelta) -> bool:
    """Whether the project's last full read is `every` or more before this run's start (never
    with `every` zero: full reads only when a project is new or its events cannot tell)."""
    entry = _project_entry(state, project)
    if not entry:
        return True
    started = parse_datetime(run_started_at(state))
    return bool(every) and started - parse_datetime(entry["read_in_full"]) >= every


def last_read_in_full(state: Mapping[str, Any], project: str) -> Optional[dt.datetime]:
    """When a finished run last read the whole project."""
    entry = _project_entry(state, project)
    return parse_datetime(entry["read_in_full"]) if entry else None


def fingerprint(state: Mapping[str, Any], project: str) -> Optional[str]:
    """What the project's last full read found (``capture/fingerprint.py``), if it was kept."""
    entry = _project_entry(state, project)
    return entry.get("fingerprint") if entry else None


def keep_project(state: Mapping[str, Any], project: str, fingerprint: Optional[str],
                 phase: dt.timedelta = dt.timedelta()) -> Dict[str, Any]:
    """Hold what a project's full read found until the run finishes; `fingerprint` None: the
    project was not read in full this run, and its last entry (if any) is carried over.
    `phase`: a first full read may be dated earlier, so the daily full reads of projects
    first read together fall due at different runs."""
    new = copy.deepcopy(dict(state))
    progress = new["progress"]
    projects = progress.setdefault("projects", {})
    if fingerprint is not None:
        read = format_time(parse_datetime(progress["started_at"]) - phase)
        projects[project] = {"read_in_full": read, "fingerprint": fingerprint}
    elif _project_entry(new, project):
        projects[project] = _project_entry(new, project)
    return new



def adopt_tokens(state: Mapping[str, Any], keep_old: bool = False) -> Dict[str, Any]:
    """At the end of a run that read the task family: the sync tokens it took and what its
    projects' full reads found replace the old ones, so a project no longer read (gone, out of
    reach) drops out of the state, unless the run could not list every project (`keep_old`),
    when the old entries of projects it did not reach are kept."""
    new = copy.deepcopy(dict(state))
    for key in ("sync_tokens", "projects"):
        taken = new["progress"].get(key, {})
        new[key] = {**new.get(key, {}), **taken} if keep_old else taken
        if not new[key]:
            del new[key]
    return new
