"""What the credentials reach: the user, the workspaces and each one's plan, whether workspace
events can be read, and whether the gids a shard names (``workspace_gids``, ``project_gids``)
are ones the token can see.

Two callers: ``--test`` prints ``report`` (a few lines for a person), and every sync starts
with ``require_visible``, so a shard naming a gid the token cannot see stops before any record
instead of reading nothing, run after run, without a word. Every request goes through the
client (``AsanaClient.get``); nothing here writes Singer messages.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from tap_asana.client import AsanaClient, Skip, SyncExpired
from tap_asana.config import Config, ConfigError


@dataclass
class Shard:
    """The token's workspaces, and what became of each gid the config names."""

    workspaces: List[Dict[str, Any]]
    #: workspace_gids not among the token's workspaces
    unseen_workspaces: List[str] = field(default_factory=list)
    #: project_gids the token can read: gid -> the project (name, workspace)
    projects: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    #: project_gids it cannot: gid -> why, in a few words
    unseen_projects: Dict[str, str] = field(default_factory=dict)

    def problem(self) -> Optional[str]:
        """The one line that stops a run naming gids the token cannot see, else None."""
        parts = []
        if self.unseen_workspaces:
            theirs = ", ".join(_named(w) for w in self.workspaces) or "none"
            parts.append(f"config key workspace_gids names {', '.join(self.unseen_workspaces)}, which "
                         f"{'is' if len(self.unseen_workspaces) == 1 else 'are'} not among the workspaces this token "
                         f"can see ({theirs})")
        if self.unseen_projects:
            why = "; ".join(f"{gid}: {reason}" for gid, reason in self.unseen_projects.items())
            parts.append(f"config key project_gids names {', '.join(self.unseen_projects)}, which this token cannot "
                         f"read ({why})")
        if not parts:
            return None
        return ("; ".join(parts) + ". A shard that names what it cannot see reads nothing of it: fix the gids (the "
                "number in the URL, app.asana.com/0/<gid>), or give a token whose user is a member")


def workspaces(client: AsanaClient) -> List[Dict[str, Any]]:
    """Every workspace the token can see (getWorkspaces)."""
    return list(client.paginate(client.listing("/workspaces", {"opt_fields": "name,is_organization"})))


def examine(client: AsanaClient, config: Config, theirs: Optional[List[Dict[str, Any]]] = None) -> Shard:
    """Which of the config's workspace_gids and project_gids the token can see. A project counts
    as unseen when getProject answers 403 or 404, or when it lies in a workspace that
    workspace_gids leaves out (the run would never reach it)."""
    shard = Shard(workspaces=theirs if theirs is not None else workspaces(client))
    known = {w["gid"] for w in shard.workspaces}
    shard.unseen_workspaces = [gid for gid in config.workspace_gids if gid not in known]
    for gid in config.project_gids:
        try:
            project = client.get(f"/projects/{gid}", {"opt_fields": "name,workspace.name"})["data"]
        except Skip as exc:
            shard.unseen_projects[gid] = f"Asana answered {exc.status}, {exc}".rstrip(", ")
            continue
        workspace = (project.get("workspace") or {}).get("gid")
        if config.workspace_gids and workspace not in config.workspace_gids:
            shard.unseen_projects[gid] = f"it is in workspace {workspace}, which workspace_gids leaves out"
        else:
            shard.projects[gid] = project
    return shard


def require_visible(client: AsanaClient, config: Config) -> None:
    """Stop (ConfigError) before anything is sent if the config names a gid the token cannot see."""
    if not config.workspace_gids and not config.project_gids:
        return
    problem = examine(client, config).problem()
    if problem:
        raise ConfigError(problem)


def report(client: AsanaClient, config: Config) -> List[str]:
    """``--test``: check the credentials and what they reach; the lines to print. Raises what
    the client raises (a rejected token, an unreachable host) and ConfigError for a shard
    naming gids the token cannot see."""
    me = client.get("/users/me", {"opt_fields": "name"})["data"]
    lines = [f"Credentials work: user {_named(me)} at {config.api_url}"]
    theirs = workspaces(client)
    for workspace in theirs:
        gid = workspace["gid"]
        title = f"Workspace {_named(workspace)}{', an organization' if workspace.get('is_organization') else ''}"
        if config.workspace_gids and gid not in config.workspace_gids:
            lines.append(f"{title}: left out by workspace_gids")
            continue
        lines.append(f"{title}: {_plan(client, gid)}; workspace events: {_events(client, gid)}")
    if not theirs:
        lines.append("No workspace: this token can see none, so a sync sends nothing")
    shard = examine(client, config, theirs)
    problem = shard.problem()
    if problem:
        raise ConfigError(problem)
    if config.workspace_gids:
        lines.append(f"workspace_gids: {', '.join(config.workspace_gids)}: visible")
    for gid, project in shard.projects.items():
        where = (project.get("workspace") or {}).get("gid")
        lines.append(f"project_gids: {_named(project)}: visible, in workspace {where}")
    return lines


def _named(record: Dict[str, Any]) -> str:
    """'Name (gid)', or the gid alone when Asana gives no name."""
    return f"{record['name']} ({record['gid']})" if record.get("name") else str(record["gid"])


def _plan(client: AsanaClient, workspace: str) -> str:
    """Premium if search answers (searchTasksForWorkspace), free on its 402."""
    try:
        client.get(f"/workspaces/{workspace}/tasks/search", {"limit": 1, "opt_fields": "name"})
    except Skip as exc:
        if exc.status == 402:
            return "free plan (search answers 402: tasks in no project are found through users' tasks)"
        return f"plan unknown (search answers {exc.status})"
    return "premium plan (search answers)"


def _events(client: AsanaClient, workspace: str) -> str:
    """Whether workspace events (getWorkspaceEvents) can be read: a 200, or the 412 that hands
    over a first sync token, says yes; 402, 403 or 404 says no."""
    try:
        client.get(f"/workspaces/{workspace}/events", {})
    except SyncExpired:
        return "available"
    except Skip as exc:
        return f"not available ({exc.status})"
    return "available"
