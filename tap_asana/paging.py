"""Pagination: one collection read page by page, each ``fetch_next`` one request through
the client's ``get``. Asana pages three ways: ``next_page`` offsets (``Listing``), search
sorted by a time and asked again from the last one seen (``SearchListing``), and the Events
API's sync tokens (``EventListing``). Each listing stops with a ``Fatal`` rather than loop
forever. No HTTP here: the client (``AsanaClient``: ``get`` and ``config``) sends, retries and
classifies."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Dict, List, Optional
from urllib.parse import urlparse

from tap_asana import contract
from tap_asana.errors import Fatal, OffsetExpired, SearchStuck, SyncExpired, _shape

LOGGER = logging.getLogger("tap_asana")

#: How often one listing may start over after its offset expired.
MAX_LISTING_RESTARTS = 3
#: Pages in a row that bring no record not seen before (each with a new offset) after which
#: a listing is taken to be going round in circles.
MAX_STALE_PAGES = 5


class Listing:
    """One collection read page by page. ``fetch_next`` sends one request; an expired
    offset starts the listing over, and records already returned are not returned again."""

    def __init__(self, client: Any, path: str, params: Dict[str, Any], paginated: bool):
        self.client, self.path, self.params, self.paginated = client, path, params, paginated
        if paginated:
            self.params["limit"] = client.config.page_size
        self.offset: Optional[str] = None
        self.offsets_seen: set = set()
        self.gids_seen: set = set()
        self.restarts = 0
        self.pages = 0  # pages read since the listing (re)started
        self.stale = 0  # pages in a row without a record not seen before
        self.replay = 0  # pages a restart reads again, which bring nothing new
        self.done = False

    def fetch_next(self) -> List[Dict[str, Any]]:
        params = dict(self.params, offset=self.offset) if self.offset else self.params
        try:
            body = self.client.get(self.path, params)
        except OffsetExpired:
            self.restarts += 1
            if self.restarts > MAX_LISTING_RESTARTS:
                raise Fatal(f"pagination offsets on {self.path} kept expiring; gave up after {MAX_LISTING_RESTARTS} restarts")
            LOGGER.warning("Pagination offset expired on %s; starting that listing over", self.path)
            self.offset, self.offsets_seen = None, set()
            self.replay, self.pages, self.stale = self.pages, 0, 0
            return []
        self.offset = self._offset(body) if self.paginated else None
        if self.offset in self.offsets_seen:
            raise Fatal(f"Asana returned the same offset twice on {self.path}; stopping that loop")
        if self.offset:
            self.offsets_seen.add(self.offset)
        self.done = not self.offset
        url = self.client.config.api_url + self.path
        data = _records(body["data"], url)
        fresh = _fresh(data, self.gids_seen)
        self.pages += 1
        self.stale = 0 if fresh else self.stale + 1
        if not self.done:
            _check_progress(url, self.pages, self.client.config.max_pages,
                            self.stale if self.stale > self.replay else 0)
        return fresh


    def _offset(self, body: Dict[str, Any]) -> Optional[str]:
        """The next page's offset (None: the last page), each part held to Asana's contract."""
        next_page = checked(self.path, body, "next_page")
        if not isinstance(next_page, dict) or next_page.get("offset") is None:
            return None
        return checked(self.path, next_page, "next_page.offset")


class SearchListing:
    """A search endpoint, which has no next_page: sort ascending by `cursor_field` and
    ask again from the last value seen (searchTasksForWorkspace). Same interface as Listing."""

    def __init__(self, client: Any, path: str, params: Dict[str, Any], cursor_field: str, after: str):
        self.client, self.path, self.params, self.cursor_field = client, path, params, cursor_field
        self.params["limit"] = client.config.page_size
        self.after = after
        self.gids_seen: set = set()
        self.pages = 0
        self.done = False

    def fetch_next(self) -> List[Dict[str, Any]]:
        limit = self.params["limit"]
        url = self.client.config.api_url + self.path
        page = _records(self.client.get(self.path, {**self.params, f"{self.cursor_field}.after": self.after})["data"], url)
        fresh = _fresh(page, self.gids_seen)
        self.pages += 1
        _check_progress(url, self.pages, self.client.config.max_pages, 0)
        if len(page) < limit:
            self.done = True
        elif not fresh:
            raise SearchStuck(f"more than {limit} records share modified_at {self.after}; search cannot page past them",
                              None, self.path)
        else:
            # Step back a millisecond: `.after` is strict and a page can end inside a run of ties.
            try:
                last = parse_asana_time(page[-1][self.cursor_field]) - dt.timedelta(milliseconds=1)
            except (KeyError, TypeError, ValueError, OverflowError):
                raise Fatal(f"{url} answered a record without a date-time {self.cursor_field} "
                            f"(gid {page[-1]['gid']}): search cannot page on", 200, self.path) from None
            self.after = format_asana_time(last)
        return fresh


class EventListing:
    """A resource's events since a sync token (``getEvents``: a project's; ``getWorkspaceEvents``:
    a whole workspace's, on Enterprise+), a page a call while ``has_more``. Without a token, or
    with one Asana no longer honours, the 412 hands over a fresh token and ``expired`` is set: the
    caller must read the resource in full. ``sync`` is the token for the next run once ``done``
    (None if a 412 came without one). Same interface as Listing."""

    def __init__(self, client: Any, resource: str, sync: Optional[str], workspace: bool = False):
        self.client, self.resource, self.sync = client, resource, sync
        self.path = f"/workspaces/{resource}/events" if workspace else "/events"
        self.params = {} if workspace else {"resource": resource}
        self.expired = False
        self.pages = 0
        self.done = False

    def fetch_next(self) -> List[Dict[str, Any]]:
        params = {**self.params, **({"sync": self.sync} if self.sync else {})}
        try:
            body = self.client.get(self.path, params)
        except SyncExpired as exc:
            if not exc.sync:  # the resource must still be read in full; no token to keep
                LOGGER.warning("Asana answered 412 on %s for %s without a new sync token (%s)", self.path,
                               self.resource, exc)
            self.sync, self.expired, self.done = exc.sync or None, True, True
            return []
        route = contract.template_of(self.path)
        if not isinstance(body["data"], list):
            raise Fatal(f"GET {route} answered data as {_shape(body['data'])} where a list of events belongs: this "
                        "is not Asana's API as the tap knows it. Check api_url", 200, self.path)
        self.sync = checked(self.path, body, "sync", required=True)
        self.done = not checked(self.path, body, "has_more")
        self.pages += 1
        if not self.done:
            _check_progress(f"{self.client.config.api_url}{self.path}?resource={self.resource}", self.pages,
                            self.client.config.max_pages, 0)
        return body["data"]


def checked(path: str, holder: Dict[str, Any], name: str, required: bool = False) -> Any:
    """A member of an answer the tap relies on (`name`, dotted below the answer: ``next_page.offset``),
    held to the type Asana's contract gives it; a mismatch stops the run with one line that says
    where and what was promised (absent counts as null unless `required`)."""
    key = name.rsplit(".", 1)[-1]
    value = holder.get(key)
    spec = contract.load().member(path, name)
    if spec is None or (value is None and not required) or (value is not None and contract.conforms(value, spec)):
        return value
    route = contract.template_of(path)
    operation = (contract.load().route(route) or {}).get("operation", "its operation")
    got = "nothing" if value is None else _shape(value)
    raise Fatal(f"GET {route} answered {name} as {got}, where Asana's OpenAPI description ({operation}) promises "
                f"{contract.describe(spec)}: the tap cannot read on. If this is Asana, report it; else check api_url",
                200, path)


def _records(data: Any, url: str) -> List[Dict[str, Any]]:
    """A page's records: a list of objects, each with a gid (a number is taken as its string)."""
    if not isinstance(data, list):
        raise Fatal(f"{url} answered {_shape(data)} where a list of records belongs: this is not Asana's API "
                    "as the tap knows it. Check api_url", 200, urlparse(url).path)
    for record in data:
        if not isinstance(record, dict) or not isinstance(record.get("gid"), (str, int)) \
                or isinstance(record.get("gid"), bool) or record.get("gid") == "":
            gid = record.get("gid") if isinstance(record, dict) else None
            raise Fatal(f"{url} answered a record without a usable gid ({_shape(record)}, gid {gid!r}); nothing "
                        "after it can be sent. If this is Asana, report it; else check api_url", 200, urlparse(url).path)
    return data


def _fresh(records: List[Dict[str, Any]], seen: set) -> List[Dict[str, Any]]:
    """The records whose gid (as a string: 1 and "1" are one gid) was not met before."""
    fresh = []
    for record in records:
        gid = str(record["gid"])
        if gid not in seen:
            seen.add(gid)
            fresh.append(record)
    return fresh


def _check_progress(url: str, pages: int, max_pages: int, stale: int) -> None:
    """A listing that keeps handing out new offsets stops instead of going on forever."""
    if pages >= max_pages:
        raise Fatal(f"{url} still had a next page after {max_pages} pages (max_pages): stopped, taking it for a "
                    "loop. Raise max_pages if the listing really is that long", 200, urlparse(url).path)
    if stale > MAX_STALE_PAGES:
        raise Fatal(f"{url} handed out {stale} new page offsets in a row without a record not seen before: "
                    "stopped, taking it for a loop. If this is Asana, report it", 200, urlparse(url).path)


def parse_asana_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def format_asana_time(value: dt.datetime) -> str:
    """Asana's own form: UTC, milliseconds, Z (four-digit years: strftime writes year 1 as "1")."""
    value = value.astimezone(dt.timezone.utc)
    return f"{value.year:04d}-" + value.strftime("%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
