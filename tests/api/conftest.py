"""Fixtures the API tests share beyond one module."""

from __future__ import annotations

import pytest

from service.bootstrap import Runtime
from tests.support.replay_story import Story, write_story


@pytest.fixture(scope="session")
def story(runtime: Runtime) -> Story:
    """The replay tests' case, written once for the session (its tests only read it)."""
    return write_story(runtime.records)
