"""Integration fixtures: Waymark as a real server process on a fresh database, which a test may stop
(SIGTERM) or kill (SIGKILL). The helpers (SQL on a database, concurrent requests, the server's handle)
are in tests/support/."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.database import DatabaseAddress
from service.settings import Settings
from service.tools.processes import free_port
from tests.support.processes import WAYMARK, Server, ServerFactory


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
