"""Checking a state read from a file: its shape and its times (none in the future), and bringing
an earlier version's shape up to date."""
from __future__ import annotations

import copy
import datetime as dt
from typing import Any, Dict, Iterable, Optional, Tuple

from tap_asana.config import CLOCK_SKEW, json_kind, parse_datetime


class StateError(Exception):
    """A state file that cannot be used, phrased for the user."""


def validate(state: Any, now: Optional[dt.datetime] = None) -> Dict[str, Any]:
    """Check the shape of a state read from a file; return a deep copy. A time more than
    CLOCK_SKEW ahead of `now` (this machine's clock) is refused: a bookmark in the future
    would skip every record changed before it, for good."""
    now = now or dt.datetime.now(dt.timezone.utc)
    if not isinstance(state, dict):
        raise StateError(f"state must be a JSON object, not {json_kind(state)}.")
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, dict):
        raise StateError("state.bookmarks must be an object of stream -> bookmark.")
    for stream, mark in bookmarks.items():
        if not isinstance(mark, dict):
            raise StateError(f"bookmark of stream {stream} must be an object like {{\"modified_at\": \"...\"}}.")
        for key, value in mark.items():
            if not isinstance(value, str):
                raise StateError(f"bookmark {stream}.{key} must be an ISO 8601 string, not {value!r}.")
            _check_time(value, f"bookmark {stream}.{key}", now, "is not an ISO 8601 date-time")
    state = _upgrade(copy.deepcopy(state))
    _validate_tokens(state.get("sync_tokens", {}), "state.sync_tokens", now)
    _validate_projects(state.get("projects", {}), "state.projects", now)
    progress = state.get("progress")
    if progress is not None:
        if not isinstance(progress, dict) or not isinstance(progress.get("done", []), list) \
                or not isinstance(progress.get("started_at"), str):
            raise StateError("state.progress must be {\"started_at\": \"...\", \"done\": [...]}.")
        _check_time(progress["started_at"], "state.progress.started_at", now, "is not a date-time")
        _validate_tokens(progress.get("sync_tokens", {}), "state.progress.sync_tokens", now)
        _validate_projects(progress.get("projects", {}), "state.progress.projects", now)
        cursors = progress.get("cursors", {})
        if not isinstance(cursors, dict) or not all(isinstance(v, str) for v in cursors.values()):
            raise StateError("state.progress.cursors must be an object of partition -> cursor string.")
    if state.get("currently_syncing") is not None and not isinstance(state["currently_syncing"], str):
        raise StateError("state.currently_syncing must be a stream name or null.")
    return state


def _check_time(value: str, where: str, now: dt.datetime, malformed: str) -> None:
    try:
        when = parse_datetime(value)
    except ValueError:
        raise StateError(f"{where} {malformed}: {value!r}.") from None
    if when > now + CLOCK_SKEW:
        raise StateError(f"{where} is {value}, in the future by this machine's clock (now "
                         f"{now.strftime('%Y-%m-%dT%H:%M:%SZ')}): records changed before it would never be sent. "
                         f"Check this machine's clock; else set it to when the tap last ran, or remove it to read "
                         f"from start_date.")


def _validate_tokens(tokens: Any, where: str, now: dt.datetime) -> None:
    shape = f'{where} must be an object of project or workspace gid -> {{"sync": "...", "since": "<date-time>"}}.'
    for resource, entry in _entries(tokens, shape, ("sync", "since")):
        _check_time(entry["since"], f"{where}.{resource}.since", now, "is not a date-time")
        covers = entry.get("covers", [])
        if not isinstance(covers, list) or not all(isinstance(c, str) for c in covers):
            raise StateError(f'{where}.{resource}: "covers" must be a list of stream names.')


def _validate_projects(projects: Any, where: str, now: dt.datetime) -> None:
    shape = f'{where} must be an object of project gid -> {{"read_in_full": "<date-time>", "fingerprint": "..."}}.'
    for project, entry in _entries(projects, shape, ("read_in_full",)):
        _check_time(entry["read_in_full"], f"{where}.{project}.read_in_full", now, "is not a date-time")
        if not isinstance(entry.get("fingerprint", ""), str):
            raise StateError(shape)


def _entries(value: Any, shape: str, strings: Tuple[str, ...]) -> Iterable[Tuple[str, Dict[str, Any]]]:
    """The entries of a map of gid -> object whose `strings` keys hold strings (else StateError)."""
    if not isinstance(value, dict):
        raise StateError(shape)
    for gid, entry in value.items():
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in strings):
            raise StateError(shape)
        yield gid, entry


def _upgrade(state: Dict[str, Any]) -> Dict[str, Any]:
    """A state of an earlier version kept each project's last full read in its sync token's
    entry; it now lives in ``projects`` (an Enterprise+ workspace's token has none)."""
    for holder in (state, state.get("progress") if isinstance(state.get("progress"), dict) else {}):
        tokens = holder.get("sync_tokens")
        if not isinstance(tokens, dict):
            continue
        for project, entry in tokens.items():
            if isinstance(entry, dict) and "read_in_full" in entry:
                holder.setdefault("projects", {}).setdefault(project, {"read_in_full": entry.pop("read_in_full")})
    return state
