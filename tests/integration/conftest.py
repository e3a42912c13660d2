"""Integration fixtures: Waymark as a real server process on a fresh database, which a test may stop
(SIGTERM) or kill (SIGKILL). The helpers (SQL on a database, concurrent requests, the server's handle)
are in tests/support/."""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from service.bootstrap import Runtime
from service.database import DatabaseAddress
from service.http.app import create_app
from service.settings import Settings
from service.tools.processes import free_port
from tests.api.helpers import Client
from tests.support.processes import WAYMARK, Server, ServerFactory


@pytest.fixture
async def own_app(fresh_database: DatabaseAddress, tmp_path: Path) -> AsyncIterator[tuple[Client, Settings]]:
    """Waymark in process on a database of this test's own (what it parks or breaks there reaches
    no other test), with its settings to sign tokens."""
    settings = Settings(
        database_url=fresh_database.url, jwt_secret=secrets.token_urlsafe(32), data_dir=tmp_path
    )
    runtime = Runtime.start(settings)
    try:
        async with AsyncTestClient(app=create_app(runtime)) as client:
            yield client, settings
    finally:
        runtime.close()


@pytest.fixture
def serve(fresh_database: DatabaseAddress, settings: Settings, tmp_path: Path) -> Iterator[ServerFactory]:
    """Start Waymark servers on one fresh database, trusting the session's tokens (the ``auth``
    fixture); every one is killed when the test ends."""
    assert settings.jwt_secret
    started: list[Server] = []
    env = {**os.environ, "DATABASE_URL": fresh_database.url, "WAYMARK_JWT_SECRET": settings.jwt_secret}

    def start() -> Server:
        port = free_port()
        log = tmp_path / f"waymark-{len(started)}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [WAYMARK, "serve", "--no-demo", "--port", str(port)],
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        server = Server(process, port, log)
        started.append(server)
        server.wait_ready()
        return server

    try:
        yield start
    finally:
        for server in started:
            if server.process.poll() is None:
                server.process.kill()
            server.process.wait(timeout=60)
