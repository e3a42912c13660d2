"""The reporting schema: pseudonymised, free of clinical text, readable by the reporting role alone."""

from __future__ import annotations

import asyncpg
import pytest

from projections.reporting import REPORTING_ROLE
from service.database import DatabaseAddress
from service.tools.demo import DemoPlan, write_demo
from service.write.application import CaseRecords
from tests.support.projections import catch_up

FREE_TEXT = {
    "what_happened",
    "factors_detail",
    "risk_management",
    "learning",
    "adaptation",
    "trigger",
    "response",
    "rationale",
    "approach",
    "strategies_added",
    "strategies_removed",
    "resolution",
    "person_ref",
    "in_own_words",
    "text",
    "note",
}


@pytest.mark.slow  # a demo history on a database of its own: about 0.9 s
async def test_reporting_views_hold_no_free_text_and_no_raw_ids(
    records: CaseRecords, fresh_database: DatabaseAddress
) -> None:
    write_demo(records, DemoPlan(people=3, months=4, seed=5))
    await catch_up(fresh_database.url)
    conn = await asyncpg.connect(fresh_database.url)
    try:
        columns = await conn.fetch(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'reporting'"
        )
        people = await conn.fetchval("SELECT count(*) FROM reporting.people")
        joined = await conn.fetchval(
            "SELECT count(DISTINCT p.person_key) FROM reporting.people p"
            " JOIN reporting.ratings r USING (person_key)"
        )
    finally:
        await conn.close()
    assert {c["table_name"] for c in columns} >= {
        "people",
        "reviews",
        "plan_decisions",
        "setbacks",
        "escalations",
        "ratings",
        "outcome_measures",
        "case_status",
        "decision_causes",
    }
    assert not FREE_TEXT & {c["column_name"] for c in columns}
    assert "uuid" not in {c["data_type"] for c in columns}
    assert people == joined == 3  # the pseudonym is the same in every view


async def test_the_reporting_role_reads_reporting_views_only(
    records: CaseRecords, fresh_database: DatabaseAddress
) -> None:
    write_demo(records, DemoPlan(people=2, months=3, seed=6))
    await catch_up(fresh_database.url)
    conn = await asyncpg.connect(fresh_database.url)
    try:
        setbacks = await conn.fetchval("SELECT count(*) FROM read.setbacks")
        assert await _as_reporting_role(conn, "SELECT count(*) FROM reporting.setbacks") == setbacks
        assert await _as_reporting_role(conn, "SELECT count(*) FROM reporting.people") == 2
        for forbidden in (
            "SELECT count(*) FROM read.cases",
            "SELECT count(*) FROM case_records_events",
            "SELECT inner_pad FROM read_meta.pseudonym_key",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await _as_reporting_role(conn, forbidden)
    finally:
        await conn.close()


async def _as_reporting_role(conn: asyncpg.Connection, query: str) -> object:
    async with conn.transaction():
        await conn.execute(f"SET LOCAL ROLE {REPORTING_ROLE}")
        return await conn.fetchval(query)
