"""Asana's rate limits (https://developers.asana.com/docs/rate-limits) and the fault plan.

Faults are drawn from a hash of (seed, method, full URL, how many times that exact
request was seen before): a retry of the same URL gets a fresh draw, and the sequence
of outcomes for a URL does not depend on thread scheduling."""
from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import Counter, defaultdict, deque
from typing import Callable, Deque, Dict, Optional, Tuple

from .options import Options

WINDOW_S = 60.0


class PerMinute:
    """A sliding one-minute window per token. Rejected requests still count against the
    quota, as Asana says, so a client that ignores Retry-After stays locked out."""

    def __init__(self, per_minute: Callable[[], int], clock: Callable[[], float] = time.monotonic) -> None:
        self._per_minute, self._clock = per_minute, clock
        self._windows: Dict[str, Deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def admit(self, key: str) -> Optional[int]:
        """None if the request may go on, else the Retry-After seconds (>= 1)."""
        limit = self._per_minute()
        if limit <= 0:
            return None
        with self._lock:
            now = self._clock()
            window = self._windows[key]
            while window and window[0] <= now - WINDOW_S:
                window.popleft()
            window.append(now)
            if len(window) <= limit:
                return None
            # The next request fits once enough of the oldest ones have left the window.
            frees_at = window[len(window) - limit] + WINDOW_S
            return max(1, math.ceil(frees_at - now))


class InFlight:
    """Concurrent GETs per token (Asana: 50), and the overall peak for the stats."""

    def __init__(self, max_per_key: Callable[[], int]) -> None:
        self._max = max_per_key
        self._by_key: Counter = Counter()
        self._lock = threading.Lock()

    def enter(self, key: str) -> bool:
        with self._lock:
            if self._by_key[key] >= self._max():
                return False
            self._by_key[key] += 1
            return True

    def leave(self, key: str) -> None:
        with self._lock:
            self._by_key[key] -= 1


FAULT_KINDS = ("500", "503", "429", "slow", "truncate", "drop")


class FaultPlan:
    def __init__(self, seed: int, options: Options) -> None:
        self._seed, self._options = seed, options
        self._seen: Counter = Counter()
        self._lock = threading.Lock()

    def _unit(self, *parts: object) -> float:
        digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2 ** 64

    def draw(self, method: str, url: str) -> Tuple[Optional[str], float]:
        """(fault kind or None, latency in seconds) for this request."""
        with self._lock:
            nth = self._seen[(method, url)]
            self._seen[(method, url)] += 1
        o = self._options
        latency = (o.latency_ms + o.jitter_ms * self._unit(self._seed, "jitter", method, url, nth)) / 1000.0
        roll = self._unit(self._seed, "fault", method, url, nth)
        rates = (o.fault_500, o.fault_503, o.fault_429, o.fault_slow, o.fault_truncate, o.fault_drop)
        edge = 0.0
        for kind, rate in zip(FAULT_KINDS, rates):
            edge += rate
            if roll < edge:
                return kind, latency
        return None, latency
