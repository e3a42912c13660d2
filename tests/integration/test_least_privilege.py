"""``waymark db grant`` makes a service role that runs everything Waymark does (writes, the
projector, reads, rebuilds, reporting) and nothing more: no superuser, no new roles or databases,
no way into a database it was not given."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import psycopg
import pytest
import yaml
from psycopg import sql

from projections.generations import prepare_read_side
from projections.models import MODELS
from projections.rebuild import rebuild
from projections.reporting import REPORTING_ROLE
from service.database import DatabaseAddress
from service.grants import grant_service_role
from service.settings import Settings
from service.tools.demo import DemoPlan, write_demo
from service.tools.processes import free_port
from tests.api.helpers import REVIEW, open_case
from tests.support.databases import case_records, query
from tests.support.processes import WAYMARK, Server
from tests.support.projections import catch_up
from tests.support.tokens import TokenFactory

ALARMING = re.compile(r"\b(WARNING|ERROR|CRITICAL)\b|Traceback|permission denied")
"""What start-up must not print when it runs as the service role."""


class Roles:
    """Role names for one test, each dropped afterwards with every database it owns."""

    def __init__(self, admin: DatabaseAddress) -> None:
        self.admin = admin
        self.made: list[str] = []

    def name(self) -> str:
        """A new role name, remembered for dropping."""
        self.made.append(f"waymark_test_svc_{secrets.token_hex(4)}")
        return self.made[-1]

    def address(self, role: str, database: str) -> DatabaseAddress:
        """Where ``role`` reaches ``database`` on the test server (trust authentication)."""
        return DatabaseAddress(self.admin.host, self.admin.port, role, "", database)

    def drop(self) -> None:
        """Drop every role made, after the databases each owns."""
        with psycopg.connect(**self.admin.connect_kwargs(), autocommit=True) as conn:
            for role in self.made:
                if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
                    continue
                owned = conn.execute(
                    "SELECT datname FROM pg_database WHERE datdba = %s::regrole", [role]
                ).fetchall()
                for (datname,) in owned:
                    # IF EXISTS: a test's own database may be being dropped in the background (Drops).
                    conn.execute(
                        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(datname))
                    )
                conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
                conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.fixture
def roles(pg_server: DatabaseAddress) -> Iterator[Roles]:
    """Roles (and their databases) for one test, gone when it ends."""
    made = Roles(pg_server)
    try:
        yield made
    finally:
        made.drop()


def _grant_command(admin: DatabaseAddress, role: str, database: str) -> subprocess.CompletedProcess[str]:
    """``waymark db grant`` as a DBA runs it, with a password from the environment."""
    env = {**os.environ, "DATABASE_URL": admin.url, "SERVICE_PASSWORD": "a password for this test only"}
    command = [
        WAYMARK,
        "db",
        "grant",
        "--role",
        role,
        "--database",
        database,
        "--password-env",
        "SERVICE_PASSWORD",
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)


def _serve(service: DatabaseAddress, secret: str, log: Path) -> Server:
    """``waymark serve`` connecting as the service role, once it is ready."""
    env = {**os.environ, "DATABASE_URL": service.url, "WAYMARK_JWT_SECRET": secret}
    port = free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [WAYMARK, "serve", "--no-demo", "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, port, log)
    server.wait_ready()
    return server


async def _write_and_read(server: Server, headers: dict[str, str]) -> None:
    """Open a case, record a review, and read the case's trajectory once the projector has it."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        case_id = await open_case(http, headers)
        review = await http.post(f"/cases/{case_id}/reviews", json=REVIEW, headers=headers)
        assert review.status_code == 201, review.text
        position = review.json()["position"]
        trajectory = await http.get(f"/cases/{case_id}/trajectory?min_position={position}", headers=headers)
        assert trajectory.status_code == 200, trajectory.text


@pytest.mark.slow  # grants, serves and rebuilds as processes: 6 s or more
def test_the_granted_role_runs_waymark_and_can_do_nothing_else(
    roles: Roles, pg_server: DatabaseAddress, settings: Settings, auth: TokenFactory, tmp_path: Path
) -> None:
    role = roles.name()
    for _ in range(2):  # run twice: a grant is idempotent
        done = _grant_command(pg_server, role, role)
        assert done.returncode == 0, done.stderr
        assert "a password for this test only" not in done.stderr
    service = roles.address(role, role)

    assert settings.jwt_secret  # the session's secret, which the ``auth`` tokens are signed with
    server = _serve(service, settings.jwt_secret, tmp_path / "serve.log")
    try:
        asyncio.run(_write_and_read(server, auth("clinician", "least-privilege")))
    finally:
        assert server.stop(signal.SIGTERM) == -signal.SIGTERM
    output = server.log.read_text()
    assert not ALARMING.search(output), output

    rebuilt = subprocess.run(
        [WAYMARK, "projections", "rebuild", "all"],
        env={**os.environ, "DATABASE_URL": service.url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rebuilt.returncode == 0, rebuilt.stderr

    attributes = query(pg_server, "SELECT * FROM pg_authid WHERE rolname = %s", [role])[0]
    assert attributes["rolcanlogin"]
    assert not any(attributes[a] for a in ("rolsuper", "rolcreaterole", "rolcreatedb", "rolreplication"))
    assert attributes["rolpassword"].startswith("SCRAM-SHA-256$")
    with psycopg.connect(**service.connect_kwargs(), autocommit=True) as conn:
        for statement in ("CREATE ROLE waymark_test_intruder", "CREATE DATABASE waymark_test_intruder"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)

    other = roles.name()
    refused = _grant_command(service, other, other)
    assert refused.returncode == 1
    assert "permission denied" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    grant_service_role(pg_server, role=other, database=other)
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(**service.with_dbname(other).connect_kwargs()).close()
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(**roles.address(other, role).connect_kwargs()).close()


@pytest.mark.slow  # a demo history on a database of its own: about 1.3 s
async def test_a_bi_user_in_the_reporting_role_may_connect_and_read_the_reporting_views(
    roles: Roles, pg_server: DatabaseAddress
) -> None:
    role = roles.name()
    service = grant_service_role(pg_server, role=role, database=role)
    records = case_records(service)
    try:
        write_demo(records, DemoPlan(people=2, months=2, seed=3))
    finally:
        records.close()
    await catch_up(service.url)
    bi_user = roles.name()
    admin = await asyncpg.connect(pg_server.url)
    try:
        await admin.execute(f"CREATE ROLE {bi_user} LOGIN IN ROLE {REPORTING_ROLE}")
    finally:
        await admin.close()
    conn = await asyncpg.connect(service.url, user=bi_user)
    try:
        assert await conn.fetchval("SELECT count(*) FROM reporting.people") == 2
    finally:
        await conn.close()


@pytest.mark.slow  # grants on a database of its own: about 1.5 s
async def test_grant_hands_an_existing_database_and_its_objects_to_the_service_role(
    roles: Roles, pg_server: DatabaseAddress, fresh_database: DatabaseAddress
) -> None:
    # An installation set up by a superuser, as docker-compose used to: every object is the admin's.
    records = case_records(fresh_database)
    try:
        write_demo(records, DemoPlan(people=2, months=2, seed=4))
    finally:
        records.close()
    await catch_up(fresh_database.url)

    role = roles.name()
    service = grant_service_role(pg_server, role=role, database=fresh_database.dbname)
    foreign = query(
        fresh_database,
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'"
        " AND c.relowner <> %s::regrole",
        [role],
    )
    assert foreign == []

    records = case_records(service)
    try:
        write_demo(records, DemoPlan(people=1, months=2, seed=5))
    finally:
        records.close()
    conn = await asyncpg.connect(service.url)
    try:
        await prepare_read_side(conn, [model() for model in MODELS.values()])
    finally:
        await conn.close()
    await catch_up(service.url)
    await rebuild(service.url, MODELS["care"]())
    assert query(service, "SELECT count(*) AS n FROM read.cases") == [{"n": 3}]


def test_docker_compose_connects_the_service_as_the_granted_role() -> None:
    compose = yaml.safe_load((Path(__file__).parents[2] / "docker-compose.yml").read_text())
    services = compose["services"]
    admin = services["db"]["environment"]["POSTGRES_USER"]
    grant = services["grant"]
    assert grant["command"][:3] == ["waymark", "db", "grant"]
    role = grant["command"][grant["command"].index("--role") + 1]
    assert grant["environment"]["DATABASE_URL"].startswith(f"postgresql://{admin}:")
    for name in ("api", "projector", "projector-standby"):
        waymark = services[name]
        assert waymark["depends_on"]["grant"]["condition"] == "service_completed_successfully"
        assert waymark["environment"]["DATABASE_URL"].startswith(f"postgresql://{role}:")
        assert "POSTGRES_PASSWORD" not in str(waymark["environment"])
        assert waymark["healthcheck"]["test"]
    # Two API replicas that leave projecting to the projector and its standby.
    assert services["api"]["deploy"]["replicas"] == 2
    assert "--no-projector" in services["api"]["command"]
    assert (
        services["projector"]["command"] == services["projector-standby"]["command"] == ["waymark", "project"]
    )
    assert services["proxy"]["depends_on"]["api"]["condition"] == "service_healthy"
