"""Exports of the reporting views: every view, as CSV and as Parquet, holds exactly the view's rows for
the period asked (checked against the view itself), only for the reporting and governance roles."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pyarrow.parquet as pq
import pytest
from litestar.testing import AsyncTestClient

from service.bootstrap import Runtime
from service.database import DatabaseAddress
from service.http.app import create_app
from service.settings import Settings
from service.tools.demo import DemoPlan, write_demo
from service.write.application import CaseRecords
from tests.api.helpers import Client, assert_problem
from tests.support.tokens import TokenFactory

VIEWS = [
    "people",
    "case_status",
    "reviews",
    "plan_decisions",
    "decision_causes",
    "setbacks",
    "escalations",
    "ratings",
    "outcome_measures",
]
NOW = datetime.now(UTC)
# The demo's six months, cut in two: each export must hold its half only.
HALVES = [
    (NOW - timedelta(days=400), NOW - timedelta(days=90)),
    (NOW - timedelta(days=90), NOW + timedelta(days=1)),
]
WHERE = {
    "people": "opened_on >= $1::date AND opened_on < $2::date",
    "decision_causes": "decision_key IN (SELECT decision_key FROM reporting.plan_decisions"
    " WHERE occurred_at >= $1 AND occurred_at < $2)",
}


@dataclass
class Exporting:
    client: Client
    database: DatabaseAddress
    position: int


@pytest.fixture(scope="module")
async def exporting(
    settings: Settings, module_database: DatabaseAddress, module_records: CaseRecords
) -> AsyncIterator[Exporting]:
    """The app over a database of demo cases (its own projector brings the views up to date), which
    the module's tests only read."""
    write_demo(module_records, DemoPlan(people=4, months=6, seed=13))
    position = module_records.recorder.max_notification_id() or 0
    runtime = Runtime(replace(settings, database_url=module_database.url), module_database, module_records)
    async with AsyncTestClient(app=create_app(runtime)) as client:
        yield Exporting(client, module_database, position)


async def in_view(
    database: DatabaseAddress, view: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    where = WHERE.get(view, "occurred_at >= $1 AND occurred_at < $2")
    conn = await asyncpg.connect(database.url)
    try:
        rows = await conn.fetch(f"SELECT * FROM reporting.{view} WHERE {where}", start, end)  # noqa: S608
    finally:
        await conn.close()
    return [dict(row) for row in rows]


async def view_columns(database: DatabaseAddress) -> dict[str, list[str]]:
    conn = await asyncpg.connect(database.url)
    try:
        rows = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'reporting' ORDER BY ordinal_position"
        )
    finally:
        await conn.close()
    columns: dict[str, list[str]] = {}
    for row in rows:
        columns.setdefault(row["table_name"], []).append(row["column_name"])
    return columns


def sort_key(row: dict[str, Any]) -> str:
    return repr(sorted((key, str(value)) for key, value in row.items()))


@pytest.mark.slow  # a demo history projected in an app of its own, every view twice: about 1.5 s
async def test_every_view_exports_as_parquet_exactly_the_rows_of_its_period(
    exporting: Exporting, auth: TokenFactory
) -> None:
    reporting = auth("reporting", "bi-export")
    seen = 0
    for view in VIEWS:
        for start, end in HALVES:
            params = {"from": start.isoformat(), "to": end.isoformat(), "format": "parquet"}
            answer = await exporting.client.get(
                f"/exports/{view}", params={**params, "min_position": exporting.position}, headers=reporting
            )
            assert answer.status_code == 200, answer.text
            assert answer.headers["content-type"] == "application/vnd.apache.parquet"
            assert f"waymark-{view}-" in answer.headers["content-disposition"]
            exported = pq.read_table(io.BytesIO(answer.content)).to_pylist()
            expected = await in_view(exporting.database, view, start, end)
            assert sorted(exported, key=sort_key) == sorted(expected, key=sort_key), view
            seen += len(expected)
    assert seen > 100, "the demo filled the views"


@pytest.mark.slow  # a demo history projected in an app of its own: about 1 s
async def test_every_view_exports_as_csv_with_the_view_s_columns_and_rows(
    exporting: Exporting, auth: TokenFactory
) -> None:
    governance = auth("governance", "g-export")
    start, end = HALVES[0][0], HALVES[1][1]
    columns = await view_columns(exporting.database)
    seen = 0
    for view in VIEWS:
        params: dict[str, str | int] = {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "min_position": exporting.position,
        }
        answer = await exporting.client.get(f"/exports/{view}", params=params, headers=governance)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("text/csv")
        header, *rows = list(csv.reader(io.StringIO(answer.text)))
        expected = await in_view(exporting.database, view, start, end)
        assert header == list(columns[view])
        # Every view's first column is a pseudonymous key.
        assert sorted(row[0] for row in rows) == sorted(str(row[header[0]]) for row in expected)
        seen += len(rows)
    assert seen > 100, "the demo filled the views"


async def test_only_reporting_and_governance_export_and_bad_requests_name_the_parameter(
    client: Client, auth: TokenFactory
) -> None:
    start, end = HALVES[1]
    period = {"from": start.isoformat(), "to": end.isoformat()}
    for role in ("clinician", "admin"):
        assert_problem(await client.get("/exports/reviews", params=period, headers=auth(role, "x")), 403)
    reporting = auth("reporting", "bi-bad")
    unknown = assert_problem(await client.get("/exports/case_notes", params=period, headers=reporting), 422)
    assert unknown["errors"][0]["field"] == "view"
    assert "reviews" in unknown["errors"][0]["allowed"]
    backwards = {"from": end.isoformat(), "to": start.isoformat()}
    problem = assert_problem(await client.get("/exports/reviews", params=backwards, headers=reporting), 422)
    assert problem["errors"][0]["field"] == "to"
    wrong = assert_problem(
        await client.get("/exports/reviews", params={**period, "format": "xlsx"}, headers=reporting), 422
    )
    assert wrong["errors"][0]["field"] == "format"
    assert wrong["errors"][0]["allowed"] == ["csv", "parquet"]
