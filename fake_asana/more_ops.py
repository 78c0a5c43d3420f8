"""Mutation ops that add the resources of more.py, mixed into `mutate.Mutator`."""
from __future__ import annotations

import random
from typing import Any, Dict, List, Optional, Sequence

from .builder import DAY_MS, Builder
from .events import EventLog
from .more import DATE, MoreBuilder, Record, premium_workspaces
from .store import Ref, Rel, Store
from .timefmt import fmt_date, fmt_datetime, parse_ms

OPS = ("add_attachment", "add_status_update", "add_goal", "add_time_tracking_entry", "add_project_member",
       "add_team_member", "add_portfolio_member", "set_custom_field_value")
_UNSET = object()


class MoreOps:
    """Mixed into `mutate.Mutator` (which provides store, limits, events, _seq, _pick,
    _top_level and _below). Each op follows Asana's `modified_at` rules (asana-api.md 2.5)
    and logs the events Asana would."""

    store: Store
    limits: Any
    events: EventLog
    _seq: int

    def _reachable_tasks(self) -> List[Record]:
        top = self._top_level()  # type: ignore[attr-defined]
        return top + self._below(top)  # type: ignore[attr-defined]

    def _one_of(self, rng: random.Random, gid: Optional[str], resource_type: str,
                candidates: Sequence[Record]) -> Record:
        if gid is not None:
            return self._pick(rng, [], 1, [gid], resource_type)[0]  # type: ignore[attr-defined]
        if not candidates:
            raise ValueError(f"no {resource_type} to choose from")
        return rng.choice(list(candidates))

    def _story_added(self, task: Record, story: Record, at: int) -> None:
        task["modified_at"] = fmt_datetime(at)  # a new story bumps its task
        self.events.log(story, "added", at, self.events.reach_of_task(task), parent=task)

    def add_attachment(self, rng: random.Random, b: Builder, count: int = 1, gids: Optional[Sequence[str]] = None,
                       project: Optional[str] = None, name: Optional[str] = None,
                       host: str = "asana") -> Dict[str, Any]:
        """Attach a file to tasks (`gids`, or drawn), or with `project` to that project's Key
        resources. On a task it adds an `attachment_added` story, which bumps the task."""
        mb = MoreBuilder(self.store, b)
        if project is not None:
            parent = self._one_of(rng, project, "project", [])
            at = self.store.stamp_ms()
            attachment = mb.attachment(parent, at, name or f"resource-{self._seq}.pdf", host)
            return {"gids": [attachment["gid"]], "task_gids": [], "attachments": [
                {"gid": attachment["gid"], "parent": parent["gid"], "created_at": attachment["created_at"]}]}
        tasks = self._pick(rng, self._reachable_tasks(), count, gids, "task")  # type: ignore[attr-defined]
        out = []
        for task in tasks:
            at = self.store.stamp_ms(task["modified_at"])
            attachment = mb.attachment(task, at, name or f"file-{self._seq}.pdf", host)
            story = mb.attachment_story(task, attachment, self.store.me)
            self.events.log(attachment, "added", at, self.events.reach_of_task(task), parent=task)
            self._story_added(task, story, at)
            out.append({"gid": attachment["gid"], "parent": task["gid"], "created_at": attachment["created_at"],
                        "story": story["gid"], "task_modified_at": task["modified_at"]})
        return {"gids": [a["gid"] for a in out], "task_gids": [a["parent"] for a in out], "attachments": out}

    def add_status_update(self, rng: random.Random, b: Builder, parent: Optional[str] = None,
                          status_type: str = "on_track", title: Optional[str] = None) -> Dict[str, Any]:
        """A status update on a project (default: one drawn), portfolio or goal; it becomes
        the parent's `current_status_update`. The project's `modified_at` does not move
        (associations do not count, asana-api.md 3.5); its event stream gets `added`."""
        if parent is not None:
            record = self.store.get(parent)
            if record is None or record["resource_type"] not in ("project", "portfolio", "goal"):
                raise ValueError(f"not a project, portfolio or goal: {parent}")
        else:
            record = self._one_of(rng, None, "project", [
                p for p in self.store.of_type("project")
                if not p["archived"] and p["gid"] not in self.limits.forbidden_projects])
        at = self.store.stamp_ms()
        update = MoreBuilder(self.store, b).status_update(record, at, self.store.me, status_type,
                                                          title or f"Status {self._seq}")
        if record["resource_type"] == "project":
            self.events.log(update, "added", at, {record["gid"]}, parent=record)
        return {"gids": [update["gid"]], "parent": record["gid"], "created_at": update["created_at"]}

    def add_goal(self, rng: random.Random, b: Builder, workspace: Optional[str] = None,
                 team: Optional[str] = None, name: Optional[str] = None) -> Dict[str, Any]:
        """A goal in a team (`team`) or at workspace level (default: the first organization)."""
        if team is not None:
            team_record = self._one_of(rng, team, "team", [])
            space = team_record["organization"].gid
        else:
            spaces = [w["gid"] for w in self.store.of_type("workspace") if w["is_organization"]]
            space = self._one_of(rng, workspace, "workspace", [])["gid"] if workspace else spaces[0]
        goal = MoreBuilder(self.store, b).goal(space, team, self.store.stamp_ms(), name or f"Goal {self._seq}")
        return {"gids": [goal["gid"]], "workspace": space, "team": team}

    def add_time_tracking_entry(self, rng: random.Random, b: Builder, count: int = 1,
                                gids: Optional[Sequence[str]] = None, entered_on: Optional[str] = None,
                                days_back: Optional[int] = None, duration_minutes: int = 30,
                                bump: bool = False) -> Dict[str, Any]:
        """Log time on tasks (`gids`, or drawn from premium workspaces). `entered_on` (a date)
        or `days_back` puts the entry on a past day while its `created_at` is now.
        `actual_time_minutes` grows; `modified_at` does not move unless `bump`: Asana's list
        of what changes `modified_at` (asana-api.md 2.5) does not name time tracking, so the
        fake takes the harder case for a client by default. With `bump` the task's event
        stream also gets `changed` (`actual_time_minutes`)."""
        if entered_on is not None and not DATE.match(entered_on):
            raise ValueError("entered_on must be YYYY-MM-DD")
        premium = set(premium_workspaces(self.store))
        candidates = [t for t in self._reachable_tasks() if t["workspace"].gid in premium]
        tasks = self._pick(rng, candidates, count, gids, "task")  # type: ignore[attr-defined]
        mb, out = MoreBuilder(self.store, b), []
        for task in tasks:
            at = self.store.stamp_ms(task["modified_at"] if bump else None)
            day = entered_on or fmt_date(at - (days_back if days_back is not None else rng.randint(0, 30)) * DAY_MS)
            entry = mb.time_entry(task, at, day, duration_minutes, self.store.me)
            if bump:
                task["modified_at"] = fmt_datetime(at)
                self.events.log(task, "changed", at, self.events.reach_of_task(task),
                                change=EventLog.changed("actual_time_minutes", task["actual_time_minutes"]))
            out.append({"gid": entry["gid"], "task": task["gid"], "entered_on": day,
                        "created_at": entry["created_at"], "task_modified_at": task["modified_at"]})
        return {"gids": [e["gid"] for e in out], "task_gids": [e["task"] for e in out], "entries": out}

    def _has_room(self, record: Record) -> bool:
        """A project or portfolio that some user of its workspace is not a member of yet."""
        members = {m.gid for m in record["members"]}
        return any(u not in members for u in self.store.related(Rel.WORKSPACE_USERS, record["workspace"].gid))

    def _new_member(self, rng: random.Random, user: Optional[str], workspace: str, present: Sequence[str]) -> str:
        if user is not None:
            return self._one_of(rng, user, "user", [])["gid"]
        others = [u for u in self.store.related(Rel.WORKSPACE_USERS, workspace) if u not in present]
        if not others:
            raise ValueError("every user of the workspace is a member already")
        return rng.choice(others)

    def add_project_member(self, rng: random.Random, b: Builder, project: Optional[str] = None,
                           user: Optional[str] = None, access_level: str = "editor") -> Dict[str, Any]:
        """A user joins a project: a membership, `members` grows, `modified_at` stays
        (associations do not count), and the project's stream gets `changed` (`members`, added)."""
        record = self._one_of(rng, project, "project", [p for p in self.store.of_type("project")
                                                        if not p["archived"] and self._has_room(p)])
        member = self._new_member(rng, user, record["workspace"].gid, [m.gid for m in record["members"]])
        membership = MoreBuilder(self.store, b).project_membership(record, member, access_level)
        if all(m.gid != member for m in record["members"]):
            record["members"].append(Ref(member))
        user_record = self.store.records[member]
        self.events.log(record, "changed", self.store.stamp_ms(), {record["gid"]},
                        change={"field": "members", "action": "added",
                                "added_value": {"gid": member, "resource_type": "user", "name": user_record["name"]}})
        return {"gids": [membership["gid"]], "project": record["gid"], "user": member}

    def add_team_member(self, rng: random.Random, b: Builder, team: Optional[str] = None,
                        user: Optional[str] = None, is_admin: bool = False) -> Dict[str, Any]:
        open_teams = [t for t in self.store.of_type("team") if set(self.store.related(
            Rel.WORKSPACE_USERS, t["organization"].gid)) - set(self.store.related(Rel.TEAM_USERS, t["gid"]))]
        record = self._one_of(rng, team, "team", open_teams)
        present = self.store.related(Rel.TEAM_USERS, record["gid"])
        member = self._new_member(rng, user, record["organization"].gid, present)
        self.store.link(Rel.TEAM_USERS, record["gid"], member)
        membership = MoreBuilder(self.store, b).team_membership(record["gid"], member, is_admin)
        return {"gids": [membership["gid"]], "team": record["gid"], "user": member}

    def add_portfolio_member(self, rng: random.Random, b: Builder, portfolio: Optional[str] = None,
                             user: Optional[str] = None, access_level: str = "editor") -> Dict[str, Any]:
        record = self._one_of(rng, portfolio, "portfolio", [p for p in self.store.of_type("portfolio")
                                                            if self._has_room(p)])
        member = self._new_member(rng, user, record["workspace"].gid, [m.gid for m in record["members"]])
        membership = MoreBuilder(self.store, b).portfolio_membership(record, member, access_level)
        if all(m.gid != member for m in record["members"]):
            record["members"].append(Ref(member))
        return {"gids": [membership["gid"]], "portfolio": record["gid"], "user": member}

    def set_custom_field_value(self, rng: random.Random, b: Builder, gids: Optional[Sequence[str]] = None,
                               field: Optional[str] = None, value: Any = _UNSET) -> Dict[str, Any]:
        """Set a task's value of one of its custom fields (`field`: gid or name; default one
        drawn). `value` as the API takes it: text, number, enum option gid or name, a list of
        them (multi_enum), a date or date-time (date), user gids (people), or null to clear;
        absent: a new value drawn. A custom field change bumps `modified_at` and adds a
        `<type>_custom_field_changed` story (asana-api.md 2.5); the task's stream gets `changed`."""
        candidates = [t for t in self._reachable_tasks() if t["custom_fields"]]
        tasks = self._pick(rng, candidates, 1, gids, "task")  # type: ignore[attr-defined]
        out = []
        for task in tasks:
            values = task["custom_fields"]
            if field is None:
                index = rng.randrange(len(values)) if values else -1
            else:
                index = next((i for i, v in enumerate(values) if field in (v["gid"], v["name"])), -1)
            if index < 0:
                raise ValueError(f"task {task['gid']} has no custom field {field!r}")
            old = values[index]
            new = _new_value(b, self.store, old, value)
            values[index] = new
            at = self.store.stamp_ms(task["modified_at"])
            kind = new["resource_subtype"]
            story = b._story(task, at, self.store.me, f"{kind}_custom_field_changed", f"changed {new['name']}",
                             {"custom_field": Ref(new["gid"]), **_story_change(kind, old, new)})
            self._story_added(task, story, at)
            change = {"gid": new["gid"], "resource_type": "custom_field", "display_value": new["display_value"]}
            self.events.log(task, "changed", at, self.events.reach_of_task(task),
                            change=EventLog.changed("custom_fields", change))
            out.append({"task": task["gid"], "field": new["gid"], "display_value": new["display_value"],
                        "task_modified_at": task["modified_at"], "story": story["gid"]})
        return {"gids": [o["task"] for o in out], "values": out}


_VALUE_KEY = {"text": "text_value", "number": "number_value", "enum": "enum_value",
              "multi_enum": "multi_enum_values", "date": "date_value", "people": "people_value"}


def _story_change(kind: str, old: Record, new: Record) -> Dict[str, Any]:
    key = _VALUE_KEY[kind]
    return {f"old_{key}": old.get(key), f"new_{key}": new.get(key)}


def _new_value(b: Builder, store: Store, old: Record, value: Any) -> Record:
    """The value object `old` with a new value, shaped as `Builder.custom_field_value` makes it."""
    if value is _UNSET:
        fresh = b.custom_field_value(old["gid"], filled=True)
        return dict(fresh, enabled=old["enabled"])
    new = dict(old)
    kind, definition = old["resource_subtype"], store.records[old["gid"]]
    options = definition.get("enum_options", [])

    def option(choice: Any) -> Record:
        found = next((o for o in options if choice in (o["gid"], o["name"])), None)
        if found is None:
            raise ValueError(f"{definition['name']} has no option {choice!r}")
        return found

    if kind == "text":
        new["text_value"] = None if value is None else str(value)
        new["display_value"] = new["text_value"]
    elif kind == "number":
        precision = definition["precision"]
        new["number_value"] = None if value is None else round(float(value), precision)
        new["display_value"] = None if value is None else f"{new['number_value']:.{precision}f}"
    elif kind == "enum":
        new["enum_value"] = None if value is None else option(value)
        new["display_value"] = new["enum_value"]["name"] if new["enum_value"] else None
    elif kind == "multi_enum":
        chosen = [option(v) for v in (value or [])]
        new["multi_enum_values"] = chosen
        new["display_value"] = ", ".join(o["name"] for o in chosen) or None
    elif kind == "date":
        if value is None:
            new["date_value"] = None
        else:
            text = str(value)
            with_time = not DATE.match(text)
            ms = parse_ms(text)
            new["date_value"] = {"date": fmt_date(ms), "date_time": fmt_datetime(ms) if with_time else None}
        new["display_value"] = new["date_value"]["date"] if new["date_value"] else None
    elif kind == "people":
        people = [u for u in (value or [])]
        missing = [u for u in people if store.get(u, "user") is None]
        if missing:
            raise ValueError(f"not a user: {', '.join(missing)}")
        new["people_value"] = [Ref(u) for u in people]
        new["display_value"] = ", ".join(store.records[u]["name"] for u in people) or None
    return new
