"""Deterministic data: the same (seed, sizes, now) always gives the same store, gids and
timestamps included. Every generated timestamp lies in the two years before `now - 1 hour`,
so nothing generated is newer than an hour ago.

The order of the steps below, and the four random streams they draw from, are the data:
each family generates its records here, in this order. Records added later in the fake's
life (the tasks in no project, then memberships, status updates, goals, attachments and
time tracking, then the fields of Asana's contract the first generations left at their
defaults) draw from streams of their own, so adding them left everything generated before
them as it was."""
from __future__ import annotations

from typing import Optional, Tuple

from .factory import Generation
from .resources.custom_fields import generate as custom_fields, generate_profiles
from .resources.goals import generate as goals
from .resources.portfolios import generate as portfolios, generate_memberships as portfolio_memberships
from .resources.project_templates import generate as project_templates
from .resources.projects import (generate as projects, generate_access_levels,
                                 generate_memberships as project_memberships)
from .resources.status_updates import (generate_for_portfolios, generate_for_projects,
                                       generate_reactions as status_update_reactions)
from .resources.tags import generate as tags, tag_tasks
from .resources.tasks.attachments import generate as attachments
from .resources.tasks.custom_types import generate as custom_types
from .resources.tasks.generate import dependencies, late_orphans, multi_home, orphans, project_tasks, subtasks
from .resources.tasks.stories import generate as stories, generate_reactions as story_reactions
from .resources.teams import generate as teams, generate_memberships as team_memberships, generate_settings
from .resources.time_tracking import generate as time_entries
from .resources.workspaces import generate_my_tasks, generate_users, generate_workspaces
from .sizes import Sizes
from .store import Store
from .timefmt import hour_floor_ms, wall_ms

#: The streams' names seed them (see `Generation.stream`): renaming one changes its data.
CORE_STREAM, ORPHAN_STREAM, LATER_STREAM, CONTRACT_STREAM = "data", "orphans", "more", "contract"


def default_now_ms() -> int:
    """The current UTC time floored to the hour: two servers started within the same
    hour with the same seed hold identical data."""
    return hour_floor_ms(wall_ms())


def generate(seed: int, sizes: Sizes, now_ms: Optional[int] = None) -> Store:
    store = Store(seed, default_now_ms() if now_ms is None else now_ms)
    with store.lock:
        org, personal = _core(Generation.stream(store, sizes, CORE_STREAM))
        late_orphans(Generation.stream(store, sizes, ORPHAN_STREAM), (org, personal))
        _later(Generation.stream(store, sizes, LATER_STREAM))
        _contract(Generation.stream(store, sizes, CONTRACT_STREAM), org)
    return store


def _core(gen: Generation) -> Tuple[str, str]:
    org, personal = generate_workspaces(gen)
    generate_users(gen, org, personal)
    generate_my_tasks(gen)
    team_gids = teams(gen, org)
    fields = custom_fields(gen, org)
    tag_gids = {ws: tags(gen, ws) for ws in (org, personal)}
    all_projects = projects(gen, org, personal, team_gids, fields)
    top_level = project_tasks(gen, all_projects)
    multi_home(gen, top_level, all_projects)
    below = subtasks(gen, top_level, all_projects)
    no_project = orphans(gen, (org, personal))
    everything = top_level + below + no_project
    tag_tasks(gen, everything, tag_gids)
    dependencies(gen, top_level)
    stories(gen, everything)
    portfolios(gen, org, all_projects, fields)
    return org, personal


def _later(gen: Generation) -> None:
    all_projects = gen.store.of_type("project")
    project_memberships(gen, all_projects)
    team_memberships(gen)
    portfolio_memberships(gen)
    generate_for_projects(gen, all_projects)
    generate_for_portfolios(gen)
    goals(gen)
    all_tasks = gen.store.of_type("task")
    attachments(gen, all_tasks, all_projects)
    time_entries(gen, all_tasks)


def _contract(gen: Generation, org: str) -> None:
    """Fields Asana's contract documents that the steps before left at their defaults (or
    did not have), and the records they name."""
    generate_settings(gen)
    generate_access_levels(gen, gen.store.of_type("project"))
    generate_profiles(gen, org)
    custom_types(gen, org)
    story_reactions(gen)
    status_update_reactions(gen)
    project_templates(gen)
