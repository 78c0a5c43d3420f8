"""Stories: comments and the system stories Asana writes when a task changes. A new story
bumps its task's `modified_at`, and its event bubbles up to the task's ancestors and their
projects whatever `bubble_subtask_changes` says: Asana documents that stories bubble."""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ...factory import Generation, Maker
from ...mutate import Change
from ...routing import Route
from ...serving import Children, One, Serving
from ...store import Record, Ref, Rel
from ...timefmt import DAY_MS, fmt_date, fmt_datetime, parse_ms
from ...vocab import COMMENTS, STICKERS, TASK_OBJECTS, TASK_VERBS
from ..custom_fields import value, value_change

SOURCES = (("web", 0.8), ("mobile", 0.08), ("api", 0.08), ("email", 0.04))
#: The only story fields `StoryResponse` lets be null; a story leaves out any other it does not have.
NULLABLE = frozenset({"new_name", "old_number_value"})
FIELD_CHANGED = "_custom_field_changed"
COMMENT_SHARE = 0.45  # of generated stories; the others are system stories
REACTED_SHARE = {"comment": 0.2, "system": 0.05}  # of generated stories, by type, with reactions


# --- made --------------------------------------------------------------------------------------------
def new_story(make: Maker, task: Record, created: int, author: str, subtype: str, text: str,
              extra: Dict[str, Any]) -> Record:
    """A story on `task`; `extra` holds the fields of its kind (one that is None and may not be
    null, a comment without a sticker say, is left out)."""
    store = make.store
    record: Record = {
        "gid": store.new_gid(), "resource_type": "story", "created_at": fmt_datetime(created),
        "created_by": Ref(author), "resource_subtype": subtype, "type": "system", "text": text,
    }
    record.update((k, v) for k, v in extra.items() if v is not None or k in NULLABLE)
    record.update({
        "is_editable": record["type"] == "comment" and author == store.me,
        **make.likes(task["workspace"].gid),
        "reaction_summary": [],
        "source": make.weighted(SOURCES),
        "target": Ref(task["gid"]),
    })
    store.add(record)
    store.link(Rel.TASK_STORIES, task["gid"], record["gid"])
    return record


def comment(make: Maker, task: Record, created: int, author: Optional[str] = None,
            text: Optional[str] = None) -> Record:
    rng = make.rng
    author = author or rng.choice(make.members(task["workspace"].gid))
    text = text or rng.choice(COMMENTS)
    previews = []
    if rng.random() < 0.05:
        previews = [{"fallback": "Spec (Google Doc)", "footer": "Google Docs", "header": "Spec",
                     "header_link": "https://docs.example/spec", "html_text": "<body>Spec</body>",
                     "text": "Spec", "title": "Spec v2", "title_link": "https://docs.example/spec"}]
    return new_story(make, task, created, author, "comment_added", text, {
        "type": "comment", "html_text": make.html_of(text),
        "is_pinned": rng.random() < 0.05, "is_edited": rng.random() < 0.1,
        "sticker_name": rng.choice(STICKERS) if rng.random() < 0.05 else None,
        "previews": previews,
    })


def system_story(make: Maker, task: Record, created: int) -> Record:
    """One of the system story kinds that fits the task, with its change fields."""
    users = make.members(task["workspace"].gid)
    author = make.rng.choice(users)
    kind = make.rng.choice(system_kinds(task))
    if kind.endswith(FIELD_CHANGED):
        text, extra = _field_changed(make, task, kind[:-len(FIELD_CHANGED)])
    else:
        text, extra = SYSTEM_STORIES[kind](make, task, users)
    return new_story(make, task, created, author, kind, text, extra)


def system_kinds(task: Record) -> List[str]:
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
    for field_value in task["custom_fields"]:
        kinds.append(field_value["resource_subtype"] + FIELD_CHANGED)
    return kinds


# Each system story kind: (text, its change fields), drawn for a task from the workspace's users.
Story = Tuple[str, Dict[str, Any]]


def _assigned(make: Maker, task: Record, users: Sequence[str]) -> Story:
    user = make.rng.choice(users)
    return f"assigned to {make.name_of(user)}", {"assignee": Ref(user)}


def _due_date_changed(make: Maker, task: Record, users: Sequence[str]) -> Story:
    new = task["due_on"] or fmt_date(make.store.now_ms - make.rng.randint(1, 300) * DAY_MS)
    old = {"start_on": None, "due_at": None}  # no due date before: `due_on` may not be null, so it is left out
    return f"changed the due date to {new}", {
        "old_dates": old, "new_dates": {"start_on": task["start_on"], "due_at": task["due_at"], "due_on": new}}


def _name_changed(make: Maker, task: Record, users: Sequence[str]) -> Story:
    old = f"{make.rng.choice(TASK_VERBS)} {make.rng.choice(TASK_OBJECTS)}"
    return f'changed the name to "{task["name"]}"', {"old_name": old, "new_name": task["name"]}


def _notes_changed(make: Maker, task: Record, users: Sequence[str]) -> Story:
    return "changed the description", {}


def _follower_added(make: Maker, task: Record, users: Sequence[str]) -> Story:
    user = make.rng.choice(users)
    return f"added {make.name_of(user)} as a collaborator", {"follower": Ref(user)}


def _other_task(make: Maker, task: Record) -> str:
    return make.rng.choice(make.store.related(Rel.WORKSPACE_TASKS, task["workspace"].gid))


def _marked_duplicate(make: Maker, task: Record, users: Sequence[str]) -> Story:
    return "marked this task as a duplicate", {"duplicate_of": Ref(_other_task(make, task))}


def _duplicated(make: Maker, task: Record, users: Sequence[str]) -> Story:
    return "duplicated this task", {"duplicated_from": Ref(_other_task(make, task))}


def _resource_subtype_changed(make: Maker, task: Record, users: Sequence[str]) -> Story:
    return "changed the task type", {"old_resource_subtype": "default_task",
                                     "new_resource_subtype": task["resource_subtype"]}


def _added_to_project(make: Maker, task: Record, users: Sequence[str]) -> Story:
    project = make.rng.choice(task["projects"])
    return f"added to {make.name_of(project.gid)}", {"project": Ref(project.gid)}


def _section_changed(make: Maker, task: Record, users: Sequence[str]) -> Story:
    membership = make.rng.choice(task["memberships"])
    old = make.rng.choice(make.store.related(Rel.PROJECT_SECTIONS, membership["project"].gid))
    new = membership["section"].gid if membership["section"] else old
    return (f'moved this task from "{make.name_of(old)}" to "{make.name_of(new)}"',
            {"old_section": Ref(old), "new_section": Ref(new), "project": Ref(membership["project"].gid)})


def _added_to_tag(make: Maker, task: Record, users: Sequence[str]) -> Story:
    tag = make.rng.choice(task["tags"])
    return f"added to {make.name_of(tag.gid)}", {"tag": Ref(tag.gid)}


def _marked_complete(make: Maker, task: Record, users: Sequence[str]) -> Story:
    return "marked this task complete", {}


def _dependency_added(make: Maker, task: Record, users: Sequence[str]) -> Story:
    return "added a dependency", {"dependency": Ref(make.rng.choice(task["dependencies"]).gid)}


def _added_to_task(make: Maker, task: Record, users: Sequence[str]) -> Story:
    return f"added subtask to task {make.name_of(task['parent'].gid)}", {"task": Ref(task["parent"].gid)}


def _approval_status_changed(make: Maker, task: Record, users: Sequence[str]) -> Story:
    return "changed the approval status", {"old_approval_status": "pending",
                                           "new_approval_status": task.get("approval_status", "pending")}


def _field_changed(make: Maker, task: Record, kind: str) -> Story:
    """`<kind>_custom_field_changed`: a value of that type the task carries, and an older one."""
    current = make.rng.choice([v for v in task["custom_fields"] if v["resource_subtype"] == kind])
    old = value(make, current["gid"], filled=True)
    return f"changed {current['name']}", {"custom_field": Ref(current["gid"]), **value_change(kind, old, current)}


SYSTEM_STORIES: Dict[str, Callable[[Maker, Record, Sequence[str]], Story]] = {
    "assigned": _assigned, "due_date_changed": _due_date_changed, "name_changed": _name_changed,
    "notes_changed": _notes_changed, "follower_added": _follower_added, "marked_duplicate": _marked_duplicate,
    "duplicated": _duplicated, "resource_subtype_changed": _resource_subtype_changed,
    "added_to_project": _added_to_project, "section_changed": _section_changed, "added_to_tag": _added_to_tag,
    "marked_complete": _marked_complete, "dependency_added": _dependency_added, "added_to_task": _added_to_task,
    "approval_status_changed": _approval_status_changed,
}


# --- generated ---------------------------------------------------------------------------------------
def generate(gen: Generation, tasks: Sequence[Record]) -> None:
    """About `stories_per_task` stories per task, between its creation and last change."""
    mean = gen.sizes.stories_per_task
    for task in tasks:
        created, modified = parse_ms(task["created_at"]), parse_ms(task["modified_at"])
        count = round(gen.rng.uniform(0, 2 * mean))
        for at in sorted(gen.between(created, modified) for _ in range(count)):
            if gen.rng.random() < COMMENT_SHARE:
                comment(gen.make, task, at)
            else:
                system_story(gen.make, task, at)


def generate_reactions(gen: Generation) -> None:
    """Reactions to some stories (drawn after everything else)."""
    for story in gen.store.of_type("story"):
        task = gen.store.records[story["target"].gid]
        story["reaction_summary"] = gen.make.reactions(task["workspace"].gid, REACTED_SHARE[story["type"]])


# --- served ------------------------------------------------------------------------------------------
ROUTES = (
    Route("/tasks/{gid}/stories", Children("task", Rel.TASK_STORIES, access=Serving.task_visible)),
    Route("/stories/{gid}", One("story")),
)


# --- changed -----------------------------------------------------------------------------------------
def story_added(change: Change, task: Record, story: Record, at: int) -> None:
    """A new story bumps its task, and its event bubbles up."""
    task["modified_at"] = fmt_datetime(at)
    change.events.log(story, "added", at, change.events.reach_of_task(task), parent=task)


def add_stories(change: Change, count: int = 1, gids: Optional[Sequence[str]] = None,
                orphans: bool = False) -> Dict[str, Any]:
    """Comments on tasks or subtasks (with `orphans`: of tasks in no project)."""
    top = change.roots(orphans)
    targets = change.pick(top + change.below(top), count, gids, "task")
    stories = []
    for i in range(count if gids is None else len(targets)):
        task = targets[i % len(targets)] if targets else None
        if task is None:
            break
        at = change.store.stamp_ms(task["modified_at"])
        story = comment(change.make, task, at, author=change.store.me,
                        text=f"Comment added by mutation {change.seq}.")
        story_added(change, task, story, at)
        stories.append({"gid": story["gid"], "task": task["gid"], "created_at": story["created_at"],
                        "task_modified_at": task["modified_at"]})
    return {"gids": [s["gid"] for s in stories], "task_gids": list(dict.fromkeys(s["task"] for s in stories)),
            "stories": stories}
