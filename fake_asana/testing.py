"""For test suites: a context manager, and a pytest fixture (load this module as a plugin:
``pytest_plugins = ["fake_asana.testing"]``; override ``fake_asana_options`` to configure)."""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

from .fake import FakeAsana


@contextlib.contextmanager
def fake_asana_server(**kwargs: Any) -> Iterator[FakeAsana]:
    """A started FakeAsana (quiet defaults: tiny data, no latency, no limits beyond Asana's
    concurrency); stopped on exit."""
    kwargs.setdefault("preset", "tiny")
    with FakeAsana(**kwargs) as fake:
        yield fake


try:
    import pytest
except ImportError:  # the fixture is for pytest users only
    pytest = None

if pytest is not None:
    @pytest.fixture
    def fake_asana_options() -> dict:
        """Keyword arguments for the `fake_asana` fixture; override in a conftest or module."""
        return {}

    @pytest.fixture
    def fake_asana(fake_asana_options: dict) -> Iterator[FakeAsana]:
        """A started fake Asana for one test, stopped afterwards."""
        with fake_asana_server(**fake_asana_options) as fake:
            yield fake
