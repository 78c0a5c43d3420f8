"""Stories: comments and the system stories Asana writes when a task changes."""
from __future__ import annotations

from ...routing import Route
from ...serving import Children, One, Serving
from ...store import Rel

ROUTES = (
    Route("/tasks/{gid}/stories", Children("task", Rel.TASK_STORIES, access=Serving.task_visible)),
    Route("/stories/{gid}", One("story")),
)
