"""A sealed entry altered in the database, outside Waymark: it does not open under its key, and reads
of its case answer a problem naming the record's integrity (never the text, never an unhandled 500)."""

from __future__ import annotations

import asyncio
import base64
import dataclasses

import psycopg
import pytest
from litestar.testing import AsyncTestClient

from service.bootstrap import Runtime
from service.database import DatabaseAddress
from service.http.app import create_app
from service.settings import Settings
from tests.api.helpers import REVIEW, assert_problem, open_case, post, user
from tests.support.polling import eventually
from tests.support.tokens import TokenFactory

KEY = base64.b64encode(bytes(range(32, 64))).decode()


@pytest.mark.slow  # a database and a sealing runtime of its own: about 1-2 s
async def test_an_entry_whose_wrapped_key_was_altered_is_a_record_integrity_problem(
    fresh_database: DatabaseAddress, settings: Settings, auth: TokenFactory
) -> None:
    sealing = dataclasses.replace(settings, database_url=fresh_database.url, record_key=KEY)
    team = auth("clinician", clinician := user())
    runtime = Runtime.start(sealing)
    try:
        async with AsyncTestClient(app=create_app(runtime, run_projector=False)) as client:
            case_id = await open_case(client, team, care_team=[clinician], person_ref="P-integrity")
            await post(client, team, f"/cases/{case_id}/reviews", REVIEW)
    finally:
        runtime.close()
    with psycopg.connect(**fresh_database.connect_kwargs(), autocommit=True) as conn:
        changed = conn.execute(
            "UPDATE case_records_events_keys SET wrapped = set_byte(wrapped, 20, get_byte(wrapped, 20) # 1)"
            " WHERE originator_id = %s AND originator_version = 1",
            (case_id,),
        )
        assert changed.rowcount == 1
    # A process that has not read the case before (nothing of it in memory) reads it from the database.
    runtime = Runtime.start(sealing)
    try:
        async with AsyncTestClient(app=create_app(runtime)) as client:
            answer = await client.get(f"/cases/{case_id}", headers=team)
            problem = assert_problem(answer, 500, "/problems/record-integrity")
            assert "waymark audit verify" in problem["detail"]
            assert "P-integrity" not in answer.text
            # The projector parks the altered entry and applies the next one; it does not stall.
            await eventually(lambda: _parked(fresh_database, case_id), seconds=10, failure="never parked")
    finally:
        runtime.close()


async def _parked(database: DatabaseAddress, case_id: str) -> bool:
    def positions() -> list[int]:
        with psycopg.connect(**database.connect_kwargs()) as conn:
            rows = conn.execute(
                "SELECT DISTINCT position FROM read_meta.parked_events WHERE case_id = %s", (case_id,)
            ).fetchall()
        return [row[0] for row in rows]

    return len(await asyncio.to_thread(positions)) == 1
