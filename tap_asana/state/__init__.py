"""Pure functions over the Singer state: the only code that knows its shape (this package:
``checks`` and ``adopt`` read a state file, ``runs`` a run's life, ``partitions`` their names,
``tokens`` event tokens and full reads, ``plans`` what is known of each workspace).

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

from tap_asana.state.checks import (StateError, validate)
from tap_asana.state.adopt import (Note, adopt)
from tap_asana.state.partitions import (WORKSPACES_PARTITION, attachments_partition, done_projects, events_resource_of, no_project_partition,
    project_of, project_partition, search_partition, stream_of, unit_of, unit_partition,
    workspace_events_partition, workspace_partition)
from tap_asana.state.runs import (begin_run, bookmark, cursor, finish_run, format_time, is_done, mark_done,
    run_started_at, set_cursors)
from tap_asana.state.tokens import (adopt_tokens, fingerprint, full_read_due, keep_project, keep_sync_token,
    last_read_in_full, sync_token, token_taken)
from tap_asana.state.plans import (has_search, has_workspace_events, owed_since, remember_plans)
from tap_asana.config import parse_datetime  # callers read the state's times with it

__all__ = ["Note", "StateError", "WORKSPACES_PARTITION", "adopt", "adopt_tokens", "attachments_partition", "begin_run", "bookmark", "cursor", "done_projects", "events_resource_of", "fingerprint", "finish_run", "format_time", "full_read_due", "has_search", "has_workspace_events", "is_done", "keep_project", "keep_sync_token", "last_read_in_full", "mark_done", "no_project_partition", "owed_since", "parse_datetime", "project_of", "project_partition", "remember_plans", "run_started_at", "search_partition", "set_cursors", "stream_of", "sync_token", "token_taken", "unit_of", "unit_partition", "validate", "workspace_events_partition", "workspace_partition"]
