"""Asana's Events API (`getEvents`, https://developers.asana.com/reference/events, and
`getWorkspaceEvents`): an append-only log of the changes the mutations make, read through
signed sync tokens. A token is a position in the log, so a client that always sends the
token it was last given sees every event once, oldest first. Events "bubble up": each event
is stored with the gids of every resource whose stream includes it, computed when it is
logged (a task moved or deleted later does not rewrite history, as on Asana), its
workspace's among them: a workspace's stream has every event of the workspace."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, Optional, Tuple

from .errors import SYNC_INVALID, ApiError
from .store import Record, Ref, Store
from .timefmt import fmt_datetime

#: Asana hands out at most 100 events per call and says `has_more` when there are more (`getEvents`).
PAGE_SIZE = 100
#: A workspace's stream, up to 1000 per call (`getWorkspaceEvents`).
WORKSPACE_PAGE_SIZE = 1000
#: The fields that lead from a record towards its workspace: a story's task, a section's
#: project, an attachment's or a status update's parent.
TOWARDS_WORKSPACE = ("workspace", "target", "project", "parent")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SyncTokenError(ApiError):
    """The 412 that both starts a stream and ends a stale one: it carries a fresh token
    beside `errors`, the shape Asana's SDKs read it from."""

    def __init__(self, token: str) -> None:
        super().__init__(412, SYNC_INVALID)
        self.token = token

    def body(self) -> Dict[str, Any]:
        return {"errors": [{"message": self.message}], "sync": self.token}


class SyncCodec:
    """Tokens are `<payload>.<signature>`, both unpadded base64url: the payload is the JSON
    `{"pos", "resource", "epoch", "iat"}`, the signature an HMAC-SHA256 of it, so a forged
    or garbled token is told from a real one without any server-side table."""

    def __init__(self, secret: bytes, ttl: Callable[[], float], clock: Callable[[], float] = time.time) -> None:
        self._secret, self._ttl, self._clock = secret, ttl, clock

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, payload.encode(), hashlib.sha256).digest())

    def issue(self, position: int, resource: str, epoch: int) -> str:
        claims = {"pos": position, "resource": resource, "epoch": epoch, "iat": round(self._clock(), 3)}
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return payload + "." + self._sign(payload)

    def read(self, token: str, resource: str, epoch: int, end: int) -> Optional[int]:
        """The token's log position, or None if it is forged, for another resource, from
        before the last `expire_sync_tokens`, older than the lifetime now in force, or
        beyond the end of the log."""
        try:
            payload, signature = token.split(".")
            if not hmac.compare_digest(signature, self._sign(payload)):
                return None
            claims = json.loads(_unb64(payload))
            position, issued = int(claims["pos"]), float(claims["iat"])
            if claims["resource"] != resource or claims["epoch"] != epoch:
                return None
        except (ValueError, KeyError, TypeError):
            return None
        if self._clock() - issued > self._ttl() or not 0 <= position <= end:
            return None
        return position


def named(record: Record) -> Dict[str, Any]:
    """Events name resources as {gid, resource_type, name}. Stories have no name; their
    text stands in (what Asana puts there is not documented)."""
    name = record["name"] if "name" in record else record.get("text")
    return {"gid": record["gid"], "resource_type": record["resource_type"], "name": name}


class EventLog:
    """Thread-safe. Positions are indexes into the log: a token at position p has seen
    the events before p. The log starts empty with the server: the generated history is
    older than any token."""

    def __init__(self, store: Store, codec: SyncCodec) -> None:
        self.store, self.codec = store, codec
        self._lock = threading.Lock()
        self._log: List[Tuple[Record, FrozenSet[str]]] = []
        self._epoch = 0
        self._bumps: Dict[str, int] = {}  # resource -> tokens expired for it alone

    # --- writing -------------------------------------------------------------------------------
    def reach_of_task(self, task: Record) -> FrozenSet[str]:
        """Whose streams a change to this task (or to a story on it) bubbles to: the task,
        its ancestors, and every project any of them is in."""
        gids, seen = set(), set()
        current: Optional[Record] = task
        while current is not None and current["gid"] not in seen:
            seen.add(current["gid"])
            gids.add(current["gid"])
            gids.update(p.gid for p in current["projects"])
            parent = current["parent"]
            current = self.store.records.get(parent.gid) if parent else None
        return frozenset(gids)

    def workspace_of(self, record: Record) -> Optional[str]:
        """The workspace a record is in, found through what it belongs to."""
        for _ in range(8):  # a story -> its task -> (its parent task ...) -> the workspace
            if isinstance(record.get("workspace"), Ref):
                return record["workspace"].gid
            step = next((record[k] for k in TOWARDS_WORKSPACE if isinstance(record.get(k), Ref)), None)
            record = self.store.records.get(step.gid) if step else None
            if record is None:
                return None
        return None

    def log(self, resource: Record, action: str, at_ms: int, reach: Iterable[str],
            parent: Optional[Record] = None, change: Optional[Dict[str, Any]] = None) -> Record:
        """Append one event, in the streams of `reach` and of the resource's workspace;
        names are taken now, so an event on a since-deleted task still says what the task
        was called."""
        me = self.store.records.get(self.store.me)
        event: Record = {
            "user": named(me) if me else None,
            "resource": named(resource),
            "type": resource["resource_type"],  # deprecated, still sent
            "action": action,
            "created_at": fmt_datetime(at_ms),
        }
        if parent is not None:  # only added and removed name one; `parent` may not be null, so it is left out
            event["parent"] = named(parent)
        if change is not None:
            event["change"] = change
        workspace = self.workspace_of(resource)
        with self._lock:
            self._log.append((event, frozenset(reach) | ({workspace} if workspace else frozenset())))
        return event

    @staticmethod
    def changed(field_name: str, new_value: Any) -> Dict[str, Any]:
        return {"field": field_name, "action": "changed", "new_value": new_value}

    def expire_tokens(self, resources: Optional[Iterable[str]] = None) -> int:
        """Every token issued so far (for `resources`, if given) becomes stale (a 412), as
        when Asana sheds load. A resource's epoch is the global one plus its own bumps:
        both only grow, so no stale token's epoch comes back."""
        with self._lock:
            if resources is None:
                self._epoch += 1
            else:
                for resource in resources:
                    self._bumps[resource] = self._bumps.get(resource, 0) + 1
            return self._epoch

    def _epoch_of(self, resource: str) -> int:
        return self._epoch + self._bumps.get(resource, 0)

    # --- reading -------------------------------------------------------------------------------
    def serve(self, resource: str, token: Optional[str], page_size: int = PAGE_SIZE) -> Dict[str, Any]:
        """The 200 body for a valid token (at most `page_size` events); raises the 412 for
        none or a stale one."""
        with self._lock:
            end, epoch = len(self._log), self._epoch_of(resource)
            position = self.codec.read(token, resource, epoch, end) if token else None
            if position is None:
                raise SyncTokenError(self.codec.issue(end, resource, epoch))
            found: List[Record] = []
            resume = end
            for index in range(position, end):
                event, reach = self._log[index]
                if resource not in reach:
                    continue
                if len(found) == page_size:
                    resume = index  # the first match beyond the page: the next call starts here
                    break
                found.append(event)
            has_more = resume < end
            return {"data": [dict(e) for e in found], "sync": self.codec.issue(resume, resource, epoch),
                    "has_more": has_more}

    def __len__(self) -> int:
        with self._lock:
            return len(self._log)
