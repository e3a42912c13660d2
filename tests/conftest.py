"""Shared fixtures: a real PostgreSQL (the machine's via DATABASE_URL, else an embedded one), one
database per test session (and one per test for those that need their own, copied from a template),
the real Litestar app, and signed tokens. Plain helpers are in tests/support/."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from psycopg import sql

from events.values import Role
from service.bootstrap import Runtime
from service.database import DatabaseAddress, EmbeddedPostgres
from service.grants import grant_service_role
from service.http.app import create_app
from service.http.auth import issue_token
from service.settings import Settings
from tests.support.databases import (
    Copies,
    Drops,
    create_database,
    database_name,
    drop_database,
    make_template,
    quick_commits,
)
from tests.support.projections import projector_beside
from tests.support.tokens import TokenFactory


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


@pytest.fixture(scope="session")
def template_database(pg_server: DatabaseAddress) -> Iterator[DatabaseAddress]:
    """Waymark's schema, set up once for the session, for ``fresh_database`` to copy."""
    template = make_template(pg_server)
    yield template
    drop_database(pg_server, template)


@pytest.fixture(scope="session")
def drops(pg_server: DatabaseAddress) -> Iterator[Drops]:
    """Drops the tests' own databases in the background; the session ends once all are dropped."""
    dropping = Drops(pg_server)
    yield dropping
    dropping.close()


@pytest.fixture(scope="session")
def copies(pg_server: DatabaseAddress, template_database: DatabaseAddress) -> Iterator[Copies]:
    """Copies of the template, each made while the test before the one that takes it runs."""
    copying = Copies(pg_server, template_database)
    yield copying
    copying.close()


@pytest.fixture
def fresh_database(copies: Copies, drops: Drops) -> Iterator[DatabaseAddress]:
    """A new database for one test, holding the schema Waymark sets up on first start (copied from the
    session's template, not set up again), dropped afterwards."""
    address = copies.take()
    yield address
    drops.drop(address)


@pytest.fixture(scope="module")
def module_database(copies: Copies, drops: Drops) -> Iterator[DatabaseAddress]:
    """A copy of the template shared by one module's tests, for fixtures that write a history once and
    tests that only read it; dropped after the module."""
    address = copies.take()
    yield address
    drops.drop(address)


@pytest.fixture
def empty_database(pg_server: DatabaseAddress, drops: Drops) -> Iterator[DatabaseAddress]:
    """A new database with nothing in it, for tests of what Waymark sets up itself; dropped afterwards."""
    address = create_database(pg_server)
    yield address
    drops.drop(address)


@pytest.fixture(scope="session")
def database(pg_server: DatabaseAddress) -> Iterator[DatabaseAddress]:
    """One fresh database shared by the session's tests (each test makes its own cases), reached as
    the least-privilege role ``waymark db grant`` makes for it, as in production."""
    name = database_name()
    address = quick_commits(pg_server, grant_service_role(pg_server, role=name, database=name))
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
    """The real HTTP application, in process, serving without a projector of its own, as API replicas
    do beside ``waymark project``: a module whose tests read projections runs one with ``projector``."""
    async with AsyncTestClient(app=create_app(runtime, run_projector=False)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def projector(runtime: Runtime) -> Iterator[None]:
    """The projector, running beside the session's app for one module's tests
    (``pytestmark = pytest.mark.usefixtures("projector")``). Tests that only write pay nothing for the
    read side; the projector catches up on what they wrote when the next module that reads starts it."""
    with projector_beside(runtime.records, runtime.address):
        yield


@pytest.fixture(scope="session")
def auth(settings: Settings) -> TokenFactory:
    """Authorization headers for a user: ``auth("clinician", "c-1")``."""

    def headers(role: str, sub: str = "user-1", **extra: str) -> dict[str, str]:
        token = issue_token(settings, sub=sub, role=Role(role), ttl_seconds=600)
        return {"Authorization": f"Bearer {token}", **extra}

    return headers
