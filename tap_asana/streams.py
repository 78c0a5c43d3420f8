"""The facts about each Asana endpoint the tap reads: one class per stream.

Streams are declarations. They hold no HTTP and write no Singer messages: the
client (``client.py``) fetches and the sync walk (``sync.py``) decides when each
stream is read and what it emits. A stream's column list is its schema file in
``schemas/``; ``opt_fields`` is derived from the selected columns.
"""
from __future__ import annotations

from typing import Any, ClassVar, Dict, Iterable, List, Mapping, Optional, Tuple

FULL_TABLE = "FULL_TABLE"
INCREMENTAL = "INCREMENTAL"
#: The column of a record that says the object was deleted in Asana (and when): the name
#: Stitch and Meltano SDK targets (MeltanoLabs target-postgres) honour.
DELETED_AT = "_sdc_deleted_at"


class Stream:
    """Base declaration. Subclasses override the class attributes."""

    name: ClassVar[str]
    #: path template; ``{gid}`` is filled from the parent's context
    path: ClassVar[str]
    key_properties: ClassVar[Tuple[str, ...]] = ("gid",)
    replication_method: ClassVar[str] = FULL_TABLE
    replication_key: ClassVar[Optional[str]] = None
    #: the stream whose records hand this stream its context, if any
    parent: ClassVar[Optional[type]] = None
    #: fixed query parameters; values may use ``{workspace}`` from the context
    params: ClassVar[Mapping[str, str]] = {}
    #: whether the endpoint accepts limit/offset (Asana documents a few that do not)
    paginated: ClassVar[bool] = True
    #: column name in the schema -> field name in Asana, where they differ
    renames: ClassVar[Mapping[str, str]] = {}
    #: fields the walk needs from each record whatever the user selected
    walk_fields: ClassVar[Tuple[str, ...]] = ()
    #: (column, stream): a column filled, for each record, by a listing of another endpoint
    column_from: ClassVar[Optional[Tuple[str, type]]] = None
    #: whether the stream exists only in organizations (workspaces with ``is_organization``)
    organizations_only: ClassVar[bool] = False
    #: whether deletes are sent, as records with ``DELETED_AT`` (a column always sent)
    sends_deletes: ClassVar[bool] = False

    @classmethod
    def request(cls, context: Mapping[str, str]) -> Tuple[str, Dict[str, str]]:
        """Path and query parameters for one listing of this stream."""
        path = cls.path.format(**context)
        params = {k: v.format(**context) for k, v in cls.params.items()}
        return path, params

    @classmethod
    def opt_fields(cls, selected_paths: Iterable[str]) -> str:
        """Asana field paths for the selected schema leaf paths, plus walk fields."""
        fields = set(cls.walk_fields)
        for path in selected_paths:
            head, _, rest = path.partition(".")
            head = cls.renames.get(head, head)
            fields.add(f"{head}.{rest}" if rest else head)
        fields.discard("gid")  # Asana always returns gid
        fields.discard(DELETED_AT)  # the tap's own column
        return ",".join(sorted(fields))

    @classmethod
    def rename(cls, record: Dict[str, Any]) -> Dict[str, Any]:
        """Copy Asana's field names onto the schema's column names."""
        for column, field in cls.renames.items():
            if field in record:
                record[column] = record[field]
        return record


class Workspaces(Stream):
    """https://developers.asana.com/reference/getworkspaces"""

    name = "workspaces"
    path = "/workspaces"
    walk_fields = ("is_organization",)


class Users(Stream):
    """https://developers.asana.com/reference/getusers"""

    name = "users"
    path = "/users"
    parent = Workspaces
    params = {"workspace": "{workspace}"}


class Teams(Stream):
    """https://developers.asana.com/reference/getteamsforworkspace (organizations only)."""

    name = "teams"
    path = "/workspaces/{workspace}/teams"
    parent = Workspaces
    organizations_only = True


class TeamMembers(Stream):
    """https://developers.asana.com/reference/getusersforteam

    Not a stream of its own: fills the ``users`` column of teams. Asana documents
    no ``limit`` here (alphabetical, at most 2000 users).
    """

    name = "team_members"
    path = "/teams/{gid}/users"
    parent = Teams
    paginated = False


class Projects(Stream):
    """https://developers.asana.com/reference/getprojects

    Every project, archived or not: no ``archived`` filter is sent.
    """

    name = "projects"
    path = "/projects"
    parent = Workspaces
    params = {"workspace": "{workspace}"}
    replication_method = INCREMENTAL
    replication_key = "modified_at"


class Sections(Stream):
    """https://developers.asana.com/reference/getsectionsforproject"""

    name = "sections"
    path = "/projects/{gid}/sections"
    parent = Projects
    sends_deletes = True


class Tasks(Stream):
    """https://developers.asana.com/reference/gettasks

    ``modified_since`` is filtered by Asana itself (>=). A task in several
    projects is listed in each; the walk emits it once per run.
    """

    name = "tasks"
    path = "/tasks"
    parent = Projects
    params = {"project": "{gid}"}
    replication_method = INCREMENTAL
    replication_key = "modified_at"
    renames = {"is_rendered_as_seperator": "is_rendered_as_separator"}
    walk_fields = ("modified_at", "num_subtasks")
    sends_deletes = True


class Subtasks(Tasks):
    """https://developers.asana.com/reference/getsubtasksfortask

    One level per request; the walk recurses to every depth. A change to a
    subtask does not bump its parent's ``modified_at`` (asana-api.md 2.5).
    """

    name = "subtasks"
    path = "/tasks/{gid}/subtasks"
    parent = Tasks
    params = {}


class TaskSearch(Tasks):
    """https://developers.asana.com/reference/searchtasksforworkspace (premium)

    Not a stream of its own: the cheap way for an incremental run to find the tasks and
    subtasks changed since the bookmarks, one request per workspace when nothing changed.
    Search has no ``next_page``; the client pages by ``modified_at``.
    """

    name = "task_search"
    path = "/workspaces/{workspace}/tasks/search"
    parent = Workspaces
    params = {"sort_by": "modified_at", "sort_ascending": "true"}
    paginated = False
    walk_fields = ("modified_at", "num_subtasks", "parent", "projects")


class ProjectEvents(Stream):
    """https://developers.asana.com/reference/getevents

    Not a stream of its own: on workspaces without search, how an incremental run finds
    the tasks and subtasks changed in a project, one request per project when nothing
    changed. A project's events bubble up from its tasks, their subtasks at any depth and
    the stories on them (asana-api.md 2.14). Read through ``AsanaClient.events``.
    """

    name = "events"
    path = "/events"
    params = {"resource": "{gid}"}
    paginated = False


class TaskById(Tasks):
    """https://developers.asana.com/reference/gettask

    Not a stream of its own: a task or subtask an event named, read again whole. Whether it
    is a ``tasks`` or a ``subtasks`` record (or both) follows from its ``parent`` and ``projects``.
    """

    name = "task"
    path = "/tasks/{gid}"
    params = {}
    paginated = False
    walk_fields = TaskSearch.walk_fields


class AssignedTasks(Tasks):
    """https://developers.asana.com/reference/gettasks with ``assignee`` and ``workspace``

    Not a stream of its own: on a workspace without search, how tasks in no project are
    reached (a user's tasks, in projects or not; the walk keeps those in none).
    """

    name = "assigned_tasks"
    path = "/tasks"
    parent = Users
    params = {"assignee": "{user}", "workspace": "{workspace}"}
    walk_fields = TaskSearch.walk_fields


class Stories(Stream):
    """https://developers.asana.com/reference/getstoriesfortask

    Read only for tasks modified since the stories bookmark: a new story
    bumps its task's ``modified_at`` (asana-api.md 2.5).
    """

    name = "stories"
    path = "/tasks/{gid}/stories"
    parent = Tasks
    replication_method = INCREMENTAL
    replication_key = "created_at"


class Tags(Stream):
    """https://developers.asana.com/reference/gettags"""

    name = "tags"
    path = "/tags"
    parent = Workspaces
    params = {"workspace": "{workspace}"}
    replication_method = INCREMENTAL
    replication_key = "created_at"


class Portfolios(Stream):
    """https://developers.asana.com/reference/getportfolios (premium)

    ``owner=me``: a PAT or OAuth user sees the portfolios it owns; a service
    account would see all of them without ``owner`` (asana-api.md 2.9).
    """

    name = "portfolios"
    path = "/portfolios"
    parent = Workspaces
    params = {"workspace": "{workspace}", "owner": "me"}


class PortfolioItems(Stream):
    """https://developers.asana.com/reference/getitemsforportfolio

    Not a stream of its own: fills the ``portfolio_items`` column of portfolios.
    """

    name = "portfolio_items"
    path = "/portfolios/{gid}/items"
    parent = Portfolios


Teams.column_from = ("users", TeamMembers)
Portfolios.column_from = ("portfolio_items", PortfolioItems)

#: The streams a catalog offers, in the order they are synced.
STREAMS: Dict[str, type] = {
    s.name: s
    for s in (Workspaces, Users, Teams, Projects, Sections, Tasks, Subtasks, Stories, Tags, Portfolios)
}


def leaf_paths(schema: Mapping[str, Any], prefix: str = "") -> List[str]:
    """Dotted paths to every leaf of a JSON schema (arrays are looked through)."""
    schema = schema.get("items", schema) if _is_array(schema) else schema
    props = schema.get("properties")
    if not props:
        return [prefix] if prefix else []
    paths: List[str] = []
    for key, sub in props.items():
        paths.extend(leaf_paths(sub, f"{prefix}.{key}" if prefix else key))
    return paths


def _is_array(schema: Mapping[str, Any]) -> bool:
    t = schema.get("type")
    return t == "array" or (isinstance(t, list) and "array" in t)
