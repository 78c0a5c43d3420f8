"""What a project's full read found, in a few dozen bytes: which tasks it holds and where they sit
(each task's project and section memberships), as one checksum per bucket of tasks.

A project's safety read (the daily full read, the net for events Asana lost) lists its tasks
again. A task whose ``modified_at`` moved since the last full read is sent again by that rule
alone; what does not move ``modified_at`` (a task added to or removed from a project, moved to
another section: Asana's ``TaskResponse.modified_at`` does not count "moving to a new
container") shows as a bucket whose checksum changed, and the tasks of that bucket are sent
again. A quiet project matches its last fingerprint and sends nothing. 16 buckets keep the state
about constant per project (88 characters) while a lost move costs a sixteenth of the project.
"""
from __future__ import annotations

import base64
import struct
import zlib
from typing import Any, Iterable, List, Mapping, Optional, Set

BUCKETS = 16


def bucket(gid: str) -> int:
    return zlib.crc32(gid.encode()) % BUCKETS


def _place(task: Mapping[str, Any]) -> bytes:
    """A task's gid and memberships, as bytes that do not depend on their order."""
    memberships = sorted(((m.get("project") or {}).get("gid") or "", (m.get("section") or {}).get("gid") or "")
                         for m in task.get("memberships") or ())
    return (task["gid"] + "|" + ";".join(f"{p}:{s}" for p, s in memberships)).encode()


class Fingerprint:
    def __init__(self) -> None:
        self.sums = [0] * BUCKETS

    def add(self, task: Mapping[str, Any]) -> None:
        self.sums[bucket(task["gid"])] ^= zlib.crc32(_place(task))

    def encode(self) -> str:
        return base64.b64encode(struct.pack(f">{BUCKETS}I", *self.sums)).decode()

    def changed(self, old: Optional[str]) -> Set[int]:
        """The buckets that differ from an encoded fingerprint (all of them if it is missing or unreadable)."""
        sums = decode(old)
        if sums is None:
            return set(range(BUCKETS))
        return {i for i in range(BUCKETS) if sums[i] != self.sums[i]}


def decode(text: Optional[str]) -> Optional[List[int]]:
    try:
        raw = base64.b64decode(text or "", validate=True)
        return list(struct.unpack(f">{BUCKETS}I", raw))
    except (ValueError, struct.error):
        return None


def of(tasks: Iterable[Mapping[str, Any]]) -> Fingerprint:
    found = Fingerprint()
    for task in tasks:
        found.add(task)
    return found
