"""The GET routes that read tasks: one task, a task's subtasks, and every listing of tasks
with its filters."""
from __future__ import annotations

from typing import List, Sequence

from ...errors import FORBIDDEN, TASK_FILTER, ApiError
from ...routing import Route
from ...serving import ApiRequest, Body, Children, One, Serving
from ...store import Record, Rel, Store
from ...timefmt import parse_us


def by_task_filters(kit: Serving, request: ApiRequest, tasks: Sequence[Record]) -> List[Record]:
    """`modified_since` (>=) and `completed_since` (incomplete, or completed at or after), where the
    route defines them (the contract check keeps the others out)."""
    since = kit.time(request, "modified_since")
    if since is not None:
        tasks = [t for t in tasks if parse_us(t["modified_at"]) >= since]
    completed = request.params.get("completed_since")
    if completed is not None:
        if completed == "now":
            tasks = [t for t in tasks if not t["completed"]]
        else:
            bound = kit.time(request, "completed_since")
            tasks = [t for t in tasks if not t["completed"] or parse_us(t["completed_at"]) >= bound]
    return list(tasks)


def assigned(store: Store, user: str, workspace: str) -> List[Record]:
    """Every task and subtask of the workspace assigned to the user, in a project or not."""
    return [t for t in store.related_records(Rel.WORKSPACE_TASKS, workspace)
            if t["assignee"] and t["assignee"].gid == user]


def section_readable(kit: Serving, section: Record) -> None:
    if section["project"].gid in kit.limits.forbidden_projects:
        raise ApiError(403, FORBIDDEN)


TASKS_OF_SECTION = Children("section", Rel.SECTION_TASKS, access=section_readable, refine=by_task_filters)


def tasks_of_user_task_list(kit: Serving, request: ApiRequest, gid: str) -> Body:
    utl = kit.get(gid, "user_task_list")
    return kit.page(request, by_task_filters(kit, request, assigned(kit.store, utl["owner"].gid, utl["workspace"].gid)))


def tasks(kit: Serving, request: ApiRequest) -> Body:
    """`getTasks`: exactly one of project, section, or assignee with workspace (Asana's message
    names the tag and user task list filters its OpenAPI description leaves out)."""
    params = request.params
    chosen = [k for k in ("project", "section") if params.get(k)]
    by_assignee = bool(params.get("assignee")) or bool(params.get("workspace"))
    if len(chosen) + by_assignee != 1 or by_assignee and not (params.get("assignee") and params.get("workspace")):
        raise ApiError(400, TASK_FILTER)
    if by_assignee:
        workspace = kit.get(params["workspace"], "workspace")
        found = assigned(kit.store, kit.user(params["assignee"], "assignee")["gid"], workspace["gid"])
    elif chosen[0] == "project":
        found = kit.store.related_records(Rel.PROJECT_TASKS, kit.readable_project(params["project"])["gid"])
    else:
        return TASKS_OF_SECTION(kit, request, params["section"])
    return kit.page(request, by_task_filters(kit, request, found))


ROUTES = (
    Route("/tasks", tasks),
    Route("/tasks/{gid}", One("task", access=Serving.task_visible)),
    Route("/tasks/{gid}/subtasks", Children("task", Rel.TASK_SUBTASKS, access=Serving.task_visible)),
    Route("/projects/{gid}/tasks", Children("project", Rel.PROJECT_TASKS, access=Serving.project_readable,
                                            refine=by_task_filters)),
    Route("/sections/{gid}/tasks", TASKS_OF_SECTION),
    Route("/user_task_lists/{gid}/tasks", tasks_of_user_task_list),
)
