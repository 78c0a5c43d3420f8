"""Attachments of tasks and projects (metadata only: no file behind any URL). Attaching a
file to a task adds an `attachment_added` story, which bumps the task."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from ...factory import Generation, Maker
from ...mutate import Change
from ...routing import Route
from ...serving import ApiRequest, Body, One, Serving
from ...store import Record, Ref, Rel
from ...timefmt import fmt_datetime, parse_ms
from .stories import new_story, story_added

TASK_ATTACHMENT_SHARE = 0.2  # tasks and subtasks with 1-2 attachments
PROJECT_ATTACHMENT_SHARE = 0.3  # projects with a "Key resources" file
HOSTS = (("asana", 0.7), ("gdrive", 0.1), ("dropbox", 0.06), ("box", 0.04), ("external", 0.05),
         ("vimeo", 0.03), ("onedrive", 0.02))
NAMES = ("spec.pdf", "mockup.png", "budget.xlsx", "notes.docx", "screenshot.png", "contract.pdf",
         "roadmap.key", "export.csv", "logo.svg", "walkthrough.mp4")


# --- made --------------------------------------------------------------------------------------------
def new_attachment(make: Maker, parent: Record, created: int, name: Optional[str] = None,
                   host: Optional[str] = None) -> Record:
    host = host or make.weighted(HOSTS)
    name = name or make.rng.choice(NAMES)
    gid = make.store.new_gid()
    # Asana's download_url is valid for two minutes (`getAttachment`); these are never valid, and
    # Asana gives none for Box and Vimeo.
    download = None if host in ("box", "vimeo") else \
        f"https://attachments.fake-asana.invalid/{gid}/{name}?expires=120"
    record: Record = {"gid": gid, "resource_type": "attachment", "name": name, "resource_subtype": host,
                      "host": host, "created_at": fmt_datetime(created), "download_url": download,
                      "permanent_url": f"https://app.asana.com/app/asana/-/get_asset?asset_id={gid}",
                      "view_url": None if host == "box" else f"https://attachments.fake-asana.invalid/view/{gid}",
                      "parent": Ref(parent["gid"])}
    if host == "asana":
        record["size"] = make.rng.randint(2_000, 9_000_000)  # only for files Asana hosts
    if host in ("external", "gdrive"):
        record["connected_to_app"] = False
    make.store.add(record)
    make.store.link(Rel.ATTACHMENTS, parent["gid"], gid)
    return record


def attachment_story(make: Maker, task: Record, attachment: Record, author: str) -> Record:
    return new_story(make, task, parse_ms(attachment["created_at"]), author, "attachment_added",
                     f"attached {attachment['name']}", {})


# --- generated ---------------------------------------------------------------------------------------
def generate(gen: Generation, tasks: Sequence[Record], projects: Sequence[Record]) -> None:
    for task in tasks:
        if gen.rng.random() >= TASK_ATTACHMENT_SHARE:
            continue
        created, modified = parse_ms(task["created_at"]), parse_ms(task["modified_at"])
        for _ in range(gen.rng.randint(1, 2)):
            attachment = new_attachment(gen.make, task, gen.between(created, modified))
            attachment_story(gen.make, task, attachment, gen.rng.choice(gen.make.members(task["workspace"].gid)))
    for project in projects:
        if gen.rng.random() < PROJECT_ATTACHMENT_SHARE:
            new_attachment(gen.make, project, gen.between(parse_ms(project["created_at"]), gen.end))


# --- served ------------------------------------------------------------------------------------------
def attachments(kit: Serving, request: ApiRequest) -> Body:
    parent = kit.parent(request, "parent", ("task", "project"))
    return kit.page(request, kit.store.related_records(Rel.ATTACHMENTS, parent["gid"]))


ROUTES = (
    Route("/attachments", attachments),
    Route("/attachments/{gid}", One("attachment")),
)


# --- changed -----------------------------------------------------------------------------------------
def add_attachment(change: Change, count: int = 1, gids: Optional[Sequence[str]] = None,
                   project: Optional[str] = None, name: Optional[str] = None, host: str = "asana") -> Dict[str, Any]:
    """Attach a file to tasks (`gids`, or drawn), or with `project` to that project's Key
    resources. On a task it adds an `attachment_added` story, which bumps the task; the
    attachment is `added` (parent: the task) where the task's changes go. On a project it is
    `added` (parent: the project) in the project's stream."""
    if project is not None:
        parent = change.one_of(project, "project", [])
        at = change.store.stamp_ms()
        attachment = new_attachment(change.make, parent, at, name or f"resource-{change.seq}.pdf", host)
        change.events.log(attachment, "added", at, {parent["gid"]}, parent=parent)
        return {"gids": [attachment["gid"]], "task_gids": [], "attachments": [
            {"gid": attachment["gid"], "parent": parent["gid"], "created_at": attachment["created_at"]}]}
    tasks = change.pick(change.reachable_tasks(), count, gids, "task")
    out: List[Dict[str, Any]] = []
    for task in tasks:
        at = change.store.stamp_ms(task["modified_at"])
        attachment = new_attachment(change.make, task, at, name or f"file-{change.seq}.pdf", host)
        story = attachment_story(change.make, task, attachment, change.store.me)
        change.events.log(attachment, "added", at, change.events.reach_of_task(task), parent=task)
        story_added(change, task, story, at)
        out.append({"gid": attachment["gid"], "parent": task["gid"], "created_at": attachment["created_at"],
                    "story": story["gid"], "task_modified_at": task["modified_at"]})
    return {"gids": [a["gid"] for a in out], "task_gids": [a["parent"] for a in out], "attachments": out}
