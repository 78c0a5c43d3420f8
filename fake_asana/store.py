"""The in-memory data: records by gid, the relations between them, a gid allocator and
a clock for changes. Records are plain dicts shaped like Asana's full records, except
that references to other resources are `Ref`s (resolved when rendered) and keys that
start with `_` are private bookkeeping that is never rendered."""
from __future__ import annotations

import bisect
import random
import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from .timefmt import Clock, fmt_datetime, parse_ms

#: A stored record: a plain dict shaped like Asana's full record (see the module's docstring).
Record = Dict[str, Any]


@dataclass(frozen=True)
class Ref:
    """A pointer to another record. `embed` says how it renders when no sub-fields are
    asked for: `compact` ({gid, resource_type, name, ...}), `bare` ({gid, resource_type},
    as Asana gives dependencies) or `full` (the whole record, as in custom field settings)."""

    gid: str
    embed: str = "compact"


class Store:
    """Thread-safe: hold `lock` while reading several records that must agree."""

    #: gids are 16 digits, as recent Asana gids are; all the same length, so that string
    #: order is numeric order and lists kept sorted by gid stay sorted by creation.
    GID_BASE = 1_200_000_000_000_000

    def __init__(self, seed: int, now_ms: int) -> None:
        self.lock = threading.RLock()
        self.seed = seed
        self.now_ms = now_ms
        self.me = ""
        self.records: Dict[str, Dict[str, Any]] = {}
        self._by_type: Dict[str, Dict[str, Dict[str, Any]]] = defaultdict(dict)
        self._rel: Dict[Tuple[str, str], List[str]] = defaultdict(list)
        self.user_task_lists: Dict[Tuple[str, str], str] = {}  # (user, workspace) -> gid
        gid_rng = random.Random(f"gids:{seed}")
        self._next_gid = self.GID_BASE + gid_rng.randrange(10 ** 12)
        self._gid_rng = gid_rng
        self._last_stamp = 0
        self.clock = Clock()
        self.deleted: Dict[str, str] = {}  # gid of a deleted task -> created_at of its `deleted` event

    # --- records -----------------------------------------------------------------------------
    def new_gid(self) -> str:
        with self.lock:
            self._next_gid += self._gid_rng.randint(1, 999)
            return str(self._next_gid)

    def add(self, record: Dict[str, Any]) -> Dict[str, Any]:
        with self.lock:
            self.records[record["gid"]] = record
            self._by_type[record["resource_type"]][record["gid"]] = record
        return record

    def remove(self, gid: str) -> None:
        with self.lock:
            record = self.records.pop(gid, None)
            if record is not None:
                self._by_type[record["resource_type"]].pop(gid, None)

    def get(self, gid: str, resource_type: Optional[str] = None) -> Optional[Dict[str, Any]]:
        record = self.records.get(gid)
        if record is None or (resource_type and record["resource_type"] != resource_type):
            return None
        return record

    def of_type(self, resource_type: str) -> List[Dict[str, Any]]:
        """Every record of a type, in gid order."""
        with self.lock:
            return sorted(self._by_type[resource_type].values(), key=lambda r: r["gid"])

    # --- relations (lists of gids kept in gid order) ------------------------------------------
    def link(self, relation: str, owner: str, gid: str) -> None:
        with self.lock:
            members = self._rel[(relation, owner)]
            at = bisect.bisect_left(members, gid)
            if at == len(members) or members[at] != gid:
                members.insert(at, gid)

    def unlink(self, relation: str, owner: str, gid: str) -> None:
        with self.lock:
            members = self._rel.get((relation, owner))
            if members and gid in members:
                members.remove(gid)

    def related(self, relation: str, owner: str) -> List[str]:
        with self.lock:
            return list(self._rel.get((relation, owner), ()))

    def related_records(self, relation: str, owner: str) -> List[Dict[str, Any]]:
        with self.lock:
            return [self.records[g] for g in self._rel.get((relation, owner), ()) if g in self.records]

    # --- clock ------------------------------------------------------------------------------
    def stamp_ms(self, after: Optional[str] = None) -> int:
        """A change's time: the fake's clock at ms precision, strictly later than any time
        given before and than `after` (the changed object's previous timestamp)."""
        with self.lock:
            ms = max(self.clock.ms(), self._last_stamp + 1, parse_ms(after) + 1 if after else 0)
            self._last_stamp = ms
            return ms

    def stamp(self, after: Optional[str] = None) -> str:
        return fmt_datetime(self.stamp_ms(after))


class Rel:
    """Names of the relations the store keeps (owner -> gids in gid order)."""

    WORKSPACE_USERS = "workspace.users"
    WORKSPACE_TEAMS = "workspace.teams"
    WORKSPACE_PROJECTS = "workspace.projects"
    WORKSPACE_TAGS = "workspace.tags"
    WORKSPACE_TASKS = "workspace.tasks"  # every task, subtasks and tasks in no project included
    WORKSPACE_PORTFOLIOS = "workspace.portfolios"
    WORKSPACE_CUSTOM_FIELDS = "workspace.custom_fields"
    TEAM_USERS = "team.users"
    TEAM_PROJECTS = "team.projects"
    PROJECT_SECTIONS = "project.sections"
    PROJECT_TASKS = "project.tasks"
    PROJECT_SETTINGS = "project.custom_field_settings"
    PORTFOLIO_ITEMS = "portfolio.items"
    PORTFOLIO_SETTINGS = "portfolio.custom_field_settings"
    SECTION_TASKS = "section.tasks"
    TAG_TASKS = "tag.tasks"
    TASK_SUBTASKS = "task.subtasks"
    TASK_STORIES = "task.stories"
    TASK_TIME_ENTRIES = "task.time_tracking_entries"
    ATTACHMENTS = "parent.attachments"  # task or project -> attachments
    STATUS_UPDATES = "parent.status_updates"  # project, portfolio or goal -> status updates
    PROJECT_MEMBERSHIPS = "project.memberships"
    TEAM_MEMBERSHIPS = "team.memberships"
    PORTFOLIO_MEMBERSHIPS = "portfolio.memberships"
    WORKSPACE_GOALS = "workspace.goals"
