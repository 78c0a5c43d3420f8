"""Record factories shared by the initial generation and by runtime mutations, so a task
added while the server runs has exactly the shape of a generated one."""
from __future__ import annotations

import html
import random
from typing import Any, Dict, List, Optional, Sequence, Tuple

from . import vocab
from .store import Ref, Rel, Store
from .timefmt import fmt_date, fmt_datetime

DAY_MS = 86_400_000
SUBTYPES = (("default_task", 0.85), ("milestone", 0.08), ("approval", 0.07))
OPEN_APPROVAL_STATUSES = ("pending", "rejected", "changes_requested")  # a completed approval is "approved"
#: `Builder.task(assignee=NOBODY)`: unassigned for sure (None lets the task draw an assignee).
NOBODY = ""


def ref(gid: Optional[str], embed: str = "compact") -> Optional[Ref]:
    return Ref(gid, embed) if gid else None


class Builder:
    def __init__(self, store: Store, rng: random.Random) -> None:
        self.store = store
        self.rng = rng

    # --- small helpers -------------------------------------------------------------------------
    def members(self, workspace: str) -> List[str]:
        return self.store.related(Rel.WORKSPACE_USERS, workspace)

    def name_of(self, gid: str) -> str:
        return self.store.records[gid]["name"]

    def weighted(self, pairs: Sequence[Tuple[str, float]]) -> str:
        return self.rng.choices([p[0] for p in pairs], [p[1] for p in pairs])[0]

    def likes(self, workspace: str) -> Dict[str, Any]:
        """likes/hearts (the deprecated alias) and their counts; `liked` is from the point
        of view of the token's owner ("me")."""
        users = self.members(workspace)
        count = self.rng.choice((0, 0, 0, 1, 1, 2, 3))
        likers = self.rng.sample(users, min(count, len(users)))
        likes = [{"gid": self.store.new_gid(), "user": Ref(u)} for u in likers]
        mine = self.store.me in likers
        return {"hearted": mine, "hearts": likes, "num_hearts": len(likes),
                "liked": mine, "likes": likes, "num_likes": len(likes)}

    @staticmethod
    def html_of(text: str) -> str:
        return "<body>" + html.escape(text, quote=False) + "</body>"

    # --- tasks --------------------------------------------------------------------------------
    def task(self, workspace: str, created: int, modified: int, parent: Optional[str] = None,
             assignee: Optional[str] = None, name: Optional[str] = None) -> Dict[str, Any]:
        """A task homed nowhere yet (see `home`); links it to its workspace and parent.
        `assignee` None draws one (or none); NOBODY leaves the task unassigned."""
        rng, store = self.rng, self.store
        gid = store.new_gid()
        users = self.members(workspace)
        subtype = self.weighted(SUBTYPES)
        if assignee is None and rng.random() < 0.75:
            assignee = rng.choice(users)
        completed = rng.random() < 0.4
        completed_at = rng.randint(created, modified) if completed else None
        creator = rng.choice(users)
        separator = subtype == "default_task" and rng.random() < 0.03
        title = name or f"{rng.choice(vocab.TASK_VERBS)} {rng.choice(vocab.TASK_OBJECTS)}"
        notes = rng.choice(vocab.NOTES)
        record: Dict[str, Any] = {
            "gid": gid, "resource_type": "task", "name": title + (":" if separator else ""),
            "resource_subtype": subtype,
        }
        if subtype == "approval":
            record["approval_status"] = "approved" if completed else rng.choice(OPEN_APPROVAL_STATUSES)
        record.update({
            "assignee": ref(assignee),
            "assignee_section": ref(self._my_tasks_section(assignee, workspace)),
            "assignee_status": rng.choice(("today", "upcoming", "later", "inbox")) if assignee else None,
            "assigned_by": ref(rng.choice(users)) if assignee else None,
            "completed": completed,
            "completed_at": fmt_datetime(completed_at) if completed_at else None,
            "completed_by": ref(rng.choice(users)) if completed else None,
            "created_at": fmt_datetime(created),
            "created_by": Ref(creator),
            "modified_at": fmt_datetime(modified),
            "dependencies": [], "dependents": [],
            **self._schedule(created),
            "external": ({"gid": f"ext-{gid[-6:]}", "data": f'{{"ticket": "OPS-{gid[-4:]}"}}'}
                         if rng.random() < 0.05 else None),
            "notes": notes, "html_notes": self.html_of(notes),
            "followers": [Ref(u) for u in dict.fromkeys(
                [creator] + ([assignee] if assignee else []) + rng.sample(users, min(len(users), rng.randint(0, 2))))],
            **self.likes(workspace),
            "is_rendered_as_separator": separator,
            "memberships": [], "projects": [], "tags": [],
            "num_subtasks": 0,
            "parent": ref(parent),
            "permalink_url": f"https://app.asana.com/0/0/{gid}",
            "custom_fields": [],
            "actual_time_minutes": None,
            "workspace": Ref(workspace),
        })
        store.add(record)
        store.link(Rel.WORKSPACE_TASKS, workspace, gid)
        if parent:
            store.link(Rel.TASK_SUBTASKS, parent, gid)
            store.records[parent]["num_subtasks"] += 1
        return record

    def _schedule(self, created: int) -> Dict[str, Any]:
        rng = self.rng
        out: Dict[str, Any] = {"due_at": None, "due_on": None, "start_at": None, "start_on": None}
        roll = rng.random()
        if roll < 0.15:
            due = created + rng.randint(1, 60) * DAY_MS
            due -= due % 900_000  # on a quarter hour, as the web app sets times
            out.update(due_at=fmt_datetime(due), due_on=fmt_date(due))
            if rng.random() < 0.3:
                out["start_at"] = fmt_datetime(due - rng.randint(1, 8) * 3_600_000)
        elif roll < 0.6:
            due = created + rng.randint(1, 60) * DAY_MS
            out["due_on"] = fmt_date(due)
            if rng.random() < 0.35:
                out["start_on"] = fmt_date(due - rng.randint(1, 10) * DAY_MS)
        return out

    def _my_tasks_section(self, user: Optional[str], workspace: str) -> Optional[str]:
        if not user:
            return None
        utl = self.store.user_task_lists.get((user, workspace))
        sections = self.store.related(Rel.PROJECT_SECTIONS, utl) if utl else []
        return self.rng.choice(sections) if sections else None

    def home(self, task: Dict[str, Any], project: str, section: Optional[str] = None) -> None:
        """Add a task to a project (and a section of it), as Asana's memberships."""
        store = self.store
        if section is None:
            sections = store.related(Rel.PROJECT_SECTIONS, project)
            section = self.rng.choice(sections) if sections else None
        task["projects"].append(Ref(project))
        task["memberships"].append({"project": Ref(project), "section": ref(section)})
        if len(task["projects"]) == 1:
            task["permalink_url"] = f"https://app.asana.com/0/{project}/{task['gid']}"
        store.link(Rel.PROJECT_TASKS, project, task["gid"])
        if section:
            store.link(Rel.SECTION_TASKS, section, task["gid"])
        self.refresh_custom_fields(task)

    def refresh_custom_fields(self, task: Dict[str, Any]) -> None:
        """A task carries a value for each field set on any of its projects; values it
        already has are kept."""
        have = {v["gid"]: v for v in task["custom_fields"]}
        values = []
        for project in task["projects"]:
            for setting in self.store.related_records(Rel.PROJECT_SETTINGS, project.gid):
                field_gid = setting["custom_field"].gid
                if field_gid not in have:
                    have[field_gid] = self.custom_field_value(field_gid)
                if all(v["gid"] != field_gid for v in values):
                    values.append(have[field_gid])
        task["custom_fields"] = values

    # --- custom fields ------------------------------------------------------------------------
    def custom_field_value(self, field_gid: str, filled: Optional[bool] = None) -> Dict[str, Any]:
        """A value object as Asana embeds it in tasks, projects and portfolios: the field's
        identity plus only the value keys of its type."""
        rng = self.rng
        field = self.store.records[field_gid]
        kind = field["resource_subtype"]
        filled = rng.random() < 0.7 if filled is None else filled
        value: Dict[str, Any] = {
            "gid": field_gid, "resource_type": "custom_field", "name": field["name"], "type": kind,
            "resource_subtype": kind, "representation_type": kind, "enabled": True,
            "is_formula_field": False, "is_value_read_only": False, "display_value": None,
        }
        if kind == "text":
            text = rng.choice(vocab.TAG_NAMES).upper() + f"-{rng.randint(100, 999)}" if filled else None
            value.update(text_value=text, display_value=text)
        elif kind == "number":
            precision = field["precision"]
            number = round(rng.uniform(0, 500), precision) if filled else None
            value.update(precision=precision, number_value=number,
                         display_value=f"{number:.{precision}f}" if filled else None)
        elif kind == "enum":
            options = [o for o in field["enum_options"] if o["enabled"]]
            choice = rng.choice(options) if filled else None
            value.update(enum_options=field["enum_options"], enum_value=choice,
                         display_value=choice["name"] if choice else None)
        elif kind == "multi_enum":
            options = [o for o in field["enum_options"] if o["enabled"]]
            chosen = rng.sample(options, rng.randint(1, len(options))) if filled else []
            value.update(enum_options=field["enum_options"], multi_enum_values=chosen,
                         display_value=", ".join(o["name"] for o in chosen) or None)
        elif kind == "date":
            day = self.store.now_ms - rng.randint(1, 400) * DAY_MS
            with_time = rng.random() < 0.3
            date_value = {"date": fmt_date(day),
                          "date_time": fmt_datetime(day - day % 3_600_000) if with_time else None} if filled else None
            value.update(date_value=date_value, display_value=date_value["date"] if date_value else None)
        elif kind == "people":
            workspace = field["_workspace"]
            people = rng.sample(self.members(workspace), rng.randint(1, 2)) if filled else []
            value.update(people_value=[Ref(p) for p in people],
                         display_value=", ".join(self.name_of(p) for p in people) or None)
        return value

    def setting(self, parent: str, field_gid: str, relation: str) -> Dict[str, Any]:
        record: Dict[str, Any] = {"gid": self.store.new_gid(), "resource_type": "custom_field_setting"}
        if relation == Rel.PROJECT_SETTINGS:
            record["project"] = Ref(parent)  # deprecated alias of `parent`, projects only
        record.update({"parent": Ref(parent), "is_important": self.rng.random() < 0.5,
                       "custom_field": Ref(field_gid, "full")})
        self.store.add(record)
        self.store.link(relation, parent, record["gid"])
        return record

    # --- projects -----------------------------------------------------------------------------
    def project(self, workspace: str, team: Optional[str], created: int, modified: int,
                fields: Sequence[str] = (), sections: int = 3, name: Optional[str] = None) -> Dict[str, Any]:
        rng, store = self.rng, self.store
        gid = store.new_gid()
        users = self.members(workspace)
        owner = store.me if rng.random() < 0.5 else rng.choice(users)
        members = list(dict.fromkeys([owner] + rng.sample(users, min(len(users), rng.randint(1, 4)))))
        followers = [u for u in members if rng.random() < 0.6] or [owner]
        completed = rng.random() < 0.1
        completed_at = rng.randint(created, modified) if completed else None
        due = created + rng.randint(20, 200) * DAY_MS if rng.random() < 0.6 else None
        start = due - rng.randint(5, 60) * DAY_MS if due and rng.random() < 0.5 else None
        notes = rng.choice(vocab.NOTES)
        title = name or f"{rng.choice(vocab.PROJECT_WORDS)} {rng.choice(vocab.PROJECT_KINDS)}"
        record: Dict[str, Any] = {
            "gid": gid, "resource_type": "project", "name": title, "archived": False,
            "color": rng.choice(vocab.COLORS + ("none",)),
            "icon": rng.choice(("list", "board", "timeline", "calendar", "rocket", "star", None)),
            "created_at": fmt_datetime(created), "modified_at": fmt_datetime(modified),
            "completed": completed,
            "completed_at": fmt_datetime(completed_at) if completed_at else None,
            "completed_by": Ref(owner) if completed else None,
            "current_status": None, "current_status_update": None,
            "custom_field_settings": [], "custom_fields": [],
            "default_view": rng.choice(("list", "board", "calendar", "timeline")),
            "due_date": fmt_date(due) if due else None, "due_on": fmt_date(due) if due else None,
            "start_on": fmt_date(start) if start else None,
            "notes": notes, "html_notes": self.html_of(notes),
            "members": [Ref(u) for u in members], "followers": [Ref(u) for u in followers],
            "owner": Ref(owner), "team": ref(team), "workspace": Ref(workspace),
            "public": rng.random() < 0.7,
            "privacy_setting": rng.choice(("public_to_workspace", "private")),
            "default_access_level": rng.choice(("admin", "editor", "commenter", "viewer")),
            "minimum_access_level_for_customization": "editor", "minimum_access_level_for_sharing": "editor",
            "is_template": False,
            "permalink_url": f"https://app.asana.com/0/{gid}/list",
            "project_brief": None, "created_from_template": None,
        }
        if rng.random() < 0.5:
            author = rng.choice(members)
            status_at = fmt_datetime(rng.randint(created, modified))
            title = rng.choice(vocab.STATUS_TITLES)
            text = f"{title}. Next review in two weeks."
            record["current_status"] = {
                "gid": store.new_gid(), "resource_type": "project_status", "title": title, "text": text,
                "html_text": self.html_of(text), "color": rng.choice(("green", "yellow", "red", "blue", "complete")),
                "author": Ref(author), "created_at": status_at, "created_by": Ref(author), "modified_at": status_at}
            record["current_status_update"] = {"gid": store.new_gid(), "resource_type": "status_update",
                                               "title": title, "resource_subtype": "project_status_update"}
        store.add(record)
        store.link(Rel.WORKSPACE_PROJECTS, workspace, gid)
        if team:
            store.link(Rel.TEAM_PROJECTS, team, gid)
        for i in range(sections):
            self.section(gid, vocab.SECTION_NAMES[i % len(vocab.SECTION_NAMES)],
                         min(modified, created + rng.randint(0, 7 * DAY_MS)))
        for field_gid in fields:
            setting = self.setting(gid, field_gid, Rel.PROJECT_SETTINGS)
            record["custom_field_settings"].append(Ref(setting["gid"], "full"))
            record["custom_fields"].append(self.custom_field_value(field_gid))
        return record

    def section(self, parent: str, name: str, created: int, private: bool = False) -> Dict[str, Any]:
        record = {"gid": self.store.new_gid(), "resource_type": "section", "name": name,
                  "created_at": fmt_datetime(created), "project": Ref(parent), "projects": [Ref(parent)]}
        if private:
            record["_my_tasks"] = True  # a My Tasks section: not a project's, not exported as one
        self.store.add(record)
        self.store.link(Rel.PROJECT_SECTIONS, parent, record["gid"])
        return record

    # --- stories ------------------------------------------------------------------------------
    def comment(self, task: Dict[str, Any], created: int, author: Optional[str] = None,
                text: Optional[str] = None) -> Dict[str, Any]:
        rng = self.rng
        workspace = task["workspace"].gid
        author = author or rng.choice(self.members(workspace))
        text = text or rng.choice(vocab.COMMENTS)
        previews = []
        if rng.random() < 0.05:
            previews = [{"fallback": "Spec (Google Doc)", "footer": "Google Docs", "header": "Spec",
                         "header_link": "https://docs.example/spec", "html_text": "<body>Spec</body>",
                         "text": "Spec", "title": "Spec v2", "title_link": "https://docs.example/spec"}]
        return self._story(task, created, author, "comment_added", text, {
            "type": "comment", "html_text": self.html_of(text),
            "is_pinned": rng.random() < 0.05, "is_edited": rng.random() < 0.1,
            "sticker_name": rng.choice(vocab.STICKERS) if rng.random() < 0.05 else None,
            "previews": previews,
        })

    def _story(self, task: Dict[str, Any], created: int, author: str, subtype: str, text: str,
               extra: Dict[str, Any]) -> Dict[str, Any]:
        store = self.store
        record: Dict[str, Any] = {
            "gid": store.new_gid(), "resource_type": "story", "created_at": fmt_datetime(created),
            "created_by": Ref(author), "resource_subtype": subtype, "type": "system", "text": text,
        }
        record.update(extra)
        record.update({
            "is_editable": record["type"] == "comment" and author == store.me,
            **self.likes(task["workspace"].gid),
            "source": self.weighted((("web", 0.8), ("mobile", 0.08), ("api", 0.08), ("email", 0.04))),
            "target": Ref(task["gid"]),
        })
        store.add(record)
        store.link(Rel.TASK_STORIES, task["gid"], record["gid"])
        return record

    def system_story(self, task: Dict[str, Any], created: int) -> Dict[str, Any]:
        """One of the system story kinds that fits the task, with its change fields."""
        rng = self.rng
        users = self.members(task["workspace"].gid)
        author = rng.choice(users)
        kinds = self._system_kinds(task)
        kind = rng.choice(kinds)
        text, extra = getattr(self, "_story_" + kind)(task, users)
        return self._story(task, created, author, kind, text, extra)

    def _system_kinds(self, task: Dict[str, Any]) -> List[str]:
        kinds = ["assigned", "due_date_changed", "name_changed", "notes_changed", "follower_added",
                 "marked_duplicate", "duplicated", "resource_subtype_changed"]
        if task["projects"]:
            kinds += ["added_to_project", "section_changed"]
        if task["tags"]:
            kinds.append("added_to_tag")
        if task["completed"]:
            kinds.append("marked_complete")
        if task["dependencies"]:
            kinds.append("dependency_added")
        if task["parent"]:
            kinds.append("added_to_task")
        if task["resource_subtype"] == "approval":
            kinds.append("approval_status_changed")
        for value in task["custom_fields"]:
            kinds.append(value["resource_subtype"] + "_custom_field_changed")
        return kinds

    def _story_assigned(self, task, users):
        user = self.rng.choice(users)
        return f"assigned to {self.name_of(user)}", {"assignee": Ref(user)}

    def _story_due_date_changed(self, task, users):
        new = task["due_on"] or fmt_date(self.store.now_ms - self.rng.randint(1, 300) * DAY_MS)
        old = {"start_on": None, "due_at": None, "due_on": None}
        return f"changed the due date to {new}", {
            "old_dates": old, "new_dates": {"start_on": task["start_on"], "due_at": task["due_at"], "due_on": new}}

    def _story_name_changed(self, task, users):
        old = f"{self.rng.choice(vocab.TASK_VERBS)} {self.rng.choice(vocab.TASK_OBJECTS)}"
        return f'changed the name to "{task["name"]}"', {"old_name": old, "new_name": task["name"]}

    def _story_notes_changed(self, task, users):
        return "changed the description", {}

    def _story_follower_added(self, task, users):
        user = self.rng.choice(users)
        return f"added {self.name_of(user)} as a collaborator", {"follower": Ref(user)}

    def _other_task(self, task):
        tasks = self.store.related(Rel.WORKSPACE_TASKS, task["workspace"].gid)
        return self.rng.choice(tasks)

    def _story_marked_duplicate(self, task, users):
        return "marked this task as a duplicate", {"duplicate_of": Ref(self._other_task(task))}

    def _story_duplicated(self, task, users):
        return "duplicated this task", {"duplicated_from": Ref(self._other_task(task))}

    def _story_resource_subtype_changed(self, task, users):
        return "changed the task type", {"old_resource_subtype": "default_task",
                                         "new_resource_subtype": task["resource_subtype"]}

    def _story_added_to_project(self, task, users):
        project = self.rng.choice(task["projects"])
        return f"added to {self.name_of(project.gid)}", {"project": Ref(project.gid)}

    def _story_section_changed(self, task, users):
        membership = self.rng.choice(task["memberships"])
        sections = self.store.related(Rel.PROJECT_SECTIONS, membership["project"].gid)
        old = self.rng.choice(sections)
        new = membership["section"].gid if membership["section"] else old
        return (f'moved this task from "{self.name_of(old)}" to "{self.name_of(new)}"',
                {"old_section": Ref(old), "new_section": Ref(new), "project": Ref(membership["project"].gid)})

    def _story_added_to_tag(self, task, users):
        tag = self.rng.choice(task["tags"])
        return f"added to {self.name_of(tag.gid)}", {"tag": Ref(tag.gid)}

    def _story_marked_complete(self, task, users):
        return "marked this task complete", {}

    def _story_dependency_added(self, task, users):
        return "added a dependency", {"dependency": Ref(self.rng.choice(task["dependencies"]).gid)}

    def _story_added_to_task(self, task, users):
        return f"added subtask to task {self.name_of(task['parent'].gid)}", {"task": Ref(task["parent"].gid)}

    def _story_approval_status_changed(self, task, users):
        return "changed the approval status", {"old_approval_status": "pending",
                                               "new_approval_status": task.get("approval_status", "pending")}

    def _field_change(self, task, kind):
        value = self.rng.choice([v for v in task["custom_fields"] if v["resource_subtype"] == kind])
        old = self.custom_field_value(value["gid"], filled=True)
        return value, old

    def _story_text_custom_field_changed(self, task, users):
        value, old = self._field_change(task, "text")
        return f"changed {value['name']}", {"custom_field": Ref(value["gid"]), "old_text_value": old["text_value"],
                                            "new_text_value": value["text_value"]}

    def _story_number_custom_field_changed(self, task, users):
        value, old = self._field_change(task, "number")
        return f"changed {value['name']}", {"custom_field": Ref(value["gid"]),
                                            "old_number_value": old["number_value"],
                                            "new_number_value": value["number_value"]}

    def _story_enum_custom_field_changed(self, task, users):
        value, old = self._field_change(task, "enum")
        return f"changed {value['name']}", {"custom_field": Ref(value["gid"]), "old_enum_value": old["enum_value"],
                                            "new_enum_value": value["enum_value"]}

    def _story_multi_enum_custom_field_changed(self, task, users):
        value, old = self._field_change(task, "multi_enum")
        return f"changed {value['name']}", {"custom_field": Ref(value["gid"]),
                                            "old_multi_enum_values": old["multi_enum_values"],
                                            "new_multi_enum_values": value["multi_enum_values"]}

    def _story_date_custom_field_changed(self, task, users):
        value, old = self._field_change(task, "date")
        return f"changed {value['name']}", {"custom_field": Ref(value["gid"]), "old_date_value": old["date_value"],
                                            "new_date_value": value["date_value"]}

    def _story_people_custom_field_changed(self, task, users):
        value, old = self._field_change(task, "people")
        return f"changed {value['name']}", {"custom_field": Ref(value["gid"]),
                                            "old_people_value": old["people_value"],
                                            "new_people_value": value["people_value"]}
