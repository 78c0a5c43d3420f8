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
    #: (stream, field): a selected child stream whose records hold that column's items too (each
    #: one's `field`): when it is read anyway, the column is filled from it, not asked for again
    column_also_from: ClassVar[Optional[Tuple[type, str]]] = None
    #: a field of the parent that is null when the parent has none of these records: the listing
    #: is not made for such a parent (a project without a current status update has none)
    none_unless_parent_has: ClassVar[Optional[str]] = None
    #: whether the stream exists only in organizations (workspaces with ``is_organization``)
    organizations_only: ClassVar[bool] = False
    #: whether deletes are sent, as records with ``DELETED_AT`` (a column always sent)
    sends_deletes: ClassVar[bool] = False
    #: whether Asana serves it only on paid plans: a 402 then means "no such data here",
    #: logged at INFO, not a skip worth a WARNING
    paid: ClassVar[bool] = False
    #: the resource of Asana's contract (``contract.json``) the records are, where the route
    #: returns a union of several kinds (``/memberships``): the kind this stream holds
    contract_resource: ClassVar[Optional[str]] = None
    #: columns of the hosted integration's tables that Asana's contract does not define for this
    #: resource: kept in the schema (so tables keep their shape), never asked for, always null
    unreturned: ClassVar[Tuple[str, ...]] = ()

    @classmethod
    def request(cls, context: Mapping[str, str]) -> Tuple[str, Dict[str, str]]:
        """Path and query parameters for one listing of this stream."""
        path = cls.path.format(**context)
        params = {k: v.format(**context) for k, v in cls.params.items()}
        return path, params

    @classmethod
    def opt_fields(cls, selected_paths: Iterable[str]) -> str:
        """Asana field paths for the selected schema leaf paths, plus walk fields: never a
        column Asana does not return, nor one another listing fills (teams' ``users``)."""
        fields = set(cls.walk_fields)
        skip = set(cls.unreturned) | ({cls.column_from[0]} if cls.column_from else set())
        for path in selected_paths:
            head, _, rest = path.partition(".")
            if head in skip:
                continue
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
    unreturned = ("is_template",)
    walk_fields = ("current_status_update",)


class Sections(Stream):
    """https://developers.asana.com/reference/getsectionsforproject"""

    name = "sections"
    path = "/projects/{gid}/sections"
    parent = Projects
    sends_deletes = True


class SectionById(Sections):
    """https://developers.asana.com/reference/getsection

    Not a stream of its own: a section a workspace's event named without its project, read
    again whole (a ``sections`` record).
    """

    name = "section"
    path = "/sections/{gid}"
    paginated = False


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
    subtask does not bump its parent's ``modified_at`` (Asana's docs on getEvents).
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
    #: what every read of a task needs: to find its subtasks, its place, and whether it moved
    walk_fields = ("memberships.project", "memberships.section", "modified_at", "num_subtasks", "parent", "projects",
                   "workspace")


class AttachmentSearch(TaskSearch):
    """https://developers.asana.com/reference/searchtasksforworkspace with ``has_attachment``

    Not a stream of its own: on a premium workspace, which of the tasks and subtasks changed
    since the attachments bookmark have attachments, so only those are asked for them.
    """

    name = "attachment_search"
    params = {"sort_by": "modified_at", "sort_ascending": "true", "has_attachment": "true"}
    walk_fields = ("modified_at",)


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
    bumps its task's ``modified_at`` (Asana's docs on getEvents).
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
    account would see all of them without ``owner`` (getPortfolios).
    """

    name = "portfolios"
    path = "/portfolios"
    parent = Workspaces
    params = {"workspace": "{workspace}", "owner": "me"}
    paid = True
    walk_fields = ("current_status_update",)
    #: the hosted integration gave portfolios the projects' columns; these are not a portfolio's
    unreturned = ("completed", "completed_at", "completed_by", "created_from_template", "current_status",
                  "default_view", "due_date", "followers", "html_notes", "icon", "is_template", "modified_at",
                  "notes", "project_brief", "team")


class PortfolioItems(Stream):
    """https://developers.asana.com/reference/getitemsforportfolio

    Not a stream of its own: fills the ``portfolio_items`` column of portfolios.
    """

    name = "portfolio_items"
    path = "/portfolios/{gid}/items"
    parent = Portfolios


class CustomFields(Stream):
    """https://developers.asana.com/reference/getcustomfieldsforworkspace (paid plans)"""

    name = "custom_fields"
    path = "/workspaces/{workspace}/custom_fields"
    parent = Workspaces
    paid = True


class TaskCustomFieldValues(Stream):
    """No endpoint of its own: one row per task (or subtask) and custom field, made from the
    ``custom_fields`` of every task and subtask the walk sends, so it costs no request. Its
    columns are the value fields of Asana's custom field object
    (https://developers.asana.com/reference/custom-fields), with the task's gid and
    ``modified_at``: a value change bumps its task (Asana's docs on getEvents).
    """

    name = "task_custom_field_values"
    path = ""
    parent = Tasks
    key_properties = ("task_gid", "custom_field_gid")
    replication_method = INCREMENTAL
    replication_key = "modified_at"
    #: column -> the field of a task's ``custom_fields`` item it is filled from
    renames = {"custom_field_gid": "gid"}
    #: the columns filled from the task, not from the value
    from_task = {"task_gid": "gid", "modified_at": "modified_at"}

    @classmethod
    def task_fields(cls, selected_paths: Iterable[str]) -> List[str]:
        """The task field paths (``custom_fields.*``) the selected columns are made from."""
        out = ["custom_fields.name"]  # asking for the list at all; gid comes with every item
        for path in selected_paths:
            head, _, rest = path.partition(".")
            if head in cls.from_task:
                continue
            head = cls.renames.get(head, head)
            if head != "gid":
                out.append(f"custom_fields.{head}.{rest}" if rest else f"custom_fields.{head}")
        return sorted(set(out))

    @classmethod
    def rows(cls, task: Mapping[str, Any]) -> List[Dict[str, Any]]:
        """The rows of one task."""
        rows = []
        for value in task.get("custom_fields") or ():
            row = {column: task.get(field) for column, field in cls.from_task.items()}
            row.update(value)
            row["custom_field_gid"] = value.get("gid")
            rows.append(row)
        return rows


class Attachments(Stream):
    """https://developers.asana.com/reference/getattachmentsforobject

    Metadata only (the file itself is never downloaded; ``download_url`` expires within
    minutes). Read only for tasks modified since the attachments bookmark: attaching a file
    adds a story, which bumps the task (Asana's docs on getEvents).
    """

    name = "attachments"
    path = "/attachments"
    parent = Tasks
    params = {"parent": "{gid}"}
    replication_method = INCREMENTAL
    replication_key = "created_at"


class TimeTrackingEntries(Stream):
    """https://developers.asana.com/reference/gettimetrackingentries (paid plans)

    Read workspace-wide, every entry on every run: an entry can be entered for any past day
    (``entered_on``) and logging one does not bump its task, so neither the task's changes
    nor a window of ``entered_on`` dates finds every new entry. Asana needs a date bound with
    ``workspace``; this one lies before any Asana data. Sent from ``created_at`` on.
    """

    name = "time_tracking_entries"
    path = "/time_tracking_entries"
    parent = Workspaces
    params = {"workspace": "{workspace}", "entered_on_start_date": "2000-01-01"}
    replication_method = INCREMENTAL
    replication_key = "created_at"
    paid = True


class ProjectMemberships(Stream):
    """https://developers.asana.com/reference/getmemberships

    Read per project on its full read, or when its events say its members changed.
    """

    name = "project_memberships"
    path = "/memberships"
    parent = Projects
    params = {"parent": "{gid}"}
    contract_resource = "ProjectMembershipCompactResponse"
    #: fields of the older ``/projects/{gid}/project_memberships`` records, not of ``/memberships``'
    unreturned = ("project", "user", "write_access")


class StatusUpdates(Stream):
    """https://developers.asana.com/reference/getstatusesforobject

    Per project (on its full read, or when its events say one was added) and, on paid plans,
    per portfolio (every run: portfolios have no events). ``created_since`` is filtered by
    Asana (>=).
    """

    name = "status_updates"
    path = "/status_updates"
    parent = Projects
    params = {"parent": "{gid}", "created_since": "{since}"}
    replication_method = INCREMENTAL
    replication_key = "created_at"
    none_unless_parent_has = "current_status_update"


class Goals(Stream):
    """https://developers.asana.com/reference/getgoals (paid plans)"""

    name = "goals"
    path = "/goals"
    parent = Workspaces
    params = {"workspace": "{workspace}"}
    paid = True


class TeamMemberships(Stream):
    """https://developers.asana.com/reference/getteammembershipsforteam"""

    name = "team_memberships"
    path = "/team_memberships"
    parent = Teams
    params = {"team": "{gid}"}


class PortfolioMemberships(Stream):
    """https://developers.asana.com/reference/getportfoliomemberships (paid plans)"""

    name = "portfolio_memberships"
    path = "/portfolio_memberships"
    parent = Portfolios
    params = {"portfolio": "{gid}"}
    paid = True
    #: the newer membership fields, which ``/portfolio_memberships`` does not define
    unreturned = ("member", "parent", "resource_subtype")


class PortfolioStatusUpdates(StatusUpdates):
    """Not a stream of its own: the ``status_updates`` of a portfolio (paid plans)."""

    parent = Portfolios
    paid = True


Teams.column_from = ("users", TeamMembers)
Teams.column_also_from = (TeamMemberships, "user")
Portfolios.column_from = ("portfolio_items", PortfolioItems)

#: The streams a catalog offers, in the order they are synced.
STREAMS: Dict[str, type] = {
    s.name: s
    for s in (Workspaces, Users, Teams, Projects, Sections, Tasks, Subtasks, Stories, Tags, Portfolios,
              CustomFields, TaskCustomFieldValues, Attachments, ProjectMemberships, TeamMemberships,
              PortfolioMemberships, StatusUpdates, Goals, TimeTrackingEntries)
}
#: Listings made for each record of a workspace-level stream (its declared parent).
PER_RECORD: Tuple[type, ...] = (TeamMemberships, PortfolioMemberships, PortfolioStatusUpdates)


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
