"""Shared fixtures: a real PostgreSQL (the machine's via DATABASE_URL, else an embedded one), a fresh
database per test session, the real Litestar app, and signed tokens."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from psycopg import sql

from events.values import Role
from service.bootstrap import Runtime, write_side
from service.database import DatabaseAddress, EmbeddedPostgres, ensure_database
from service.grants import grant_service_role
from service.http.app import create_app
from service.http.auth import issue_token
from service.settings import Settings
from service.tools.processes import BIN
from service.write.application import CaseRecords

TokenFactory = Callable[..., dict[str, str]]
WAYMARK = str(BIN / "waymark")
"""The ``waymark`` command of this environment, for tests that start it as a process."""


@pytest.fixture(scope="session")
def pg_server() -> Iterator[DatabaseAddress]:
    """A PostgreSQL server: DATABASE_URL's when set, otherwise an embedded one for this session."""
    if url := os.environ.get("DATABASE_URL"):
        yield DatabaseAddress.from_url(url)
        return
    with tempfile.TemporaryDirectory(prefix="waymark-pg-", dir="/tmp") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pg")
        yield server.start()
        server.stop()


def case_records(address: DatabaseAddress, *, overflow: int = 2) -> CaseRecords:
    """The write side on a database, with a small connection pool (close it when done)."""
    return write_side(address, Settings(db_pool_size=2, db_pool_overflow=overflow, db_connect_timeout=2))


def create_database(server: DatabaseAddress) -> DatabaseAddress:
    """A new, empty database on the server, named for this test run."""
    return ensure_database(server, f"waymark_test_{os.getpid()}_{secrets.token_hex(4)}")


def drop_database(server: DatabaseAddress, database: DatabaseAddress) -> None:
    """Drop a test database, disconnecting anything still attached."""
    with psycopg.connect(**server.connect_kwargs(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database.dbname))
        )


@pytest.fixture
def fresh_database(pg_server: DatabaseAddress) -> Iterator[DatabaseAddress]:
    """A new, empty database for one test, dropped afterwards."""
    address = create_database(pg_server)
    try:
        yield address
    finally:
        drop_database(pg_server, address)


@pytest.fixture(scope="session")
def database(pg_server: DatabaseAddress) -> Iterator[DatabaseAddress]:
    """One fresh database shared by the session's tests (each test makes its own cases), reached as
    the least-privilege role ``waymark db grant`` makes for it, as in production."""
    name = f"waymark_test_{os.getpid()}_{secrets.token_hex(4)}"
    address = grant_service_role(pg_server, role=name, database=name)
    yield address
    drop_database(pg_server, address)
    with psycopg.connect(**pg_server.connect_kwargs(), autocommit=True) as conn:
        # DROP OWNED revokes what the role was granted on the server (temp_file_limit) first.
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def settings(database: DatabaseAddress, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings pointing at the test database, with a secret made for this session."""
    return Settings(
        database_url=database.url,
        jwt_secret=secrets.token_urlsafe(32),
        data_dir=tmp_path_factory.mktemp("waymark-data"),
    )


@pytest.fixture(scope="session")
def runtime(settings: Settings) -> Iterator[Runtime]:
    """A started Waymark (write side) on the test database."""
    started = Runtime.start(settings)
    yield started
    started.close()


@pytest.fixture(scope="session")
async def client(runtime: Runtime) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The real HTTP application, in process."""
    async with AsyncTestClient(app=create_app(runtime)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def auth(settings: Settings) -> TokenFactory:
    """Authorization headers for a user: ``auth("clinician", "c-1")``."""

    def headers(role: str, sub: str = "user-1", **extra: str) -> dict[str, str]:
        token = issue_token(settings, sub=sub, role=Role(role), ttl_seconds=600)
        return {"Authorization": f"Bearer {token}", **extra}

    return headers
