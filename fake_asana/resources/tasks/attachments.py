"""Attachments of tasks and projects (metadata only: no file behind any URL)."""
from __future__ import annotations

from ...routing import Route
from ...serving import ApiRequest, Body, One, Serving
from ...store import Rel


def attachments(kit: Serving, request: ApiRequest) -> Body:
    parent = kit.parent(request, "parent", ("task", "project"))
    return kit.page(request, kit.store.related_records(Rel.ATTACHMENTS, parent["gid"]))


ROUTES = (
    Route("/attachments", attachments),
    Route("/attachments/{gid}", One("attachment")),
)
