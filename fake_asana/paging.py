"""Offset pagination as Asana does it (https://developers.asana.com/docs/pagination):
`limit` 1..100, opaque JWT-like offsets that expire, `next_page` only when `limit` is
sent, and a 400 for big results without `limit`. Pages follow gid order and an offset records the last gid
served, so an insert between two pages neither repeats nor skips a record."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple
from urllib.parse import urlencode

from .errors import LIMIT_RANGE, OFFSET_EXPIRED, OFFSET_INVALID, TOO_LARGE, ApiError

_HEADER = base64.urlsafe_b64encode(b'{"typ":"JWT","alg":"HS256"}').rstrip(b"=").decode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class OffsetCodec:
    def __init__(self, secret: bytes, ttl: Callable[[], float], clock: Callable[[], float] = time.time) -> None:
        self._secret, self._ttl, self._clock = secret, ttl, clock

    def _sign(self, signing_input: str) -> str:
        return _b64(hmac.new(self._secret, signing_input.encode(), hashlib.sha256).digest())

    def issue(self, listing: str, last_gid: str) -> str:
        now = self._clock()
        payload = {"border_rank": last_gid, "listing": listing, "iat": round(now, 3),
                   "exp": round(now + self._ttl(), 3)}
        signing_input = _HEADER + "." + _b64(json.dumps(payload, separators=(",", ":")).encode())
        return signing_input + "." + self._sign(signing_input)

    def read(self, token: str, listing: str) -> str:
        """The last gid of the previous page; 400 if forged, from another listing, or expired."""
        try:
            header, payload, signature = token.split(".")
            if not hmac.compare_digest(signature, self._sign(header + "." + payload)):
                raise ValueError("signature")
            claims = json.loads(_unb64(payload))
            last, issued = str(claims["border_rank"]), float(claims["iat"])
        except (ValueError, KeyError, TypeError):
            raise ApiError(400, OFFSET_INVALID)
        if claims.get("listing") != listing:
            raise ApiError(400, OFFSET_INVALID)
        # The lifetime in force now applies, so a test can shorten it on a running server.
        if self._clock() - issued > self._ttl():
            raise ApiError(400, OFFSET_EXPIRED)
        return last


def parse_limit(raw: Optional[str], default: Optional[int] = None) -> Optional[int]:
    if raw is None:
        return default
    try:
        limit = int(raw)
    except ValueError:
        raise ApiError(400, LIMIT_RANGE)
    if not 1 <= limit <= 100:
        raise ApiError(400, LIMIT_RANGE)
    return limit


class Pager:
    """Cuts a gid-ordered result list into Asana pages."""

    def __init__(self, codec: OffsetCodec, max_unpaginated: Callable[[], int],
                 expire_every: Callable[[], int] = lambda: 0) -> None:
        self.codec, self.max_unpaginated = codec, max_unpaginated
        # A fault a test can count on, where a short lifetime expires offsets only when the
        # client happens to be slow: every Nth offset read is taken as expired, at most once
        # per listing, so a client that starts the listing over does get through.
        self._expire_every, self._reads, self._expired = expire_every, 0, set()
        self._lock = threading.Lock()

    def _expire_now(self, listing: str, query: List[Tuple[str, str]]) -> bool:
        every = self._expire_every()
        if not every:
            return False
        key = (listing, tuple(sorted((k, v) for k, v in query if k != "offset")))
        with self._lock:
            self._reads += 1
            if self._reads % every or key in self._expired:
                return False
            self._expired.add(key)
            return True

    def page(self, records: Sequence[Dict[str, Any]], listing: str, query: List[Tuple[str, str]],
             params: Dict[str, str], base_url: str) -> Tuple[List[Dict[str, Any]], Dict[str, Any]]:
        """The records of this page and the extra envelope keys (`next_page` or nothing)."""
        limit = parse_limit(params.get("limit"))
        offset = params.get("offset")
        if offset:
            last = self.codec.read(offset, listing)
            if self._expire_now(listing, query):
                raise ApiError(400, OFFSET_EXPIRED)
            records = [r for r in records if r["gid"] > last]
        if limit is None:
            if len(records) > self.max_unpaginated():
                raise ApiError(400, TOO_LARGE)
            return list(records), {}
        page = list(records[:limit])
        if len(records) <= limit:
            return page, {"next_page": None}
        token = self.codec.issue(listing, page[-1]["gid"])
        # `path` is relative to /api/1.0 and repeats the request's own query.
        pairs = [(k, v) for k, v in query if k != "offset"] + [("offset", token)]
        path = listing + "?" + urlencode(pairs, safe=",.")
        return page, {"next_page": {"offset": token, "path": path, "uri": base_url + "/api/1.0" + path}}
