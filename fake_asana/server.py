"""The HTTP side: a ThreadingHTTPServer on 127.0.0.1 with keep-alive, and the order in
which a request meets faults, auth, rate limits, latency and the API. It knows the rest of
the fake only through the `Backend` it is given."""
from __future__ import annotations

import json
import socket
import sys
import threading
import traceback
import zlib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Optional, Set, Tuple
from urllib.parse import parse_qsl, urlsplit

from .auth import Auth
from .control import Control
from .errors import NO_ROUTE, RATE_LIMITED, ApiError, error_body
from .limits import FaultPlan, InFlight, PerMinute
from .options import Options
from .routing import Match, Router
from .serving import ApiRequest
from .stats import Stats
from .timefmt import Clock
from .vocab import PHRASE_WORDS

API_PREFIX = "/api/1.0"
TOKEN_PATH = "/-/oauth_token"
TOKEN_ROUTE = "POST " + TOKEN_PATH
CONTROL_PREFIX = "/_control/"
JSON_TYPE = "application/json; charset=UTF-8"
QUIET_ERRORS = (ConnectionError, socket.timeout, TimeoutError)


@dataclass(frozen=True)
class Backend:
    """What the HTTP side hands requests to."""

    router: Router
    control: Control
    auth: Auth
    options: Options
    stats: Stats
    faults: FaultPlan
    rpm: PerMinute
    search_rpm: PerMinute
    in_flight: InFlight
    clock: Clock
    #: Sleeps, but wakes early when the server stops.
    wait: Callable[[float], None]


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, port: int, backend: Backend) -> None:
        self.backend = backend
        self.connections: Set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], QUIET_ERRORS):  # clients hanging up are routine here
            traceback.print_exc()

    def close_connections(self) -> None:
        """Idle keep-alive connections would otherwise outlive the server."""
        with self.connections_lock:
            open_sockets = list(self.connections)
        for sock in open_sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so a requests.Session reuses connections
    server_version = "fake-asana/1.0"
    timeout = 120  # an idle keep-alive connection is closed after this
    # Headers and body go out in two writes; with Nagle on, a keep-alive client's delayed
    # ACK would add ~40 ms to every small response.
    disable_nagle_algorithm = True
    server: Server

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def version_string(self) -> str:
        return self.server_version

    def date_time_string(self, timestamp: Optional[float] = None) -> str:
        # The Date header follows the fake's clock, so `advance_clock` moves it too.
        return super().date_time_string(self.server.backend.clock.time() if timestamp is None else timestamp)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # nothing per request; the request log and stats are in memory

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    # --- dispatch --------------------------------------------------------------------------------
    def _dispatch(self) -> None:
        backend = self.server.backend
        body = self._read_body()
        backend.stats.log_line(self.command, self.path)
        path = urlsplit(self.path).path
        try:
            if path.startswith(CONTROL_PREFIX):
                status, payload = backend.control.handle(self.command, path, body)
                self._send(status, payload)
            elif path == TOKEN_PATH:
                self._oauth(body)
            elif path == API_PREFIX or path.startswith(API_PREFIX + "/"):
                self._api(path[len(API_PREFIX):] or "/")
            else:
                self._send(404, error_body(NO_ROUTE))
        except QUIET_ERRORS:
            self.close_connection = True

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _oauth(self, body: bytes) -> None:
        backend = self.server.backend
        if self.command != "POST":
            self._send(404, error_body(NO_ROUTE))
            return
        fault, latency = backend.faults.draw(self.command, self.path) if backend.options.fault_oauth else (None, 0.0)
        if self._early_fault(TOKEN_ROUTE, fault, latency):
            return
        status, payload = backend.auth.token_endpoint(body, self.headers.get("Content-Type", ""),
                                                   self.headers.get("Authorization"))
        self._finish(TOKEN_ROUTE, fault, status, payload, {})

    def _api(self, path: str) -> None:
        backend = self.server.backend
        match = backend.router.match(self.command, path, parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        backend.stats.violated(self.command, path, match.violations)
        fault, latency = backend.faults.draw(self.command, self.path)
        backend.stats.enter()
        try:
            if self._early_fault(match.label, fault, latency):
                return
            status, payload, headers = self._answer(path, match, latency)
            self._finish(match.label, fault, status, payload, headers)
        finally:
            backend.stats.leave()
            backend.control.api_request_done()

    def _answer(self, path: str, match: Match, latency: float) -> Tuple[int, Dict[str, Any], Dict[str, str]]:
        """Auth, then the per-minute limits, then the concurrency limit, then the API."""
        backend = self.server.backend
        header = self.headers.get("Authorization")
        try:
            user = backend.auth.authenticate(header)
            token = Auth.bearer(header) or ""
            searching = match.route is not None and match.route.search
            for limiter, applies in ((backend.rpm, True), (backend.search_rpm, searching)):
                retry = limiter.admit(token) if applies else None
                if retry:
                    raise ApiError(429, RATE_LIMITED, {"Retry-After": str(retry)})
            limited = self.command == "GET"
            if limited and not backend.in_flight.enter(token):
                raise ApiError(429, RATE_LIMITED, {"Retry-After": "1"})
            try:
                backend.wait(latency)
                request = ApiRequest(path, list(match.query), user, self.server.url,
                                     service_account=backend.auth.service_account(header))
                return 200, backend.router.handle(match, request), {}
            finally:
                if limited:
                    backend.in_flight.leave(token)
        except ApiError as exc:
            return exc.status, exc.body(), exc.headers
        except Exception:  # a bug in the fake: answer like Asana's 500 and show it
            traceback.print_exc()
            return 500, error_body("Server Error", self._phrase()), {}

    def _early_fault(self, route: str, fault: Optional[str], latency: float) -> bool:
        """Faults that answer before the API is consulted. True if the request is done."""
        backend = self.server.backend
        if fault not in ("drop", "500", "503", "429"):
            return False
        backend.stats.fault(fault)
        backend.wait(latency)
        if fault == "drop":
            backend.stats.count(route, "drop")
            self.close_connection = True  # no status line, no headers: the client sees a dead socket
            return True
        status, payload, headers = {
            "500": (500, error_body("Server Error", self._phrase()), {}),
            "503": (503, error_body("Service Unavailable"), {}),
            "429": (429, error_body(RATE_LIMITED), {"Retry-After": "1"}),
        }[fault]
        backend.stats.count(route, str(status))
        self._send(status, payload, headers)
        return True

    def _finish(self, route: str, fault: Optional[str], status: int, payload: Dict[str, Any],
                headers: Dict[str, str]) -> None:
        backend = self.server.backend
        backend.stats.count(route, str(status))
        if fault == "slow":
            backend.stats.fault(fault)
            backend.wait(backend.options.slow_seconds)  # long enough for the client to time out
        if fault == "truncate":
            backend.stats.fault(fault)
        self._send(status, payload, headers, truncate=fault == "truncate")

    def _phrase(self) -> str:
        """Asana's 500s carry a memorable phrase to quote to support."""
        return " ".join(PHRASE_WORDS[zlib.crc32(self.path.encode()) % len(PHRASE_WORDS)])

    # --- writing -------------------------------------------------------------------------------
    def _send(self, status: int, payload: Dict[str, Any], headers: Optional[Dict[str, str]] = None,
              truncate: bool = False) -> None:
        pretty = "opt_pretty" in urlsplit(self.path).query
        data = json.dumps(payload, indent=2 if pretty else None, ensure_ascii=False).encode("utf-8")
        self.send_response(status)  # also sends Date and Server
        self.send_header("Content-Type", JSON_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Pragma", "no-cache")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if truncate:
            # Full Content-Length, half the body, then hang up: the client reads a short body.
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
        else:
            self.wfile.write(data)
