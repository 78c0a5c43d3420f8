"""Which route serves a GET under /api/1.0. Every route is registered by its path template
as Asana's OpenAPI description writes it (`{gid}` for each path parameter), and the router
refuses to start with a template that `tap_asana/contract.json` does not list: the fake
never serves a route Asana does not define.

`Router.match` is the one place a request meets its route and the contract's entry for it,
and where the request is held to the contract (see contract.py) before any handler runs: a
path that is no route of the contract, a query parameter the route does not define, a
required one missing, an `opt_fields` path the route does not know. With `strict_contract`
(the default) such a request answers 400, once authenticated; without, it is served as
Asana would serve it (what it does not know ignored). Either way the match carries the
violations, for the server to record."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

from .contract import Contract, Query, Violation, route_violation
from .errors import NO_ROUTE, ApiError
from .serving import ApiRequest, Body, Serving

NO_ROUTE_LABEL = "(no route)"


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
    """A request's route (None: no route serves it), the path's arguments, the stats name,
    the contract's entry for the route, how the request breaks the contract, and the query
    its handler reads (without what the contract does not define, when not strict)."""

    label: str
    route: Optional[Route] = None
    args: Tuple[str, ...] = ()
    contract: Optional[Dict[str, Any]] = None
    violations: Tuple[Violation, ...] = ()
    query: Tuple[Tuple[str, str], ...] = ()


class Router:
    def __init__(self, routes: Sequence[Route], kit: Serving, contract: Contract,
                 strict: Callable[[], bool] = lambda: True) -> None:
        unknown = [r.template for r in routes if r.template not in contract.routes]
        if unknown:
            raise RuntimeError(f"routes Asana does not define: {', '.join(unknown)}")
        templates = [r.template for r in routes]
        doubles = sorted({t for t in templates if templates.count(t) > 1})
        if doubles:
            raise RuntimeError(f"routes registered twice: {', '.join(doubles)}")
        self.kit, self.contract, self._strict = kit, contract, strict
        self._served = {r.template: r for r in routes}

    @property
    def strict(self) -> bool:
        return self._strict()

    def match(self, method: str, path: str, query: Query = ()) -> Match:
        """The route that serves `method path` (path below /api/1.0), and what in the request
        breaks the contract. Only GETs are routes; another method is no route (404), not a
        violation."""
        if method != "GET":
            return Match(f"{method} {NO_ROUTE_LABEL}", query=tuple(query))
        template, args = self.contract.route_of(path)
        if template is None:
            return Match(f"GET {NO_ROUTE_LABEL}", violations=(route_violation(path),), query=tuple(query))
        violations = tuple(self.contract.check(template, query))
        kept = self.contract.conforming(query, violations) if violations else query
        route = self._served.get(template)
        label = route.label(args) if route else f"GET {NO_ROUTE_LABEL}"
        return Match(label, route, args, self.contract.routes[template], violations, tuple(kept))

    def handle(self, match: Match, request: ApiRequest) -> Body:
        """400 for a violation (when strict), except on a route of the contract the fake does
        not serve, which answers 404 as any unserved route."""
        served_or_unknown = match.route is not None or match.contract is None
        if match.violations and self.strict and served_or_unknown:
            raise ApiError(400, match.violations[0].message)
        if match.route is None:
            raise ApiError(404, NO_ROUTE)
        with self.kit.store.lock:
            return match.route.serve(self.kit, request, *match.args)
