"""Sections of projects (and the private sections of My Tasks lists, which are not served
as a project's)."""
from __future__ import annotations

from ..routing import Route
from ..serving import Children, One, Serving
from ..store import Rel

ROUTES = (
    Route("/projects/{gid}/sections", Children("project", Rel.PROJECT_SECTIONS, access=Serving.project_readable)),
    Route("/sections/{gid}", One("section")),
)
