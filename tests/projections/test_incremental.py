"""Incremental reading of the reporting views: a reader that applies "every change after the position it
last read", at random points while entries and corrections are written and the two projections run
unevenly, ends with exactly the rows a fresh full read gives."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from events.entries import EntryCorrected
from events.errors import CaseRuleBroken
from events.values import ReviewKind
from projections.generations import step
from projections.models import MODELS
from projections.models.care import CareDelivery
from projections.projector import Projector
from projections.rebuild import rebuild
from service.database import DatabaseAddress
from service.tools.demo import DemoPlan, write_demo
from service.write.application import CaseRecords
from tests.support.polling import eventually
from tests.support.projections import catch_up, meta
from tests.support.reporting import IncrementalReader, flattened, full_read


def _review(rng: random.Random) -> dict[str, Any]:
    return {"kind": rng.choice(list(ReviewKind)).value, "confidence": rng.randint(1, 10)}


def _escalation(rng: random.Random) -> dict[str, Any]:
    return {"severity": rng.randint(1, 4)}


def _decision(rng: random.Random) -> dict[str, Any]:
    # No cause left: the decision's cause rows are removed (a tombstone in the change log).
    return {"because_of": []} if rng.random() < 0.5 else {"support_hours_per_week": 2.5}


CORRECTABLE: dict[str, Callable[[random.Random], dict[str, Any]]] = {
    "reviews": _review,
    "escalations": _escalation,
    "decisions": _decision,
}


async def _correct_some(records: CaseRecords, conn: asyncpg.Connection, rng: random.Random) -> int:
    """Correct a few projected reviews, escalations and plan decisions, chosen at random."""
    corrected = 0
    for table, changes in CORRECTABLE.items():
        rows = await conn.fetch(
            f"SELECT case_id, entry_id FROM read.{table} WHERE kind IS DISTINCT FROM 'plan_confirmed'"  # noqa: S608
            if table == "decisions"
            else f"SELECT case_id, entry_id FROM read.{table}"  # noqa: S608
        )
        for row in rng.sample(rows, k=min(len(rows), 3)):
            corrected += _correct(records, row["case_id"], row["entry_id"], changes(rng))
    return corrected


def _correct(records: CaseRecords, case_id: UUID, entry_id: UUID, changes: dict[str, Any]) -> int:
    try:
        records.correct(
            case_id, EntryCorrected(**meta(case_id), corrects=entry_id, reason="misread", changes=changes)
        )
    except CaseRuleBroken:  # a correction the rules refuse (a closed case, say) changes nothing
        return 0
    return 1


async def _project_unevenly(conn: asyncpg.Connection, rng: random.Random) -> None:
    """Move each projection on by a random number of small batches: their positions differ."""
    for model_type in MODELS.values():
        model = model_type()
        for _ in range(rng.randint(0, 4)):
            await step(conn, model, "live", rng.randint(5, 60))


@pytest.mark.slow  # hundreds of random writes and loads: about 2.5 s
async def test_loading_changes_after_a_position_ends_equal_to_a_full_read(
    records: CaseRecords, fresh_database: DatabaseAddress
) -> None:
    rng = random.Random(1313)
    reader = IncrementalReader()
    await catch_up(fresh_database.url)  # the read side set up, empty
    conn = await asyncpg.connect(fresh_database.url)
    try:
        corrections = changes = 0
        for round_ in range(8):
            write_demo(records, DemoPlan(people=2, months=3, seed=rng.randrange(10**6)))
            await _project_unevenly(conn, rng)
            if round_ > 1:
                corrections += await _correct_some(records, conn, rng)
                await _project_unevenly(conn, rng)
            if round_ == 5:  # a rebuild starts the log afresh: the reader must read the views again
                await rebuild(fresh_database.url, MODELS["care"]())
            if rng.random() < 0.7:
                changes += await reader.load(conn)
        await catch_up(fresh_database.url)
        changes += await reader.load(conn)
        expected = await full_read(conn)
        removals = await conn.fetchval("SELECT count(*) FROM reporting.changes WHERE removed")
    finally:
        await conn.close()
    assert reader.reloads == 1
    # The test exercised what it claims: corrections, removals, changes read incrementally.
    assert corrections > 10
    assert removals > 0
    assert changes > 0
    assert all(expected[view] for view in ("people", "reviews", "ratings", "decision_causes"))
    assert flattened(reader) == expected


@pytest.mark.slow  # a projector's start-up and rebuild: seconds
async def test_a_projection_from_before_the_change_log_is_rebuilt_with_one(
    records: CaseRecords, fresh_database: DatabaseAddress
) -> None:
    dsn = fresh_database.url
    write_demo(records, DemoPlan(people=2, months=2, seed=3))
    await catch_up(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        # As the version before left it: no change log, no triggers, another layout.
        schema = "read_care_g1"
        for tracked in CareDelivery.tracked:
            await conn.execute(f"DROP FUNCTION {schema}.{tracked.table}_changes() CASCADE")
        await conn.execute(f"DROP TABLE {schema}.care_changes, {schema}.care_row_versions CASCADE")
        await conn.execute("UPDATE read_meta.generations SET layout = 'before' WHERE name = 'care'")
        stop = asyncio.Event()
        running = asyncio.create_task(Projector(dsn, [m() for m in MODELS.values()]).run(stop))

        async def rebuilt() -> bool:
            live = await conn.fetchval(
                "SELECT generation FROM read_meta.generations WHERE name = 'care' AND status = 'live'"
            )
            return bool(live == 2)

        await eventually(rebuilt, seconds=30)
        stop.set()
        await running
        reader = IncrementalReader()
        await reader.load(conn)
        expected = await full_read(conn)
    finally:
        await conn.close()
    assert expected["people"]
    assert expected["reviews"]
    assert flattened(reader) == expected
