"""A forged NOTIFY on the projectors' channel cannot make a read claim a write it has not seen."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from projections.schema import POSITIONS_CHANNEL
from service.bootstrap import Runtime
from service.database import DatabaseAddress
from service.http.app import create_app
from service.settings import Settings
from tests.api.helpers import Client, assert_problem
from tests.support.tokens import TokenFactory

FAR_AHEAD = 999_999_999


@pytest.fixture
async def impatient(settings: Settings, runtime: Runtime) -> AsyncIterator[Client]:
    """The app waiting a tenth of a second for a position before its 503 (2 s by default)."""
    brief = replace(settings, read_your_writes_wait_ms=100)
    async with AsyncTestClient(
        app=create_app(Runtime(brief, runtime.address, runtime.records), run_projector=False)
    ) as client:
        yield client


async def test_a_forged_position_still_answers_503_for_a_position_not_reached(
    impatient: Client,
    auth: TokenFactory,
    database: DatabaseAddress,
) -> None:
    forger = await asyncpg.connect(database.url)
    try:
        await forger.execute("SELECT pg_notify($1, $2)", POSITIONS_CHANNEL, f"audit:{FAR_AHEAD}")
    finally:
        await forger.close()
    # The answer every projection read gives when its projection is behind (one path, read_consistently).
    behind = await impatient.get(
        "/audit/entries", params={"min_position": FAR_AHEAD}, headers=auth("governance", "gov-forged")
    )
    assert_problem(behind, 503)
    assert behind.headers["Retry-After"] == "1"
    assert behind.json()["type"] == "/problems/projection-behind"
