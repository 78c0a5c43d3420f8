"""Request counters by normalised route and status, faults, peak concurrency, a bounded log
of request lines (so tests can check no secret ever travels in a URL), and a bounded log of
the requests that broke Asana's contract (see contract.py)."""
from __future__ import annotations

import threading
from collections import Counter, defaultdict, deque
from typing import Any, Deque, Dict, List, Sequence

from .contract import Violation, as_record
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
            self._lines.clear()
            self._by_route: Dict[str, Counter] = defaultdict(Counter)
            self._faults: Counter = Counter({k: 0 for k in FAULT_KINDS})
            self._max_in_flight = self._in_flight
            self._violations: Deque[Dict[str, str]] = deque(maxlen=LOG_SIZE)
            self._violation_total = 0

    def log_line(self, method: str, target: str) -> None:
        with self._lock:
            self._lines.append(f"{method} {target}")

    def lines(self) -> List[str]:
        with self._lock:
            return list(self._lines)

    def violated(self, method: str, path: str, violations: Sequence[Violation]) -> None:
        """Records how a request (path below /api/1.0) broke the contract, whatever it was answered."""
        if violations:
            with self._lock:
                self._violations.extend(as_record(method, path, v) for v in violations)
                self._violation_total += len(violations)

    def violations(self) -> Dict[str, Any]:
        """The last 10,000 violations, oldest first, and how many there were since the last reset."""
        with self._lock:
            return {"violations": list(self._violations), "total": self._violation_total}

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
