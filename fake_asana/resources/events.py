"""`GET /events` (`getEvents`): a task's or a project's event stream, read from the event
log (events.py) after the access checks of the resource's other routes."""
from __future__ import annotations

from ..errors import FORBIDDEN, ApiError, bad_param, not_found
from ..routing import Route
from ..serving import ApiRequest, Body, Serving


def events(kit: Serving, request: ApiRequest) -> Body:
    """412 with a fresh token when `sync` is absent or stale, else the events since it."""
    gid = kit.required(request, "resource")
    if not gid.isdigit():
        raise bad_param("resource", "Not a Long")
    record = kit.store.get(gid)
    if record is None or record["resource_type"] not in ("task", "project"):
        raise not_found("resource", gid)
    if record["resource_type"] == "project" and gid in kit.limits.forbidden_projects:
        raise ApiError(403, FORBIDDEN)
    if gid in kit.limits.vanished_tasks:
        raise not_found("resource", gid)
    return kit.events.serve(gid, request.params.get("sync"))


ROUTES = (Route("/events", events),)
