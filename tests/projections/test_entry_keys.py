"""Entry pseudonyms kept with the row versions: made once when an entry's rows change (not for every
row each time a view is read), equal to the HMAC-SHA256 of the entry id under the stored key, made
again when the key is replaced, and filled in at start-up for a generation from before they were kept."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from projections.generations import prepare_read_side
from projections.reporting import rotate_pseudonym_key
from projections.schema import generation_schema
from service.database import DatabaseAddress
from service.tools.demo import DemoPlan, write_demo
from service.write.application import CaseRecords
from tests.projections.dead_letters import review
from tests.support.projections import catch_up, models, open_case

VERSIONS = (
    "SELECT view, entry_id, entry_key FROM read.care_row_versions"
    " UNION ALL SELECT view, entry_id, entry_key FROM read.trajectory_row_versions"
)


Kept = dict[tuple[str, uuid.UUID], str | None]


async def _kept_and_expected(conn: asyncpg.Connection) -> tuple[Kept, Kept]:
    """Each row version's kept pseudonym, and the HMAC of its entry id under the stored key."""
    key = await _key(conn)
    rows = await conn.fetch(VERSIONS)
    kept: Kept = {(r["view"], r["entry_id"]): r["entry_key"] for r in rows}
    expected: Kept = {
        (r["view"], r["entry_id"]): hmac.new(key, r["entry_id"].bytes, hashlib.sha256).hexdigest()
        for r in rows
    }
    return kept, expected


async def _key(conn: asyncpg.Connection) -> bytes:
    """The pseudonym key, from its stored inner pad (RFC 2104: the key XOR 0x36)."""
    pads = await conn.fetchrow("SELECT inner_pad FROM read_meta.pseudonym_key")
    assert pads is not None
    return bytes(b ^ 0x36 for b in pads["inner_pad"])


@pytest.fixture
async def projected(
    records: CaseRecords, fresh_database: DatabaseAddress
) -> AsyncIterator[asyncpg.Connection]:
    """A connection to a database whose demo cases are projected."""
    write_demo(records, DemoPlan(people=3, months=4, seed=21))
    await catch_up(fresh_database.url)
    conn = await asyncpg.connect(fresh_database.url)
    try:
        yield conn
    finally:
        await conn.close()


async def test_every_row_version_keeps_its_entry_s_pseudonym_and_the_views_show_it(
    projected: asyncpg.Connection,
) -> None:
    kept, expected = await _kept_and_expected(projected)
    shown = {r["review_key"] for r in await projected.fetch("SELECT review_key FROM reporting.reviews")}
    assert len(kept) > 20
    assert kept == expected
    assert shown
    assert shown == {key for (view, _), key in kept.items() if view == "reviews"}


async def test_replacing_the_key_makes_every_kept_pseudonym_again(projected: asyncpg.Connection) -> None:
    before, _ = await _kept_and_expected(projected)
    await rotate_pseudonym_key(projected)
    after, expected = await _kept_and_expected(projected)
    assert after == expected
    assert not set(before.values()) & set(after.values())


# What a projector batch's change trigger does: a version kept under the key as it reads it.
_VERSION_UNDER_THE_KEY = """
INSERT INTO read.care_row_versions (view, entry_id, position, updated_at, entry_key)
SELECT 'reviews', $1, 0, now(), read_meta.keyed_hash(k.inner_pad, k.outer_pad, $1)
FROM read_meta.pseudonym_key k
"""


async def test_replacing_the_key_waits_for_a_batch_writing_under_the_old_one(
    projected: asyncpg.Connection, fresh_database: DatabaseAddress
) -> None:
    entry_id = uuid.uuid4()
    batch = await asyncpg.connect(fresh_database.url)
    try:
        async with batch.transaction():
            await batch.execute(_VERSION_UNDER_THE_KEY, entry_id)
            rotation = asyncio.create_task(rotate_pseudonym_key(projected))
            await asyncio.sleep(0.3)
            assert not rotation.done()  # it waits for the batch to end
        await rotation
    finally:
        await batch.close()
    kept, expected = await _kept_and_expected(projected)
    assert kept[("reviews", entry_id)] == expected[("reviews", entry_id)]  # made again, new key
    assert kept == expected


async def test_a_rotation_waiting_for_a_long_read_holds_up_no_other_read(
    projected: asyncpg.Connection, fresh_database: DatabaseAddress
) -> None:
    """A lock request that waits queues every later reader behind it: it is tried briefly, again."""
    long_read, other = await asyncpg.connect(fresh_database.url), await asyncpg.connect(fresh_database.url)
    try:
        async with long_read.transaction():
            await long_read.fetch("SELECT count(*) FROM reporting.reviews")
            rotation = asyncio.create_task(rotate_pseudonym_key(projected, wait_seconds=10))
            await asyncio.sleep(0.1)
            # Behind one long wait this read would hang until the long read ended (never, here).
            await asyncio.wait_for(other.fetchval("SELECT count(*) FROM reporting.reviews"), timeout=5)
            assert not rotation.done()
        await rotation  # the long read ended: the key is replaced
    finally:
        await long_read.close()
        await other.close()
    kept, expected = await _kept_and_expected(projected)
    assert kept == expected


async def test_replacing_the_key_while_a_read_holds_it_too_long_changes_nothing(
    projected: asyncpg.Connection, fresh_database: DatabaseAddress
) -> None:
    before, _ = await _kept_and_expected(projected)
    reader = await asyncpg.connect(fresh_database.url)
    try:
        async with reader.transaction():
            await reader.fetch("SELECT count(*) FROM reporting.reviews")  # an export under way
            with pytest.raises(asyncpg.LockNotAvailableError):
                await rotate_pseudonym_key(projected, wait_seconds=0.2)
    finally:
        await reader.close()
    after, expected = await _kept_and_expected(projected)
    assert after == before == expected


async def test_a_generation_from_before_kept_pseudonyms_is_given_them_at_start_up(
    projected: asyncpg.Connection, records: CaseRecords, fresh_database: DatabaseAddress
) -> None:
    await _drop_kept_pseudonyms(projected)
    await prepare_read_side(projected, models())  # the next start-up
    kept, expected = await _kept_and_expected(projected)
    case_id = open_case(records)
    written = review(case_id)
    records.record(case_id, written)
    await catch_up(fresh_database.url)
    new = await projected.fetchval(
        "SELECT entry_key FROM read.care_row_versions WHERE view = 'reviews' AND entry_id = $1",
        written.entry_id,
    )
    shown = await projected.fetchval("SELECT count(*) FROM reporting.reviews")
    key = await _key(projected)
    assert kept == expected
    assert all(kept.values())
    assert new == hmac.new(key, written.entry_id.bytes, hashlib.sha256).hexdigest()
    assert shown > 0


async def test_a_start_up_without_a_key_makes_it_before_it_keeps_any_pseudonym(
    projected: asyncpg.Connection,
) -> None:
    await projected.execute("DELETE FROM read_meta.pseudonym_key")
    await _drop_kept_pseudonyms(projected)
    await prepare_read_side(projected, models())
    kept, expected = await _kept_and_expected(projected)
    assert kept == expected
    assert all(kept.values())


async def test_versions_kept_in_a_column_allowing_nulls_have_every_pseudonym_after_start_up(
    projected: asyncpg.Connection,
) -> None:
    for table in await _live_versions(projected):  # as the previous version made them, some lost
        await projected.execute(f"ALTER TABLE {table} ALTER COLUMN entry_key DROP NOT NULL")
        lose = f"UPDATE {table} SET entry_key = NULL WHERE view IN ('reviews', 'ratings')"  # noqa: S608
        await projected.execute(lose)
    await prepare_read_side(projected, models())
    kept, expected = await _kept_and_expected(projected)
    shown = {r["review_key"] for r in await projected.fetch("SELECT review_key FROM reporting.reviews")}
    with pytest.raises(asyncpg.NotNullViolationError):
        await projected.execute("UPDATE read.care_row_versions SET entry_key = NULL WHERE view = 'reviews'")
    assert kept == expected
    assert shown == {key for (view, _), key in kept.items() if view == "reviews"}


async def _drop_kept_pseudonyms(conn: asyncpg.Connection) -> None:
    """The live generations' versions as they were before: no pseudonym column, no views on it."""
    for table in await _live_versions(conn):
        await conn.execute(f"ALTER TABLE {table} DROP COLUMN entry_key CASCADE")


async def _live_versions(conn: asyncpg.Connection) -> list[str]:
    """The live generations' row-version tables."""
    tables = []
    for name in ("care", "trajectory"):
        generation = await conn.fetchval(
            "SELECT generation FROM read_meta.generations WHERE name = $1 AND status = 'live'", name
        )
        tables.append(f"{generation_schema(name, generation)}.{name}_row_versions")
    return tables
