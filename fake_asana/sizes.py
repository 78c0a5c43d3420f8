"""How much data the fake generates: the size keys and the named presets. Every size is also
a `FakeAsana` keyword and a `python -m fake_asana` flag that overrides the preset."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Dict


@dataclass(frozen=True)
class Sizes:
    users: int
    teams: int
    projects: int  # every fourth one is in the plain (non-organization) workspace
    sections_per_project: int
    tasks_per_project: int  # top-level tasks, +-20% per project
    stories_per_task: float  # mean, for tasks and subtasks alike
    subtask_fraction: float  # share of top-level tasks that get a subtask tree
    subtask_depth: int
    deep_chains: int  # tasks whose subtasks are forced `subtask_depth` levels deep
    orphan_tasks: int  # per workspace: tasks in no project (only in their assignee's My Tasks)
    tags: int  # per workspace
    portfolios: int  # in the organization
    multi_home_fraction: float = 0.06  # tasks that are also in a second project
    dependency_fraction: float = 0.05
    unassigned_orphans: int = 1  # per workspace: tasks in no project and assigned to nobody
    orphan_subtask_trees: int = 1  # per workspace: tasks in no project that get subtasks


PRESETS: Dict[str, Sizes] = {
    "tiny": Sizes(users=6, teams=2, projects=5, sections_per_project=3, tasks_per_project=4, stories_per_task=3,
                  subtask_fraction=0.12, subtask_depth=3, deep_chains=2, orphan_tasks=2, tags=3, portfolios=1),
    "demo": Sizes(users=12, teams=3, projects=10, sections_per_project=3, tasks_per_project=26,
                  stories_per_task=3.7, subtask_fraction=0.12, subtask_depth=3, deep_chains=3, orphan_tasks=5,
                  tags=8, portfolios=2),
    "medium": Sizes(users=30, teams=6, projects=40, sections_per_project=4, tasks_per_project=52,
                    stories_per_task=3.3, subtask_fraction=0.12, subtask_depth=4, deep_chains=5, orphan_tasks=10,
                    tags=14, portfolios=4),
    "large": Sizes(users=60, teams=10, projects=100, sections_per_project=4, tasks_per_project=56,
                   stories_per_task=3.1, subtask_fraction=0.12, subtask_depth=4, deep_chains=8, orphan_tasks=20,
                   tags=18, portfolios=6),
}
SIZE_NAMES = frozenset(f.name for f in dataclasses.fields(Sizes))


def sizes_for(preset: str, **overrides: Any) -> Sizes:
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
    return dataclasses.replace(PRESETS[preset], **overrides)
