"""`FakeAsana`: the data, the API and the HTTP server wired together, started on a
daemon thread. Keyword arguments are a preset's size overrides (see `Sizes`) and the
server options (see `Options`)."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
from typing import Any, Dict, List, Optional, Union

from .auth import Auth
from .control import Control
from .events import EventLog, SyncCodec
from .export import export
from .families import OPS, ROUTES
from .generate import generate
from .limits import FaultPlan, InFlight, PerMinute
from .mutate import Mutator
from .options import OPTION_NAMES, Options
from .paging import OffsetCodec, Pager
from .restrictions import Restrictions
from .contract import load_contract
from .routing import Router
from .search_index import SearchIndex
from .server import API_PREFIX, TOKEN_PATH, Backend, Server
from .serving import Serving
from .sizes import SIZE_NAMES, sizes_for
from .stats import Stats
from .timefmt import fmt_datetime, parse_ms

Now = Union[None, int, str, dt.datetime]


def _now_ms(now: Now) -> Optional[int]:
    if now is None or isinstance(now, int):
        return now
    if isinstance(now, dt.datetime):
        aware = now if now.tzinfo else now.replace(tzinfo=dt.timezone.utc)
        return int(aware.timestamp() * 1000)
    return parse_ms(now)


class FakeAsana:
    def __init__(self, preset: str = "tiny", seed: int = 1, now: Now = None, port: int = 0, **kwargs: Any) -> None:
        unknown = set(kwargs) - SIZE_NAMES - OPTION_NAMES
        if unknown:
            raise TypeError(f"unknown FakeAsana arguments: {', '.join(sorted(unknown))}")
        self.preset, self.seed, self.port = preset, seed, port
        self.sizes = sizes_for(preset, **{k: v for k, v in kwargs.items() if k in SIZE_NAMES})
        self.options = Options(**{k: v for k, v in kwargs.items() if k in OPTION_NAMES})
        self.store = generate(seed, self.sizes, _now_ms(now))
        self.restrictions = Restrictions.build(self.store, self.options)
        self.meter = Stats()
        self.auth = Auth(self.options, self.store, clock=self.store.clock.monotonic)
        self.faults = FaultPlan(seed, self.options)
        self.rpm = PerMinute(lambda: self.options.rpm)
        self.search_rpm = PerMinute(lambda: self.options.search_rpm)
        self.in_flight = InFlight(lambda: self.options.max_concurrent)
        secret = hashlib.sha256(f"fake-asana-offsets:{seed}".encode()).digest()
        pager = Pager(OffsetCodec(secret, lambda: self.options.offset_ttl, clock=self.store.clock.time),
                      lambda: self.options.max_unpaginated,
                      expire_every=lambda: self.options.expire_offset_every)
        # Salted per server: a sync token is a place in this server's event log, which a
        # restarted server (same seed or not) does not have, so it must get the 412.
        sync_secret = hashlib.sha256(f"fake-asana-sync:{seed}:".encode() + os.urandom(16)).digest()
        self.events = EventLog(self.store, SyncCodec(sync_secret, lambda: self.options.sync_ttl,
                                                     clock=self.store.clock.time))
        self.search_index = SearchIndex(self.store, lambda: self.options.search_lag_s)
        kit = Serving(self.store, pager, self.restrictions, self.events, self.search_index)
        self.router = Router(ROUTES, kit, load_contract(), strict=lambda: self.options.strict_contract)
        self.mutator = Mutator(self.store, self.restrictions, self.events, OPS, self.options,
                               observers=(self.search_index.refresh,))
        self.control = Control(self.store, self.restrictions, self.mutator, self.meter, self.config, self.options)
        self._stopping = threading.Event()
        self._server: Optional[Server] = None
        self._thread: Optional[threading.Thread] = None

    # --- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> "FakeAsana":
        if self._server is None:
            self._stopping.clear()
            self._server = Server(self.port, self._backend())
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name="fake-asana", daemon=True)
            self._thread.start()
        return self

    def _backend(self) -> Backend:
        return Backend(router=self.router, control=self.control, auth=self.auth, options=self.options,
                       stats=self.meter, faults=self.faults, rpm=self.rpm, search_rpm=self.search_rpm,
                       in_flight=self.in_flight, clock=self.store.clock, wait=self.wait)

    def stop(self) -> None:
        """Prompt: wakes sleeping (slow, latency) requests and cuts keep-alive connections."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> "FakeAsana":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def wait(self, seconds: float) -> None:
        """Sleep that ends early when the server stops."""
        if seconds > 0:
            self._stopping.wait(seconds)

    # --- where and how to reach it -------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeAsana is not running; call start() or use it as a context manager")
        return self._server.url

    @property
    def api_url(self) -> str:
        return self.url + API_PREFIX

    @property
    def token_url(self) -> str:
        return self.url + TOKEN_PATH

    @property
    def pat(self) -> str:
        return self.options.pat

    @property
    def service_account_token(self) -> str:
        """The token of the organization's service account (`service_account_token`)."""
        return self.options.service_account_token

    @property
    def oauth(self) -> Dict[str, str]:
        return self.auth.credentials()

    # --- the control surface, in process -------------------------------------------------------------
    def stats(self) -> Dict[str, Any]:
        return self.meter.snapshot()

    def reset_stats(self) -> None:
        """Zeroes the counters and empties the request and violation logs."""
        self.meter.reset()

    def mutations(self) -> Dict[str, Any]:
        """What `GET /_control/mutations` answers: the mutations applied so far, and how many wait."""
        return self.control.handle("GET", "/_control/mutations", b"")[1]

    def violations(self) -> Dict[str, Any]:
        """What `GET /_control/violations` answers: the requests that broke Asana's contract."""
        return self.control.violations()

    def mutate(self, op: str, **kwargs: Any) -> Dict[str, Any]:
        return self.control.mutate(op, **kwargs)

    def export(self) -> Dict[str, Any]:
        return export(self.store, self.restrictions, self.options)

    def requests(self) -> List[str]:
        """The last 10,000 request lines since the start or `reset_stats`, `METHOD /path?query`."""
        return self.meter.lines()

    def config(self) -> Dict[str, Any]:
        """`now` is the time the data was generated as of; `clock` the fake's current time
        and `clock_offset_s` how far `advance_clock` has moved it past the wall clock."""
        return {"preset": self.preset, "seed": self.seed, "now": fmt_datetime(self.store.now_ms),
                "clock": fmt_datetime(self.store.clock.ms()), "clock_offset_s": self.store.clock.offset,
                "sizes": dict(self.sizes.__dict__), "options": self.options.as_dict()}
