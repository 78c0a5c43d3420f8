"""What a finder may do with what it finds: the run's side of the interface."""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Mapping, Protocol



class Sink(Protocol):
    #: stream -> the time an incremental stream's records must reach to be sent (bookmark or start_date)
    since: Mapping[str, dt.datetime]

    def wants(self, stream: str) -> bool:
        """Whether the catalog selects `stream`."""

    def emit(self, stream: str, record: Dict[str, Any], shift: dt.timedelta = dt.timedelta(),
             named: bool = False) -> bool:
        """Send `record` unless unselected, already sent this run, or older than its stream's
        `since` less `shift` (a `named` record is sent whatever its time)."""

    def delete(self, stream: str, gid: str, at: str) -> None:
        """Send that the record `gid` of `stream` was deleted in Asana at `at` (once a run)."""


class SendPage:
    """Handles a page of records that are sent as they are (to `sink`, a Sink or the run)."""

    def __init__(self, sink: Sink, name: str):
        self.sink, self.name = sink, name

    def __call__(self, records: List[Dict[str, Any]]) -> List[Any]:
        for record in records:
            self.sink.emit(self.name, record)
        return []
