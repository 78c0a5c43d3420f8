"""Tags, and which tasks carry them. Tags have no `modified_at` and their `created_at` never
changes: a renamed tag shows only in a full read."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional, Sequence

from ..errors import MULTI_WORKSPACE, ApiError
from ..factory import Generation
from ..mutate import Change
from ..routing import Route
from ..serving import ApiRequest, Body, Children, One, Serving
from ..store import Record, Ref, Rel
from ..timefmt import fmt_datetime
from ..vocab import COLORS, NOTES, TAG_NAMES

TAGGED_SHARE = 0.3  # of tasks, with 1-2 tags of their workspace


# --- generated ---------------------------------------------------------------------------------------
def generate(gen: Generation, workspace: str) -> List[str]:
    """`tags` tags in the workspace."""
    store, rng = gen.store, gen.rng
    users = gen.make.members(workspace)
    out = []
    for i in range(gen.sizes.tags):
        gid = store.new_gid()
        name = TAG_NAMES[i % len(TAG_NAMES)] + (f"-{i}" if i >= len(TAG_NAMES) else "")
        store.add({"gid": gid, "resource_type": "tag", "name": name,
                   "color": rng.choice(COLORS), "notes": rng.choice(NOTES),
                   "created_at": fmt_datetime(gen.between(gen.start, gen.end)),
                   "followers": [Ref(u) for u in rng.sample(users, min(len(users), 2))],
                   "workspace": Ref(workspace), "permalink_url": f"https://app.asana.com/0/{gid}/list"})
        store.link(Rel.WORKSPACE_TAGS, workspace, gid)
        out.append(gid)
    return out


def tag_tasks(gen: Generation, tasks: Sequence[Record], tags: Mapping[str, List[str]]) -> None:
    """Tag a share of the tasks with tags of their workspace (`tags`: workspace -> tag gids)."""
    for task in tasks:
        available = tags[task["workspace"].gid]
        if available and gen.rng.random() < TAGGED_SHARE:
            for tag in gen.rng.sample(available, min(len(available), gen.rng.randint(1, 2))):
                task["tags"].append(Ref(tag))
                gen.store.link(Rel.TAG_TASKS, tag, task["gid"])


# --- served ------------------------------------------------------------------------------------------

TAGS_OF_WORKSPACE = Children("workspace", Rel.WORKSPACE_TAGS)


def tags(kit: Serving, request: ApiRequest) -> Body:
    workspace = request.params.get("workspace")
    if not workspace:
        raise ApiError(400, MULTI_WORKSPACE)
    return TAGS_OF_WORKSPACE(kit, request, workspace)


def tags_of_task(kit: Serving, request: ApiRequest, gid: str) -> Body:
    task = kit.task(gid)
    return kit.page(request, [kit.store.records[t.gid] for t in task["tags"] if t.gid in kit.store.records])


ROUTES = (
    Route("/tags", tags),
    Route("/workspaces/{gid}/tags", TAGS_OF_WORKSPACE),
    Route("/tags/{gid}", One("tag")),
    Route("/tags/{gid}/tasks", Children("tag", Rel.TAG_TASKS)),
    Route("/tasks/{gid}/tags", tags_of_task),
)


# --- changed -----------------------------------------------------------------------------------------
def rename_tag(change: Change, count: int = 1, gids: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    tags = change.pick(change.store.of_type("tag"), count, gids, "tag")
    for tag in tags:
        tag["name"] = re.sub(r" \(renamed \d+\)$", "", tag["name"]) + f" (renamed {change.seq})"
    return {"gids": [t["gid"] for t in tags], "names": [t["name"] for t in tags]}
