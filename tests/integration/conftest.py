"""Integration fixtures: request bodies, SQL on the test database, a fresh database, and Waymark as a
real server process that a test may stop (SIGTERM) or kill (SIGKILL)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from litestar.testing.transport import TestClientTransport
from psycopg.rows import dict_row

from service.database import DatabaseAddress
from service.settings import Settings
from service.tools.processes import free_port, wait_ready
from tests.api.helpers import Client
from tests.conftest import WAYMARK

Post = tuple[str, dict[str, Any], dict[str, str]]
"""A POST to send: path, JSON body, headers."""


async def post_concurrently(client: Client, posts: list[Post]) -> list[httpx.Response]:
    """Send POSTs to the in-process app at the same moment, one thread each, and gather the answers.

    Client handles a request synchronously on the calling event loop (its async transport calls
    the blocking one), so ``asyncio.gather`` of its calls sends them one after another. Here each request
    goes from its own thread through the same transport into the app's event loop, so they overlap.
    """
    start = threading.Barrier(len(posts))
    transport = TestClientTransport(client=client)

    def send(post: Post) -> httpx.Response:
        path, body, headers = post
        request = httpx.Request("POST", client.base_url.join(path), json=body, headers=headers)
        start.wait(timeout=60)
        response = transport.handle_request(request)
        response.read()
        return response

    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=len(posts)) as pool:
        return list(await asyncio.gather(*(loop.run_in_executor(pool, send, post) for post in posts)))


def query(database: DatabaseAddress, statement: str, params: Any = ()) -> list[dict[str, Any]]:
    """Run one statement on a database (autocommit) and return its rows."""
    with psycopg.connect(**database.connect_kwargs(), autocommit=True, row_factory=dict_row) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


@dataclass
class Server:
    """``waymark serve`` in its own process, on a database of the test's."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def wait_ready(self, seconds: float = 60) -> None:
        """Poll GET /ready until it answers 200."""
        wait_ready(self.url, self.process, seconds, output=self.output)

    def stop(self, sig: signal.Signals) -> int:
        """Send a signal and wait for the process to end; return its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=60)


ServerFactory = Callable[[], Server]


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


async def wait_for_blocked_append(database: DatabaseAddress) -> None:
    """Wait until a session waits for the events table lock (the app's append, behind our insert)."""
    deadline = time.monotonic() + 4  # under the recorder's 5 s lock timeout
    while time.monotonic() < deadline:
        waiting = query(
            database,
            "SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
            " WHERE d.datname = current_database() AND NOT l.granted"
            " AND l.relation = 'case_records_events'::regclass",
        )
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the write never reached the events table lock")
