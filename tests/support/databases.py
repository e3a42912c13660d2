"""Test databases on the session's PostgreSQL server: empty ones, ones copied from a template that
already holds Waymark's schema (the write side's tables and every read model's live generation), SQL
on them, and the write side opened on one."""

from __future__ import annotations

import asyncio
import os
import secrets
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import asyncpg
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from projections.generations import prepare_read_side
from projections.models import MODELS
from service.bootstrap import write_side
from service.database import DatabaseAddress, ensure_database
from service.settings import Settings
from service.write.application import CaseRecords
from tests.support.polling import eventually


def case_records(address: DatabaseAddress, *, overflow: int = 2) -> CaseRecords:
    """The write side on a database, with a small connection pool (close it when done)."""
    return write_side(address, Settings(db_pool_size=2, db_pool_overflow=overflow, db_connect_timeout=2))


def database_name() -> str:
    """A database name of this test run's own (other people's runs share the server)."""
    return f"waymark_test_{os.getpid()}_{secrets.token_hex(4)}"


def create_database(server: DatabaseAddress) -> DatabaseAddress:
    """A new, empty database on the server, named for this test run."""
    return quick_commits(server, ensure_database(server, database_name()))


def quick_commits(server: DatabaseAddress, database: DatabaseAddress) -> DatabaseAddress:
    """Commits to a test database return before their WAL reaches the disk (``synchronous_commit``
    off). What other sessions see is unchanged; only a crash of the PostgreSQL server itself could lose
    the newest commits, and no test crashes the shared server (outage tests stop their own, and a fast
    shutdown writes every commit). Each commit otherwise waits about 1.5 ms for the disk here."""
    if os.environ.get("WAYMARK_TEST_SYNCHRONOUS_COMMIT") == "on":
        return database
    with psycopg.connect(**server.connect_kwargs(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(sql.Identifier(database.dbname))
        )
    return database


def copy_database(server: DatabaseAddress, template: DatabaseAddress) -> DatabaseAddress:
    """A new database made as a copy of ``template`` (which nothing may be connected to)."""
    name = database_name()
    with psycopg.connect(**server.connect_kwargs(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template.dbname)
            )
        )
    return quick_commits(server, server.with_dbname(name))


def make_template(server: DatabaseAddress) -> DatabaseAddress:
    """A database holding the schema every Waymark database gets on first start (the write side's
    tables, the read side's bookkeeping, live generations and views), set up once by the code that
    sets it up in production, and closed: a template for the tests' own databases."""
    template = create_database(server)
    case_records(template).close()  # the library creates the events, snapshots and Waymark's tables

    async def read_side() -> None:
        conn = await asyncpg.connect(template.url)
        try:
            await prepare_read_side(conn, [model() for model in MODELS.values()])
        finally:
            await conn.close()

    asyncio.run(read_side())
    return template


def drop_database(server: DatabaseAddress, database: DatabaseAddress) -> None:
    """Drop a test database, disconnecting anything still attached."""
    with psycopg.connect(**server.connect_kwargs(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database.dbname))
        )


class Drops:
    """Test databases dropped one after another in a background thread, while the next test runs (a drop
    waits on the server's disk, not on this process)."""

    def __init__(self, server: DatabaseAddress) -> None:
        self._server = server
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="drop-database")
        self._pending: list[Future[None]] = []

    def drop(self, database: DatabaseAddress) -> None:
        self._pending.append(self._pool.submit(drop_database, self._server, database))

    def close(self) -> None:
        """Wait for every drop; raise the first that failed."""
        self._pool.shutdown(wait=True)
        for dropped in self._pending:
            dropped.result()


class Copies:
    """Copies of the template made one ahead in a background thread: a test takes the copy made while
    the test before it ran, and the next copy starts at once. A copy costs about 0.2 s of the server's
    disk, which the running test would otherwise wait for."""

    def __init__(self, server: DatabaseAddress, template: DatabaseAddress) -> None:
        self._server = server
        self._template = template
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="copy-database")
        self._next: Future[DatabaseAddress] | None = None

    def take(self) -> DatabaseAddress:
        ready = self._next or self._copy()
        self._next = self._copy()
        return ready.result()

    def _copy(self) -> Future[DatabaseAddress]:
        return self._pool.submit(copy_database, self._server, self._template)

    def close(self) -> None:
        """Drop the copy made ahead that no test took."""
        self._pool.shutdown(wait=True)
        if self._next is not None:
            drop_database(self._server, self._next.result())


def query(database: DatabaseAddress, statement: str, params: Any = ()) -> list[dict[str, Any]]:
    """Run one statement on a database (autocommit) and return its rows."""
    with psycopg.connect(**database.connect_kwargs(), autocommit=True, row_factory=dict_row) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


async def wait_for_blocked_append(database: DatabaseAddress) -> None:
    """Wait until a session waits for the events table lock (the app's append, behind our insert)."""

    async def waiting() -> bool:
        return bool(
            query(
                database,
                "SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
                " WHERE d.datname = current_database() AND NOT l.granted"
                " AND l.relation = 'case_records_events'::regclass",
            )
        )

    # Under the recorder's 5 s lock timeout, which would end the wait by failing the append.
    await eventually(
        waiting, seconds=4, interval=0.01, failure="the write never reached the events table lock"
    )
