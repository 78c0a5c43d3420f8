"""Request counters by normalised route and status, faults, peak concurrency, and a
bounded log of request lines (so tests can check no secret ever travels in a URL)."""
from __future__ import annotations

import threading
from collections import Counter, defaultdict, deque
from typing import Any, Deque, Dict, List

from .limits import FAULT_KINDS

LOG_SIZE = 10_000


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lines: Deque[str] = deque(maxlen=LOG_SIZE)
        self._in_flight = 0
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._total = 0
            self._by_route: Dict[str, Counter] = defaultdict(Counter)
            self._faults: Counter = Counter({k: 0 for k in FAULT_KINDS})
            self._max_in_flight = self._in_flight

    def log_line(self, method: str, target: str) -> None:
        with self._lock:
            self._lines.append(f"{method} {target}")

    def lines(self) -> List[str]:
        with self._lock:
            return list(self._lines)

    def count(self, route: str, status: str) -> None:
        with self._lock:
            self._total += 1
            self._by_route[route][status] += 1

    def fault(self, kind: str) -> None:
        with self._lock:
            self._faults[kind] += 1

    def enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def snapshot(self) -> Dict[str, Any]:
        with self._lock:
            return {"total": self._total,
                    "by_route": {route: dict(codes) for route, codes in sorted(self._by_route.items())},
                    "max_in_flight": self._max_in_flight, "in_flight": self._in_flight,
                    "faults": dict(self._faults)}
