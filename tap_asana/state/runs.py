"""A run's life in the state: begun (or resumed), partitions marked done, finished (bookmarks move
to the run's start)."""
from __future__ import annotations

import copy
import datetime as dt
from typing import Any, Dict, Iterable, List, Mapping, Optional

from tap_asana.config import parse_datetime


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
    new["progress"].get("cursors", {}).pop(partition, None)
    new["currently_syncing"] = currently_syncing
    return new


# A cursor says how far an unfinished partition got, so a resumed run takes it up from there:
# the modified_at its search had reached, or the gid below which every task its listing holds
# has been read whole. Neither is a page offset: Asana's expire within minutes.
def cursor(state: Mapping[str, Any], partition: str) -> Optional[str]:
    return state.get("progress", {}).get("cursors", {}).get(partition)


def set_cursors(state: Mapping[str, Any], cursors: Mapping[str, str]) -> Dict[str, Any]:
    """The unfinished partitions' cursors as they stand now (partitions done have none)."""
    new = copy.deepcopy(dict(state))
    done = set(new["progress"]["done"])
    kept = {**new["progress"].get("cursors", {}), **cursors}
    new["progress"]["cursors"] = {p: c for p, c in sorted(kept.items()) if p not in done}
    if not new["progress"]["cursors"]:
        del new["progress"]["cursors"]
    return new


def format_time(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def finish_run(state: Mapping[str, Any], bookmarks: Iterable[tuple]) -> Dict[str, Any]:
    """Close a finished run: each (stream, key) bookmark moves to the run's start."""
    new = copy.deepcopy(dict(state))
    started_at = run_started_at(new)
    for stream, key in bookmarks:
        new["bookmarks"].setdefault(stream, {})[key] = started_at
    new.pop("progress", None)
    new["currently_syncing"] = None
    return new
