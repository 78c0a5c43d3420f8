"""Asana's time formats. Internally times are integer milliseconds since the epoch;
on the wire datetimes are `2024-05-01T02:06:58.147Z` and dates `YYYY-MM-DD`."""
from __future__ import annotations

import datetime as dt
import re
import threading
import time

_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
#: A bare `YYYY-MM-DD` date, as Asana writes `due_on` or `entered_on`.
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def fmt_datetime(ms: int) -> str:
    stamp = _EPOCH + dt.timedelta(milliseconds=ms)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def fmt_date(ms: int) -> str:
    return (_EPOCH + dt.timedelta(milliseconds=ms)).strftime("%Y-%m-%d")


def parse_us(value: str) -> int:
    """Microseconds since the epoch. Accepts `Z`, `+hh:mm`, no zone (UTC, as the tap
    sends it), 0 to 9 fraction digits, and a bare date. Raises ValueError otherwise."""
    match = _DATETIME.match(value.strip())
    if not match:
        raise ValueError(value)
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    stamp = dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                        tzinfo=dt.timezone.utc)
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        stamp -= sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    micros = int((fraction or "0").ljust(6, "0")[:6])
    return (stamp - _EPOCH) // dt.timedelta(microseconds=1) + micros


def parse_ms(value: str) -> int:
    return parse_us(value) // 1000


def wall_ms() -> int:
    return int(time.time() * 1000)


def hour_floor_ms(ms: int) -> int:
    return ms - ms % HOUR_MS


class Clock:
    """The fake's "now": the wall clock plus an offset that only grows (`advance_clock`), so
    a test can let a day pass without waiting one. Everything that reads time as Asana
    would (the Date header, the stamps of changes, the lifetimes of sync tokens, offsets and
    OAuth tokens) reads it here; the per-minute rate limits keep real time."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def time(self) -> float:
        """Seconds since the epoch, like `time.time()`."""
        return time.time() + self._offset

    def monotonic(self) -> float:
        """Like `time.monotonic()`, moved by the same offset: for lifetimes."""
        return time.monotonic() + self._offset

    def ms(self) -> int:
        return int(self.time() * 1000)

    @property
    def offset(self) -> float:
        return self._offset

    def advance(self, seconds: float) -> float:
        """Move forward; returns the total offset. Time never goes back."""
        if not seconds >= 0:
            raise ValueError("the clock only moves forward: seconds must be >= 0")
        with self._lock:
            self._offset += seconds
            return self._offset
