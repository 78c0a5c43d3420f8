"""One record checked against its stream's facts before it is written: the key is present and
the gid a string; the replication key, when present, is a date-time. What can be fixed or sent
without guessing is, once, with one WARNING per stream (a gid sent as a number; a record without
its replication key, which Asana's contract promises); what cannot is refused with an error
naming the stream and the gid, never passed on to fail in the target.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, Mapping, Set

from tap_asana import contract
from tap_asana.config import parse_datetime
from tap_asana.streams import STREAMS

LOGGER = logging.getLogger("tap_asana")


class BadRecord(Exception):
    """A record that cannot be sent as its stream's schema says."""


class Conformer:
    """Checks records of every stream for one run; remembers which streams it warned about."""

    def __init__(self) -> None:
        self.warned: Set[Any] = set()  # streams warned about a number gid, (stream, key) about a missing key

    def record(self, stream: str, record: Mapping[str, Any]) -> Dict[str, Any]:
        """The record to send (a copy if anything was fixed); raises BadRecord."""
        facts = STREAMS[stream]
        gid = record.get("gid")
        out = dict(record)
        for key in facts.key_properties:
            value = record.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                # Asana's gids are strings (developers.asana.com/docs/object-ids); an old API or a proxy may send numbers.
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
            if value is None:
                # Asana promises the key (its contract types it as a date-time string), but a record
                # without it can still be sent: it is just not older than any bookmark.
                if (stream, key) not in self.warned:
                    self.warned.add((stream, key))
                    LOGGER.warning("Asana sent %s record %s without %s, which its OpenAPI description promises (%s): "
                                   "sent anyway; the bookmark stays where the run puts it (this warning is given "
                                   "once per stream)", stream, out.get("gid", gid), key, _promised(stream, key))
                return out
            try:
                parse_datetime(value)
                well_formed = isinstance(value, str)
            except (TypeError, ValueError, AttributeError):
                well_formed = False
            if not well_formed:
                raise BadRecord(f"Asana sent {stream} record {out.get('gid', gid)} with {key} {value!r}, where its "
                                f"OpenAPI description promises {_promised(stream, key)}: its bookmark cannot be kept "
                                f"safely. If this is Asana, report it; else check api_url.")
        return out


def _promised(stream: str, key: str) -> str:
    """What Asana's contract says the stream's replication key is (``a string (date-time)``)."""
    facts = STREAMS[stream]
    if facts.path:
        route = contract.load().route(facts.path) or {}
        resource = facts.contract_resource or route.get("resource")
        if resource:
            return contract.load().describe(resource, key)
    return "a date-time string"
