"""Shared helpers: configs, a fake clock; the fake Asana fixture comes from its plugin."""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict

import pytest

from tap_asana.config import Config, validate_config

pytest_plugins = ["fake_asana.testing"]

API = "https://app.asana.com/api/1.0"
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)


def make_config(**overrides: Any) -> Config:
    data: Dict[str, Any] = {"access_token": "pat-SECRET-123", "start_date": "2025-01-01T00:00:00Z",
                            "max_retries": 3}
    data.update(overrides)
    return validate_config({k: v for k, v in data.items() if v is not None}, NOW)


class FakeClock:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
