"""What every GET route builds on: the parsed request, the lookups and access checks Asana
answers 400, 402, 403 and 404 from, query parameter parsing, and the `{"data": ...}`
envelopes. Also the two generic ways a family declares a route by its facts rather than
by hand: `One` (a record by gid) and `Children` (the records related to one parent)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .errors import FORBIDDEN, PREMIUM_ONLY, ApiError, bad_param, not_found
from .events import EventLog
from .paging import Pager
from .render import FieldTree, Renderer, parse_opt_fields
from .restrictions import Restrictions
from .search_index import SearchIndex
from .store import Record, Store
from .timefmt import DATE, parse_us

Body = Dict[str, Any]


@dataclass
class ApiRequest:
    path: str  # below /api/1.0
    query: List[Tuple[str, str]]
    user: str  # the authenticated user's gid
    base_url: str
    #: Made with the token of the organization's service account (`service_account_token`).
    service_account: bool = False
    params: Dict[str, str] = field(init=False)
    fields: Optional[FieldTree] = field(init=False)

    def __post_init__(self) -> None:
        self.params = {}
        for key, value in self.query:
            self.params.setdefault(key, value)
        self.fields = parse_opt_fields(self.params.get("opt_fields"))


class Serving:
    """Handed to every route with the request; the store's lock is held meanwhile."""

    def __init__(self, store: Store, pager: Pager, restrictions: Restrictions, events: EventLog,
                 search_index: Optional[SearchIndex] = None) -> None:
        self.store, self.pager, self.limits, self.events = store, pager, restrictions, events
        self.search_index = search_index or SearchIndex(store, lambda: 0)
        self.render = Renderer(store)

    # --- finding records ---------------------------------------------------------------------------
    def get(self, gid: str, resource_type: str, param: Optional[str] = None) -> Record:
        param = param or resource_type
        if not gid.isdigit():
            raise bad_param(param, "Not a Long")
        record = self.store.get(gid, resource_type)
        if record is None:
            raise not_found(param, gid)
        return record

    def user(self, value: str, param: str = "user") -> Record:
        """A user by gid, by email, or "me"."""
        if value == "me":
            return self.store.records[self.store.me]
        if "@" in value:
            for user in self.store.of_type("user"):
                if user["email"].lower() == value.lower():
                    return user
            raise not_found(param, value)
        return self.get(value, "user", param)

    def parent(self, request: ApiRequest, name: str, allowed: Sequence[str]) -> Record:
        """The record a required query parameter names (`?parent=`), of one of the allowed
        types, after the access check of its type."""
        gid = self.required(request, name)
        if not gid.isdigit():
            raise bad_param(name, "Not a Long")
        record = self.store.get(gid)
        if record is None or record["resource_type"] not in allowed:
            raise not_found(name, gid)
        kind = record["resource_type"]
        if kind == "project":
            return self.readable_project(gid)
        if kind == "task":
            return self.task(gid)
        if kind in ("portfolio", "goal"):
            self.premium(record["workspace"].gid)
        return record

    def readable_project(self, gid: str) -> Record:
        project = self.get(gid, "project")
        self.project_readable(project)
        return project

    def task(self, gid: str) -> Record:
        task = self.get(gid, "task")
        self.task_visible(task)
        return task

    def portfolio(self, gid: str) -> Record:
        portfolio = self.get(gid, "portfolio")
        self.paid(portfolio)
        return portfolio

    # --- who may see what (each takes the record, so a route can declare it as its access) --------
    def premium(self, workspace_gid: str) -> None:
        if workspace_gid in self.limits.free_workspaces:
            raise ApiError(402, PREMIUM_ONLY)

    def paid(self, record: Record) -> None:
        """A paid feature of the record's workspace."""
        self.premium(record["workspace"].gid)

    def paid_workspace(self, workspace: Record) -> None:
        self.premium(workspace["gid"])

    def project_readable(self, project: Record) -> None:
        if project["gid"] in self.limits.forbidden_projects:
            raise ApiError(403, FORBIDDEN)

    def task_visible(self, task: Record) -> None:
        if task["gid"] in self.limits.vanished_tasks:  # deleted between listing and reading
            raise not_found("task", task["gid"])

    # --- parameters --------------------------------------------------------------------------------
    @staticmethod
    def required(request: ApiRequest, name: str) -> str:
        value = request.params.get(name)
        if not value:
            raise bad_param(name, "Missing input")
        return value

    @staticmethod
    def flag(request: ApiRequest, name: str) -> Optional[bool]:
        raw = request.params.get(name)
        if raw is None:
            return None
        if raw.lower() not in ("true", "false"):
            raise bad_param(name, f"Not a boolean: {raw}")
        return raw.lower() == "true"

    @staticmethod
    def time(request: ApiRequest, name: str) -> Optional[int]:
        """A date-time parameter, in microseconds."""
        raw = request.params.get(name)
        if raw is None:
            return None
        try:
            return parse_us(raw)
        except ValueError:
            raise bad_param(name, f"Not a valid ISO 8601 date-time: {raw}")

    @staticmethod
    def date(request: ApiRequest, name: str) -> Optional[str]:
        raw = request.params.get(name)
        if raw is None:
            return None
        if not DATE.match(raw):
            raise bad_param(name, f"Not a valid date: {raw}")
        return raw

    # --- envelopes ---------------------------------------------------------------------------------
    def page(self, request: ApiRequest, records: Sequence[Record], compact: Sequence[str] = ()) -> Body:
        """A collection: compact records (or as opt_fields ask), cut into pages. `compact`: the
        fields shown without opt_fields, for records a route shows otherwise than their type."""
        page, extra = self.pager.page(records, request.path, request.query, request.params, request.base_url)
        fields = request.fields if request.fields is not None or not compact else {k: {} for k in compact}
        return {"data": self.render.many(page, fields), **extra}

    def unpaged(self, request: ApiRequest, records: Sequence[Record]) -> Body:
        return {"data": self.render.many(records, request.fields)}

    def one(self, request: ApiRequest, record: Record) -> Body:
        return {"data": self.render.one(record, request.fields)}


#: A check on a record about to be served (or a parent about to be listed): raises the ApiError.
Access = Callable[[Serving, Record], None]
#: Narrows or orders a listing's records, reading the request's parameters.
Refine = Callable[[Serving, ApiRequest, List[Record]], List[Record]]


@dataclass(frozen=True)
class One:
    """`GET /<resources>/{gid}`: one record of a type, after its access check."""

    resource_type: str
    access: Optional[Access] = None

    def __call__(self, kit: Serving, request: ApiRequest, gid: str) -> Body:
        record = kit.get(gid, self.resource_type)
        if self.access:
            self.access(kit, record)
        return kit.one(request, record)


@dataclass(frozen=True)
class Children:
    """`GET /<parents>/{gid}/<children>`: the records a relation holds for one parent, in gid
    order, after the parent's access check; paged unless `paged` is off."""

    parent_type: str
    relation: str
    access: Optional[Access] = None
    refine: Optional[Refine] = None
    paged: bool = True

    def __call__(self, kit: Serving, request: ApiRequest, gid: str) -> Body:
        parent = kit.get(gid, self.parent_type)
        if self.access:
            self.access(kit, parent)
        records = kit.store.related_records(self.relation, parent["gid"])
        if self.refine:
            records = self.refine(kit, request, records)
        return kit.page(request, records) if self.paged else kit.unpaged(request, records)
