"""An event a read model cannot apply is parked for that model (position, case, entry, error class),
in the same transaction as the rest of its batch, which still applies exactly once; the projection
carries on past it. A rebuild parks the same events; errors that are not the event's park nothing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import asyncpg
import msgspec
import pytest

from events.codec import encode_entry
from events.entries import EntryCorrected
from projections.generations import step
from projections.models import MODELS, Trajectories
from projections.rebuild import rebuild
from service.database import DatabaseAddress
from service.write.application import CaseRecords
from tests.projections.dead_letters import (
    YEAR_ONE,
    Parked,
    head,
    insert_event,
    parked,
    review,
    run_until_current,
)
from tests.support.projections import catch_up, fingerprints, meta, models, open_case


def _undecodable(case_id: uuid.UUID) -> tuple[bytes, uuid.UUID | None]:
    return b'{"sky": "grey"}', None


def _year_one(case_id: uuid.UUID) -> tuple[bytes, uuid.UUID | None]:
    entry = review(case_id, occurred_at=YEAR_ONE)
    return encode_entry(entry), entry.entry_id


POISONS: dict[str, tuple[Callable[[uuid.UUID], tuple[bytes, uuid.UUID | None]], str]] = {
    "undecodable": (_undecodable, "ValidationError"),  # fails while its rows are built
    "year-1 time": (_year_one, "OverflowError"),  # decodes; fails when the batch's rows are written
}


async def _poisoned(records: CaseRecords, dsn: str, poison: str) -> tuple[uuid.UUID, uuid.UUID, set[Parked]]:
    """A bad case and a good one, a poison in the bad case between good events, all projected in one
    batch; the cases and the parked events expected."""
    make, error = POISONS[poison]
    bad_case, good_case = open_case(records), open_case(records)
    records.record(bad_case, review(bad_case))
    state, entry_id = make(bad_case)
    at = await insert_event(dsn, bad_case, "review_recorded", state)
    records.record(good_case, review(good_case))
    await run_until_current(dsn, head(records))
    readers = [name for name, model in MODELS.items() if model().reads("review_recorded")]
    return bad_case, good_case, {(name, at, bad_case, entry_id, error) for name in readers}


@pytest.mark.parametrize("poison", POISONS)
async def test_an_event_no_model_can_apply_is_parked_and_the_rest_of_its_batch_applies_once(
    records: CaseRecords, fresh_database: DatabaseAddress, poison: str
) -> None:
    bad_case, good_case, expected = await _poisoned(records, fresh_database.url, poison)
    assert await parked(fresh_database.url) == expected
    (at,) = {position for _, position, *_ in expected}
    last = head(records)
    conn = await asyncpg.connect(fresh_database.url)
    try:
        audited = await conn.fetch("SELECT position FROM read.audit_entries ORDER BY 1")
        reviews = await conn.fetch("SELECT case_id, count(*) FROM read.reviews GROUP BY 1")
        ratings = await conn.fetchval("SELECT count(*) FROM read.ratings WHERE measure = 'confidence'")
        stalled = await conn.fetchval("SELECT count(*) FROM read_meta.generations WHERE stalled IS NOT NULL")
    finally:
        await conn.close()
    assert [row["position"] for row in audited] == [p for p in range(1, last + 1) if p != at]
    assert {row["case_id"]: row["count"] for row in reviews} == {bad_case: 1, good_case: 1}
    assert ratings == 2
    assert stalled == 0


@pytest.mark.slow  # rebuilds every read model: about 1.5 s
async def test_a_rebuild_parks_what_the_live_projector_parked(
    records: CaseRecords, fresh_database: DatabaseAddress
) -> None:
    *_, expected = await _poisoned(records, fresh_database.url, "year-1 time")
    live = await fingerprints(fresh_database.url)
    for model in models():
        await rebuild(fresh_database.url, model)
    assert await parked(fresh_database.url) == expected
    assert await fingerprints(fresh_database.url) == live


@pytest.mark.slow  # rebuilds every read model: about 1.5 s
async def test_a_correction_that_cannot_be_applied_is_parked_live_and_by_a_rebuild(
    records: CaseRecords, fresh_database: DatabaseAddress
) -> None:
    case_id = open_case(records)
    original = review(case_id)
    records.record(case_id, original)
    correction = EntryCorrected(
        **meta(case_id),
        corrects=original.entry_id,
        reason="when it happened",
        changes={"occurred_at": YEAR_ONE.isoformat()},
        corrected=msgspec.structs.replace(original, occurred_at=YEAR_ONE),
    )
    at = await insert_event(fresh_database.url, case_id, "entry_corrected", encode_entry(correction))
    other = open_case(records)
    records.record(other, review(other))
    await run_until_current(fresh_database.url, head(records))
    # The audit trail writes the corrected time with an UPDATE, whose argument asyncpg refuses.
    errors = {"audit": "DataError", "care": "OverflowError", "trajectory": "OverflowError"}
    expected = {(name, at, case_id, correction.entry_id, error) for name, error in errors.items()}
    assert await parked(fresh_database.url) == expected
    live = await fingerprints(fresh_database.url)
    for model in models():
        await rebuild(fresh_database.url, model)  # corrections are applied after the load: parked there
    assert await parked(fresh_database.url) == expected
    assert await fingerprints(fresh_database.url) == live


async def test_an_error_that_is_not_the_events_parks_nothing(
    records: CaseRecords, fresh_database: DatabaseAddress
) -> None:
    case_id = open_case(records)
    await catch_up(fresh_database.url)
    records.record(case_id, review(case_id))
    conn = await asyncpg.connect(fresh_database.url)
    try:
        generation = await conn.fetchval(
            "SELECT generation FROM read_meta.generations WHERE name = 'trajectory'"
        )
        await conn.execute(f"DROP TABLE read_trajectory_g{generation}.ratings CASCADE")
        before = await conn.fetchval("SELECT position FROM read_meta.generations WHERE name = 'trajectory'")
        with pytest.raises(asyncpg.UndefinedTableError):
            await step(conn, Trajectories(), "live", 500)
        after = await conn.fetchval("SELECT position FROM read_meta.generations WHERE name = 'trajectory'")
        parked_rows = await conn.fetchval("SELECT count(*) FROM read_meta.parked_events")
    finally:
        await conn.close()
    assert after == before
    assert parked_rows == 0


@pytest.mark.slow  # a batch cancelled and tried again: about 0.7 s
async def test_a_batch_cancelled_half_way_parks_nothing_and_applies_once_when_tried_again(
    records: CaseRecords, fresh_database: DatabaseAddress
) -> None:
    dsn = fresh_database.url
    case_id = open_case(records)
    await catch_up(dsn)
    records.record(case_id, review(case_id))
    blocker = await asyncpg.connect(dsn)
    try:
        generation = await blocker.fetchval(
            "SELECT generation FROM read_meta.generations WHERE name = 'care'"
        )
        table = f"read_care_g{generation}.reviews"
        async with blocker.transaction():
            # The care projector's batch waits for this lock; the waiting statement is then
            # cancelled, as an operator or a statement timeout would cancel it: the connection lives on.
            await blocker.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            projecting = asyncio.ensure_future(run_until_current(dsn, head(records)))
            waiting = None
            while waiting is None and not projecting.done():
                await asyncio.sleep(0.01)
                waiting = await blocker.fetchval(
                    "SELECT pid FROM pg_locks WHERE NOT granted AND relation = $1::regclass", table
                )
            assert await blocker.fetchval("SELECT pg_cancel_backend($1)", waiting)
        await projecting
        reviews = await blocker.fetchval("SELECT count(*) FROM read.reviews")
    finally:
        await blocker.close()
    assert await parked(dsn) == set()
    assert reviews == 1
