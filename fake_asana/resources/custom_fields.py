"""Custom fields: the organization's field definitions, the value objects tasks, projects
and portfolios carry, and the settings that put a field on a project or portfolio."""
from __future__ import annotations

from ..routing import Route
from ..serving import Children, One, Record, Serving
from ..store import Rel


def field_paid(kit: Serving, field_record: Record) -> None:
    kit.premium(field_record["_workspace"])


ROUTES = (
    Route("/workspaces/{gid}/custom_fields",
          Children("workspace", Rel.WORKSPACE_CUSTOM_FIELDS, access=Serving.paid_workspace)),
    Route("/custom_fields/{gid}", One("custom_field", access=field_paid)),
)
