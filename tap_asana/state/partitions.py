"""Partition names: built and parsed here only."""
from __future__ import annotations

from typing import Any, List, Mapping, Optional, Tuple


# A partition is a unit of work checkpointed when finished. Its name is built and parsed only here:
#   "workspaces"                   the workspaces listing
#   "<stream>:<workspace>"         a workspace-level listing (users, tags, teams, portfolios, projects)
#   "search:<workspace>"           the search for a workspace's changed tasks
#   "tasks-of:<workspace>"         the workspace's tasks in no project
#   "attachments:<workspace>"      the search for the workspace's changed tasks with attachments
#   "events:<workspace>"           the workspace's events (Enterprise+), and what they name
#   "project:<gid>:<how>"          one project with all below it, named by how its tasks are reached
#                                  (a project done one way is not done another way)
#   "<partition>/<task gid>"       a unit of a partition: one task it found and all read below that
#                                  task; a partition is done when its units are (``cursor`` below)

#: the stream `currently_syncing` names while a partition of each kind is open
_STREAM_OF_KIND = {"project": "tasks", "search": "subtasks", "tasks-of": "tasks", "attachments": "attachments",
                   "events": "tasks"}


#: the partition of the workspaces listing (never checkpointed: it is read again on resume)
WORKSPACES_PARTITION = "workspaces"


def workspace_partition(stream: str, workspace: str) -> str:
    return f"{stream}:{workspace}"


def search_partition(workspace: str) -> str:
    return f"search:{workspace}"


def no_project_partition(workspace: str) -> str:
    return f"tasks-of:{workspace}"


def attachments_partition(workspace: str) -> str:
    return f"attachments:{workspace}"


def workspace_events_partition(workspace: str) -> str:
    return f"events:{workspace}"


def events_resource_of(partition: str) -> Optional[str]:
    """The resource whose events a partition reads (a project's, or a workspace's), else None."""
    kind, _, rest = partition.partition(":")
    if kind == "events":
        return rest.split("/")[0]
    return project_of(partition)


def project_partition(project: str, how: str) -> str:
    return f"project:{project}:{how}"


def unit_partition(partition: str, task: str) -> str:
    return f"{partition}/{task}"


def unit_of(partition: str) -> Optional[Tuple[str, str]]:
    """(owning partition, task gid) of a unit, else None."""
    owner, slash, task = partition.rpartition("/")
    return (owner, task) if slash else None


def project_of(partition: str) -> Optional[str]:
    """The project gid of a project partition, else None."""
    kind, _, rest = partition.partition(":")
    return rest.split(":")[0].split("/")[0] if kind == "project" else None


def stream_of(partition: Optional[str]) -> Optional[str]:
    """The stream to name in `currently_syncing` while `partition` (or one of its units) is open."""
    if partition is None:
        return None
    kind = partition.split(":", 1)[0]
    return _STREAM_OF_KIND.get(kind, kind)


def done_projects(state: Mapping[str, Any]) -> List[str]:
    """Gids of the projects the unfinished run has finished, however their tasks were reached."""
    return [p for p in (project_of(d) for d in state.get("progress", {}).get("done", ())) if p]
