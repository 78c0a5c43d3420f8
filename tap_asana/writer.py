"""Serialises Singer messages: one JSON object per line on one text stream. What is
written, and when, is decided by ``sync.py``; this module only owns the bytes.

Every line is valid JSON that any line reader splits where the tap meant it to, whatever
Asana's strings hold: characters that some readers take for a line end (U+0085, U+2028,
U+2029; Python's ``str.splitlines()`` is one such reader) and other control characters
are written as ``\\uXXXX`` escapes, and a lone UTF-16 surrogate (Asana's API can return
one in a name) becomes U+FFFD, with one WARNING, since it cannot be written as UTF-8.
"""
from __future__ import annotations

import errno
import json
import logging
import re
import sys
from typing import IO, Any, Dict, Optional

LOGGER = logging.getLogger("tap_asana")

#: What json.dumps(ensure_ascii=False) leaves raw but must not reach the output raw:
#: DEL and the C1 controls (U+0085 among them), the Unicode line and paragraph separators,
#: the BOM (a reader may drop it at a line start), and surrogates (not encodable as UTF-8).
#: json.dumps already escapes U+0000-U+001F, NUL and every ASCII line end included.
_UNSAFE = re.compile("[\u007f-\u009f\u2028\u2029\ufeff\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class TargetClosed(Exception):
    """The reader of stdout (the target) went away: nothing more can be delivered."""


class Writer:
    """Singer messages on one stream, one JSON object per line."""

    def __init__(self, out: IO[str] = sys.stdout):
        self.out = out
        self.dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        self.surrogates = 0  # lone surrogates replaced so far
        self.states_written = 0

    def write(self, message: Dict[str, Any]) -> None:
        line = self.dumps(message)
        if (not line.isascii() or "\x7f" in line) and _UNSAFE.search(line):  # isascii: a fast pass for most lines
            line = self._escape(line, message)
        try:
            self.out.write(line + "\n")
        except (BrokenPipeError, ValueError) as exc:  # ValueError: the stream is already closed
            raise TargetClosed(str(exc)) from None
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise TargetClosed(str(exc)) from None
            raise

    def state(self, value: Dict[str, Any]) -> None:
        self.write({"type": "STATE", "value": value})
        self.flush()
        self.states_written += 1

    def flush(self) -> None:
        try:
            self.out.flush()
        except (BrokenPipeError, ValueError) as exc:
            raise TargetClosed(str(exc)) from None
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise TargetClosed(str(exc)) from None
            raise

    def _escape(self, line: str, message: Dict[str, Any]) -> str:
        if _SURROGATE.search(line):
            line = _join_surrogate_pairs(line)
            count = len(_SURROGATE.findall(line))
            if count:
                if not self.surrogates:
                    LOGGER.warning("A %s record (gid %s) holds a lone UTF-16 surrogate, which UTF-8 cannot carry: "
                                   "replaced by U+FFFD (this warning is given once a run)",
                                   message.get("stream", message.get("type")), _gid_of(message))
                self.surrogates += count
                line = _SURROGATE.sub("\ufffd", line)
        return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", line)


def _join_surrogate_pairs(text: str) -> str:
    """A high and a low surrogate side by side are one character written in two halves."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _gid_of(message: Dict[str, Any]) -> Optional[str]:
    record = message.get("record")
    return record.get("gid") if isinstance(record, dict) else None


class Output:
    """The stream Singer messages go to, counting the STATE lines that went out, so the
    command line can tell whether a failed run left a STATE to resume from (``sync.sync``
    builds its own Writer on whatever stream it is given)."""

    STATE_LINE = '{"type":"STATE"'  # how Writer.state begins a line

    def __init__(self, out: IO[str]):
        self.out = out
        self.states = 0  # STATE lines delivered: written and flushed
        self.unflushed = 0

    def write(self, text: str) -> int:
        written = self.out.write(text)
        if text.startswith(self.STATE_LINE):
            self.unflushed += 1
        return written

    def flush(self) -> None:
        self.out.flush()
        self.states, self.unflushed = self.states + self.unflushed, 0
