"""Asana reads as scheduler jobs: each job sends one request (on a worker thread) and hands
the answer to a handler (on the writing thread), which may return follow-up jobs.

The reader counts pages per stream and decides what a 402/403/404 means for a listing: on
the first page the listing is skipped (and its stream marked incomplete, so it gets no
ACTIVATE_VERSION); halfway through its pages it would leave the listing half read, so the
run stops, unless the caller says what to do instead (``on_fail``).
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence

from tap_asana.client import AsanaClient, Fatal, Skip
from tap_asana.progress import Reporter
from tap_asana.scheduler import Job

LOGGER = logging.getLogger("tap_asana")

Records = List[Dict[str, Any]]
Jobs = Iterable[Job]


def _nothing() -> Jobs:
    return ()


class Reader:
    def __init__(self, client: AsanaClient, selected: Mapping[str, Any], reporter: Reporter):
        self.client, self.selected, self.reporter = client, selected, reporter
        self.incomplete: set = set()  # streams with a listing skipped on 403/404
        self._opt_fields: Dict[tuple, str] = {}
        #: When the answer being handled now arrived (UTC, ISO 8601, Z): the RECORDs it yields carry
        #: it as time_extracted. Handlers run one at a time on the writing thread, so one field will do.
        self.extracted_at: Optional[str] = None

    def opt_fields(self, stream: type, paths: Sequence[str]) -> str:
        key = (stream, tuple(paths))
        if key not in self._opt_fields:  # thousands of listings share a few field lists
            self._opt_fields[key] = stream.opt_fields(paths)
        return self._opt_fields[key]

    def _query(self, stream: type, context: Mapping[str, str], fields: Optional[Sequence[str]],
               params: Optional[Mapping[str, str]] = None) -> tuple:
        path, query = stream.request(context)
        query.update(params or {})
        sel = self.selected.get(stream.name)
        paths = sel.paths if sel is not None and fields is None else (fields or ["name"])
        query["opt_fields"] = self.opt_fields(stream, paths)
        return path, query

    def listing(self, partition: str, stream: type, context: Mapping[str, str],
                on_records: Callable[[Records], Jobs], *, fields: Optional[Sequence[str]] = None,
                params: Optional[Mapping[str, str]] = None, on_done: Callable[[], Jobs] = _nothing,
                on_fail: Optional[Callable[[Skip], Jobs]] = None, search_after: Optional[str] = None) -> Job:
        """Read one listing page by page; ``on_done`` runs once it is read or skipped.
        ``fields`` are the leaf paths to ask for (default: the stream's selected columns)."""
        path, query = self._query(stream, context, fields, params)
        pages = (self.client.search(path, query, "modified_at", search_after) if search_after
                 else self.client.listing(path, query, stream.paginated))
        # A 402 on a paid stream, or on one read only for others (portfolios for their memberships),
        # says the plan has no such data: worth an INFO, not a WARNING.
        quiet = stream.paid or stream.name not in self.selected
        return _Listing(self, partition, stream.name, path, pages, on_records, on_done, on_fail, quiet).job()

    def events(self, partition: str, resource: str, token: Optional[str],
               on_events: Callable[[Records], Jobs], on_done: Callable[[Any], Jobs],
               on_fail: Callable[[Skip], Jobs], workspace: bool = False) -> Job:
        """Read a resource's events since `token` (a `workspace`'s: the whole workspace's);
        ``on_done`` gets the finished listing (its ``sync`` token for the next run, and
        ``expired`` if Asana answered 412)."""
        pages = self.client.events(resource, token, workspace)
        name = "workspace_events" if workspace else "events"
        return _Listing(self, partition, name, pages.path, pages, on_events, lambda: on_done(pages), on_fail).job()

    def record(self, partition: str, stream: type, context: Mapping[str, str], fields: Sequence[str],
               on_record: Callable[[Dict[str, Any]], Jobs], on_fail: Callable[[Skip], Jobs]) -> Job:
        """GET one record."""
        path, query = self._query(stream, context, fields)
        return _One(self, partition, stream.name, path, query, on_record, on_fail).job()

    def request(self, partition: str, name: str, path: str, query: Mapping[str, Any],
                on_answer: Callable[[Any], Jobs], on_fail: Callable[[Skip], Jobs]) -> Job:
        """GET one answer as it is (its ``data``); `name` is what the time is counted for."""
        return _One(self, partition, name, path, dict(query), on_answer, on_fail).job()


def extracted_now() -> str:
    """This machine's clock as Singer's time_extracted: UTC, ISO 8601, microseconds, Z."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _Listing:
    """One listing's job: fetch the next page, hand it over, then ask for the next."""

    def __init__(self, reader: Reader, partition: str, name: str, path: str, pages: Any,
                 on_records: Callable[[Records], Jobs], on_done: Callable[[], Jobs],
                 on_fail: Optional[Callable[[Skip], Jobs]], quiet_402: bool = False):
        self.reader, self.partition, self.name, self.path, self.pages = reader, partition, name, path, pages
        self.on_records, self.on_done, self.on_fail, self.quiet_402 = on_records, on_done, on_fail, quiet_402
        self.read = 0

    def job(self) -> Job:
        return Job(self.partition, self.fetch, self.then)

    def fetch(self) -> Any:
        with self.reader.reporter.working(self.name):
            try:
                return self.pages.fetch_next()
            except Skip as exc:
                return exc
            finally:
                self.arrived = extracted_now()  # the next page is fetched only after `then` has handed this one over

    def then(self, result: Any) -> List[Job]:
        self.reader.extracted_at = self.arrived
        self.read += 1
        if isinstance(result, Skip):
            if self.on_fail is not None:
                return list(self.on_fail(result))
            if self.read > 1:
                raise Fatal(f"{self.path} answered {result.status} halfway through its pages ({result})")
            level = logging.INFO if result.status == 402 and self.quiet_402 else logging.WARNING
            LOGGER.log(level, "Skipped %s at %s: Asana answered %s (%s)", self.name, self.path, result.status, result)
            if result.status != 402:  # 402: the plan has no such data, nothing was missed
                self.reader.incomplete.add(self.name)
            return list(self.on_done())
        jobs = list(self.on_records(result) or ())
        jobs += [self.job()] if not self.pages.done else list(self.on_done())
        return jobs


class _One:
    def __init__(self, reader: Reader, partition: str, name: str, path: str, query: Dict[str, str],
                 on_record: Callable[[Dict[str, Any]], Jobs], on_fail: Callable[[Skip], Jobs]):
        self.reader, self.partition, self.name, self.path, self.query = reader, partition, name, path, query
        self.on_record, self.on_fail = on_record, on_fail

    def job(self) -> Job:
        return Job(self.partition, self.fetch, self.then)

    def fetch(self) -> Any:
        with self.reader.reporter.working(self.name):
            try:
                return self.reader.client.get(self.path, self.query)
            except Skip as exc:
                return exc
            finally:
                self.arrived = extracted_now()

    def then(self, result: Any) -> List[Job]:
        self.reader.extracted_at = self.arrived
        if isinstance(result, Skip):
            return list(self.on_fail(result))
        return list(self.on_record(result["data"]) or ())
