"""The only code that speaks HTTP: session, auth and token refresh, timeouts, redirects,
retries and rate limiting. What an error status means is decided in ``errors.classify``;
how a collection is paged, in ``paging.py`` (whose listings send their requests here)."""
from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import re
import threading
import time
from collections import Counter
from typing import Any, Callable, Dict, Iterator, Mapping, Optional, Tuple
from urllib.parse import urljoin, urlparse

import backoff
import requests
import urllib3

from tap_asana.config import CLOCK_SKEW, Config
from tap_asana.contract import template_of
from tap_asana.errors import (AsanaError, AuthRejected, Fatal, OffsetExpired, RateLimited, SearchStuck, Skip,
                              SyncExpired, Transient, Unreachable, _shape, classify)
from tap_asana.paging import EventListing, Listing, SearchListing, format_asana_time, parse_asana_time

#: What callers import from here: the client, the errors it raises, Asana's time format.
__all__ = ["AsanaClient", "RateLimiter", "AsanaError", "AuthRejected", "Fatal", "OffsetExpired", "RateLimited",
           "SearchStuck", "Skip", "SyncExpired", "Transient", "Unreachable", "classify", "route_of",
           "format_asana_time", "parse_asana_time", "FREE_PLAN_PER_MINUTE", "USER_AGENT"]

LOGGER = logging.getLogger("tap_asana")

#: Longest pause a 429 imposes (a larger Retry-After is capped); without the header, waits grow exponentially.
MAX_RETRY_AFTER = 120.0
#: Asana's search API has its own budget: 60 requests a minute (developers.asana.com/docs/rate-limits).
SEARCH_PER_MINUTE = 60
#: A free workspace's budget: 150 requests a minute per token (developers.asana.com/docs/rate-limits).
FREE_PLAN_PER_MINUTE = 150
#: Hops a GET may take along redirects that stay on api_url's scheme, host and port. Asana's
#: API does not redirect, but a proxy in front of it may tidy a path; a redirect anywhere else
#: is refused, and the OAuth token request follows none (it carries the client secret).
MAX_REDIRECTS = 3
#: A body larger than this is cut off and retried: Asana's pages are a few MB at most.
MAX_BODY_BYTES = 64 * 1024 * 1024
#: A 400 about the page offset that says it expired or is invalid (developers.asana.com/docs/pagination gives one
#: phrase; the wording has changed before).
USER_AGENT = "tap-asana (+https://github.com/singer-io/getting-started)"


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

    def events(self, resource: str, sync: Optional[str], workspace: bool = False) -> "EventListing":
        return EventListing(self, resource, sync, workspace)

    def paginate(self, pages: "Listing | SearchListing") -> Iterator[Dict[str, Any]]:
        while not pages.done:
            yield from pages.fetch_next()



def route_of(path: str) -> str:
    """'/tasks/123/stories' -> 'GET /tasks/{gid}/stories', for counting requests."""
    return "GET " + template_of(path)


class _TooLong(Exception):
    """An answer that outgrew the deadline or the size bound."""


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
