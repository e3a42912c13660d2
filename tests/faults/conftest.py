"""Fault-injection fixtures: a PostgreSQL the test may stop and start, and Waymark servers the test may
kill (tests/support/processes.py). Every fault test module is marked ``slow``."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import OwnPostgres, OwnServer


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    """A PostgreSQL of the test's own."""
    with tempfile.TemporaryDirectory(prefix="waymark-fault-", dir="/tmp") as tmp:
        server = OwnPostgres(Path(tmp) / "pg")
        try:
            yield server
        finally:
            server.close()


@pytest.fixture
def serve() -> Iterator[list[OwnServer]]:
    """Servers a test starts; all are killed when it ends."""
    started: list[OwnServer] = []
    yield started
    for server in started:
        server.kill()
