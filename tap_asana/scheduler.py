"""Runs jobs on a pool of worker threads and hands their results back, one at a
time, to the calling thread, which is the only one that writes output.

A job is a request to make (``fetch``, run by a worker) and what to do with its
answer (``then``, run by the caller, which may return follow-up jobs). Each job
belongs to a partition; when a partition has no job left the caller is told,
which is where it may checkpoint. A partition may have units (``owner_of`` names a
unit's owning partition): a unit's jobs count for the unit and for its owner, the caller is told of a unit as
soon as it has no job left, and of the owner once neither it nor any unit has.
Jobs of older partitions run first (a unit's with its owner's), so few are open
at once and a resumed run re-reads little.
"""
from __future__ import annotations

import heapq
import itertools
import queue
import threading
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional


@dataclass
class Job:
    partition: str
    fetch: Callable[[], Any]
    then: Callable[[Any], Iterable["Job"]]


class Stopped(Exception):
    """The run was asked to stop (a signal)."""


class StopFlag(threading.Event):
    """Set when SIGTERM or SIGINT arrives. Until `armed` (no output written yet), the signal
    handler may also raise Stopped at once, which interrupts a request or a retry wait."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = False


class Scheduler:
    def __init__(self, workers: int, on_partition_done: Callable[[str], Iterable[Job]], stop: threading.Event,
                 tick: Callable[[], None] = lambda: None, owner_of: Callable[[str], Optional[str]] = lambda _p: None):
        """`tick` is called on the calling thread before each result is taken, and every 0.2 s
        while it waits for one (the progress Reporter's clock)."""
        self.workers = workers
        self.tick = tick
        self.on_partition_done = on_partition_done
        self.pending: List[tuple] = []
        self.open: Dict[str, int] = {}  # partition -> jobs not yet handled
        self.rank: Dict[str, int] = {}  # partition -> when it was opened
        self.counter = itertools.count()
        self.stop_requested = stop
        self.owner_of = owner_of

    def add(self, job: Job) -> None:
        counted = self._counted(job.partition)
        for name in reversed(counted):  # an owner is ranked before its units
            if name not in self.rank:
                self.rank[name] = len(self.rank)
            self.open[name] = self.open.get(name, 0) + 1
        # A unit's jobs rank with its owner, so a partition's units run before a later
        # partition starts: at any time few partitions are part-done.
        order = (self.rank[counted[-1]], self.rank[job.partition] if len(counted) > 1 else -1)
        heapq.heappush(self.pending, (order, next(self.counter), job))

    def run(self) -> None:
        """Run until every job is handled. A job whose fetch raised re-raises here."""
        todo: "queue.Queue[Optional[Job]]" = queue.Queue()
        done: "queue.Queue[tuple]" = queue.Queue()
        threads = [threading.Thread(target=_work, args=(todo, done), daemon=True, name=f"asana-{i}")
                   for i in range(self.workers)]
        for thread in threads:
            thread.start()
        in_flight = 0
        try:
            while self.pending or in_flight:
                while self.pending and in_flight < self.workers:
                    todo.put(heapq.heappop(self.pending)[2])
                    in_flight += 1
                job, result, error = self._next_result(done)
                in_flight -= 1
                if error is not None:
                    raise error
                for follow_up in job.then(result) or ():
                    self.add(follow_up)
                self._handled(job.partition)
        finally:
            for _ in threads:
                todo.put(None)

    def _next_result(self, done: "queue.Queue[tuple]") -> tuple:
        while True:
            if self.stop_requested.is_set():
                raise Stopped()
            self.tick()
            try:
                return done.get(timeout=0.2)
            except queue.Empty:
                continue

    def _handled(self, partition: str) -> None:
        for name in self._counted(partition):  # the unit first, then its owner
            self.open[name] -= 1
            if self.open[name] == 0:
                del self.open[name]
                for job in self.on_partition_done(name) or ():
                    self.add(job)


    def _counted(self, partition: str) -> List[str]:
        """What a job of `partition` counts for: itself and, for a unit, its owner."""
        owner = self.owner_of(partition)
        return [partition, owner] if owner else [partition]


def _work(todo: "queue.Queue[Optional[Job]]", done: "queue.Queue[tuple]") -> None:
    while True:
        job = todo.get()
        if job is None:
            return
        try:
            done.put((job, job.fetch(), None))
        except BaseException as exc:  # handed to the caller, which decides
            done.put((job, None, exc))
