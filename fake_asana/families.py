"""The resource families, gathered: every GET route the fake serves and every mutation op
it applies. Which family generates what, and in which order, is in generate.py."""
from __future__ import annotations

from typing import Dict, Tuple

from .mutate import Op, advance_clock, expire_sync_tokens
from .resources.custom_fields import ROUTES as CUSTOM_FIELD_ROUTES
from .resources.events import ROUTES as EVENT_ROUTES
from .resources.goals import ROUTES as GOAL_ROUTES, add_goal
from .resources.portfolios import ROUTES as PORTFOLIO_ROUTES, add_portfolio, add_portfolio_member
from .resources.projects import ROUTES as PROJECT_ROUTES, add_project, add_project_member, archive_project
from .resources.sections import ROUTES as SECTION_ROUTES, add_section, delete_section, rename_section
from .resources.status_updates import ROUTES as STATUS_UPDATE_ROUTES, add_status_update
from .resources.tags import ROUTES as TAG_ROUTES, rename_tag
from .resources.tasks.attachments import ROUTES as ATTACHMENT_ROUTES, add_attachment
from .resources.tasks.changes import (add_orphan_tasks, add_subtasks, add_tasks, add_to_project, delete_tasks,
                                      modify_tasks, remove_from_project, set_custom_field_value)
from .resources.tasks.search import ROUTES as SEARCH_ROUTES
from .resources.tasks.serve import ROUTES as TASK_ROUTES
from .resources.tasks.stories import ROUTES as STORY_ROUTES, add_stories
from .resources.teams import ROUTES as TEAM_ROUTES, add_team_member
from .resources.time_tracking import ROUTES as TIME_TRACKING_ROUTES, add_time_tracking_entry
from .resources.workspaces import ROUTES as WORKSPACE_ROUTES
from .routing import Route

ROUTES: Tuple[Route, ...] = (
    *WORKSPACE_ROUTES, *TEAM_ROUTES, *PROJECT_ROUTES, *SECTION_ROUTES, *CUSTOM_FIELD_ROUTES, *STATUS_UPDATE_ROUTES,
    *TASK_ROUTES, *SEARCH_ROUTES, *STORY_ROUTES, *ATTACHMENT_ROUTES, *TAG_ROUTES, *PORTFOLIO_ROUTES, *GOAL_ROUTES,
    *TIME_TRACKING_ROUTES, *EVENT_ROUTES,
)

#: The ops of `POST /_control/mutate` by name, in the order errors and docs list them.
OPS: Dict[str, Op] = {
    "modify_tasks": modify_tasks, "add_stories": add_stories, "add_subtasks": add_subtasks, "add_tasks": add_tasks,
    "add_to_project": add_to_project, "remove_from_project": remove_from_project, "delete_tasks": delete_tasks,
    "add_orphan_tasks": add_orphan_tasks, "add_section": add_section, "rename_section": rename_section,
    "delete_section": delete_section, "rename_tag": rename_tag, "archive_project": archive_project,
    "add_project": add_project, "expire_sync_tokens": expire_sync_tokens, "advance_clock": advance_clock,
    "add_attachment": add_attachment, "add_status_update": add_status_update, "add_goal": add_goal,
    "add_time_tracking_entry": add_time_tracking_entry, "add_project_member": add_project_member,
    "add_team_member": add_team_member, "add_portfolio_member": add_portfolio_member,
    "set_custom_field_value": set_custom_field_value, "add_portfolio": add_portfolio,
}
