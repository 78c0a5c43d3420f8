"""Tasks in no project on a workspace without search (free plans): each user's tasks in the
workspace (``GET /tasks?assignee=&workspace=``, with ``modified_since`` once the task family
has bookmarks), keeping those in no project and their subtasks; tasks in projects are the
projects' business. Free plans have few users, so this costs a request or two per user.

No API call reaches a task in no project that nobody is assigned to on a workspace without
search; and a subtask of a task in no project is found only when it is assigned to someone
(or on the first run, which opens every task in no project found here). On a first run an
assigned subtask found here is only sent: its stories and attachments are read with its tree
(its project's full read, or its root in no project), so no request is made twice, and a
stopped first run resumes without redoing them; one under a project the token cannot read has
them read when it next changes.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List

from tap_asana import state as st
from tap_asana.capture.cursors import GidCursor
from tap_asana.capture.family import NO_SHIFT, FoundAlone
from tap_asana.client import Skip, format_asana_time
from tap_asana.scheduler import Job
from tap_asana.streams import AssignedTasks, Users

LOGGER = logging.getLogger("tap_asana")


class NoProjectTasks:
    def __init__(self, capture: Any, workspace: str):
        self.capture, self.workspace = capture, workspace
        self.partition = st.no_project_partition(workspace)
        self.first = not capture.all_bookmarked()
        self.since = capture.workspace_since(workspace)
        self.shift = capture.LOOKBACK if not self.first else NO_SHIFT
        self.pending = 0  # user listings not finished yet
        self.complete = True
        self.cursor = capture.cursor_of(self.partition, GidCursor)
        self.found: Dict[str, Dict[str, Any]] = {}  # the tasks the listings hold that this finder reads

    def jobs(self) -> List[Job]:
        if st.is_done(self.capture.state, self.partition):
            return []
        self.pending = 1  # the users listing
        return [self.capture.reader.listing(self.partition, Users, {"workspace": self.workspace}, self.on_users,
                                            fields=["name"], on_done=self.one_done, on_fail=self.on_fail)]

    def on_users(self, users: List[Dict[str, Any]]) -> List[Job]:
        # A listing reads Asana's own records (no index lag, unlike search): no look-back.
        self.pending += len(users)
        return [self.capture.reader.listing(self.partition, AssignedTasks,
                                            {"user": user["gid"], "workspace": self.workspace}, self.on_tasks,
                                            fields=self.capture.family.fields,
                                            params={"modified_since": format_asana_time(self.since)},
                                            on_done=self.one_done, on_fail=self.on_fail)
                for user in users]

    def on_fail(self, error: Skip) -> List[Job]:
        LOGGER.warning("Skipped a listing of tasks in no project of workspace %s (Asana answered %s: %s); the "
                       "next run reads them from %s", self.workspace, error.status, error, format_asana_time(self.since))
        self.complete = False
        return self.one_done()

    def one_done(self) -> List[Job]:
        self.pending -= 1
        if self.pending:
            return []
        self.capture.settled(self.workspace, self.complete, self.since)
        # once every listing is in, in gid order, which the cursor follows
        jobs: List[Job] = []
        for gid in sorted(self.found, key=lambda g: (len(g), g)):
            task = self.found[gid]
            # The look-back the other finders use, so a task two of them find has its stories (and
            # attachments) listed once: events' on later runs, none on a first run. On a first run a
            # subtask is only sent: what lies below it is read with its tree, from its project or
            # from its root in no project, which this finder opens.
            below = False if self.first and task.get("parent") else None
            found = FoundAlone(self.capture.family, task, self.shift, walk=self.first, below=below)
            jobs += self.capture.in_unit(self.partition, self.cursor, task, found)
        self.cursor.complete = True
        return jobs

    def on_tasks(self, tasks: List[Dict[str, Any]]) -> List[Job]:
        for task in tasks:
            if (task.get("parent") or not task.get("projects")) and not self.cursor.skips(task["gid"]):
                self.found[task["gid"]] = task
        return []
