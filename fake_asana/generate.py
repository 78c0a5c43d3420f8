"""Deterministic data: the same (seed, sizes, now) always gives the same store, gids and
timestamps included. Every generated timestamp lies in the two years before `now - 1 hour`,
so nothing generated is newer than an hour ago.

The order of the steps below, and the three random streams they draw from, are the data:
each family generates its records here, in this order. Records added later in the fake's
life (the tasks in no project, then memberships, status updates, goals, attachments and
time tracking) draw from streams of their own, so adding them left everything generated
before them as it was."""
from __future__ import annotations

from typing import Optional, Tuple

from .factory import Generation
from .resources.custom_fields import generate as custom_fields
from .resources.goals import generate as goals
from .resources.portfolios import generate as portfolios, generate_memberships as portfolio_memberships
from .resources.projects import generate as projects, generate_memberships as project_memberships
from .resources.status_updates import generate_for_portfolios, generate_for_projects
from .resources.tags import generate as tags, tag_tasks
from .resources.tasks.attachments import generate as attachments
from .resources.tasks.generate import dependencies, late_orphans, multi_home, orphans, project_tasks, subtasks
from .resources.tasks.stories import generate as stories
from .resources.teams import generate as teams, generate_memberships as team_memberships
from .resources.time_tracking import generate as time_entries
from .resources.workspaces import generate_my_tasks, generate_users, generate_workspaces
from .sizes import Sizes
from .store import Store
from .timefmt import hour_floor_ms, wall_ms

#: The streams' names seed them (see `Generation.stream`): renaming one changes its data.
CORE_STREAM, ORPHAN_STREAM, LATER_STREAM = "data", "orphans", "more"


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
