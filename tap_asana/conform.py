"""One record checked against its stream's facts before it is written: the key and the
replication key are present and well formed, the gid is a string. What can be fixed without
guessing is fixed here, once, with one WARNING per stream; what cannot is refused with an
error naming the stream and the gid, never passed on to fail in the target.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, Mapping, Set

from tap_asana.config import parse_datetime
from tap_asana.streams import STREAMS

LOGGER = logging.getLogger("tap_asana")


class BadRecord(Exception):
    """A record that cannot be sent as its stream's schema says."""


class Conformer:
    """Checks records of every stream for one run; remembers which streams it warned about."""

    def __init__(self) -> None:
        self.warned: Set[str] = set()

    def record(self, stream: str, record: Mapping[str, Any]) -> Dict[str, Any]:
        """The record to send (a copy if anything was fixed); raises BadRecord."""
        facts = STREAMS[stream]
        gid = record.get("gid")
        out = dict(record)
        for key in facts.key_properties:
            value = record.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                # Asana's gids are strings (asana-api.md 1.1); an old API or a proxy may send numbers.
                if stream not in self.warned:
                    self.warned.add(stream)
                    LOGGER.warning("%s records carry %s as a number (first: %s): sent as a string, as the "
                                   "schema says (this warning is given once per stream)", stream, key, value)
                out[key] = value = str(value)
            if not isinstance(value, str) or not value:
                raise BadRecord(f"Asana sent a {stream} record without a usable {key} ({key}: {value!r}; "
                                f"record keys: {', '.join(sorted(record)[:8])}). Nothing after it can be sent "
                                "in order: if this is Asana, report it; else check api_url.")
        key = facts.replication_key
        if key:
            value = record.get(key)
            try:
                parse_datetime(value)
                well_formed = isinstance(value, str)
            except (TypeError, ValueError, AttributeError):
                well_formed = False
            if not well_formed:
                raise BadRecord(f"Asana sent {stream} record {out.get('gid', gid)} with {key} {value!r}, not a "
                                f"date-time: its bookmark cannot be kept safely. If this is Asana, report it; "
                                f"else check api_url.")
        return out
