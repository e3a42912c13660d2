"""Fixtures for the unit tier: pure Python, no database."""

from __future__ import annotations

import pytest

from events.case import Case
from tests.unit.builders import open_case


@pytest.fixture
def opened_case() -> Case:
    """An open case with two outcome domains, opened on 5 January 2026, nothing else recorded."""
    return open_case()
