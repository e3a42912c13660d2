"""Fixtures for the read side: the write side on the test's own database (or on one its module's
tests share). The helpers that bring projections up to date and fingerprint their tables are in
tests/support/projections.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.database import DatabaseAddress
from service.write.application import CaseRecords
from tests.support.databases import case_records


@pytest.fixture
def records(fresh_database: DatabaseAddress) -> Iterator[CaseRecords]:
    """The write side on the test's own database."""
    app = case_records(fresh_database, overflow=8)
    yield app
    app.close()


@pytest.fixture(scope="module")
def module_records(module_database: DatabaseAddress) -> Iterator[CaseRecords]:
    """The write side on the module's shared database (see ``module_database``)."""
    app = case_records(module_database, overflow=8)
    yield app
    app.close()
