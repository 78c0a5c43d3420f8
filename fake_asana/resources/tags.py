"""Tags, and which tasks carry them."""
from __future__ import annotations

from ..errors import MULTI_WORKSPACE, ApiError
from ..routing import Route
from ..serving import ApiRequest, Body, Children, One, Serving
from ..store import Rel
from .tasks.serve import by_task_filters

TAGS_OF_WORKSPACE = Children("workspace", Rel.WORKSPACE_TAGS)


def tags(kit: Serving, request: ApiRequest) -> Body:
    workspace = request.params.get("workspace")
    if not workspace:
        raise ApiError(400, MULTI_WORKSPACE)
    return TAGS_OF_WORKSPACE(kit, request, workspace)


def tags_of_task(kit: Serving, request: ApiRequest, gid: str) -> Body:
    task = kit.task(gid)
    return kit.page(request, [kit.store.records[t.gid] for t in task["tags"] if t.gid in kit.store.records])


ROUTES = (
    Route("/tags", tags),
    Route("/workspaces/{gid}/tags", TAGS_OF_WORKSPACE),
    Route("/tags/{gid}", One("tag")),
    Route("/tags/{gid}/tasks", Children("tag", Rel.TAG_TASKS, refine=by_task_filters)),
    Route("/tasks/{gid}/tags", tags_of_task),
)
