"""The resource families, gathered: every GET route the fake serves."""
from __future__ import annotations

from typing import Tuple

from .resources.custom_fields import ROUTES as CUSTOM_FIELD_ROUTES
from .resources.events import ROUTES as EVENT_ROUTES
from .resources.goals import ROUTES as GOAL_ROUTES
from .resources.portfolios import ROUTES as PORTFOLIO_ROUTES
from .resources.projects import ROUTES as PROJECT_ROUTES
from .resources.sections import ROUTES as SECTION_ROUTES
from .resources.status_updates import ROUTES as STATUS_UPDATE_ROUTES
from .resources.tags import ROUTES as TAG_ROUTES
from .resources.tasks.attachments import ROUTES as ATTACHMENT_ROUTES
from .resources.tasks.search import ROUTES as SEARCH_ROUTES
from .resources.tasks.serve import ROUTES as TASK_ROUTES
from .resources.tasks.stories import ROUTES as STORY_ROUTES
from .resources.teams import ROUTES as TEAM_ROUTES
from .resources.time_tracking import ROUTES as TIME_TRACKING_ROUTES
from .resources.workspaces import ROUTES as WORKSPACE_ROUTES
from .routing import Route

ROUTES: Tuple[Route, ...] = (
    *WORKSPACE_ROUTES, *TEAM_ROUTES, *PROJECT_ROUTES, *SECTION_ROUTES, *CUSTOM_FIELD_ROUTES, *STATUS_UPDATE_ROUTES,
    *TASK_ROUTES, *SEARCH_ROUTES, *STORY_ROUTES, *ATTACHMENT_ROUTES, *TAG_ROUTES, *PORTFOLIO_ROUTES, *GOAL_ROUTES,
    *TIME_TRACKING_ROUTES, *EVENT_ROUTES,
)
