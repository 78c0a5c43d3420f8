"""Pure functions over the Singer state: the only code that knows its shape.

    {"bookmarks": {stream: {replication_key: "2025-01-01T00:00:00.000Z"}},
     "currently_syncing": stream | null,
     "progress": {"started_at": ..., "streams": [...], "done": [partition, ...]}}  # while a run is unfinished

Bookmarks are inclusive and move only when a whole run has finished, to the time
that run started (on Asana's clock): a change made anywhere while a run goes on
has a later ``modified_at`` and is read again by the next run. ``progress`` lets
an interrupted run resume: partitions listed there are finished and are not read
again; the resumed run keeps the interrupted run's start time. Offsets are never
stored: Asana's expire.
"""
from __future__ import annotations

import copy
import datetime as dt
from typing import Any, Dict, Iterable, List, Mapping, Optional

from tap_asana.config import parse_datetime


class StateError(Exception):
    """A state file that cannot be used, phrased for the user."""


def validate(state: Any) -> Dict[str, Any]:
    """Check the shape of a state read from a file; return a deep copy."""
    if not isinstance(state, dict):
        raise StateError(f"state must be a JSON object, not {type(state).__name__}.")
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, dict):
        raise StateError("state.bookmarks must be an object of stream -> bookmark.")
    for stream, mark in bookmarks.items():
        if not isinstance(mark, dict):
            raise StateError(f"bookmark of stream {stream} must be an object like {{\"modified_at\": \"...\"}}.")
        for key, value in mark.items():
            if not isinstance(value, str):
                raise StateError(f"bookmark {stream}.{key} must be an ISO 8601 string, not {value!r}.")
            try:
                parse_datetime(value)
            except ValueError:
                raise StateError(f"bookmark {stream}.{key} is not an ISO 8601 date-time: {value!r}.") from None
    progress = state.get("progress")
    if progress is not None:
        if not isinstance(progress, dict) or not isinstance(progress.get("done", []), list) \
                or not isinstance(progress.get("started_at"), str):
            raise StateError("state.progress must be {\"started_at\": \"...\", \"done\": [...]}.")
        try:
            parse_datetime(progress["started_at"])
        except ValueError:
            raise StateError(f"state.progress.started_at is not a date-time: {progress['started_at']!r}.") from None
    if state.get("currently_syncing") is not None and not isinstance(state["currently_syncing"], str):
        raise StateError("state.currently_syncing must be a stream name or null.")
    return copy.deepcopy(state)


def bookmark(state: Mapping[str, Any], stream: str, key: str) -> Optional[dt.datetime]:
    value = state.get("bookmarks", {}).get(stream, {}).get(key)
    return parse_datetime(value) if value else None


def begin_run(state: Mapping[str, Any], started_at: str, streams: List[str]) -> Dict[str, Any]:
    """Start a run, or resume the unfinished one the state describes if it synced the same
    streams (a partition done for other streams is not done for these)."""
    new = copy.deepcopy(dict(state))
    new.setdefault("bookmarks", {})
    progress = new.get("progress")
    if not progress or progress.get("streams", streams) != streams:
        new["progress"] = {"started_at": started_at, "streams": streams, "done": []}
    return new


def run_started_at(state: Mapping[str, Any]) -> str:
    return state["progress"]["started_at"]


def is_done(state: Mapping[str, Any], partition: str) -> bool:
    return partition in state.get("progress", {}).get("done", ())


def mark_done(state: Mapping[str, Any], partition: str, currently_syncing: Optional[str]) -> Dict[str, Any]:
    new = copy.deepcopy(dict(state))
    done = new["progress"]["done"]
    if partition not in done:
        done.append(partition)
    new["currently_syncing"] = currently_syncing
    return new


def finish_run(state: Mapping[str, Any], bookmarks: Iterable[tuple]) -> Dict[str, Any]:
    """Close a finished run: each (stream, key) bookmark moves to the run's start."""
    new = copy.deepcopy(dict(state))
    started_at = run_started_at(new)
    for stream, key in bookmarks:
        new["bookmarks"].setdefault(stream, {})[key] = started_at
    new.pop("progress", None)
    new["currently_syncing"] = None
    return new
