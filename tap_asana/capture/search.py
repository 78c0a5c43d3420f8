"""Finding a premium workspace's changed tasks and subtasks through search: one request per
workspace when nothing changed (asana-api.md 2.6). Search has no ``next_page``; the client
pages by moving ``modified_at.after`` forward. Its index lags writes by 10-60 s, so it looks
``LOOKBACK`` before the bookmarks."""
from __future__ import annotations

import logging
from typing import Any, Dict, List

from tap_asana import state as st
from tap_asana.client import Skip, format_asana_time
from tap_asana.scheduler import Job
from tap_asana.streams import TaskSearch

LOGGER = logging.getLogger("tap_asana")


class WorkspaceSearch:
    def __init__(self, capture: Any, workspace: str):
        self.capture, self.workspace = capture, workspace
        self.partition = st.search_partition(workspace)
        self.decided = False

    def job(self) -> Job:
        after = self.capture.family_since() - self.capture.LOOKBACK
        # Not skipped on resume even if done: its outcome decides how tasks are reached.
        return self.capture.reader.listing(self.partition, TaskSearch, {"workspace": self.workspace},
                                           self.on_records, fields=self.capture.family.fields,
                                           on_fail=self.on_fail, search_after=format_asana_time(after))

    def on_records(self, records: List[Dict[str, Any]]) -> List[Job]:
        jobs = [] if self.decided else self.capture.projects(self.workspace, "search")
        self.decided = True
        for record in records:
            jobs += self.capture.family.found_alone(self.partition, record, self.capture.LOOKBACK)
        return jobs

    def on_fail(self, error: Skip) -> List[Job]:
        if error.status == 402:
            LOGGER.info("Workspace %s has no search (not premium): reading its projects' events", self.workspace)
            return self.capture.projects(self.workspace, "events" if self.capture.walk_wanted() else "walk")
        LOGGER.warning("Search failed on workspace %s (%s): walking its projects' tasks instead", self.workspace, error)
        return self.capture.projects(self.workspace, "walk")


class SearchProbe:
    """On a first run, one search request tells a premium workspace (walk) from a free one
    (events: walk now, and keep sync tokens so the next run reads only what changed)."""

    def __init__(self, capture: Any, workspace: str):
        self.capture, self.workspace = capture, workspace

    def job(self) -> Job:
        path, query = TaskSearch.request({"workspace": self.workspace})
        return self.capture.reader.request("workspaces", path, dict(query, limit=1, opt_fields="name"),
                                           self.on_answer, self.on_fail)

    def on_answer(self, _data: Any) -> List[Job]:
        return self.capture.projects(self.workspace, "walk")

    def on_fail(self, error: Skip) -> List[Job]:
        return self.capture.projects(self.workspace, "events" if error.status == 402 else "walk")
