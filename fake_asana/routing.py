"""Which route serves a GET under /api/1.0. Every route is registered by its path template
as Asana's OpenAPI description writes it (`{gid}` for each path parameter), and the router
refuses to start with a template that `tap_asana/contract.json` does not list: the fake
never serves a route Asana does not define. `Router.match` is the one place a request meets
its route and the contract's entry for it."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib.resources import files
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

from .errors import NO_ROUTE, ApiError
from .serving import ApiRequest, Body, Serving


def contract_routes() -> Dict[str, Dict[str, Any]]:
    """Asana's GET routes by path template, as `scripts/contract.py` wrote them."""
    text = (files("tap_asana") / "contract.json").read_text(encoding="utf-8")
    return json.loads(text)["routes"]


@dataclass(frozen=True)
class Route:
    """A GET route: its path template and what serves it, called with the `Serving` kit, the
    request and the path's arguments."""

    template: str
    serve: Callable[..., Body]
    #: Counted against the per-minute search limit too (Asana limits search on its own).
    search: bool = False
    #: Path arguments whose requests are counted in the stats under their own path
    #: (`GET /users/me`, the request every client starts with) rather than the template's.
    counted_apart: Tuple[str, ...] = ()

    def label(self, args: Sequence[str]) -> str:
        """The name the stats count a request under."""
        if len(args) == 1 and args[0] in self.counted_apart:
            return "GET " + self.template.replace("{gid}", args[0])
        return "GET " + self.template


@dataclass(frozen=True)
class Match:
    """A request's route (None: no route serves it), the path's arguments, the stats name
    and the contract's entry for the route."""

    label: str
    route: Optional[Route] = None
    args: Tuple[str, ...] = ()
    contract: Optional[Dict[str, Any]] = None


class Router:
    def __init__(self, routes: Sequence[Route], kit: Serving, contract: Dict[str, Dict[str, Any]]) -> None:
        unknown = [r.template for r in routes if r.template not in contract]
        if unknown:
            raise RuntimeError(f"routes Asana does not define: {', '.join(unknown)}")
        templates = [r.template for r in routes]
        doubles = sorted({t for t in templates if templates.count(t) > 1})
        if doubles:
            raise RuntimeError(f"routes registered twice: {', '.join(doubles)}")
        self.kit, self._contract = kit, contract
        self._routes = [(re.compile("^" + re.escape(r.template).replace(re.escape("{gid}"), "([^/]+)") + "/?$"), r)
                        for r in routes]

    def match(self, method: str, path: str) -> Match:
        """The route that serves `method path` (path below /api/1.0)."""
        if method == "GET":
            for pattern, route in self._routes:
                found = pattern.match(path)
                if found:
                    return Match(route.label(found.groups()), route, found.groups(), self._contract[route.template])
        return Match(f"{method} (no route)")

    def handle(self, match: Match, request: ApiRequest) -> Body:
        if match.route is None:
            raise ApiError(404, NO_ROUTE)
        with self.kit.store.lock:
            return match.route.serve(self.kit, request, *match.args)
