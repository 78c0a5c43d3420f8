"""A small hostile HTTP server for tests: it answers each path the way a test tells it to,
however badly (redirecting, trickling, endless, looping, malformed). 127.0.0.1 only; it
stops when its `with` block ends, or by itself after `lifetime` seconds.

    with Hostile() as h:
        h.route("/api/1.0/users/me", h.json({"data": {"gid": "1"}}))
        h.route("/api/1.0/workspaces", h.trickle(b'{"data": []}', every=0.05))
        h.api_url  # http://127.0.0.1:PORT/api/1.0

An answer is a function of (handler, query) that writes to the handler; paths without a
route get 404 with Asana's "No matching route" body. `h.requests` lists every request line
with its Authorization header, so a test can check where a token went.
"""
from __future__ import annotations

import datetime as dt
import email.utils
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urlparse

Answer = Callable[["_Handler", Dict[str, str]], None]


class Hostile:
    def __init__(self, lifetime: float = 60.0):
        self.routes: Dict[Tuple[str, str], Answer] = {}
        self.requests: List[Tuple[str, str, Optional[str]]] = []  # (method, path?query, Authorization)
        self.stopping = threading.Event()
        self.lifetime = lifetime
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.hostile = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.timer = threading.Timer(lifetime, self.stop)
        self.timer.daemon = True

    # --- lifecycle ---------------------------------------------------------------------------------
    def __enter__(self) -> "Hostile":
        self.thread.start()
        self.timer.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def stop(self) -> None:
        if not self.stopping.is_set():
            self.stopping.set()
            self.timer.cancel()
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/1.0"

    def route(self, path: str, answer: Answer, method: str = "GET") -> None:
        self.routes[(method, path)] = answer

    def asana(self, user: Optional[Dict[str, Any]] = None, workspaces: Optional[List[Dict[str, Any]]] = None) -> None:
        """The two answers every run starts with: /users/me and a one-workspace /workspaces."""
        self.route("/api/1.0/users/me", self.json({"data": user or {"gid": "1", "name": "me"}}))
        self.route("/api/1.0/workspaces", self.json({"data": workspaces if workspaces is not None else [
            {"gid": "10", "name": "Hostile workspace", "resource_type": "workspace", "is_organization": False}]}))

    # --- answers ---------------------------------------------------------------------------------
    @staticmethod
    def json(body: Any, status: int = 200, headers: Optional[Dict[str, str]] = None) -> Answer:
        """`body` as JSON (a str or bytes is sent as it is: malformed bodies, escapes Python's json would not write)."""
        def answer(h: "_Handler", query: Dict[str, str]) -> None:
            data = body if isinstance(body, bytes) else body.encode("utf-8") if isinstance(body, str) \
                else json.dumps(body).encode("ascii")
            if headers and "Date" in headers:  # send_response would add the true Date too
                h.send_response_only(status)
            else:
                h.send_response(status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                h.send_header(name, value)
            h.end_headers()
            h.wfile.write(data)
        return answer

    @staticmethod
    def redirect(location: str, status: int = 307) -> Answer:
        def answer(h: "_Handler", query: Dict[str, str]) -> None:
            h.send_response(status)
            h.send_header("Location", location)
            h.send_header("Content-Length", "0")
            h.end_headers()
        return answer

    def trickle(self, body: bytes, every: float = 0.05) -> Answer:
        """The whole Content-Length announced, then one byte every `every` seconds."""
        def answer(h: "_Handler", query: Dict[str, str]) -> None:
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            for i in range(len(body)):
                if self.stopping.wait(every):
                    return
                h.wfile.write(body[i:i + 1])
                h.wfile.flush()
        return answer

    def endless(self) -> Answer:
        """A chunked body that never ends: a JSON list that keeps growing, as fast as it is read."""
        def answer(h: "_Handler", query: Dict[str, str]) -> None:
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Transfer-Encoding", "chunked")
            h.end_headers()
            chunk = b'{"data": [' + b'{"gid": "1"},' * 1000
            while not self.stopping.is_set():
                h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                h.wfile.flush()
                chunk = b'{"gid": "1"},' * 1000
                time.sleep(0.001)
        return answer

    def looping(self, records: Callable[[int], List[Dict[str, Any]]]) -> Answer:
        """A listing that hands out a new offset on every page; `records(n)` fills page n."""
        def answer(h: "_Handler", query: Dict[str, str]) -> None:
            n = int(query.get("offset", "page0")[4:]) + 1
            self.json({"data": records(n), "next_page": {"offset": f"page{n}", "path": "/x", "uri": "x"}})(h, query)
        return answer

    @staticmethod
    def raw(data: bytes) -> Answer:
        """Bytes on the socket as they are, then the connection closes."""
        def answer(h: "_Handler", query: Dict[str, str]) -> None:
            h.wfile.write(data)
            h.close_connection = True
        return answer


def http_date(year: int) -> str:
    """An HTTP Date header value in `year`, at this moment's time of day."""
    now = dt.datetime.now(dt.timezone.utc)
    return email.utils.format_datetime(now.replace(year=year, month=1, day=1), usegmt=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _serve(self, method: str) -> None:
        hostile: Hostile = self.server.hostile  # type: ignore[attr-defined]
        parts = urlparse(self.path)
        hostile.requests.append((method, self.path, self.headers.get("Authorization")))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        answer = hostile.routes.get((method, parts.path))
        if answer is None:
            answer = Hostile.json({"errors": [{"message": "No matching route for request"}]}, 404)
        try:
            answer(self, query)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")
