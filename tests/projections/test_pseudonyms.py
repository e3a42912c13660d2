"""Pseudonyms in the reporting views: an HMAC-SHA256 of each id under a key the reporting role can
neither read nor use, so a case id seen in a URL or an audit answer cannot be turned into the person
key that joins that person's rows. Checked as a real LOGIN role granted ``waymark_reporting``."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import secrets
import subprocess
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from projections.generations import prepare_read_side
from projections.reporting import REPORTING_ROLE
from service.database import DatabaseAddress
from service.tools.demo import DemoPlan, write_demo
from service.write.application import CaseRecords
from tests.support.processes import WAYMARK
from tests.support.projections import catch_up, models

REFUSED = (asyncpg.InsufficientPrivilegeError, asyncpg.UndefinedFunctionError)


@contextlib.asynccontextmanager
async def connected_bi_user(
    records: CaseRecords, database: DatabaseAddress
) -> AsyncIterator[asyncpg.Connection]:
    """A connection as a BI user (a LOGIN role in ``waymark_reporting``) to a database with cases."""
    write_demo(records, DemoPlan(people=3, months=4, seed=11))
    await catch_up(database.url)
    name = f"waymark_test_bi_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(database.url)
    await admin.execute(f"CREATE ROLE {name} LOGIN IN ROLE {REPORTING_ROLE}")
    try:
        conn = await asyncpg.connect(database.url, user=name)
        try:
            yield conn
        finally:
            await conn.close()
    finally:
        await admin.execute(f"DROP ROLE {name}")
        await admin.close()


@pytest.fixture(scope="module")
async def bi_user(
    module_records: CaseRecords, module_database: DatabaseAddress
) -> AsyncIterator[asyncpg.Connection]:
    """A BI user's connection to a database the module's reading tests share."""
    async with connected_bi_user(module_records, module_database) as conn:
        yield conn


async def test_the_reporting_role_reads_every_reporting_view(bi_user: asyncpg.Connection) -> None:
    views = await bi_user.fetch(
        "SELECT format('%I.%I', schemaname, viewname) AS name FROM pg_views WHERE schemaname = 'reporting'"
    )
    assert len(views) >= 9
    for view in views:
        await bi_user.fetch(f"SELECT * FROM {view['name']} LIMIT 5")  # noqa: S608 (names from the catalogue)
    assert await bi_user.fetchval("SELECT count(DISTINCT person_key) FROM reporting.people") == 3


async def test_the_reporting_role_can_map_no_id_to_its_pseudonym(
    bi_user: asyncpg.Connection, module_database: DatabaseAddress
) -> None:
    case_id = await _a_case_id(module_database)
    with pytest.raises(REFUSED):
        await bi_user.fetchval("SELECT reporting.pseudonym($1::uuid)", case_id)
    # Only a function running with its owner's rights (SECURITY DEFINER) or one in the read side's
    # schemas could reach the key; the write side's own (invoker's rights) insert function cannot.
    functions = await bi_user.fetch(
        "SELECT p.oid::regprocedure::text AS name"
        " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')"
        " AND (p.prosecdef OR n.nspname IN ('reporting', 'read', 'read_meta'))"
        " AND has_schema_privilege(n.oid, 'USAGE') AND has_function_privilege(p.oid, 'EXECUTE')"
    )
    assert [f["name"] for f in functions] == []


async def test_the_reporting_role_reads_no_key_no_read_model_and_no_events(
    bi_user: asyncpg.Connection, module_database: DatabaseAddress
) -> None:
    admin = await asyncpg.connect(module_database.url)
    try:
        relations = await admin.fetch(
            "SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'v', 'p', 'm')"
            " AND (n.nspname IN ('public', 'read', 'read_meta') OR n.nspname LIKE 'read\\_%')"
        )
    finally:
        await admin.close()
    names = {r["name"] for r in relations}
    assert {"read_meta.pseudonym_key", "public.case_records_events", "read.cases"} <= names
    for name in names:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await bi_user.fetch(f"SELECT * FROM {name} LIMIT 1")  # noqa: S608 (names from the catalogue)


async def test_person_keys_are_an_hmac_sha256_of_the_case_id_under_the_stored_key(
    bi_user: asyncpg.Connection, module_database: DatabaseAddress
) -> None:
    admin = await asyncpg.connect(module_database.url)
    try:
        pads = await admin.fetchrow("SELECT inner_pad, outer_pad FROM read_meta.pseudonym_key")
        cases = await admin.fetch("SELECT case_id FROM read.cases")
        await prepare_read_side(admin, models())  # as every start-up does: the key must stay
    finally:
        await admin.close()
    assert pads is not None
    key = bytes(b ^ 0x36 for b in pads["inner_pad"])
    assert bytes(b ^ 0x5C for b in pads["outer_pad"]) == key
    expected = {hmac.new(key, c["case_id"].bytes, hashlib.sha256).hexdigest() for c in cases}
    keys = {r["person_key"] for r in await bi_user.fetch("SELECT person_key FROM reporting.people")}
    assert keys == expected
    assert all(len(k) == 64 for k in keys)  # not an md5 (32 hex digits) of a salt and the id


async def _a_case_id(database: DatabaseAddress) -> uuid.UUID:
    conn = await asyncpg.connect(database.url)
    try:
        case_id: uuid.UUID = await conn.fetchval("SELECT case_id FROM read.cases LIMIT 1")
        return case_id
    finally:
        await conn.close()


@pytest.mark.slow  # runs the waymark command
async def test_rotating_the_key_changes_every_pseudonym_and_keeps_them_joining(
    records: CaseRecords, fresh_database: DatabaseAddress
) -> None:
    async with connected_bi_user(records, fresh_database) as bi_user:
        await _rotate_and_check(bi_user, fresh_database)


@pytest.mark.slow  # runs the waymark command
async def test_rotating_the_key_while_an_export_holds_it_says_so_and_changes_nothing(
    records: CaseRecords, fresh_database: DatabaseAddress
) -> None:
    async with connected_bi_user(records, fresh_database) as bi_user:
        async with bi_user.transaction():  # an export reading the views holds the key until it ends
            before = {r["person_key"] for r in await bi_user.fetch("SELECT person_key FROM reporting.people")}
            refused = await asyncio.to_thread(_rotate_key, fresh_database, "--wait", "0.5")
        after = {r["person_key"] for r in await bi_user.fetch("SELECT person_key FROM reporting.people")}
    assert refused.returncode == 1, refused.stderr
    assert "the key is unchanged" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert before == after


async def test_a_start_up_during_an_export_does_not_wait_for_it(
    records: CaseRecords, fresh_database: DatabaseAddress
) -> None:
    """Replacing the reporting views at every start-up waited for every reader of them."""
    async with connected_bi_user(records, fresh_database) as bi_user:
        async with bi_user.transaction():  # an export under way
            await bi_user.fetch("SELECT count(*) FROM reporting.people")
            # Without the limit a start-up that waits would hang here until the export ended.
            admin = await asyncpg.connect(fresh_database.url, server_settings={"lock_timeout": "2000"})
            try:
                await prepare_read_side(admin, models())
                await admin.execute("DROP VIEW reporting.ratings")
            finally:
                await admin.close()
        admin = await asyncpg.connect(fresh_database.url)
        try:
            await prepare_read_side(admin, models())  # a view gone: made again
            assert await bi_user.fetchval("SELECT count(*) FROM reporting.ratings") > 0
            # Replaced otherwise (by a version rolled back to, say): made again as this one has it.
            shown = await admin.fetchval("SELECT pg_get_viewdef('reporting.ratings'::regclass)")
            await admin.execute(
                f"CREATE OR REPLACE VIEW reporting.ratings AS SELECT * FROM ({shown.rstrip(';')}) v LIMIT 0"  # noqa: S608
            )
            assert await bi_user.fetchval("SELECT count(*) FROM reporting.ratings") == 0
            await prepare_read_side(admin, models())
        finally:
            await admin.close()
        assert await bi_user.fetchval("SELECT count(*) FROM reporting.ratings") > 0


async def _rotate_and_check(bi_user: asyncpg.Connection, fresh_database: DatabaseAddress) -> None:
    before = {r["person_key"] for r in await bi_user.fetch("SELECT person_key FROM reporting.people")}
    rotated = await asyncio.to_thread(_rotate_key, fresh_database)
    assert rotated.returncode == 0, rotated.stderr
    after = {r["person_key"] for r in await bi_user.fetch("SELECT person_key FROM reporting.people")}
    joined = await bi_user.fetchval(
        "SELECT count(DISTINCT p.person_key) FROM reporting.people p"
        " JOIN reporting.reviews r USING (person_key)"
    )
    assert len(after) == joined == 3
    assert not before & after


def _rotate_key(database: DatabaseAddress, *options: str) -> subprocess.CompletedProcess[str]:
    """``waymark db rotate-pseudonym-key`` on the database, as an operator runs it."""
    command = [WAYMARK, "db", "rotate-pseudonym-key", *options]
    env = {**os.environ, "DATABASE_URL": database.url}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
