"""The tap's own state from the shapes users bring: a Singer STATE message, Meltano's, singer-io
tap-asana's."""
from __future__ import annotations

import copy
from typing import Any, List, Mapping, Optional, Tuple

from tap_asana.config import EARLIEST, parse_datetime


#: A note on what ``adopt`` changed: (level, text). Reading a shape another tool writes is routine
#: ("INFO"); a bookmark dropped or moved changes what the run reads ("WARNING").
Note = Tuple[str, str]


def adopt(raw: Any, replication_keys: Mapping[str, Optional[str]]) -> Tuple[Any, List[Note]]:
    """The tap's own state from the shapes users bring, and a note for each thing changed:

    - a Singer STATE message, ``{"type": "STATE", "value": {...}}`` (the tap's own last line),
      is its value: no note, it is what the README tells users to keep;
    - Meltano's ``{"singer_state": {...}}`` (what ``meltano state get`` prints), or its stored
      ``{"completed": {"singer_state": ...}, "partial": {...}}`` (partial laid over completed);
    - singer-io tap-asana's: ``bookmarks.currently_sync_stream`` names its interrupted stream,
      bookmarks without a zone are UTC;
    - bookmarks this tap cannot use (a stream it does not have, one it reads in full, or one
      bookmarked on another key: `replication_keys` maps each stream to its key, None for one
      read in full) are dropped, each with a note saying where that stream now starts; ones
      before 2000 are read from 2000 (Asana began in 2008).

    Anything else is left for ``validate`` to judge."""
    notes: List[Note] = []
    if isinstance(raw, dict) and raw.get("type") == "STATE" and "value" in raw:
        raw = raw["value"]
    if isinstance(raw, dict) and isinstance(raw.get("completed"), dict) and "singer_state" in raw["completed"]:
        partial = raw.get("partial") if isinstance(raw.get("partial"), dict) else {}
        completed, newer = raw["completed"]["singer_state"], partial.get("singer_state") or {}
        raw = {**completed, **newer} if isinstance(completed, dict) and isinstance(newer, dict) else completed
        notes.append(("INFO", "state is Meltano's stored state: using its singer_state"))
    elif isinstance(raw, dict) and set(raw) == {"singer_state"}:
        raw = raw["singer_state"]
        notes.append(("INFO", "state is Meltano's {\"singer_state\": ...}: using what it holds"))
    if not isinstance(raw, dict) or not isinstance(raw.get("bookmarks"), dict):
        return copy.deepcopy(raw), notes
    state = copy.deepcopy(raw)
    bookmarks = state["bookmarks"]
    interrupted = bookmarks.pop("currently_sync_stream", None)
    if interrupted is not None:
        notes.append(("WARNING", f"state comes from an interrupted run of singer-io's tap-asana (at stream "
                                 f"{interrupted}): each stream starts from its own bookmark"))
    for stream in sorted(bookmarks):
        mark = bookmarks[stream]
        if not isinstance(mark, dict):
            continue
        wanted = replication_keys.get(stream)
        for key in sorted(mark):
            if key == wanted:
                continue
            del mark[key]
            if stream not in replication_keys:
                why = f"tap-asana has no stream {stream}"
            elif wanted is None:
                why = f"{stream} is read in full on every run"
            else:
                why = (f"{stream} is bookmarked on {wanted}, and with no {stream}.{wanted} bookmark it is read from "
                       "start_date")
            notes.append(("WARNING", f"bookmark {stream}.{key} is not used: {why}"))
        if not mark:
            del bookmarks[stream]
        elif isinstance(mark.get(wanted), str):
            try:
                early = parse_datetime(mark[wanted]) < EARLIEST
            except ValueError:
                continue  # validate says what is wrong with it
            if early:
                mark[wanted] = EARLIEST.strftime("%Y-%m-%dT%H:%M:%S.000Z")
                notes.append(("WARNING", f"bookmark {stream}.{wanted} is before Asana existed: reading from "
                                         f"{mark[wanted]}, which sends the same records"))
    return state, notes
