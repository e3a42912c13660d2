"""A forged NOTIFY on the projectors' channel cannot make a read claim a write it has not seen."""

from __future__ import annotations

import asyncpg

from projections.schema import POSITIONS_CHANNEL
from service.database import DatabaseAddress
from tests.api.helpers import Client, assert_problem
from tests.support.tokens import TokenFactory

FAR_AHEAD = 999_999_999


async def test_a_forged_position_still_answers_503_for_a_position_not_reached(
    client: Client,
    auth: TokenFactory,
    database: DatabaseAddress,
) -> None:
    forger = await asyncpg.connect(database.url)
    try:
        await forger.execute("SELECT pg_notify($1, $2)", POSITIONS_CHANNEL, f"audit:{FAR_AHEAD}")
    finally:
        await forger.close()
    # The answer every projection read gives when its projection is behind (one path, read_consistently).
    behind = await client.get(
        "/audit/entries", params={"min_position": FAR_AHEAD}, headers=auth("governance", "gov-forged")
    )
    assert_problem(behind, 503)
    assert behind.headers["Retry-After"] == "1"
    assert behind.json()["type"] == "/problems/projection-behind"
