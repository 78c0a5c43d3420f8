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
import re
import threading
import time
from collections import Counter
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple
from urllib.parse import urljoin, urlparse

import backoff
import requests
import urllib3

from tap_asana.config import CLOCK_SKEW, Config

LOGGER = logging.getLogger("tap_asana")

#: Longest pause a 429 imposes (a larger Retry-After is capped); without the header, waits grow exponentially.
MAX_RETRY_AFTER = 120.0
#: Asana's search API has its own budget: 60 requests a minute (asana-api.md 5).
SEARCH_PER_MINUTE = 60
#: A free workspace's budget: 150 requests a minute per token (asana-api.md 4).
FREE_PLAN_PER_MINUTE = 150
#: How often one listing may start over after its offset expired.
MAX_LISTING_RESTARTS = 3
#: Hops a GET may take along redirects that stay on api_url's scheme, host and port. Asana's
#: API does not redirect, but a proxy in front of it may tidy a path; a redirect anywhere else
#: is refused, and the OAuth token request follows none (it carries the client secret).
MAX_REDIRECTS = 3
#: A body larger than this is cut off and retried: Asana's pages are a few MB at most.
MAX_BODY_BYTES = 64 * 1024 * 1024
#: Pages in a row that bring no record not seen before (each with a new offset) after which
#: a listing is taken to be going round in circles.
MAX_STALE_PAGES = 5
#: A 400 about the page offset that says it expired or is invalid (asana-api.md 1.2 gives one
#: phrase; the wording has changed before).
_OFFSET_WORDS = re.compile(r"offset|pagination|page token|next_page", re.I)
_EXPIRED_WORDS = re.compile(r"expired|invalid|no longer valid|not valid|too old", re.I)
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


class Unreachable(Fatal):
    """The host never answered: its name does not resolve, it refuses connections, or TLS fails."""


class RateLimited(AsanaError):
    """429: every worker has already been paused; try again."""


def classify(status: int, message: str, path: str) -> AsanaError:
    """Map an error status to the exception that says what the walk does next."""
    if status == 429:
        return RateLimited(message, status, path)
    if status >= 500 or status == 424:  # 424 is a spec artifact of 429 (asana-api.md 4.2)
        return Transient(f"Asana answered {status} on {path}: {message}", status, path)
    if status == 400 and _OFFSET_WORDS.search(message) and _EXPIRED_WORDS.search(message):
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
        self.server_started_at: Optional[dt.datetime] = None  # see run_start
        self.answered = False  # whether any answer came from api_url's host
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
            url = self.config.oauth_token_url
            for attempt in range(1, self.config.max_retries + 1):
                started = time.monotonic()
                try:
                    resp, content = self._send("POST", url, data=form)
                except (requests.RequestException, urllib3.exceptions.HTTPError, OSError, _TooLong) as exc:
                    self.on_request("POST /-/oauth_token", time.monotonic() - started, None)
                    cause = _cause(exc)
                    error = f"cannot reach the OAuth token endpoint {_origin_text(url)} ({cause})"
                    if self.token is None and not cause.startswith(("connection dropped", "connection failed", "answer")):
                        # No token was ever fetched from there: a wrong oauth_token_url, not a blip.
                        raise Unreachable(error + ". Check oauth_token_url and this machine's network, DNS and proxy",
                                          None, "/-/oauth_token") from None
                else:
                    self.on_request("POST /-/oauth_token", time.monotonic() - started, resp.status_code)
                    self._count(self.requests, "POST /-/oauth_token")
                    if resp.is_redirect or 300 <= resp.status_code < 400:
                        raise Fatal(f"the OAuth token endpoint {url} answered {resp.status_code}, a redirect to "
                                    f"{_origin_text(urljoin(url, resp.headers.get('location', '')))}: the tap never "
                                    "follows a redirect with the client secret. Set oauth_token_url to the endpoint "
                                    "itself.", resp.status_code, "/-/oauth_token")
                    if resp.status_code < 500 and resp.status_code != 429:
                        break
                    error = f"OAuth token endpoint answered {resp.status_code}"
                if attempt == self.config.max_retries:
                    raise Fatal(error + "; giving up after retries")
                self.sleep(min(2 ** attempt, 30))
            body = _json_or_none(content)
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
            resp, body = self._follow(path, params, token)
            status = resp.status_code
        finally:
            self.limiter.release()
            self.on_request(route, time.monotonic() - started, status)
        decoded = _json_or_none(body)
        if resp.status_code == 200:
            if not isinstance(decoded, dict) or "data" not in decoded:
                raise Transient(f"unparseable body on {path} ({len(body)} bytes)", 200, path)
            if route.endswith("{gid}") and not (isinstance(decoded["data"], dict) and decoded["data"].get("gid")):
                raise Fatal(f"{self.config.api_url}{path} answered 200 without an object with a gid (data: "
                            f"{_shape(decoded['data'])}): this is not Asana's API as the tap knows it. Check "
                            "api_url", 200, path)
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

    def _follow(self, path: str, params: Mapping[str, Any], token: Optional[str]) -> Tuple[requests.Response, bytes]:
        """GET api_url + path, following redirects only while they stay on api_url's scheme,
        host and port (the token goes nowhere else)."""
        url, query = self.config.api_url + path, params
        for _ in range(MAX_REDIRECTS + 1):
            try:
                resp, body = self._send("GET", url, params=query, headers={"Authorization": f"Bearer {token}"})
            except requests.Timeout:
                raise Transient(f"no answer within {self.config.request_timeout:g}s (request_timeout) on {path}",
                                None, path) from None
            except _TooLong as exc:
                raise Transient(f"{exc} on {path}", None, path) from None
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
                cause = _cause(exc)
                message = f"cannot reach {_origin_text(url)} ({cause}) on {path}"
                if not self.answered and not cause.startswith(("connection dropped", "connection failed")):
                    # Nothing has ever answered from there: a typo in api_url, a wrong port or a proxy
                    # in the way, which retries over a minute would not change.
                    raise Unreachable(message + ". Check api_url and this machine's network, DNS and proxy",
                                      None, path) from None
                raise Transient(message, None, path) from None
            self.answered = True
            if self.server_started_at is None:
                self.server_started_at = self._start_from(resp.headers.get("Date"))
            if not resp.is_redirect:
                return resp, body
            target = urljoin(url, resp.headers["location"])
            if _origin(target) != _origin(self.config.api_url):
                raise Fatal(f"{self.config.api_url}{path} answered {resp.status_code}, a redirect to "
                            f"{_origin_text(target)}: the tap never follows a redirect to another host or "
                            f"scheme than api_url's. Check api_url", resp.status_code, path)
            url, query = target, None
        raise Fatal(f"{self.config.api_url}{path} redirected more than {MAX_REDIRECTS} times. Check api_url",
                    None, path)

    def _send(self, method: str, url: str, **kwargs: Any) -> Tuple[requests.Response, bytes]:
        """One request and its whole answer within request_timeout: the body is read in
        chunks against a deadline, so a trickled or endless body ends, as does a huge one."""
        timeout = self.config.request_timeout
        deadline = time.monotonic() + timeout
        resp = self.session.request(method, url, timeout=timeout, stream=True, allow_redirects=False, **kwargs)
        try:
            read = getattr(resp.raw, "read1", None) or resp.raw.read
            chunks, size = [], 0
            while True:
                chunk = read(65536, decode_content=True)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise _TooLong(f"answer body larger than {MAX_BODY_BYTES // 2 ** 20} MB")
                if time.monotonic() > deadline:
                    raise _TooLong(f"answer still arriving after {timeout:g}s (request_timeout)")
        finally:
            resp.close()
        return resp, b"".join(chunks)

    def _start_from(self, date: Optional[str]) -> dt.datetime:
        """Asana's clock at its first answer, unless it disagrees with this machine's."""
        local = dt.datetime.now(dt.timezone.utc)
        server = _server_time(date)
        if server is None:
            return local
        if abs(server - local) > CLOCK_SKEW:
            # A start too early only sends some records twice; one too late loses the records
            # changed in between, for good: take the earlier clock.
            LOGGER.warning("Asana's clock (Date: %s) and this machine's (%s) disagree by more than %s: the run's "
                           "start, which becomes the next bookmark, is taken from the earlier of the two. Check "
                           "this machine's clock (NTP)", date, format_asana_time(local), CLOCK_SKEW)
            return min(server, local)
        return server

    def run_start(self) -> dt.datetime:
        """When this run started, for bookmarks: Asana's clock at its first answer (the clock
        that stamps modified_at), or the earlier of it and this machine's when the two
        disagree by more than CLOCK_SKEW (with a WARNING); this machine's before any answer."""
        return self.server_started_at or dt.datetime.now(dt.timezone.utc)

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
        self.pages = 0  # pages read since the listing (re)started
        self.stale = 0  # pages in a row without a record not seen before
        self.replay = 0  # pages a restart reads again, which bring nothing new
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
            self.replay, self.pages, self.stale = self.pages, 0, 0
            return []
        next_page = body.get("next_page") if self.paginated else None
        self.offset = next_page.get("offset") if isinstance(next_page, dict) else None
        if self.offset in self.offsets_seen:
            raise Fatal(f"Asana returned the same offset twice on {self.path}; stopping that loop")
        if self.offset:
            self.offsets_seen.add(self.offset)
        self.done = not self.offset
        url = self.client.config.api_url + self.path
        data = _records(body["data"], url)
        fresh = _fresh(data, self.gids_seen)
        self.pages += 1
        self.stale = 0 if fresh else self.stale + 1
        if not self.done:
            _check_progress(url, self.pages, self.client.config.max_pages,
                            self.stale if self.stale > self.replay else 0)
        return fresh


class SearchListing:
    """A search endpoint, which has no next_page: sort ascending by `cursor_field` and
    ask again from the last value seen (asana-api.md 2.6). Same interface as Listing."""

    def __init__(self, client: AsanaClient, path: str, params: Dict[str, Any], cursor_field: str, after: str):
        self.client, self.path, self.params, self.cursor_field = client, path, params, cursor_field
        self.params["limit"] = client.config.page_size
        self.after = after
        self.gids_seen: set = set()
        self.pages = 0
        self.done = False

    def fetch_next(self) -> List[Dict[str, Any]]:
        limit = self.params["limit"]
        url = self.client.config.api_url + self.path
        page = _records(self.client.get(self.path, {**self.params, f"{self.cursor_field}.after": self.after})["data"], url)
        fresh = _fresh(page, self.gids_seen)
        self.pages += 1
        _check_progress(url, self.pages, self.client.config.max_pages, 0)
        if len(page) < limit:
            self.done = True
        elif not fresh:
            raise SearchStuck(f"more than {limit} records share modified_at {self.after}; search cannot page past them",
                              None, self.path)
        else:
            # Step back a millisecond: `.after` is strict and a page can end inside a run of ties.
            try:
                last = parse_asana_time(page[-1][self.cursor_field]) - dt.timedelta(milliseconds=1)
            except (KeyError, TypeError, ValueError, OverflowError):
                raise Fatal(f"{url} answered a record without a date-time {self.cursor_field} "
                            f"(gid {page[-1]['gid']}): search cannot page on", 200, self.path) from None
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
        self.pages = 0
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
        self.pages += 1
        if not self.done:
            _check_progress(f"{self.client.config.api_url}/events?resource={self.resource}", self.pages,
                            self.client.config.max_pages, 0)
        return body["data"]


def route_of(path: str) -> str:
    """'/tasks/123/stories' -> 'GET /tasks/{gid}/stories', for counting requests."""
    parts = ["{gid}" if p.isdigit() or p == "me" else p for p in path.split("/")]
    return "GET " + "/".join(parts)


def parse_asana_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def format_asana_time(value: dt.datetime) -> str:
    """Asana's own form: UTC, milliseconds, Z (four-digit years: strftime writes year 1 as "1")."""
    value = value.astimezone(dt.timezone.utc)
    return f"{value.year:04d}-" + value.strftime("%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


class _TooLong(Exception):
    """An answer that outgrew the deadline or the size bound."""


def _records(data: Any, url: str) -> List[Dict[str, Any]]:
    """A page's records: a list of objects, each with a gid (a number is taken as its string)."""
    if not isinstance(data, list):
        raise Fatal(f"{url} answered {_shape(data)} where a list of records belongs: this is not Asana's API "
                    "as the tap knows it. Check api_url", 200, urlparse(url).path)
    for record in data:
        if not isinstance(record, dict) or not isinstance(record.get("gid"), (str, int)) \
                or isinstance(record.get("gid"), bool) or record.get("gid") == "":
            gid = record.get("gid") if isinstance(record, dict) else None
            raise Fatal(f"{url} answered a record without a usable gid ({_shape(record)}, gid {gid!r}); nothing "
                        "after it can be sent. If this is Asana, report it; else check api_url", 200, urlparse(url).path)
    return data


def _fresh(records: List[Dict[str, Any]], seen: set) -> List[Dict[str, Any]]:
    """The records whose gid (as a string: 1 and "1" are one gid) was not met before."""
    fresh = []
    for record in records:
        gid = str(record["gid"])
        if gid not in seen:
            seen.add(gid)
            fresh.append(record)
    return fresh


def _check_progress(url: str, pages: int, max_pages: int, stale: int) -> None:
    """A listing that keeps handing out new offsets stops instead of going on forever."""
    if pages >= max_pages:
        raise Fatal(f"{url} still had a next page after {max_pages} pages (max_pages): stopped, taking it for a "
                    "loop. Raise max_pages if the listing really is that long", 200, urlparse(url).path)
    if stale > MAX_STALE_PAGES:
        raise Fatal(f"{url} handed out {stale} new page offsets in a row without a record not seen before: "
                    "stopped, taking it for a loop. If this is Asana, report it", 200, urlparse(url).path)


def _shape(value: Any) -> str:
    if isinstance(value, dict):
        return "an object with keys " + ", ".join(sorted(map(str, value))[:6]) if value else "an empty object"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return "null" if value is None else f"a {type(value).__name__}"


def _origin(url: str) -> Tuple[str, str, Optional[int]]:
    parts = urlparse(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    return parts.scheme.lower(), (parts.hostname or "").lower(), port or {"http": 80, "https": 443}.get(parts.scheme)


def _origin_text(url: str) -> str:
    """scheme://host[:port] of a URL, without its path or query (which may carry anything)."""
    parts = urlparse(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def _cause(exc: BaseException) -> str:
    """Why a request got no answer, in a few words (never the request itself)."""
    if isinstance(exc, _TooLong):
        return str(exc)
    text = repr(exc)
    if isinstance(exc, requests.exceptions.SSLError) or "SSLError" in text or "CERTIFICATE" in text:
        detail = re.search(r"\[SSL[^\]]*\] ?([^')(\]]+)", text)
        return "TLS failed" + (f": {detail.group(1).strip()}" if detail else "")
    if "NameResolution" in text or "getaddrinfo" in text or "not known" in text or "resolve" in text:
        return "DNS lookup failed: the host name does not resolve"
    if "Connection refused" in text or "ConnectionRefused" in text:
        return "connection refused: nothing listens on that port"
    if isinstance(exc, requests.Timeout) or "timed out" in text:
        return "connection failed: timed out"
    if "RemoteDisconnected" in text or "reset" in text.lower() or "IncompleteRead" in text \
            or "ProtocolError" in text or "ChunkedEncodingError" in text:
        return "connection dropped before the answer was whole"
    return f"connection failed: {type(exc).__name__}"


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
