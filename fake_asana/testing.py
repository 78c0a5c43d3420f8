"""A context manager for test suites; a conftest can wrap it in a fixture."""
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
