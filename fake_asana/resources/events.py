"""The Events API: `GET /events` (`getEvents`), a task's or a project's event stream, after the
access checks of the resource's other routes; and `GET /workspaces/{gid}/events`
(`getWorkspaceEvents`), every event of a workspace, for a service account of an Enterprise+
organization only (https://developers.asana.com/reference/getworkspaceevents). Both read the
event log (events.py) with the same sync-token rules."""
from __future__ import annotations

from ..errors import FORBIDDEN, PREMIUM_ONLY, ApiError, bad_param, not_found
from ..events import WORKSPACE_PAGE_SIZE
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


def workspace_events(kit: Serving, request: ApiRequest, gid: str) -> Body:
    """402 unless the token is the service account's and the workspace is on Enterprise+;
    then as `/events`, up to 1000 events a call."""
    workspace = kit.get(gid, "workspace")
    if not request.service_account or workspace["gid"] not in kit.limits.enterprise_workspaces:
        raise ApiError(402, PREMIUM_ONLY)
    return kit.events.serve(workspace["gid"], request.params.get("sync"), page_size=WORKSPACE_PAGE_SIZE)


ROUTES = (Route("/events", events), Route("/workspaces/{gid}/events", workspace_events))
