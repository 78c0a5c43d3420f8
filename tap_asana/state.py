"""Pure functions over the Singer state: the only code that knows its shape.

    {"bookmarks": {stream: {replication_key: "2025-01-01T00:00:00.000Z"}},
     "currently_syncing": stream | null,
     "sync_tokens": {project_or_workspace_gid: {"sync": token, "since": run start, "covers": [stream, ...]}},
     "projects": {project_gid: {"read_in_full": run start, "fingerprint": "..."}},
     "plans": {workspace_gid: {"search": bool, "checked": run start}},
     "progress": {"started_at": ..., "streams": [...], "done": [partition, ...],
                  "sync_tokens": {...}, "projects": {...}}}  # while a run is unfinished

Bookmarks are inclusive and move only when a whole run has finished, to the time
that run started (on Asana's clock): a change made anywhere while a run goes on
has a later ``modified_at`` and is read again by the next run. ``progress`` lets
an interrupted run resume: partitions listed there are finished and are not read
again; the resumed run keeps the interrupted run's start time. Offsets are never
stored: Asana's expire.

A sync token (a project's, or an Enterprise+ workspace's) is taken before a project's tasks
are read, so the events after it cover every change the run might have missed. It is usable
only by a run whose task-family bookmarks are no older than the run that took it (``since``):
a stream left out of that run has changes the token does not cover, and only for the streams
it ``covers`` (those the run that took it read below the project). Asana delivers events at
most once, so a project is also read in full again once its last full read (``read_in_full``)
is a day old; what that read found (``fingerprint``) lets the next one send only what changed.

``plans`` remembers whether a workspace has search (premium) or not, checked again daily.
"""
from __future__ import annotations

import copy
import datetime as dt
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from tap_asana.config import CLOCK_SKEW, EARLIEST, json_kind, parse_datetime


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


#: A note on what ``adopt`` changed: (level, text). Reading a shape another tool writes is routine
#: ("INFO"); a bookmark dropped or moved changes what the run reads ("WARNING").
Note = Tuple[str, str]


def adopt(raw: Any, replication_keys: Mapping[str, Optional[str]]) -> Tuple[Any, List[Note]]:
    """The tap's own state from the shapes users bring, and a note for each thing changed:

    - a Singer STATE message, ``{"type": "STATE", "value": {...}}`` (the tap's own last line),
      is its value: no note, it is what the README tells users to keep;
    - Meltano's ``{"singer_state": {...}}`` (what ``meltano state get`` prints), or its stored
      ``{"completed": {"singer_state": ...}, "partial": {...}}`` (partial laid over completed);
    - singer-io tap-asana's: ``bookmarks.currently_sync_stream`` names its interrupted stream,
      bookmarks without a zone are UTC;
    - bookmarks this tap cannot use (a stream it does not have, one it reads in full, or one
      bookmarked on another key: `replication_keys` maps each stream to its key, None for one
      read in full) are dropped, each with a note saying where that stream now starts; ones
      before 2000 are read from 2000 (Asana began in 2008).

    Anything else is left for ``validate`` to judge."""
    notes: List[Note] = []
    if isinstance(raw, dict) and raw.get("type") == "STATE" and "value" in raw:
        raw = raw["value"]
    if isinstance(raw, dict) and isinstance(raw.get("completed"), dict) and "singer_state" in raw["completed"]:
        partial = raw.get("partial") if isinstance(raw.get("partial"), dict) else {}
        completed, newer = raw["completed"]["singer_state"], partial.get("singer_state") or {}
        raw = {**completed, **newer} if isinstance(completed, dict) and isinstance(newer, dict) else completed
        notes.append(("INFO", "state is Meltano's stored state: using its singer_state"))
    elif isinstance(raw, dict) and set(raw) == {"singer_state"}:
        raw = raw["singer_state"]
        notes.append(("INFO", "state is Meltano's {\"singer_state\": ...}: using what it holds"))
    if not isinstance(raw, dict) or not isinstance(raw.get("bookmarks"), dict):
        return copy.deepcopy(raw), notes
    state = copy.deepcopy(raw)
    bookmarks = state["bookmarks"]
    interrupted = bookmarks.pop("currently_sync_stream", None)
    if interrupted is not None:
        notes.append(("WARNING", f"state comes from an interrupted run of singer-io's tap-asana (at stream "
                                 f"{interrupted}): each stream starts from its own bookmark"))
    for stream in sorted(bookmarks):
        mark = bookmarks[stream]
        if not isinstance(mark, dict):
            continue
        wanted = replication_keys.get(stream)
        for key in sorted(mark):
            if key == wanted:
                continue
            del mark[key]
            if stream not in replication_keys:
                why = f"tap-asana has no stream {stream}"
            elif wanted is None:
                why = f"{stream} is read in full on every run"
            else:
                why = (f"{stream} is bookmarked on {wanted}, and with no {stream}.{wanted} bookmark it is read from "
                       "start_date")
            notes.append(("WARNING", f"bookmark {stream}.{key} is not used: {why}"))
        if not mark:
            del bookmarks[stream]
        elif isinstance(mark.get(wanted), str):
            try:
                early = parse_datetime(mark[wanted]) < EARLIEST
            except ValueError:
                continue  # validate says what is wrong with it
            if early:
                mark[wanted] = EARLIEST.strftime("%Y-%m-%dT%H:%M:%S.000Z")
                notes.append(("WARNING", f"bookmark {stream}.{wanted} is before Asana existed: reading from "
                                         f"{mark[wanted]}, which sends the same records"))
    return state, notes


def bookmark(state: Mapping[str, Any], stream: str, key: str) -> Optional[dt.datetime]:
    value = state.get("bookmarks", {}).get(stream, {}).get(key)
    return parse_datetime(value) if value else None


# --- partitions ------------------------------------------------------------------------------
# A partition is a unit of work checkpointed when finished. Its name is built and parsed only here:
#   "workspaces"                   the workspaces listing
#   "<stream>:<workspace>"         a workspace-level listing (users, tags, teams, portfolios, projects)
#   "search:<workspace>"           the search for a workspace's changed tasks
#   "tasks-of:<workspace>"         the workspace's tasks in no project
#   "project:<gid>:<how>"          one project with all below it, named by how its tasks are reached
#                                  (a project done one way is not done another way)

#: the stream `currently_syncing` names while a partition of each kind is open
_STREAM_OF_KIND = {"project": "tasks", "search": "subtasks", "tasks-of": "tasks"}


#: the partition of the workspaces listing (never checkpointed: it is read again on resume)
WORKSPACES_PARTITION = "workspaces"


def workspace_partition(stream: str, workspace: str) -> str:
    return f"{stream}:{workspace}"


def search_partition(workspace: str) -> str:
    return f"search:{workspace}"


def no_project_partition(workspace: str) -> str:
    return f"tasks-of:{workspace}"


def project_partition(project: str, how: str) -> str:
    return f"project:{project}:{how}"


def project_of(partition: str) -> Optional[str]:
    """The project gid of a project partition, else None."""
    kind, _, rest = partition.partition(":")
    return rest.split(":")[0] if kind == "project" else None


def stream_of(partition: Optional[str]) -> Optional[str]:
    """The stream to name in `currently_syncing` while `partition` is open."""
    if partition is None:
        return None
    kind = partition.split(":", 1)[0]
    return _STREAM_OF_KIND.get(kind, kind)


def done_projects(state: Mapping[str, Any]) -> List[str]:
    """Gids of the projects the unfinished run has finished, however their tasks were reached."""
    return [p for p in (project_of(d) for d in state.get("progress", {}).get("done", ())) if p]


# --- runs ---------------------------------------------------------------------------------------
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
        read = _format(parse_datetime(progress["started_at"]) - phase)
        projects[project] = {"read_in_full": read, "fingerprint": fingerprint}
    elif _project_entry(new, project):
        projects[project] = _project_entry(new, project)
    return new


def _format(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


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


def remember_plans(state: Mapping[str, Any], plans: Mapping[str, bool],
                   owed: Mapping[str, Optional[dt.datetime]] = {}) -> Dict[str, Any]:
    """Record which workspaces this run found to have search, and the workspaces whose tasks in
    no project this run could not read in full: `owed` maps each to the time the next run must
    read them from (None: read in full, nothing owed any more)."""
    new = copy.deepcopy(dict(state))
    started = run_started_at(new)
    for workspace, search in plans.items():
        entry = new.setdefault("plans", {}).setdefault(workspace, {})
        entry.update(search=search, checked=started)
    for workspace, since in owed.items():
        entry = new.setdefault("plans", {}).setdefault(workspace, {})
        if since is None:
            entry.pop("owed_since", None)
        else:  # the earliest of what is owed already and what this run missed
            old = owed_since(state, workspace)
            entry["owed_since"] = _format(min(since, old) if old else since)
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


def finish_run(state: Mapping[str, Any], bookmarks: Iterable[tuple]) -> Dict[str, Any]:
    """Close a finished run: each (stream, key) bookmark moves to the run's start."""
    new = copy.deepcopy(dict(state))
    started_at = run_started_at(new)
    for stream, key in bookmarks:
        new["bookmarks"].setdefault(stream, {})[key] = started_at
    new.pop("progress", None)
    new["currently_syncing"] = None
    return new
