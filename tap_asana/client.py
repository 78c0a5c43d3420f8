"""The only code that speaks HTTP: session, auth and token refresh, timeouts,
retries, rate limiting, pagination and the classification of errors.

Errors get two verbs, decided in ``classify``: retry (429, 5xx, timeouts,
dropped connections, unparseable bodies) or fail. Failures that concern one
object (402 premium only, 403, 404) raise ``Skip`` so the walk can log and go
on; everything else raises ``Fatal``.
"""
from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import threading
import time
from collections import Counter
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional

import backoff
import requests

from tap_asana.config import Config

LOGGER = logging.getLogger("tap_asana")

#: Longest pause a 429 imposes (a larger Retry-After is capped); without the header, waits grow exponentially.
MAX_RETRY_AFTER = 120.0
#: Asana's search API has its own budget: 60 requests a minute (asana-api.md 5).
SEARCH_PER_MINUTE = 60
#: A free workspace's budget: 150 requests a minute per token (asana-api.md 4).
FREE_PLAN_PER_MINUTE = 150
#: How often one listing may start over after its offset expired.
MAX_LISTING_RESTARTS = 3
USER_AGENT = "tap-asana (+https://github.com/singer-io/getting-started)"


class AsanaError(Exception):
    def __init__(self, message: str, status: Optional[int] = None, path: str = ""):
        super().__init__(message)
        self.status = status
        self.path = path
        self.token: Optional[str] = None  # the access token the failed request carried


class Fatal(AsanaError):
    """Stop the run: retrying or skipping cannot help."""


class AuthRejected(Fatal):
    """Asana rejected the credentials."""


class Skip(AsanaError):
    """402, 403 or 404: this object (or stream) cannot be read; the rest can."""


class OffsetExpired(AsanaError):
    """Asana's pagination tokens expire (about 15 minutes, asana-api.md 1.2)."""


class SyncExpired(AsanaError):
    """412 from the Events API: the sync token is missing, too old or invalid; the body
    carries a fresh one (asana-api.md 2.14)."""

    def __init__(self, message: str, status: Optional[int] = None, path: str = ""):
        super().__init__(message, status, path)
        self.sync: Optional[str] = None


class SearchStuck(Skip):
    """More tied records than a search page holds: search cannot page past them."""


class Transient(AsanaError):
    """Worth another try after an exponential wait."""


class RateLimited(AsanaError):
    """429: every worker has already been paused; try again."""


def classify(status: int, message: str, path: str) -> AsanaError:
    """Map an error status to the exception that says what the walk does next."""
    if status == 429:
        return RateLimited(message, status, path)
    if status >= 500 or status == 424:  # 424 is a spec artifact of 429 (asana-api.md 4.2)
        return Transient(f"Asana answered {status} on {path}: {message}", status, path)
    if status == 400 and "pagination token has expired" in message:
        return OffsetExpired(message, status, path)
    if status in (402, 403, 404):
        return Skip(message, status, path)
    if status == 412:
        return SyncExpired(message, status, path)
    if status == 401:
        return AuthRejected(message, status, path)
    return Fatal(f"Asana answered {status} on {path}: {message}", status, path)


class RateLimiter:
    """One budget for every worker: requests per minute, requests in flight,
    and a shared pause that a 429 imposes on all workers at once."""

    def __init__(self, per_minute: int, max_in_flight: int, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self._budget(per_minute)
        self.tokens = float(self.burst)
        self.max_in_flight = max_in_flight
        self.in_flight = 0
        self.paused_until = 0.0
        self.clock, self.sleep = clock, sleep
        self.updated = clock()
        self.lock = threading.Lock()

    def _budget(self, per_minute: int) -> None:
        # A bucket holding `burst` tokens refilled at (per_minute - burst)/60 per second never
        # lets any 60-second window exceed per_minute, however Asana slides its window.
        self.per_minute = per_minute
        self.burst = max(1, min(10, per_minute // 30))
        self.rate = max(per_minute - self.burst, 1) / 60.0

    def lower(self, per_minute: int) -> bool:
        """Keep to a smaller budget from now on; never raises it. True if it changed."""
        with self.lock:
            if per_minute >= self.per_minute:
                return False
            self._budget(per_minute)
            self.tokens = min(self.tokens, float(self.burst))
            return True

    def acquire(self) -> None:
        while True:
            with self.lock:
                now = self.clock()
                self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if now >= self.paused_until and self.tokens >= 1 and self.in_flight < self.max_in_flight:
                    self.tokens -= 1
                    self.in_flight += 1
                    return
                wait = max(self.paused_until - now, (1 - self.tokens) / self.rate, 0.005)
            self.sleep(min(wait, 0.25))

    def release(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def pause(self, seconds: float) -> None:
        with self.lock:
            self.paused_until = max(self.paused_until, self.clock() + seconds)
            self.tokens = 0.0


class AsanaClient:
    def __init__(self, config: Config, session: Optional[requests.Session] = None, backoff_factor: float = 1.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 on_secret: Callable[[str], None] = lambda _secret: None,
                 on_request: Callable[[str, float, Optional[int]], None] = lambda _route, _seconds, _status: None):
        self.config = config
        self.session = session or requests.Session()
        self.session.headers.update({"Accept": "application/json", "User-Agent": USER_AGENT})
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=64, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.limiter = RateLimiter(config.requests_per_minute, config.max_workers, clock, sleep)
        self.search_limiter = RateLimiter(SEARCH_PER_MINUTE, config.max_workers, clock, sleep)
        self.sleep = sleep
        self.token = config.access_token
        self.token_lock = threading.Lock()
        self.on_secret = on_secret  # told every access token fetched, so logs can redact it
        self.on_request = on_request  # told (route, seconds, status or None) after every HTTP attempt
        self.count_lock = threading.Lock()
        self.requests: Counter = Counter()  # route -> count, every attempt included
        self.rate_limited: Counter = Counter()  # route -> 429s received
        self.server_started_at: Optional[dt.datetime] = None
        self._get_json = backoff.on_exception(
            backoff.expo, Transient, max_tries=lambda: config.max_retries, factor=backoff_factor,
            max_value=60, jitter=backoff.full_jitter, on_backoff=self._log_retry, logger=None,
        )(backoff.on_exception(
            backoff.runtime, RateLimited, value=lambda _exc: 0, max_tries=12, on_backoff=self._log_retry,
            logger=None)(self._get_once))

    # --- auth ---------------------------------------------------------------------------------
    def refresh_access_token(self, stale: Optional[str] = None) -> None:
        """Fetch a new OAuth access token, unless another worker already replaced `stale`."""
        with self.token_lock:
            if stale is not None and self.token != stale:
                return
            form = {"grant_type": "refresh_token", "client_id": self.config.client_id,
                    "client_secret": self.config.client_secret, "refresh_token": self.config.refresh_token}
            if self.config.redirect_uri:
                form["redirect_uri"] = self.config.redirect_uri
            for attempt in range(1, self.config.max_retries + 1):
                started = time.monotonic()
                try:
                    resp = self.session.post(self.config.oauth_token_url, data=form, timeout=self.config.request_timeout)
                except requests.RequestException as exc:
                    self.on_request("POST /-/oauth_token", time.monotonic() - started, None)
                    error = f"cannot reach the OAuth token endpoint: {type(exc).__name__}"
                else:
                    self.on_request("POST /-/oauth_token", time.monotonic() - started, resp.status_code)
                    self._count(self.requests, "POST /-/oauth_token")
                    if resp.status_code < 500 and resp.status_code != 429:
                        break
                    error = f"OAuth token endpoint answered {resp.status_code}"
                if attempt == self.config.max_retries:
                    raise Fatal(error + "; giving up after retries")
                self.sleep(min(2 ** attempt, 30))
            body = _json_or_none(resp)
            token = body.get("access_token") if isinstance(body, dict) else None
            if resp.status_code != 200 or not token:
                reason = (body or {}).get("error", "") if isinstance(body, dict) else ""
                raise AuthRejected(f"Asana refused the OAuth refresh ({resp.status_code} {reason}).".replace(" )", ")"),
                                   resp.status_code, "/-/oauth_token")
            self.token = token
            self.on_secret(token)
            LOGGER.info("OAuth access token refreshed")

    # --- one request ----------------------------------------------------------------------------
    def get(self, path: str, params: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """GET a path under api_url; returns the decoded body, after retries."""
        if self.token is None:
            self.refresh_access_token()
        for _ in range(5):  # a few refreshes for one request, should tokens expire quickly
            try:
                return self._get_json(path, params or {})
            except AuthRejected as exc:
                if not self.config.oauth:
                    raise
                LOGGER.info("Asana answered 401 (%s); refreshing the OAuth access token", exc)
                self.refresh_access_token(stale=exc.token)
        raise AuthRejected("Asana keeps rejecting fresh OAuth access tokens", 401, path)

    def _get_once(self, path: str, params: Mapping[str, Any]) -> Dict[str, Any]:
        limiter = self.search_limiter if path.endswith("/tasks/search") else None
        if limiter:
            limiter.acquire()
            limiter.release()
        self.limiter.acquire()
        token = self.token  # read after the wait: another worker may have refreshed it meanwhile
        route = route_of(path)
        self._count(self.requests, route)
        started, status = time.monotonic(), None
        try:
            resp = self.session.get(self.config.api_url + path, params=params, timeout=self.config.request_timeout,
                                    headers={"Authorization": f"Bearer {token}"})
            body = resp.content  # reading the whole body here surfaces truncated responses
            status = resp.status_code
        except requests.Timeout:
            raise Transient(f"timed out after {self.config.request_timeout:g}s on {path}", None, path) from None
        except requests.RequestException as exc:
            raise Transient(f"connection failed on {path}: {type(exc).__name__}", None, path) from None
        finally:
            self.limiter.release()
            self.on_request(route, time.monotonic() - started, status)
        if self.server_started_at is None:
            self.server_started_at = _server_time(resp.headers.get("Date"))
        decoded = _json_or_none(body)
        if resp.status_code == 200:
            if not isinstance(decoded, dict) or "data" not in decoded:
                raise Transient(f"unparseable body on {path} ({len(body)} bytes)", 200, path)
            return decoded
        message = _error_message(decoded) or resp.reason or ""
        error = classify(resp.status_code, message, path)
        error.token = token
        if isinstance(error, SyncExpired) and isinstance(decoded, dict) and isinstance(decoded.get("sync"), str):
            error.sync = decoded["sync"]
        if isinstance(error, RateLimited):
            wait = _retry_after(resp.headers.get("Retry-After"))
            if wait is None:
                wait = min(MAX_RETRY_AFTER, 2.0 ** min(self.rate_limited[route], 7))
            wait = min(wait, MAX_RETRY_AFTER)
            self._count(self.rate_limited, route)
            LOGGER.warning("Rate limited on %s; pausing every worker for %.1fs", route, wait)
            self.limiter.pause(wait)
        raise error

    def limit_rate(self, per_minute: int) -> None:
        """Keep to a smaller request budget from now on (a free plan's); never raises it."""
        was = self.limiter.per_minute
        if self.limiter.lower(per_minute):
            LOGGER.info("Keeping to %d requests a minute from now on (was %d)", per_minute, was)

    def _count(self, counter: Counter, key: str) -> None:
        with self.count_lock:
            counter[key] += 1

    def _log_retry(self, details: Mapping[str, Any]) -> None:
        exc = details.get("exception")
        if isinstance(exc, Transient):
            LOGGER.warning("Retrying (try %d) after %.1fs: %s", details["tries"], details.get("wait") or 0, exc)

    # --- pagination ------------------------------------------------------------------------------
    def listing(self, path: str, params: Mapping[str, Any], paginated: bool = True) -> "Listing":
        return Listing(self, path, dict(params), paginated)

    def search(self, path: str, params: Mapping[str, Any], cursor_field: str, after: str) -> "SearchListing":
        return SearchListing(self, path, dict(params), cursor_field, after)

    def events(self, resource: str, sync: Optional[str]) -> "EventListing":
        return EventListing(self, resource, sync)

    def paginate(self, pages: "Listing | SearchListing") -> Iterator[Dict[str, Any]]:
        while not pages.done:
            yield from pages.fetch_next()



class Listing:
    """One collection read page by page. ``fetch_next`` sends one request; an expired
    offset starts the listing over, and records already returned are not returned again."""

    def __init__(self, client: AsanaClient, path: str, params: Dict[str, Any], paginated: bool):
        self.client, self.path, self.params, self.paginated = client, path, params, paginated
        if paginated:
            self.params["limit"] = client.config.page_size
        self.offset: Optional[str] = None
        self.offsets_seen: set = set()
        self.gids_seen: set = set()
        self.restarts = 0
        self.done = False

    def fetch_next(self) -> List[Dict[str, Any]]:
        params = dict(self.params, offset=self.offset) if self.offset else self.params
        try:
            body = self.client.get(self.path, params)
        except OffsetExpired:
            self.restarts += 1
            if self.restarts > MAX_LISTING_RESTARTS:
                raise Fatal(f"pagination offsets on {self.path} kept expiring; gave up after {MAX_LISTING_RESTARTS} restarts")
            LOGGER.warning("Pagination offset expired on %s; starting that listing over", self.path)
            self.offset, self.offsets_seen = None, set()
            return []
        next_page = body.get("next_page") if self.paginated else None
        self.offset = next_page.get("offset") if isinstance(next_page, dict) else None
        if self.offset in self.offsets_seen:
            raise Fatal(f"Asana returned the same offset twice on {self.path}; stopping that loop")
        if self.offset:
            self.offsets_seen.add(self.offset)
        self.done = not self.offset
        data = body["data"]
        if not isinstance(data, list):
            raise Fatal(f"expected a list from {self.path}, got {type(data).__name__}")
        fresh = [r for r in data if r.get("gid") not in self.gids_seen]
        self.gids_seen.update(r.get("gid") for r in fresh)
        return fresh


class SearchListing:
    """A search endpoint, which has no next_page: sort ascending by `cursor_field` and
    ask again from the last value seen (asana-api.md 2.6). Same interface as Listing."""

    def __init__(self, client: AsanaClient, path: str, params: Dict[str, Any], cursor_field: str, after: str):
        self.client, self.path, self.params, self.cursor_field = client, path, params, cursor_field
        self.params["limit"] = client.config.page_size
        self.after = after
        self.gids_seen: set = set()
        self.done = False

    def fetch_next(self) -> List[Dict[str, Any]]:
        limit = self.params["limit"]
        page = self.client.get(self.path, {**self.params, f"{self.cursor_field}.after": self.after})["data"]
        fresh = [r for r in page if r["gid"] not in self.gids_seen]
        self.gids_seen.update(r["gid"] for r in fresh)
        if len(page) < limit:
            self.done = True
        elif not fresh:
            raise SearchStuck(f"more than {limit} records share modified_at {self.after}; search cannot page past them",
                              None, self.path)
        else:
            # Step back a millisecond: `.after` is strict and a page can end inside a run of ties.
            last = parse_asana_time(page[-1][self.cursor_field]) - dt.timedelta(milliseconds=1)
            self.after = format_asana_time(last)
        return fresh


class EventListing:
    """A resource's events since a sync token, 100 a call while ``has_more``. Without a
    token, or with one Asana no longer honours, the 412 hands over a fresh token and
    ``expired`` is set: the caller must read the resource in full. ``sync`` is the token
    for the next run once ``done`` (None if a 412 came without one). Same interface as
    Listing."""

    def __init__(self, client: AsanaClient, resource: str, sync: Optional[str]):
        self.client, self.resource, self.sync = client, resource, sync
        self.expired = False
        self.done = False

    def fetch_next(self) -> List[Dict[str, Any]]:
        params = {"resource": self.resource, **({"sync": self.sync} if self.sync else {})}
        try:
            body = self.client.get("/events", params)
        except SyncExpired as exc:
            if not exc.sync:  # the resource must still be read in full; no token to keep
                LOGGER.warning("Asana answered 412 on /events for %s without a new sync token (%s)",
                               self.resource, exc)
            self.sync, self.expired, self.done = exc.sync or None, True, True
            return []
        if not isinstance(body.get("sync"), str) or not isinstance(body["data"], list):
            raise Fatal("Asana answered /events without a sync token or a list of events", 200, "/events")
        self.sync = body["sync"]
        self.done = not body.get("has_more")
        return body["data"]


def route_of(path: str) -> str:
    """'/tasks/123/stories' -> 'GET /tasks/{gid}/stories', for counting requests."""
    parts = ["{gid}" if p.isdigit() or p == "me" else p for p in path.split("/")]
    return "GET " + "/".join(parts)


def parse_asana_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def format_asana_time(value: dt.datetime) -> str:
    """Asana's own form: UTC, milliseconds, Z."""
    value = value.astimezone(dt.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _json_or_none(body: Any) -> Any:
    try:
        return json.loads(body) if isinstance(body, (bytes, str)) else body.json()
    except ValueError:
        return None


def _error_message(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return "; ".join(str(e.get("message", "")) for e in body["errors"] if isinstance(e, dict))
    return ""


def _retry_after(value: Optional[str]) -> Optional[float]:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _server_time(value: Optional[str]) -> Optional[dt.datetime]:
    try:
        return email.utils.parsedate_to_datetime(value).astimezone(dt.timezone.utc) if value else None
    except (TypeError, ValueError):
        return None
