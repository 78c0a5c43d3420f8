"""The errors Asana's answers map to, and the two verbs they carry: retry (429, 5xx,
timeouts, dropped connections, unparseable bodies) or fail. Failures that concern one object
(402 premium only, 403, 404) are ``Skip`` so the walk can log and go on; everything else that
is not retried is ``Fatal``. ``classify`` is the one place that decides."""
from __future__ import annotations

import re
from typing import Any, Optional

_OFFSET_WORDS = re.compile(r"offset|pagination|page token|next_page", re.I)
_EXPIRED_WORDS = re.compile(r"expired|invalid|no longer valid|not valid|too old", re.I)


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
    """Asana's pagination tokens expire (developers.asana.com/docs/pagination)."""


class SyncExpired(AsanaError):
    """412 from the Events API: the sync token is missing, too old or invalid; the body
    carries a fresh one (getEvents)."""

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
    if status >= 500 or status == 424:  # 424 is a spec artifact of 429 (developers.asana.com/docs/errors)
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


def _shape(value: Any) -> str:
    if isinstance(value, dict):
        return "an object with keys " + ", ".join(sorted(map(str, value))[:6]) if value else "an empty object"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return "null" if value is None else f"a {type(value).__name__}"
