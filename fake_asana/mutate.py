"""Changes a test can make while the server runs (`POST /_control/mutate`), following
Asana's `modified_at` rules: a new story bumps its task; a change to a subtask, or a new
subtask, does not bump the parent; moving a task between containers (projects, sections)
does not bump it. Times come from the fake's clock (ms, Z; `advance_clock` moves it), each
strictly later than the changed object's previous one. Which objects change is drawn from
the seed and the mutation's sequence number, so two servers with the same seed change the
same ones. Each change is also logged as an Asana event as it is applied (see events.py),
so a mutation scheduled with `after_requests` shows up in /events only once it happens.

The ops live with their resource families, as functions `op(change, **arguments)`; this
module applies them, holds what they share (`Change`), and has the two ops that change the
fake itself rather than a resource."""
from __future__ import annotations

import inspect
import random
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

from .events import EventLog
from .factory import Maker
from .options import Options
from .restrictions import Restrictions
from .store import Record, Rel, Store
from .timefmt import fmt_datetime

#: A mutation op: `op(change, **arguments) -> result`.
Op = Callable[..., Dict[str, Any]]


class Change:
    """One mutation being applied: the store and event log it changes, its sequence number,
    its random stream (seeded by the seed and that number), and the ways ops choose what to
    change."""

    def __init__(self, store: Store, limits: Restrictions, events: EventLog, options: Options, seq: int) -> None:
        self.store, self.limits, self.events, self.options, self.seq = store, limits, events, options, seq
        self.rng = random.Random(f"mutate:{store.seed}:{seq}")
        self.make = Maker(store, self.rng)

    # --- what a sync can reach: tasks in readable projects and their subtasks ------------------------
    def top_level(self) -> List[Record]:
        return [t for t in self.store.of_type("task") if not t["parent"] and t["projects"]
                and t["gid"] not in self.limits.vanished_tasks
                and any(p.gid not in self.limits.forbidden_projects for p in t["projects"])]

    def orphans(self) -> List[Record]:
        """Top-level tasks in no project: reachable only through their assignee (or search)."""
        return [t for t in self.store.of_type("task") if not t["parent"] and not t["projects"]]

    def roots(self, orphans: bool) -> List[Record]:
        return self.orphans() if orphans else self.top_level()

    def below(self, roots: Sequence[Record]) -> List[Record]:
        out, frontier = [], [r["gid"] for r in roots]
        while frontier:
            children = self.store.related_records(Rel.TASK_SUBTASKS, frontier.pop())
            out.extend(children)
            frontier.extend(c["gid"] for c in children)
        return sorted(out, key=lambda t: t["gid"])

    def reachable_tasks(self) -> List[Record]:
        top = self.top_level()
        return top + self.below(top)

    def live_projects(self, workspace: Optional[str] = None) -> List[Record]:
        return [p for p in self.store.of_type("project") if not p["archived"]
                and p["gid"] not in self.limits.forbidden_projects
                and (workspace is None or p["workspace"].gid == workspace)]

    # --- choosing --------------------------------------------------------------------------------------
    def pick(self, candidates: Sequence[Record], count: int, gids: Optional[Sequence[str]],
             resource_type: str) -> List[Record]:
        """The records `gids` names (each must be of the type), else `count` drawn."""
        if gids is not None:
            missing = [g for g in gids if self.store.get(g, resource_type) is None]
            if missing:
                raise ValueError(f"not a {resource_type}: {', '.join(missing)}")
            return [self.store.records[g] for g in gids]
        return self.rng.sample(list(candidates), min(count, len(candidates)))

    def one_of(self, gid: Optional[str], resource_type: str, candidates: Sequence[Record]) -> Record:
        if gid is not None:
            return self.pick([], 1, [gid], resource_type)[0]
        if not candidates:
            raise ValueError(f"no {resource_type} to choose from")
        return self.rng.choice(list(candidates))

    def workspace(self, gid: Optional[str]) -> Record:
        """The workspace `gid`, by default the organization."""
        if gid is not None:
            return self.pick([], 1, [gid], "workspace")[0]
        spaces = self.store.of_type("workspace")
        return next((w for w in spaces if w["is_organization"]), spaces[0])

    def has_room(self, record: Record) -> bool:
        """A project or portfolio that some user of its workspace is not a member of yet."""
        members = {m.gid for m in record["members"]}
        return any(u not in members for u in self.store.related(Rel.WORKSPACE_USERS, record["workspace"].gid))

    def new_member(self, user: Optional[str], workspace: str, present: Sequence[str]) -> str:
        """`user`, else a user of the workspace not among `present`."""
        if user is not None:
            return self.one_of(user, "user", [])["gid"]
        others = [u for u in self.store.related(Rel.WORKSPACE_USERS, workspace) if u not in present]
        if not others:
            raise ValueError("every user of the workspace is a member already")
        return self.rng.choice(others)


class Mutator:
    """Applies ops by name, one at a time, numbering them."""

    def __init__(self, store: Store, restrictions: Restrictions, events: EventLog, ops: Mapping[str, Op],
                 options: Optional[Options] = None, observers: Sequence[Callable[[], None]] = ()) -> None:
        self.store, self.limits, self.events = store, restrictions, events
        self.options = options or Options()
        self._observers = tuple(observers)  # told after each op, under the store's lock
        self._ops = dict(ops)
        self.names = tuple(ops)
        self._seq = 0

    def check(self, op: Optional[str], kwargs: Mapping[str, Any]) -> None:
        """Raises what `apply` would for an unknown op or argument, without applying it."""
        if op not in self._ops:
            raise ValueError(f"unknown op {op!r}; one of {', '.join(self.names)}")
        inspect.signature(self._ops[op]).bind(None, **kwargs)

    def apply(self, op: str, **kwargs: Any) -> Dict[str, Any]:
        """Raises ValueError (unknown op, bad count) or TypeError (unknown argument)."""
        if op not in self._ops:
            raise ValueError(f"unknown op {op!r}; one of {', '.join(self.names)}")
        count = kwargs.get("count", 1)
        if not isinstance(count, int) or count < 0:
            raise ValueError("count must be a non-negative integer")
        with self.store.lock:
            self._seq += 1
            change = Change(self.store, self.limits, self.events, self.options, self._seq)
            result = self._ops[op](change, **kwargs)
            for observer in self._observers:
                observer()
        return {"op": op, **result}


# --- ops on the fake itself ---------------------------------------------------------------------------
def expire_sync_tokens(change: Change, gids: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """Every /events sync token issued so far (for the resources `gids`, if given) answers
    412 from now on: Asana's tokens "may expire sooner, depending on load" (`getEvents`), on cue."""
    return {"gids": list(gids or []), "epoch": change.events.expire_tokens(gids)}


def advance_clock(change: Change, hours: float = 0, seconds: float = 0) -> Dict[str, Any]:
    """Move the fake's clock forward (never back) without waiting: the Date header, the
    times of later changes and every lifetime check (sync tokens, offsets, OAuth tokens)
    follow it, so a token older than `sync_ttl` after the jump answers 412 and one
    younger still works."""
    for value in (hours, seconds):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError("hours and seconds must be non-negative numbers")
    offset = change.store.clock.advance(hours * 3600 + seconds)
    return {"offset_s": offset, "clock": fmt_datetime(change.store.clock.ms())}
