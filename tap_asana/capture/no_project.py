"""Tasks in no project on a workspace without search (free plans): each user's tasks in the
workspace (``GET /tasks?assignee=&workspace=``, with ``modified_since`` once the task family
has bookmarks), keeping those in no project and their subtasks; tasks in projects are the
projects' business. Free plans have few users, so this costs a request or two per user.

No API call reaches a task in no project that nobody is assigned to on a workspace without
search; and a subtask of a task in no project is found only when it is assigned to someone
(or on the first run, which opens every task found here).
"""
from __future__ import annotations

from typing import Any, Dict, List

from tap_asana import state as st
from tap_asana.capture.family import NO_SHIFT
from tap_asana.client import format_asana_time
from tap_asana.scheduler import Job
from tap_asana.streams import AssignedTasks, Users


class NoProjectTasks:
    def __init__(self, capture: Any, workspace: str):
        self.capture, self.workspace = capture, workspace
        self.partition = st.no_project_partition(workspace)
        self.first = not capture.all_bookmarked()

    def jobs(self) -> List[Job]:
        if st.is_done(self.capture.state, self.partition):
            return []
        return [self.capture.reader.listing(self.partition, Users, {"workspace": self.workspace}, self.on_users,
                                            fields=["name"])]

    def on_users(self, users: List[Dict[str, Any]]) -> List[Job]:
        # A listing reads Asana's own records (no index lag, unlike search): no look-back.
        since = self.capture.family_since()
        return [self.capture.reader.listing(self.partition, AssignedTasks,
                                            {"user": user["gid"], "workspace": self.workspace}, self.on_tasks,
                                            fields=self.capture.family.fields,
                                            params={"modified_since": format_asana_time(since)})
                for user in users]

    def on_tasks(self, tasks: List[Dict[str, Any]]) -> List[Job]:
        jobs: List[Job] = []
        for task in tasks:
            if task.get("parent") or not task.get("projects"):
                jobs += self.capture.family.found_alone(self.partition, task, NO_SHIFT,
                                                        walk=self.first)
        return jobs
