"""Shared helpers: configs, a fake clock, the tiny fake Asana the fake's own tests read (`fake`,
`data`: one per test module); the `fake_asana` fixture comes from its plugin."""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict

import pytest

from fake_asana import FakeAsana
from tap_asana.config import Config, validate_config

pytest_plugins = ["fake_asana.testing"]

API = "https://app.asana.com/api/1.0"
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
#: When the fake's own tests' data was generated as of
FAKE_NOW = "2025-06-01T12:00:00Z"


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


@pytest.fixture(scope="module")
def fake():
    """The fake Asana of the `tiny` preset, as of FAKE_NOW (test_e2e.py has its own)."""
    with FakeAsana(preset="tiny", seed=1, now=FAKE_NOW) as server:
        yield server


@pytest.fixture(scope="module")
def data(fake):
    return fake.export()
