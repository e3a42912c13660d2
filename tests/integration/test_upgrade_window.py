"""Just after an upgrade that changed a projection's tables, its read views still show the old
generation's columns while the projector rebuilds it: a query of this version naming a new column
answers 503 "being brought up to date", not 500."""

from __future__ import annotations

import asyncpg
import pytest

from events.values import Role
from projections.schema import generation_schema
from service.database import DatabaseAddress
from service.http.auth import issue_token
from service.settings import Settings
from tests.api.helpers import Client

pytestmark = pytest.mark.slow  # a Waymark of its own: about 2 s

# The trajectory generation as it was before the reading links: every column up to the service.
_OLD_COLUMNS = (
    "entry_id, corrected, case_id, occurred_at, instrument, instrument_version, score, raw_total,"
    " higher_is_better, clinical_range, band, cutoff, clinical_when, reliable_change, source, domain, service"
)

_LINKS = ("next_at", "earlier_at", "earlier_score", "earlier_clinical", "earlier_count")


async def _old_readings_view(database: DatabaseAddress) -> None:
    conn = await asyncpg.connect(database.url)
    try:
        generation = await conn.fetchval(
            "SELECT generation FROM read_meta.generations WHERE name = 'trajectory' AND status = 'live'"
        )
        schema = generation_schema("trajectory", generation)
        await conn.execute("DROP VIEW read.measures CASCADE")
        old_view = f"CREATE VIEW read.measures AS SELECT {_OLD_COLUMNS} FROM {schema}.measures"  # noqa: S608
        await conn.execute(old_view)
    finally:
        await conn.close()


async def test_a_query_naming_a_column_the_old_generation_lacks_is_503_while_it_rebuilds(
    own_app: tuple[Client, Settings], fresh_database: DatabaseAddress, caplog: pytest.LogCaptureFixture
) -> None:
    client, settings = own_app
    token = issue_token(settings, sub="gov-up", role=Role.GOVERNANCE, ttl_seconds=600)
    headers = {"Authorization": f"Bearer {token}"}
    params = {"from": "2026-01-01T00:00:00Z", "to": "2026-07-01T00:00:00Z"}
    assert (await client.get("/service/learning", params=params, headers=headers)).status_code == 200
    await _old_readings_view(fresh_database)
    response = await client.get("/service/learning", params=params, headers=headers)
    assert response.status_code == 503, response.text
    assert response.json()["type"] == "/problems/read-side-rebuilding"
    assert response.headers["retry-after"] == "60"
    assert not any(column in response.text for column in _LINKS)  # the database's words stay in the log
    logged = [r.getMessage() for r in caplog.records if r.name == "waymark.problems"]
    # what an operator needs to tell
    assert any(column in message for message in logged for column in _LINKS)
