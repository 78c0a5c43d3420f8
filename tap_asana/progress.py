"""What a run tells the people watching it: singer-python METRIC lines, a progress line
at least every ``every`` seconds, and a closing summary that never claims success on failure.

The run calls four methods (``record``, ``working``, ``tick``, ``summary``); the client calls
``request`` once per HTTP attempt, from any worker thread.

"Time" per stream is the wall time during which at least one request of that stream was in
flight (waits for the rate limiter and retries included): overlapping requests count once,
and time spent between them (while other streams were read) not at all. So the times of
different streams may add up to more than the run, never one stream's to more than the run.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from contextlib import contextmanager
from typing import Callable, Dict, Iterable, Iterator, List, Optional

from singer import metrics

LOGGER = logging.getLogger("tap_asana")
#: The METRIC lines' own logger (as singer_sdk.metrics is in Meltano SDK taps): metrics_log_level
#: sets its level, and a LOGGING_CONF_FILE can send its lines elsewhere.
METRICS = logging.getLogger("tap_asana.metrics")

#: Seconds between two progress lines.
PROGRESS_EVERY = 30.0
#: What is read only to find records, in the words of the people reading the summary (the reader
#: counts pages under the names of the listings it makes, which are the code's).
READ_TO_FIND = {
    "task_search": "the search for changed tasks",
    "attachment_search": "the search for changed tasks with attachments",
    "task": "tasks read one by one (named by events, or gone from a listing)",
    "assigned_tasks": "users' tasks in no project",
    "events": "projects' events",
    "workspace_events": "workspaces' events (Enterprise+)",
    "team_members": "teams' members (the users column of teams)",
    "portfolio_items": "portfolios' items (the portfolio_items column of portfolios)",
}


def set_metrics_level(level: str) -> None:
    """metrics_log_level: METRIC lines are logged at INFO, so WARNING or above drops them. Never
    below the log level in force, so a quiet log stays quiet."""
    METRICS.setLevel(max(logging.getLevelName(level), logging.getLogger().getEffectiveLevel()))


def counted(number: int, thing: str) -> str:
    """'1 page', '2 pages'."""
    return f"{number} {thing}" if number == 1 else f"{number} {thing}s"


class Reporter:
    def __init__(self, streams: Iterable[str] = (), every: float = PROGRESS_EVERY,
                 clock: Callable[[], float] = time.monotonic, logger: logging.Logger = LOGGER,
                 metrics_logger: logging.Logger = METRICS):
        self.streams = list(streams)  # listed in the summary even if they sent nothing
        self.every, self.clock, self.logger, self.metrics_logger = every, clock, logger, metrics_logger
        self.started = self.last_line = clock()
        self.records: Counter = Counter()
        self.unreported: Counter = Counter()  # records since the last record_count METRIC
        self.lock = threading.Lock()  # what workers touch: the counters below
        self.pages: Counter = Counter()
        self.requests: Counter = Counter()  # route -> attempts
        self.rate_limited = 0
        self.in_flight: Counter = Counter()  # stream -> requests in flight now
        self.busy_since: Dict[str, float] = {}
        self.busy: Dict[str, float] = {}
        self.notes: List[str] = []  # how the run chose to read things, said in the summary  # stream -> seconds with a request in flight, closed spans

    # --- what the run calls --------------------------------------------------------------------
    def record(self, stream: str) -> None:
        """One RECORD of `stream` written (the writing thread)."""
        self.records[stream] += 1
        self.unreported[stream] += 1

    @contextmanager
    def working(self, stream: str) -> Iterator[None]:
        """Around one page (or one request) of `stream`, in the worker that fetches it."""
        with self.lock:
            if not self.in_flight[stream]:
                self.busy_since[stream] = self.clock()
            self.in_flight[stream] += 1
        try:
            yield
        finally:
            with self.lock:
                self.in_flight[stream] -= 1
                self.pages[stream] += 1
                if not self.in_flight[stream]:
                    self.busy[stream] = self.busy.get(stream, 0.0) + self.clock() - self.busy_since.pop(stream)

    def tick(self) -> None:
        """Called often by the thread that waits for results; logs progress when it is due."""
        if self.clock() - self.last_line >= self.every:
            self.last_line = self.clock()
            self._report_records()
            with self.lock:
                requests, waits = sum(self.requests.values()), self.rate_limited
            streams = ", ".join(f"{name} {count}" for name, count in self._by_stream().items() if count)
            self.logger.info("Progress after %.0fs: %s (%s), %s, %s", self.clock() - self.started,
                             counted(sum(self.records.values()), "record"), streams or "none yet",
                             counted(requests, "request"), counted(waits, "rate-limit wait"))

    def summary(self, ok: bool, stopped: bool = False) -> None:
        """The closing lines: per stream, per route, then the outcome (`ok` only if the run
        completed; `stopped` if a signal ended it)."""
        self._report_records()
        elapsed = self.clock() - self.started
        with self.lock:
            busy = {name: self._busy(name) for name in set(self.busy) | set(self.busy_since)}
            pages, requests, waits = Counter(self.pages), Counter(self.requests), self.rate_limited
        for name, count in self._by_stream().items():
            self.logger.info("Extracted %s: %s, %s, %.1fs with requests in flight",
                             name, counted(count, "record"), counted(pages[name], "page"), busy.get(name, 0.0))
        for name in sorted(set(pages) - set(self._by_stream())):
            label = READ_TO_FIND.get(name, f"{name}, not selected, to reach what hangs below")
            self.logger.info("Read %s: %s, %.1fs with requests in flight",
                             label, counted(pages[name], "page"), busy.get(name, 0.0))
        for note in self.notes:
            self.logger.info("%s", note)
        for route, count in sorted(requests.items()):
            self.logger.info("Requests %s: %d", route, count)
        totals = (counted(sum(self.records.values()), "record"), counted(sum(requests.values()), "request"),
                  counted(waits, "rate-limit wait"))
        if ok:
            self.logger.info("Sync finished in %.1fs: %s, %s, %s", elapsed, *totals)
        else:
            self.logger.info("Sync %s after %.1fs: %s sent, %s, %s", "stopped" if stopped else "failed", elapsed,
                             *totals)

    def note(self, text: str) -> None:
        """A line for the summary: how the run chose to read something (the writing thread)."""
        self.notes.append(text)

    # --- what the client calls -----------------------------------------------------------------
    def request(self, route: str, seconds: float, status: Optional[int]) -> None:
        """One HTTP attempt ended: `status` is None when no answer came (timeout, dropped)."""
        with self.lock:
            self.requests[route] += 1
            if status == 429:
                self.rate_limited += 1
        tags = {metrics.Tag.endpoint: route, metrics.Tag.http_status_code: status,
                metrics.Tag.status: metrics.Status.succeeded if status and status < 400 else metrics.Status.failed}
        # metrics.log, not metrics.Timer: Timer and Counter reload singer's logging.conf on creation,
        # which would replace this tap's log handler (and its redaction of secrets).
        metrics.log(self.metrics_logger,
                    metrics.Point("timer", metrics.Metric.http_request_duration, round(seconds, 3), tags))

    # --- helpers -------------------------------------------------------------------------------
    def _by_stream(self) -> Dict[str, int]:
        names = self.streams + sorted(set(self.records) - set(self.streams))
        return {name: self.records[name] for name in names}

    def _busy(self, name: str) -> float:
        open_span = self.clock() - self.busy_since[name] if name in self.busy_since else 0.0
        return self.busy.get(name, 0.0) + open_span

    def _report_records(self) -> None:
        """A record_count METRIC per stream for the records since the last one, as singer's Counter does."""
        for name, count in sorted(self.unreported.items()):
            if count:
                metrics.log(self.metrics_logger, metrics.Point("counter", metrics.Metric.record_count, count,
                                                               {metrics.Tag.endpoint: name}))
        self.unreported.clear()
