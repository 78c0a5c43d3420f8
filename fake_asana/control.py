"""The /_control endpoints (no auth, never faulted, not counted): stats, mutations
(now or after N more API requests), the full export, the config, the request log and the
contract violations."""
from __future__ import annotations

import json
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

from .export import export
from .mutate import Mutator
from .options import Options
from .restrictions import Restrictions
from .stats import Stats
from .store import Store

Result = Tuple[int, Dict[str, Any]]


class Control:
    def __init__(self, store: Store, restrictions: Restrictions, mutator: Mutator, stats: Stats,
                 config: Callable[[], Dict[str, Any]], options: Optional[Options] = None) -> None:
        self.store, self.restrictions, self.mutator, self.stats = store, restrictions, mutator, stats
        self.options = options
        self._config = config
        self._lock = threading.Lock()
        self._served = 0
        self._pending: List[Tuple[int, str, Dict[str, Any]]] = []
        self._applied: List[Dict[str, Any]] = []

    def handle(self, method: str, path: str, body: bytes) -> Result:
        route = (method, path.rstrip("/"))
        if route == ("GET", "/_control/stats"):
            return 200, self.stats.snapshot()
        if route == ("POST", "/_control/reset_stats"):
            self.stats.reset()
            return 200, {"ok": True}
        if route == ("POST", "/_control/mutate"):
            try:
                request = json.loads(body or b"{}")
                if not isinstance(request, dict):
                    raise ValueError("the body must be a JSON object")
                return 200, self.mutate(**request)
            except (ValueError, TypeError) as exc:
                return 400, {"error": str(exc)}
        if route == ("GET", "/_control/mutations"):
            with self._lock:
                return 200, {"applied": list(self._applied), "pending": len(self._pending), "served": self._served}
        if route == ("GET", "/_control/export"):
            return 200, export(self.store, self.restrictions, self.options)
        if route == ("GET", "/_control/config"):
            return 200, self._config()
        if route == ("GET", "/_control/violations"):
            return 200, self.violations()
        if route == ("GET", "/_control/requests"):
            return 200, {"requests": self.stats.lines()}
        return 404, {"error": f"no control endpoint {method} {path}"}

    def violations(self) -> Dict[str, Any]:
        strict = self.options.strict_contract if self.options else True
        return dict(self.stats.violations(), strict_contract=strict)

    def mutate(self, op: Optional[str] = None, after_requests: Optional[int] = None, **kwargs: Any) -> Dict[str, Any]:
        # Check the arguments now, so a scheduled mutation cannot fail later on a typo.
        self.mutator.check(op, kwargs)
        if not after_requests:
            result = self.mutator.apply(op, **kwargs)
            with self._lock:
                self._applied.append(result)
            return result
        if not isinstance(after_requests, int) or after_requests < 0:
            raise ValueError("after_requests must be a non-negative integer")
        with self._lock:
            at = self._served + after_requests
            self._pending.append((at, op, kwargs))
        return {"scheduled": True, "op": op, "at_request": at}

    def api_request_done(self) -> None:
        """Called once per finished API request: applies the mutations that are due."""
        with self._lock:
            self._served += 1
            due = [p for p in self._pending if p[0] <= self._served]
            self._pending = [p for p in self._pending if p[0] > self._served]
        for at, op, kwargs in due:
            try:
                result = self.mutator.apply(op, **kwargs)
            except (ValueError, TypeError) as exc:
                result = {"op": op, "error": str(exc)}
            with self._lock:
                self._applied.append(dict(result, applied_at_request=at))
